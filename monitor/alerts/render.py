"""Turn an alert into a message title and plain-text body.

Bodies are sent as plain text: Apprise escapes them for HTML e-mail and Markdown services, so
hostile feed text (tags, links, mentions) is shown, never interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.types import Alert

_MAX_TITLE = 200
_MAX_SNIPPET = 600


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def render_alert(alert: Alert) -> Message:
    item_title = _truncate(_one_line(alert.item_title) or "(untitled item)", _MAX_TITLE)
    title = f"[{alert.severity.upper()}] {alert.rule_title}: {item_title}"
    lines = [
        item_title,
        _truncate(alert.link or "(no link)", 2000),
        "",
        f"Feed: {alert.feed_name}",
        f"Published: {_format_time(alert.published)}",
        f"Rule: {alert.rule_id} — {alert.rule_title} (severity {alert.severity})",
        f"Matched: {', '.join(alert.matched) or '-'}",
    ]
    if alert.also_reported_by:
        lines.append(f"Also reported by: {', '.join(alert.also_reported_by)}")
    if alert.snippet:
        lines += ["", _truncate(alert.snippet, _MAX_SNIPPET)]
    return Message(title=_truncate(title, 250), body="\n".join(lines))


def _format_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
