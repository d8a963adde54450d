"""A story as a brief to paste into a report: Markdown (feed text escaped, links http(s) only)
or JSON (schema sanctions-monitor.brief/1; values are data, the reader escapes them)."""

from __future__ import annotations

from typing import Any

from monitor.alerts.format_json import iso_utc
from monitor.alerts.format_text import clean_line, markdown_escape, markdown_link, safe_http_url
from monitor.store.web_records import StoryDetail, StorySummary

BRIEF_SCHEMA = "sanctions-monitor.brief/1"
_SUMMARY = 600


def story_json(detail: StoryDetail, story_url: str = "") -> dict[str, Any]:
    summary = detail.summary
    return {
        "schema": BRIEF_SCHEMA,
        **summary_json(summary),
        "url": story_url or None,
        "reports": [
            {
                "item_id": report.item_id,
                "feed": report.feed_name,
                "title": report.title,
                "summary": report.summary,
                "link": safe_http_url(report.link),
                "published": iso_utc(report.published),
                "fetched": iso_utc(report.fetched_at),
            }
            for report in detail.reports
        ],
        "reports_not_listed": detail.reports_hidden,
        "evidence": [
            {
                "rule_id": rule.rule_id,
                "title": rule.rule_title,
                "severity": rule.severity.value,
                "feed": rule.feed_name,
                "matched": list(rule.matched),
                "snippet": rule.snippet,
                "spans": [{"field": s.field, "start": s.start, "end": s.end, "text": s.text} for s in rule.spans],
            }
            for rule in detail.rules
        ],
    }


def summary_json(summary: StorySummary) -> dict[str, Any]:
    triage = summary.triage
    return {
        "id": summary.story_id,
        "headline": summary.headline,
        "first_seen": iso_utc(summary.first_seen),
        "severity": summary.severity.value if summary.severity else None,
        "outlets": summary.outlet_count,
        "rules": list(summary.rules),
        "lead_feed": summary.lead_feed,
        "state": summary.state,
        "triage": None
        if triage is None
        else {
            "verdict": triage.verdict,
            "note": triage.note,
            "muted": triage.muted,
            "by": triage.updated_by,
            "at": iso_utc(triage.updated_at),
        },
    }


def story_markdown(detail: StoryDetail, story_url: str = "") -> str:
    summary = detail.summary
    severity = summary.severity.value.upper() if summary.severity else "NO RULE"
    lines = [
        f"# {markdown_escape(clean_line(summary.headline, 300))}",
        "",
        f"**Severity:** {severity} · **Outlets:** {summary.outlet_count} · "
        f"**First seen:** {iso_utc(summary.first_seen)} · **State:** {summary.state}",
    ]
    if story_url:
        lines.append(f"**Console:** <{story_url}>")
    if summary.triage is not None and summary.triage.note:
        lines += ["", f"> Analyst note ({markdown_escape(summary.triage.updated_by)}): "
                  f"{markdown_escape(clean_line(summary.triage.note, 2000))}"]  # fmt: skip
    lines += ["", "## Reports", ""]
    for report in detail.reports:
        title = clean_line(report.title, 300) or "(untitled item)"
        lines.append(f"- **{markdown_escape(report.feed_name)}**, {iso_utc(report.published or report.fetched_at)}: "
                     f"{markdown_link(safe_http_url(report.link), title)}")  # fmt: skip
        if report.summary:
            lines.append(f"  {markdown_escape(clean_line(report.summary, _SUMMARY))}")
    if detail.reports_hidden:
        lines.append(f"- … and {detail.reports_hidden} more reports")
    lines += ["", "## Matched rules", ""]
    for rule in detail.rules:
        lines.append(f"- **[{rule.severity.value.upper()}] {markdown_escape(clean_line(rule.rule_title, 300))}** "
                     f"(`{markdown_escape(rule.rule_id)}`), in {markdown_escape(rule.feed_name)}: "
                     f"{markdown_escape(clean_line(rule.snippet, _SUMMARY))}")  # fmt: skip
    return "\n".join(lines) + "\n"
