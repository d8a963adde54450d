"""Frozen values the store hands out and takes in. SQLModel rows never leave monitor.store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.types import (
    ArticleRef,
    ConditionalState,
    DeliveryStatus,
    EntityRef,
    HealthState,
    Item,
    PollStatus,
    Severity,
    Span,
    StoryAlert,
)

POLL_STATUSES = frozenset(str(status) for status in PollStatus)
DELIVERY_STATUSES = frozenset(str(status) for status in DeliveryStatus)
HEALTH_STATES = frozenset(str(state) for state in HealthState)


class StoreLockedError(RuntimeError):
    """Another process holds the exclusive writer lock on this SQLite database."""


class StoreUnavailableError(RuntimeError):
    """The database could not finish a call: connection lost, server restarting, or busy.

    The call's transaction was rolled back, so nothing from it was saved; the same call can
    simply be made again later (the daemon does so on its next tick).
    """


@dataclass(frozen=True, slots=True)
class FeedJob:
    """A feed leased to one worker for one poll."""

    id: int
    url: str
    name: str
    tags: tuple[str, ...]
    interval_seconds: float
    state: ConditionalState
    consecutive_failures: int
    last_success_at: datetime | None
    shown_name: str | None = None  # a feed configured without a name: what it is shown as now


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of a feed produced; `status` is one of POLL_STATUSES.

    For "not_modified"/"unchanged", a None etag/last_modified/body_sha256 keeps the stored value
    (a 304 often omits validators); for "ok" the given values replace the stored ones; for
    "error" the stored values are always kept so the next poll can still be conditional.
    """

    now: datetime
    status: str
    http_status: int | None
    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    error_kind: str | None
    error: str | None
    next_poll_at: datetime
    new_items: int = 0


@dataclass(frozen=True, slots=True)
class StoredHit:
    """A hit a save inserted."""

    hit_id: int
    item_key: str
    story_id: int | None
    rule_id: str
    severity: Severity


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """A pending message leased to one worker, rendered from the story as it is now."""

    delivery_id: int
    channel: str
    attempts: int
    alert: StoryAlert


@dataclass(frozen=True, slots=True)
class DeliveryView:
    delivery_id: int
    story_id: int
    event: str
    severity: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    created_at: datetime
    headline: str


@dataclass(frozen=True, slots=True)
class HitView:
    hit_id: int
    rule_id: str
    rule_title: str
    severity: Severity
    item_title: str
    link: str | None
    feed_name: str
    published: datetime | None
    created_at: datetime
    matched: tuple[str, ...]
    snippet: str
    spans: tuple[Span, ...]
    story_id: int | None
    corroboration: int  # distinct feeds whose items in this story hit this rule
    also_reported_by: tuple[str, ...] = ()  # other feeds with items in the story (<= 10, sorted)
    entities: tuple[EntityRef, ...] = ()  # list entries the match named
    article: ArticleRef | None = None  # the article page the match was made on


@dataclass(frozen=True, slots=True)
class FeedView:
    id: int
    url: str
    name: str
    tags: tuple[str, ...]
    interval_seconds: float
    active: bool
    last_fetch_at: datetime | None
    last_status: str | None
    last_http_status: int | None
    last_error_kind: str | None
    last_error: str | None
    consecutive_failures: int
    next_poll_at: datetime
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    health_state: str
    item_count: int


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A stored item with what a rule backtest needs to know about it."""

    item_id: int
    item: Item
    feed_name: str
    feed_tags: tuple[str, ...]
    hit_rule_ids: frozenset[str]
