"""SQLModel tables. They never leave monitor.store: queries turn rows into records.py dataclasses.

The Alembic revisions (migrations/versions/, 0001 onwards) must create exactly this schema;
tests/store/test_migrations.py compares the two so they cannot drift apart.
"""

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint, false, text, true
from sqlmodel import Field, SQLModel

from monitor.store.columns import UTCDateTime

# Named constraints let later Alembic revisions (batch mode on SQLite) drop or alter them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _server_default(sql: str) -> dict[str, object]:
    """DB-side defaults too, so rows inserted by hand or by later migrations get them."""
    return {"server_default": text(sql)}


_FALSE = {"server_default": false()}
_TRUE = {"server_default": true()}


class FeedRow(SQLModel, table=True):
    __tablename__ = "feeds"
    __table_args__ = (Index("ix_feeds_due", "active", "next_poll_at"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=Text, unique=True)
    # The name shown in alerts, digests and `monitor feeds`: the configured name, or for a feed
    # configured without one, its own <title> once fetched (migration 0006).
    name: str = Field(sa_type=Text)
    # The configured name, or the host-derived default: rules' `feeds:` filters and logs use it.
    config_name: str | None = Field(default=None, sa_type=Text)  # None: rows from before 0006
    named: bool = Field(default=True, sa_column_kwargs=_TRUE)  # the configuration gave a name
    # JSON list of strings
    tags: str = Field(default="[]", sa_type=Text, sa_column_kwargs=_server_default("'[]'"))
    interval_seconds: float
    active: bool = Field(default=True, sa_column_kwargs=_TRUE)
    etag: str | None = Field(default=None, sa_type=Text)
    last_modified: str | None = Field(default=None, sa_type=Text)
    body_sha256: str | None = Field(default=None, max_length=64)
    last_fetch_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_new_item_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: str | None = Field(default=None, max_length=16)  # ok|not_modified|unchanged|error
    last_http_status: int | None = None
    last_error_kind: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_type=Text)
    consecutive_failures: int = Field(default=0, sa_column_kwargs=_server_default("0"))
    next_poll_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    health_state: str = Field(
        default="ok", max_length=16, sa_column_kwargs=_server_default("'ok'")
    )  # ok|failing|silent


class StoryRow(SQLModel, table=True):
    __tablename__ = "stories"

    id: int | None = Field(default=None, primary_key=True)
    first_seen_at: datetime = Field(sa_type=UTCDateTime, index=True)
    title: str = Field(sa_type=Text)
    signature: str | None = Field(default=None, sa_type=Text)
    # When the story's newest item arrived: only recent stories take new items (monitor.stories).
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class ItemRow(SQLModel, table=True):
    """A stored entry. Uniqueness and lookups go through SHA-256 digests of the key and link:
    both are feed-controlled and may be arbitrarily long, which a PostgreSQL B-tree would reject."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("feed_id", "key_sha256", name="uq_items_feed_key"),
        # A story's outlets, and whether a feed already reported it, without reading the story's
        # other items (syndicated copy puts thousands of items in one story).
        Index("ix_items_story_feed", "story_id", "feed_id"),
        # A link's newest items, read backwards from the index (monitor.store.newest).
        Index("ix_items_story_link_id", "story_link_sha256", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id")
    key: str = Field(sa_type=Text)
    key_sha256: str = Field(max_length=64)
    title: str = Field(sa_type=Text)
    summary: str = Field(sa_type=Text)
    content: str = Field(sa_type=Text)
    author: str | None = Field(default=None, sa_type=Text)
    lang: str | None = Field(default=None, max_length=16)  # detected language (monitor.langid)
    link: str | None = Field(default=None, sa_type=Text)
    link_sha256: str | None = Field(default=None, max_length=64, index=True)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fetched_at: datetime = Field(sa_type=UTCDateTime, index=True)
    story_id: int | None = Field(default=None, foreign_key="stories.id")
    content_hash: str = Field(max_length=64, index=True)
    # The item's monitor.stories.StoryKey, kept to find and confirm later items of its story.
    story_signature: str | None = Field(default=None, sa_type=Text)
    story_link_sha256: str | None = Field(default=None, max_length=64)


class ItemBandRow(SQLModel, table=True):
    """LSH band keys of an item's StoryKey: items sharing a band are candidates for one story."""

    __tablename__ = "item_bands"

    # Story grouping looks up every band of a batch: (band, item_id) answers it from the index alone.
    __table_args__ = (Index("ix_item_bands_band_item", "band", "item_id"),)

    item_id: int = Field(foreign_key="items.id", primary_key=True)
    band: str = Field(max_length=64, primary_key=True)


