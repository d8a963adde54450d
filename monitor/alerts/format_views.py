"""What templates see: story messages and digests with every feed-derived value already cleaned, capped
and escaped for one message dialect (HTML values are left to Jinja2's autoescape, except the
snippet and link, which arrive as safe Markup built here).

Templates only ever receive these views, so an override template cannot reach raw feed text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from monitor.alerts.format_digest import MAX_DIGEST_STORIES, Digest, count_high, digest_stories
from monitor.alerts.format_json import iso_utc
from monitor.alerts.format_summary import summary_segments
from monitor.alerts.format_text import (
    MAX_FEED_NAME,
    MAX_SNIPPET,
    MAX_TITLE,
    MAX_WORD,
    Segment,
    clean_line,
    clean_words,
    markdown_escape,
    markdown_link,
    neutralise_mentions,
    safe_http_url,
    slack_escape,
    slack_link,
    split_marked,
)
from monitor.stories.alerting import describe_event
from monitor.types import ArticleRef, EntityRef, RuleEvidence, StoryAlert

UNTITLED = "(untitled item)"


class Dialect(Protocol):
    def text(self, value: str) -> str: ...
    def snippet(self, segments: tuple[Segment, ...]) -> str: ...
    def link(self, url: str | None, title: str) -> str: ...


class HtmlDialect:
    """Values stay raw for autoescape; snippet and link are Markup assembled from escaped parts."""

    def text(self, value: str) -> str:
        return value

    def snippet(self, segments: tuple[Segment, ...]) -> str:
        return Markup("").join(
            Markup("<mark>{}</mark>").format(part.text) if part.matched else escape(part.text) for part in segments
        )

    def link(self, url: str | None, title: str) -> str:
        if url is None:
            return escape(title)
        return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, title)


class SlackDialect:
    def text(self, value: str) -> str:
        return slack_escape(value)

    def snippet(self, segments: tuple[Segment, ...]) -> str:
        return "".join(f"*{slack_escape(part.text)}*" if part.matched else slack_escape(part.text) for part in segments)

    def link(self, url: str | None, title: str) -> str:
        return slack_link(url, title)


class MarkdownDialect:
    def text(self, value: str) -> str:
        return markdown_escape(value)

    def snippet(self, segments: tuple[Segment, ...]) -> str:
        return "".join(
            f"**{markdown_escape(part.text)}**" if part.matched else markdown_escape(part.text) for part in segments
        )

    def link(self, url: str | None, title: str) -> str:
        return markdown_link(url, title)


class PlainDialect:
    """Plain text keeps «» around matches; it is text everywhere it goes."""

    def text(self, value: str) -> str:
        return neutralise_mentions(value)

    def snippet(self, segments: tuple[Segment, ...]) -> str:
        return "".join(_plain_segment(part) for part in segments)

    def link(self, url: str | None, title: str) -> str:
        return url or ""


def _plain_segment(part: Segment) -> str:
    text = neutralise_mentions(part.text)
    return f"«{text}»" if part.matched else text


@dataclass(frozen=True, slots=True)
class RuleView:
    """One matched rule of a story (see docs/alerts.md for each variable)."""

    rule_id: str
    rule_title: str
    severity: str  # "low" | "medium" | "high"
    severity_label: str  # "LOW" | "MEDIUM" | "HIGH"
    matched: tuple[str, ...]
    matched_list: str
    snippet: str  # matches highlighted in the dialect (<mark>, *bold*, **bold**, «»)
    feed: str  # the outlet whose report matched it first
    item_title: str
    evidence: tuple[str, ...] = ()  # list entries named, the article page matched (one line each)


@dataclass(frozen=True, slots=True)
class StoryView:
    """One story message as a template sees it (see docs/alerts.md for each variable)."""

    story_id: int
    event: str  # "first", "outlets:3", "severity:high"
    is_update: bool
    update_reason: str  # "" for a first message, else e.g. "now reported by 3 outlets"
    headline: str
    link_url: str  # validated http(s) URL, or "" when the item had none (or an unsafe one)
    link: str  # the headline linked to link_url, in the dialect's own link syntax
    feed: str  # the outlet of the lead (first matching) report
    published: str  # "2024-05-01 14:30 CEST" in the channel's timezone, or "unknown"
    published_iso: str  # "2024-05-01T12:30:00Z" or ""
    first_seen: str  # when the monitor first saw the story, in the channel's timezone
    first_seen_iso: str
    severity: str  # the highest severity among the rules
    severity_label: str
    outlet_count: int
    rule_ids: str  # space-separated, to paste into `monitor rules explain`
    message_id: str
    url: str = ""  # the story's page in the console (web.base_url), or "" when not configured
    not_relevant_url: str = ""  # the console's "mark not relevant" confirmation page, or ""


@dataclass(frozen=True, slots=True)
class StoryContext:
    """Everything a story template receives: story, summary, outlets, rules."""

    story: StoryView
    summary: str  # trimmed at a word boundary, matched words highlighted in the dialect
    outlets: tuple[str, ...]
    outlets_list: str
    rules: tuple[RuleView, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "story": self.story,
            "summary": self.summary,
            "outlets": self.outlets,
            "outlets_list": self.outlets_list,
            "rules": self.rules,
        }


@dataclass(frozen=True, slots=True)
class DigestView:
    channel: str
    period_label: str  # "Daily digest, 2 Dec"
    total: int  # stories in the digest
    high: int  # of which high severity
    stories: tuple[StoryContext, ...]
    stories_hidden: int  # counted but not listed (beyond the cap)


def story_context(alert: StoryAlert, dialect: Dialect, timezone: str = "UTC", console_url: str = "") -> StoryContext:
    text = dialect.text
    page = safe_http_url(f"{console_url}/stories/{alert.story_id}") if console_url else None
    headline = clean_line(alert.headline, MAX_TITLE) or UNTITLED
    url = safe_http_url(alert.link)
    outlets = clean_words(alert.outlets)
    severity = alert.severity.value
    story = StoryView(
        story_id=alert.story_id,
        event=text(clean_line(alert.event, MAX_WORD)),
        is_update=alert.is_update,
        update_reason=text(describe_event(alert.event)) if alert.is_update else "",
        headline=text(headline),
        link_url=url or "",
        link=dialect.link(url, headline),
        feed=text(clean_line(alert.feed_name, MAX_FEED_NAME)),
        published=human_time(alert.published, timezone),
        published_iso=iso_utc(alert.published) or "",
        first_seen=human_time(alert.first_seen, timezone),
        first_seen_iso=iso_utc(alert.first_seen) or "",
        severity=severity,
        severity_label=severity.upper(),
        outlet_count=len(outlets),
        rule_ids=text(" ".join(clean_line(rule.rule_id, MAX_WORD) for rule in alert.rules)),
        message_id=alert.message_id,
        url=page or "",
        not_relevant_url=f"{page}/not-relevant" if page else "",
    )
    return StoryContext(
        story=story,
        summary=dialect.snippet(summary_segments(alert.summary, alert.summary_spans)),
        outlets=tuple(text(outlet) for outlet in outlets),
        outlets_list=_join(dialect, outlets),
        rules=tuple(_rule_view(rule, dialect) for rule in alert.rules),
    )


def _rule_view(rule: RuleEvidence, dialect: Dialect) -> RuleView:
    text = dialect.text
    matched = clean_words(rule.matched)
    segments = split_marked(clean_line(rule.snippet, MAX_SNIPPET), rule.matched)
    return RuleView(
        rule_id=text(clean_line(rule.rule_id, MAX_WORD)),
        rule_title=text(clean_line(rule.rule_title, MAX_TITLE)),
        severity=rule.severity.value,
        severity_label=rule.severity.value.upper(),
        matched=tuple(text(word) for word in matched),
        matched_list=_join(dialect, matched),
        snippet=dialect.snippet(segments),
        feed=text(clean_line(rule.feed_name, MAX_FEED_NAME)),
        item_title=text(clean_line(rule.item_title, MAX_TITLE) or UNTITLED),
        evidence=tuple(text(clean_line(line, MAX_SNIPPET)) for line in evidence_lines(rule.entities, rule.article)),
    )


MAX_EVIDENCE_ENTITIES = 10


def evidence_lines(entities: tuple[EntityRef, ...], article: ArticleRef | None) -> list[str]:
    """ "list ofac: SEA PIONEER 7 (Vessel, entry 90001)" per list entry, and where the article
    text the match was made on came from (its SHA-256 identifies the exact text matched)."""
    shown = entities[:MAX_EVIDENCE_ENTITIES]
    lines = [f"list {e.list_name}: {e.name} ({e.schema}, entry {e.entry_id})" for e in shown]
    if len(entities) > MAX_EVIDENCE_ENTITIES:
        lines.append(f"… and {len(entities) - MAX_EVIDENCE_ENTITIES} more list entries")
    if article is not None:
        fetched = f"{article.fetched_at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"article text: {article.final_url} (fetched {fetched}, sha256 {article.sha256[:16]}…)")
    return lines


def digest_view(digest: Digest, dialect: Dialect, console_url: str = "") -> DigestView:
    stories = digest_stories(digest.alerts)
    shown = stories[:MAX_DIGEST_STORIES]
    return DigestView(
        channel=dialect.text(clean_line(digest.channel, MAX_FEED_NAME)),
        period_label=dialect.text(clean_line(digest.period_label, MAX_TITLE)),
        total=len(stories),
        high=count_high(stories),
        stories=tuple(story_context(alert, dialect, digest.timezone, console_url) for alert in shown),
        stories_hidden=len(stories) - len(shown),
    )


def _join(dialect: Dialect, words: tuple[str, ...]) -> str:
    if isinstance(dialect, HtmlDialect):
        return Markup(", ").join(words)  # escapes each word
    return ", ".join(dialect.text(word) for word in words)


def human_time(moment: datetime | None, timezone: str = "UTC") -> str:
    """ "2024-05-01 14:30 CEST" in ``timezone``; "unknown" without a time."""
    if moment is None:
        return "unknown"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or timezone}"
