"""Typed, frozen values that cross module boundaries (fetch → parse → normalize → match → store → alert).

SQLModel tables never leave ``monitor.store``; everything else talks in these dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}


class FetchErrorKind(StrEnum):
    """Why a fetch failed; stored on the feed so `monitor feeds` can explain it."""

    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    NOT_A_FEED = "not_a_feed"
    PROTOCOL = "protocol"


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One configured feed, as the pipeline needs it."""

    url: str
    name: str
    interval_seconds: float
    tags: tuple[str, ...] = ()
    named: bool = True  # False: `name` is the host-derived default, shown by the feed's title once fetched


@dataclass(frozen=True, slots=True)
class ConditionalState:
    """What the previous fetch left behind for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Outcome of one HTTP fetch. Exactly one of body / not_modified / error is meaningful."""

    url: str
    final_url: str
    status_code: int | None
    body: bytes | None
    headers: Mapping[str, str]  # lower-case names
    not_modified: bool
    etag: str | None
    last_modified: str | None
    error_kind: FetchErrorKind | None = None
    error: str | None = None
    retry_after_seconds: float | None = None
    elapsed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_kind is None


@dataclass(frozen=True, slots=True)
class Item:
    """A normalized feed entry: plain NFKC text, UTC time, canonical link, stable key."""

    key: str
    feed_url: str
    title: str
    summary: str
    content: str
    link: str | None
    published: datetime | None
    author: str | None = None

    def fields(self) -> Mapping[str, str]:
        """The text fields that watch rules look at."""
        return {"title": self.title, "summary": self.summary, "content": self.content}


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed after parsing and normalizing."""

    title: str
    items: tuple[Item, ...]
    warning: str | None = None  # feedparser's bozo message when the feed was still usable


@dataclass(frozen=True, slots=True)
class Span:
    """One matched word or phrase: field name and character offsets into that field's text."""

    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that matched one item, with the evidence."""

    rule_id: str
    rule_title: str
    severity: Severity
    notify: tuple[str, ...]
    spans: tuple[Span, ...]
    snippet: str  # text around the best match, matches marked with «»

    @property
    def matched_words(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for span in self.spans:
            seen.setdefault(span.text.lower(), None)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class Alert:
    """Everything a channel needs to render one hit."""

    hit_id: int
    rule_id: str
    rule_title: str
    severity: Severity
    item_title: str
    link: str | None
    feed_name: str
    published: datetime | None
    matched: tuple[str, ...]
    snippet: str
    spans: tuple[Span, ...] = ()
    story_id: int | None = None
    also_reported_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A notification channel: an Apprise URL (or config file) with routing tags."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    min_severity: Severity = Severity.LOW
    is_config_file: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    digest: str | None = None  # "hourly", "daily at 08:00" or a cron expression
    timezone: str = "UTC"  # for the digest schedule
    immediate_severity: Severity | None = None  # hits at or above it bypass the digest
    template_dir: str | None = None  # overrides of the shipped alert templates
