"""Typed, frozen values that cross module boundaries (fetch → parse → normalize → match → store → alert).

SQLModel tables never leave ``monitor.store``; everything else talks in these dataclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
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


class FullTextMode(StrEnum):
    """When a feed's article pages are fetched to match rules on their text (monitor.fulltext)."""

    CANDIDATES = "candidates"  # items that some rule could still match with the body
    ALWAYS = "always"  # every new item that no rule matched on the feed's text
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One configured feed, as the pipeline needs it."""

    url: str
    name: str
    interval_seconds: float
    tags: tuple[str, ...] = ()
    max_age_seconds: float | None = None  # items published earlier raise no alert; None: the default
    named: bool = True  # False: `name` is the host-derived default, shown by the feed's title once fetched
    fulltext: FullTextMode = FullTextMode.CANDIDATES


@dataclass(frozen=True, slots=True)
class ListSpec:
    """One configured entity list (``lists:``), refreshed on a schedule (monitor.lists.refresh)."""

    name: str
    source: str  # an http(s) URL or a file path
    format: str | None = None  # ftm | un | ofac; None: detected from the content
    refresh_seconds: float = 86_400.0
    max_bytes: int = 200_000_000


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
    lang: str | None = None  # ISO 639-1 code detected by the parse worker (monitor.langid)

    def fields(self) -> Mapping[str, str]:
        """The text fields that watch rules look at."""
        return {"title": self.title, "summary": self.summary, "content": self.content}


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed after parsing and normalizing."""

    title: str
    items: tuple[Item, ...]
    warning: str | None = None  # feedparser's bozo message when the feed was still usable


MAX_LOOKUP_BANDS = 64  # per item (monitor.stories makes 16): bounds a hostile key's lookups
MAX_BAND_TEXT = 64


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What gets stored per item to find and confirm its story (monitor.stories.keys makes it)."""

    canonical_link: str | None
    signature: str  # "w2:<title hashes>|<lede hashes>|<markers>", hashes 8 hex digits; "" if no words
    bands: tuple[str, ...]  # LSH band keys for indexed lookup; () when the text cannot merge

    @property
    def link_digest(self) -> str | None:
        """SHA-256 of the canonical link: links are feed-controlled and may be of any length."""
        return None if self.canonical_link is None else hashlib.sha256(self.canonical_link.encode()).hexdigest()

    @property
    def lookup_bands(self) -> tuple[str, ...]:
        """The band keys stored and looked up, distinct and capped."""
        return tuple(dict.fromkeys(band[:MAX_BAND_TEXT] for band in self.bands[:MAX_LOOKUP_BANDS]))


# A story while a batch is grouped: a stored story's id (> 0), or -n for the n-th story the
# batch is about to create.
StoryRef = int


@dataclass(frozen=True, slots=True)
class NewStoryItem:
    """An item a save inserted, with what story grouping needs of it."""

    item_id: int
    title: str
    key: StoryKey


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    story: StoryRef
    signature: str


@dataclass(frozen=True, slots=True)
class StoryCandidates:
    """What the store found for a batch: recent stories by link digest, and per band the newest
    items of recent stories sharing it."""

    by_link: Mapping[str, StoryRef]
    by_band: Mapping[str, Sequence[StoryCandidate]]


@dataclass(frozen=True, slots=True)
class StoryGrouping:
    """The decision: a story for every new item, stored (> 0) or new (-n: ``new_stories[n-1]``)."""

    chosen: Mapping[int, StoryRef]  # item id → story
    new_stories: tuple[NewStoryItem, ...]  # the first item of each story the batch creates


@dataclass(frozen=True, slots=True)
class Span:
    """One matched word or phrase: field name and character offsets into that field's text."""

    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class EntityRef:
    """An entry of an imported entity list (sanctions list) whose name or identifier matched."""

    list_name: str
    entry_id: str
    name: str  # the entry's main name (caption)
    schema: str  # FollowTheMoney schema: Person, Organization, Vessel, …


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """The article page a match was made on (full text for candidates): ``content`` spans and
    the snippet of such a match point into ``text``."""

    url: str  # the item's link, as fetched
    final_url: str  # after redirects
    fetched_at: datetime
    sha256: str  # of ``text`` (UTF-8)
    text: str  # the main text trafilatura extracted, normalised like feed text


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that matched one item, with the evidence."""

    rule_id: str
    rule_title: str
    severity: Severity
    notify: tuple[str, ...]
    spans: tuple[Span, ...]
    snippet: str  # text around the best match, matches marked with «»
    entities: tuple[EntityRef, ...] = ()  # list entries whose names or identifiers are in the spans
    article: ArticleRef | None = None  # set when the match was made on the fetched article

    @property
    def matched_words(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for span in self.spans:
            seen.setdefault(span.text.lower(), None)
        return tuple(seen)


class UpdateKind(StrEnum):
    """Why a story that already alerted on a channel may send one more message there."""

    CORROBORATION = "corroboration"  # more distinct outlets than a threshold now carry it
    SEVERITY = "severity"  # a rule of higher severity than any announced before matched it


class PollStatus(StrEnum):
    """How one poll of a feed ended."""

    OK = "ok"  # a new body, parsed and stored
    NOT_MODIFIED = "not_modified"  # 304
    UNCHANGED = "unchanged"  # the same body as last time
    ERROR = "error"


class HealthState(StrEnum):
    """A feed's health as announced to admins (monitor.feedhealth)."""

    OK = "ok"
    FAILING = "failing"
    SILENT = "silent"


