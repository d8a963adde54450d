"""The analysts' console: accounts, API tokens, triage, rule versions, full-text search.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Full-text search over items differs per database (monitor.store.web_search): SQLite gets an
FTS5 table kept in step with `items` by triggers, PostgreSQL an expression GIN index that
websearch_to_tsquery queries use. Building either over a large existing database takes a
while (about a minute per million items on SQLite); it runs once, at this upgrade.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from monitor.store.web_search import create_search, drop_search

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        _when("created_at"),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_api_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "story_triage",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("muted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name="fk_story_triage_story_id_stories"),
        sa.PrimaryKeyConstraint("story_id", name="pk_story_triage"),
    )
    op.create_table(
        "rule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_rule_versions"),
    )
    op.create_index("ix_rule_versions_rule", "rule_versions", ["rule_id", "id"])
    op.create_table(
        "console_keys",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_console_keys"),
    )
    op.execute(
        sa.text("INSERT INTO console_keys (name, value) VALUES ('session', :value)").bindparams(
            value=secrets.token_hex(32)
        )
    )
    op.create_index("ix_hits_rule_story", "hits", ["rule_id", "story_id"])
    op.create_index("ix_hits_severity_story", "hits", ["severity", "story_id"])
    create_search(op.get_bind())


def downgrade() -> None:
    drop_search(op.get_bind())
    op.drop_index("ix_hits_severity_story", table_name="hits")
    op.drop_index("ix_hits_rule_story", table_name="hits")
    op.drop_table("console_keys")
    op.drop_index("ix_rule_versions_rule", table_name="rule_versions")
    op.drop_table("rule_versions")
    op.drop_table("story_triage")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
