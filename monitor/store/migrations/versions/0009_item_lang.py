"""Items' detected language.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

`items.lang` holds the ISO 639-1 code the parse worker detected (monitor.langid), for rules'
`lang:` scopes when stored items are backtested. Nullable: items stored before this revision have
none (a backtest detects theirs on the fly). Only an addition, so it runs on SQLite without a
table rebuild.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("items", sa.Column("lang", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("lang")
