"""What templates see: alerts and digests with every feed-derived value already cleaned, capped
and escaped for one message dialect (HTML values are left to Jinja2's autoescape, except the
snippet and link, which arrive as safe Markup built here).

Templates only ever receive these views, so an override template cannot reach raw feed text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from markupsafe import Markup, escape

from monitor.alerts.format_digest import Digest, RuleGroup, StoryGroup, group_digest
from monitor.alerts.format_json import iso_utc
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
from monitor.types import Alert

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
class AlertView:
    """One alert as a template sees it (see docs/alerts.md for each variable)."""

    hit_id: int
    rule_id: str
    rule_title: str
    severity: str  # "low" | "medium" | "high"
    severity_label: str  # "LOW" | "MEDIUM" | "HIGH"
    item_title: str
    link_url: str  # validated http(s) URL, or "" when the item had none (or an unsafe one)
    link: str  # the item title linked to link_url, in the dialect's own link syntax
    feed: str
    published: str  # "2024-05-01 12:30 UTC" or "unknown"
    published_iso: str  # "2024-05-01T12:30:00Z" or ""
    matched: tuple[str, ...]
    matched_list: str  # matched words joined with ", "
    snippet: str  # matches highlighted in the dialect (<mark>, *bold*, **bold**, «»)
    story_id: int | None
    also_reported_by: tuple[str, ...]
    also_reported_by_list: str


@dataclass(frozen=True, slots=True)
class StoryView:
    alert: AlertView  # the first report; its also_reported_by lists every other outlet
    reports: int  # how many alerts of this rule belong to the story


@dataclass(frozen=True, slots=True)
class RuleView:
    rule_id: str
    rule_title: str
    severity: str
    severity_label: str
    count: int  # alerts for this rule in the digest
    stories_total: int
    stories: tuple[StoryView, ...]
    stories_hidden: int  # stories counted but not listed (beyond the per-rule cap)


@dataclass(frozen=True, slots=True)
class DigestView:
    channel: str
    period_label: str
    total: int  # alerts in the digest
    rule_count: int
    rules: tuple[RuleView, ...]


def alert_view(alert: Alert, dialect: Dialect, also_reported_by: tuple[str, ...] | None = None) -> AlertView:
    title = clean_line(alert.item_title, MAX_TITLE) or UNTITLED
    url = safe_http_url(alert.link)
    matched = clean_words(alert.matched)
    outlets = clean_words(alert.also_reported_by if also_reported_by is None else also_reported_by)
    known = (*alert.matched, *(span.text for span in alert.spans))
    segments = split_marked(clean_line(alert.snippet, MAX_SNIPPET), known)
    text = dialect.text
    return AlertView(
        hit_id=alert.hit_id,
        rule_id=text(clean_line(alert.rule_id, MAX_WORD)),
        rule_title=text(clean_line(alert.rule_title, MAX_TITLE)),
        severity=alert.severity.value,
        severity_label=alert.severity.value.upper(),
        item_title=text(title),
        link_url=url or "",
        link=dialect.link(url, title),
        feed=text(clean_line(alert.feed_name, MAX_FEED_NAME)),
        published=_human_time(alert.published),
        published_iso=iso_utc(alert.published) or "",
        matched=tuple(text(word) for word in matched),
        matched_list=_join(dialect, matched),
        snippet=dialect.snippet(segments),
        story_id=alert.story_id,
        also_reported_by=tuple(text(outlet) for outlet in outlets),
        also_reported_by_list=_join(dialect, outlets),
    )


def digest_view(digest: Digest, dialect: Dialect) -> DigestView:
    groups = group_digest(digest)
    return DigestView(
        channel=dialect.text(clean_line(digest.channel, MAX_FEED_NAME)),
        period_label=dialect.text(clean_line(digest.period_label, MAX_TITLE)),
        total=sum(group.alerts for group in groups),
        rule_count=len(groups),
        rules=tuple(_rule_view(group, dialect) for group in groups),
    )


def _rule_view(group: RuleGroup, dialect: Dialect) -> RuleView:
    return RuleView(
        rule_id=dialect.text(clean_line(group.rule_id, MAX_WORD)),
        rule_title=dialect.text(clean_line(group.rule_title, MAX_TITLE)),
        severity=group.severity.value,
        severity_label=group.severity.value.upper(),
        count=group.alerts,
        stories_total=group.stories_total,
        stories=tuple(_story_view(story, dialect) for story in group.stories),
        stories_hidden=group.stories_hidden,
    )


def _story_view(story: StoryGroup, dialect: Dialect) -> StoryView:
    return StoryView(alert=alert_view(story.lead, dialect, story.also_reported_by), reports=story.alerts)


def _join(dialect: Dialect, words: tuple[str, ...]) -> str:
    if isinstance(dialect, HtmlDialect):
        return Markup(", ").join(words)  # escapes each word
    return ", ".join(dialect.text(word) for word in words)


def _human_time(moment: datetime | None) -> str:
    iso = iso_utc(moment)
    return f"{iso[:10]} {iso[11:16]} UTC" if iso else "unknown"
