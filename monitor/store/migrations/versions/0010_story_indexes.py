"""Composite indexes that keep a syndicated story's next copy cheap.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Wire copy puts thousands of items, and their hits, into one story. Story grouping and the
repeat-hit and outlet bookkeeping now read only the few rows they need through these indexes
(a link's newest items; a story's items of one feed; a (story, rule) group's shown hit). Each
replaces a single-column index that is its prefix, so writes carry no extra index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REPLACED = (
    # (table, old single-column index, its column, new composite index, its columns)
    ("items", "ix_items_story_id", "story_id", "ix_items_story_feed", ["story_id", "feed_id"]),
    ("items", "ix_items_story_link_sha256", "story_link_sha256", "ix_items_story_link_id", ["story_link_sha256", "id"]),
    ("hits", "ix_hits_story_id", "story_id", "ix_hits_story_rule_shown", ["story_id", "rule_id", "suppressed"]),
)


def upgrade() -> None:
    for table, old, _, new, columns in _REPLACED:
        op.create_index(new, table, columns)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, column, new, _ in _REPLACED:
        op.create_index(old, table, [column])
        op.drop_index(new, table_name=table)
