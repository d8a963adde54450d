"""Feed names: an unnamed feed is shown by its own title, its configured name stays its key.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

`feeds.name` becomes the name shown in alerts, digests and `monitor feeds`: for a feed configured
without a name, its `<title>` once fetched. `feeds.config_name` keeps the configured (or default,
host-derived) name that rules' `feeds:` filters and logs use, and `feeds.named` says whether the
configuration gave one. Only additions, so it runs on SQLite without a table rebuild; existing rows
keep showing their configured name until the next fetch.

Written next to 0005 (story deliveries), on 0004: when both are merged, this one goes after 0005.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("config_name", sa.Text(), nullable=True))
    op.execute("UPDATE feeds SET config_name = name")
    op.add_column("feeds", sa.Column("named", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    # Shown names go back to being the configured ones.
    op.execute("UPDATE feeds SET name = config_name WHERE config_name IS NOT NULL")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("named")
        batch.drop_column("config_name")
