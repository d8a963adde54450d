"""One message per story and channel: deliveries keyed by (story, channel, event), routed hits.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Until 0004 a delivery was one (hit, channel): one message per matching rule. From 0005 a
delivery is one message about a story on a channel ("first", or an update such as
"outlets:3"), and `routed_hits` records which rules each channel's messages list.

Existing deliveries are carried over: every (story, channel) with a delivery gets a "first"
delivery, pending when any of its old deliveries was still pending (failed when all had failed,
sent otherwise), and its hits become routed hits. A hit without a story gets a story of its own.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}


def upgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_index("ix_deliveries_digest_key", table_name="deliveries")
    op.rename_table("deliveries", "deliveries_0004")
    _rename_constraints("deliveries_0004", ("pk_deliveries", "uq_deliveries_hit_channel", "fk_deliveries_hit_id_hits"))
    op.create_table(
        "routed_hits",
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name="fk_routed_hits_hit_id_hits"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name="fk_routed_hits_story_id_stories"),
        sa.PrimaryKeyConstraint("channel", "hit_id", name="pk_routed_hits"),
    )
    op.create_index("ix_routed_hits_story_id", "routed_hits", ["story_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name="fk_deliveries_story_id_stories"),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("story_id", "channel", "event", name="uq_deliveries_story_channel_event"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_story_id", "deliveries", ["story_id"])
    _carry_over(op.get_bind())
    op.drop_table("deliveries_0004")


def _rename_constraints(table: str, names: Sequence[str]) -> None:
    """PostgreSQL constraint names are per schema: a renamed table's must move aside before a new
    table takes them. SQLite names them per table, so there is nothing to do."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in names:
        op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT "{name}" TO "{name}_old"')


def _carry_over(bind: sa.engine.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT d.hit_id, d.channel, d.status, d.attempts, d.next_attempt_at, d.sent_at, d.created_at, "
            "h.story_id, h.severity, h.item_id, i.title, i.fetched_at "
            "FROM deliveries_0004 d JOIN hits h ON h.id = d.hit_id JOIN items i ON i.id = h.item_id "
            "ORDER BY d.id"
        )
    ).all()
    groups: dict[tuple[int, str], list[Any]] = {}
    for row in rows:
        story_id = row.story_id if row.story_id is not None else _own_story(bind, row)
        groups.setdefault((story_id, row.channel), []).append(row)
        bind.execute(
            sa.text(
                "INSERT INTO routed_hits (channel, hit_id, story_id, created_at) VALUES (:c, :h, :s, :t) "
                "ON CONFLICT DO NOTHING"
            ),
            {"c": row.channel, "h": row.hit_id, "s": story_id, "t": row.created_at},
        )
    for (story_id, channel), members in groups.items():
        bind.execute(
            sa.text(
                "INSERT INTO deliveries (story_id, channel, event, severity, message_id, status, attempts, "
                "next_attempt_at, sent_at, created_at) VALUES (:s, :c, 'first', :sev, :mid, :st, :a, :n, :sent, :cr)"
            ),
            _first_delivery(story_id, channel, members),
        )


def _own_story(bind: sa.engine.Connection, row: Any) -> int:
    """A story for an item stored before every item had one (its hits' deliveries need it)."""
    existing = bind.execute(sa.text("SELECT story_id FROM items WHERE id = :i"), {"i": row.item_id}).scalar()
    if existing is not None:
        return int(existing)
    moment = row.fetched_at or datetime.now(UTC)
    story_id = bind.execute(
        sa.text("INSERT INTO stories (first_seen_at, last_seen_at, title) VALUES (:t, :t, :title) RETURNING id"),
        {"t": moment, "title": (row.title or "")[:1000]},
    ).scalar_one()
    bind.execute(sa.text("UPDATE items SET story_id = :s WHERE id = :i"), {"s": story_id, "i": row.item_id})
    bind.execute(sa.text("UPDATE hits SET story_id = :s WHERE item_id = :i"), {"s": story_id, "i": row.item_id})
    return int(story_id)


def _first_delivery(story_id: int, channel: str, members: list[Any]) -> dict[str, Any]:
    statuses = {member.status for member in members}
    status = "pending" if "pending" in statuses else ("failed" if statuses == {"failed"} else "sent")
    severity = max((member.severity for member in members), key=lambda value: _SEVERITY_RANK.get(value, 0))
    sent = [member.sent_at for member in members if member.sent_at is not None]
    return {
        "s": story_id,
        "c": channel,
        "sev": severity,
        "mid": f"<{uuid.uuid4().hex}.story{story_id}@sanctions-monitor>",
        "st": status,
        "a": min(member.attempts for member in members),
        "n": min(member.next_attempt_at for member in members),
        "sent": max(sent) if sent and status == "sent" else None,
        "cr": min(member.created_at for member in members),
    }


def downgrade() -> None:
    """Back to one delivery per (hit, channel): each routed hit takes the state of its story's
    first message on that channel (updates have no per-hit equivalent and are dropped)."""
    op.create_table(
        "deliveries_0004",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_key", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name="fk_deliveries_hit_id_hits_0004"),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries_0004"),
        sa.UniqueConstraint("hit_id", "channel", name="uq_deliveries_hit_channel_0004"),
    )
    op.execute(
        "INSERT INTO deliveries_0004 (hit_id, channel, status, attempts, last_error, next_attempt_at, sent_at, "
        "created_at) SELECT r.hit_id, r.channel, d.status, d.attempts, d.last_error, d.next_attempt_at, d.sent_at, "
        "d.created_at FROM routed_hits r JOIN deliveries d ON d.story_id = r.story_id AND d.channel = r.channel "
        "AND d.event = 'first'"
    )
    op.drop_table("deliveries")
    op.drop_table("routed_hits")
    op.rename_table("deliveries_0004", "deliveries")
    if op.get_bind().dialect.name == "postgresql":
        for name in ("pk_deliveries", "uq_deliveries_hit_channel", "fk_deliveries_hit_id_hits"):
            op.execute(f'ALTER TABLE deliveries RENAME CONSTRAINT "{name}_0004" TO "{name}"')
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_digest_key", "deliveries", ["digest_key"])