class DeliveryStatus(StrEnum):
    """Outbox row states."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChannelStory:
    """What a channel already has of a story: its routed rules and the state of its messages."""

    rules: Mapping[str, Severity] = field(default_factory=dict)  # rule id → severity
    first_status: str | None = None  # the first message's status; None: none queued yet
    pending_update: bool = False  # an update is queued and not sent yet


@dataclass(frozen=True, slots=True)
class RoutedHit:
    channel: str
    hit_id: int
    story_id: int


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message to queue: unique per (story, channel, event)."""

    story_id: int
    channel: str
    event: str
    severity: Severity


@dataclass(frozen=True, slots=True)
class AlertDecisions:
    routes: tuple[RoutedHit, ...] = ()
    messages: tuple[QueuedMessage, ...] = ()
    # pending messages whose story gained a more severe rule: (story, channel) → new severity
    raised: Mapping[tuple[int, str], Severity] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleEvidence:
    """One matched rule of a story, with the evidence from the report it first matched."""

    rule_id: str
    rule_title: str
    severity: Severity
    matched: tuple[str, ...]
    snippet: str  # text around the best match, matches marked with «»
    feed_name: str  # the outlet whose report matched it first
    item_title: str
    entities: tuple[EntityRef, ...] = ()  # list entries the match named
    article: ArticleRef | None = None  # the article page the match was made on


@dataclass(frozen=True, slots=True)
class StoryAlert:
    """Everything a channel needs to render one message about one story.

    ``event`` is "first" for the story's first message on the channel, else the update that
    triggered this one ("outlets:3", "severity:high"). ``rules`` are the rules routed to the
    channel, highest severity first; the lead report is the earliest one that matched.
    """

    delivery_id: int
    story_id: int
    event: str
    headline: str
    link: str | None
    feed_name: str
    published: datetime | None
    summary: str
    summary_spans: tuple[Span, ...]  # offsets into ``summary``
    rules: tuple[RuleEvidence, ...]
    outlets: tuple[str, ...]  # every outlet with a report in the story so far, lead first
    first_seen: datetime
    message_id: str  # stable across retries; e-mail uses it as the Message-ID
    thread_id: str | None = None  # the first message's id, for updates (In-Reply-To)

    @property
    def severity(self) -> Severity:
        return max((rule.severity for rule in self.rules), key=lambda level: level.rank, default=Severity.LOW)

    @property
    def is_update(self) -> bool:
        return self.event != "first"

    @property
    def idempotency_key(self) -> str:
        return self.message_id.strip("<>")


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
    updates: frozenset[UpdateKind] = frozenset(UpdateKind)  # which updates follow a first message
    corroboration: tuple[int, ...] = (3, 10)  # outlet counts that trigger an update
    console_url: str = ""  # the console's web.base_url: messages link to the story page there
