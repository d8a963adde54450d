"""Admin notices sent, so that several workers send one notice, not one each.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Every worker watches the rule files and notices a broken edit at about the same moment. The
first to insert the notice's key sends it; the others find the key and stay quiet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_notices"),
    )


def downgrade() -> None:
    op.drop_table("notices")
