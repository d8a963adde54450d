"""Template helpers. Feed text only ever reaches a page as Segments or plain strings, and every
template is autoescaped, so nothing a feed writes can become markup; links are http(s) only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from jinja2 import Environment

from monitor.alerts.format_summary import summary_segments
from monitor.alerts.format_text import Segment, safe_http_url, split_marked
from monitor.types import Span

MAX_FIELD = 5_000  # characters of a report's summary or content shown on a story page


def evidence(text: str, spans: Sequence[Span], field: str, limit: int = MAX_FIELD) -> tuple[Segment, ...]:
    """``text`` with the stored spans of ``field`` marked (spans that do not fit are ignored)."""
    return summary_segments(text, [span for span in spans if span.field == field], limit)


def marked(snippet: str, words: Sequence[str]) -> tuple[Segment, ...]:
    """A rule engine snippet («marked» evidence) as segments."""
    return split_marked(snippet, words)


def search_marks(text: str, words: Sequence[str], limit: int = 400) -> tuple[Segment, ...]:
    """Words of a search in a result's text (the same word, or a longer one starting with it:
    the search stems, the marks only approximate it)."""
    wanted = [word.casefold() for word in words if len(word) >= 2]
    segments: list[Segment] = []
    cursor = 0
    shown = text[:limit]
    for found in re.finditer(r"\w+", shown):
        word = found.group(0).casefold()
        if any(word == w or (len(w) >= 4 and word.startswith(w[: max(4, len(w) - 2)])) for w in wanted):
            if found.start() > cursor:
                segments.append(Segment(shown[cursor : found.start()], False))
            segments.append(Segment(found.group(0), True))
            cursor = found.end()
    if cursor < len(shown):
        segments.append(Segment(shown[cursor:], False))
    if len(text) > limit:
        segments.append(Segment("…", False))
    return tuple(segments)


def when(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


_FLASH = {
    "saved": "Saved. The daemon reloads the rule file by itself within seconds.",
    "reverted": "Reverted. The daemon reloads the rule file by itself within seconds.",
    "relevant": "Marked relevant.",
    "not_relevant": "Marked not relevant: the rule editor now warns when a draft still matches this story.",
    "clear": "Verdict cleared.",
    "muted": "Story muted: it leaves the inbox, and its messages still waiting were withdrawn.",
    "unmuted": "Story unmuted.",
    "polling": "The feed is due now: the daemon polls it on its next tick.",
}


def flash_text(done: str) -> str:
    """The confirmation for a `?done=` key; unknown keys get a plain word, never the key itself."""
    if done.startswith("retried-") and done[8:].isdigit():
        return f"{done[8:]} deliveries put back in the queue."
    return _FLASH.get(done, "Done.")


def register_filters(env: Environment) -> None:
    env.filters.update(
        when=when, ago=ago, percent=percent, safe_link=safe_http_url, evidence=evidence, marked=marked,
        search_marks=search_marks, flash_text=flash_text,
    )  # fmt: skip
