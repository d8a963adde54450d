"""Initial schema: feeds, stories, items, hits, deliveries (outbox).

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Plain SQLAlchemy types on purpose: a migration must not change meaning when application code
does. Timestamps are timestamptz on PostgreSQL and naive-UTC text on SQLite (the tables'
UTCDateTime type converts); long feed-controlled keys and links are indexed by SHA-256.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Integer(), nullable=False)


def upgrade() -> None:
    _create_feeds()
    _create_stories()
    _create_items()
    _create_hits()
    _create_deliveries()


def _create_feeds() -> None:
    op.create_table(
        "feeds",
        _id(),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("body_sha256", sa.String(64), nullable=True),
        _when("last_fetch_at"),
        _when("last_success_at"),
        _when("last_new_item_at"),
        sa.Column("last_status", sa.String(16), nullable=True),
        sa.Column("last_http_status", sa.Integer(), nullable=True),
        sa.Column("last_error_kind", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _when("next_poll_at", nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        _when("lease_until"),
        sa.Column("health_state", sa.String(16), server_default=sa.text("'ok'"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feeds"),
        sa.UniqueConstraint("url", name="uq_feeds_url"),
    )
    op.create_index("ix_feeds_due", "feeds", ["active", "next_poll_at"])


def _create_stories() -> None:
    op.create_table(
        "stories",
        _id(),
        _when("first_seen_at", nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )
    op.create_index("ix_stories_first_seen_at", "stories", ["first_seen_at"])


def _create_items() -> None:
    op.create_table(
        "items",
        _id(),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("link_sha256", sa.String(64), nullable=True),
        _when("published_at"),
        _when("fetched_at", nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.id"], name="fk_items_feed_id_feeds"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name="fk_items_story_id_stories"),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("feed_id", "key_sha256", name="uq_items_feed_key"),
    )
    op.create_index("ix_items_content_hash", "items", ["content_hash"])
    op.create_index("ix_items_fetched_at", "items", ["fetched_at"])
    op.create_index("ix_items_link_sha256", "items", ["link_sha256"])
    op.create_index("ix_items_story_id", "items", ["story_id"])


def _create_hits() -> None:
    op.create_table(
        "hits",
        _id(),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("rule_title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("matched", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("spans", sa.Text(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("snippet", sa.Text(), nullable=False),
        _when("created_at", nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("corroboration", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("suppressed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_hits_item_id_items"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name="fk_hits_story_id_stories"),
        sa.PrimaryKeyConstraint("id", name="pk_hits"),
        sa.UniqueConstraint("item_id", "rule_id", name="uq_hits_item_rule"),
    )
    op.create_index("ix_hits_created_at", "hits", ["created_at"])
    op.create_index("ix_hits_rule_created", "hits", ["rule_id", "created_at"])
    op.create_index("ix_hits_story_id", "hits", ["story_id"])


def _create_deliveries() -> None:
    op.create_table(
        "deliveries",
        _id(),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _when("next_attempt_at", nullable=False),
        _when("sent_at"),
        _when("created_at", nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        _when("lease_until"),
        sa.Column("digest_key", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name="fk_deliveries_hit_id_hits"),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("hit_id", "channel", name="uq_deliveries_hit_channel"),
    )
    op.create_index("ix_deliveries_digest_key", "deliveries", ["digest_key"])
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in ("deliveries", "hits", "items", "stories", "feeds"):
        op.drop_table(table)
