"""Story grouping: per-item story keys, LSH band index, and when a story last grew.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Only additions (nullable columns, a new table, indexes), so it runs on SQLite without a table
rebuild and on a live PostgreSQL without rewriting existing rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stories", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    # Stories written before this revision: their last item is at least as old as their first.
    op.execute("UPDATE stories SET last_seen_at = first_seen_at")
    op.create_index("ix_stories_last_seen_at", "stories", ["last_seen_at"])
    op.add_column("items", sa.Column("story_signature", sa.Text(), nullable=True))
    op.add_column("items", sa.Column("story_link_sha256", sa.String(64), nullable=True))
    op.create_index("ix_items_story_link_sha256", "items", ["story_link_sha256"])
    op.create_table(
        "item_bands",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_item_bands_item_id_items"),
        sa.PrimaryKeyConstraint("item_id", "band", name="pk_item_bands"),
    )
    op.create_index("ix_item_bands_band", "item_bands", ["band"])


def downgrade() -> None:
    op.drop_table("item_bands")
    op.drop_index("ix_items_story_link_sha256", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("story_link_sha256")
        batch.drop_column("story_signature")
    op.drop_index("ix_stories_last_seen_at", table_name="stories")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("last_seen_at")