class HitRow(SQLModel, table=True):
    __tablename__ = "hits"
    __table_args__ = (
        UniqueConstraint("item_id", "rule_id", name="uq_hits_item_rule"),
        Index("ix_hits_rule_created", "rule_id", "created_at"),
        # The shown hit of a (story, rule) group, without reading the story's repeats.
        Index("ix_hits_story_rule_shown", "story_id", "rule_id", "suppressed"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id")
    rule_id: str = Field(max_length=200)
    rule_title: str = Field(sa_type=Text)
    severity: str = Field(max_length=16)
    # JSON list of matched words, and JSON list of {field,start,end,text}
    matched: str = Field(default="[]", sa_type=Text, sa_column_kwargs=_server_default("'[]'"))
    spans: str = Field(default="[]", sa_type=Text, sa_column_kwargs=_server_default("'[]'"))
    snippet: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    story_id: int | None = Field(default=None, foreign_key="stories.id")
    corroboration: int = Field(default=1, sa_column_kwargs=_server_default("1"))
    suppressed: bool = Field(default=False, sa_column_kwargs=_FALSE)
    # JSON: the list entries named in the spans, and the article page the match was made on
    # (monitor.store.evidence); None for a match on the feed's own text without list entries.
    evidence: str | None = Field(default=None, sa_type=Text)


class RoutedHitRow(SQLModel, table=True):
    """A hit routed to a channel: the rules a channel's messages about the story list."""

    __tablename__ = "routed_hits"

    channel: str = Field(max_length=200, primary_key=True)
    hit_id: int = Field(foreign_key="hits.id", primary_key=True)
    story_id: int = Field(foreign_key="stories.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DeliveryRow(SQLModel, table=True):
    """Outbox: one message per (story, channel, event); workers lease pending rows and mark them
    sent/failed. The message is rendered when sent, from the story as it is then."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("story_id", "channel", "event", name="uq_deliveries_story_channel_event"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    story_id: int = Field(foreign_key="stories.id", index=True)
    channel: str = Field(max_length=200)
    event: str = Field(max_length=40)  # "first", "outlets:3", "severity:high"
    severity: str = Field(max_length=16)  # the highest routed rule's, for immediate_severity
    message_id: str = Field(max_length=200)  # stable across retries (e-mail Message-ID)
    status: str = Field(
        default="pending", max_length=16, sa_column_kwargs=_server_default("'pending'")
    )  # pending|sent|failed
    attempts: int = Field(default=0, sa_column_kwargs=_server_default("0"))
    last_error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeRow(SQLModel, table=True):
    """An admin notice one worker claimed to send (key: SHA-256 of the notice)."""

    __tablename__ = "notices"

    key: str = Field(primary_key=True, max_length=64)
    sent_at: datetime = Field(sa_type=UTCDateTime)


class EntityListRow(SQLModel, table=True):
    """An imported entity list and the state of its refreshes (migration 0008)."""

    __tablename__ = "entity_lists"

    name: str = Field(primary_key=True, max_length=100)
    format: str = Field(max_length=16)  # ftm | un | ofac
    source: str = Field(sa_type=Text)  # URL or file it was read from
    sha256: str | None = Field(default=None, max_length=64)  # of the file read: the list's version
    entry_count: int = Field(default=0, sa_column_kwargs=_server_default("0"))
    imported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: never read yet
    etag: str | None = Field(default=None, sa_type=Text)
    last_modified: str | None = Field(default=None, sa_type=Text)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)  # None: the last check went well
    claimed_by: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ListEntryRow(SQLModel, table=True):
    """One entry of an imported list; every column but the keys is text or JSON text."""

    __tablename__ = "list_entries"

    list_name: str = Field(foreign_key="entity_lists.name", primary_key=True, max_length=100)
    entry_id: str = Field(primary_key=True, max_length=200)
    caption: str = Field(sa_type=Text)
    schema_name: str = Field(max_length=64)
    schemata: str = Field(sa_type=Text)  # JSON list
    names: str = Field(sa_type=Text)  # JSON list
    imo: str = Field(sa_type=Text)  # JSON list of 7-digit strings
    mmsi: str = Field(sa_type=Text)  # JSON list of 9-digit strings
