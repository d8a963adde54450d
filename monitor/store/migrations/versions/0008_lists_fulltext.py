"""Entity lists for `@list:` rules, and the evidence of list and full-text matches on hits.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

`entity_lists` holds each imported list's source, version (SHA-256 of the file read) and refresh
state; `list_entries` its entries (names and vessel identifiers as JSON). A refresh replaces a
list's entries in one transaction, so a failed one leaves the last good list in place.
`hits.evidence` (JSON, nullable) names the list entries a match found and the article page it
was made on (URL, fetch time, SHA-256 and extracted text). Only additions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_lists",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("entry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_entity_lists"),
    )
    op.create_table(
        "list_entries",
        sa.Column("list_name", sa.String(100), nullable=False),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("schema_name", sa.String(64), nullable=False),
        sa.Column("schemata", sa.Text(), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("imo", sa.Text(), nullable=False),
        sa.Column("mmsi", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["list_name"], ["entity_lists.name"], name="fk_list_entries_list_name_entity_lists"),
        sa.PrimaryKeyConstraint("list_name", "entry_id", name="pk_list_entries"),
    )
    op.add_column("hits", sa.Column("evidence", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hits") as batch:
        batch.drop_column("evidence")
    op.drop_table("list_entries")
    op.drop_table("entity_lists")
