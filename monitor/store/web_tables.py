"""Tables of the analysts' console (revision 0006): accounts, API tokens, triage, rule versions,
and the inbox's indexes on `hits`. Like tables.py, the rows never leave monitor.store.

Full-text search is not declared here: its structures differ per database (an FTS5 table on
SQLite, an expression GIN index on PostgreSQL) and live in migrations/versions/0007_console.py
and monitor.store.web_search.
"""

from datetime import datetime

from sqlalchemy import Index, Text, false, text
from sqlmodel import Field, SQLModel

from monitor.store.columns import UTCDateTime
from monitor.store.tables import HitRow

_FALSE = {"server_default": false()}
_ZERO = {"server_default": text("0")}

# The inbox lists stories newest first through hits: filtered by rule or by severity it walks
# these indexes backwards from the page's cursor and stops after one page.
HITS_RULE_STORY = Index("ix_hits_rule_story", HitRow.__table__.c.rule_id, HitRow.__table__.c.story_id)  # type: ignore[attr-defined]
HITS_SEVERITY_STORY = Index(
    "ix_hits_severity_story",
    HitRow.__table__.c.severity,  # type: ignore[attr-defined]
    HitRow.__table__.c.story_id,  # type: ignore[attr-defined]
)


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=16)  # viewer | editor | admin
    password_hash: str | None = Field(default=None, sa_type=Text)  # argon2; None: proxy sign-in only
    created_at: datetime = Field(sa_type=UTCDateTime)
    disabled: bool = Field(default=False, sa_column_kwargs=_FALSE)
    # Bumped to sign the user out everywhere: session cookies carry the epoch they were issued in.
    session_epoch: int = Field(default=0, sa_column_kwargs=_ZERO)


class ApiTokenRow(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True)  # the token itself is shown once
    created_at: datetime = Field(sa_type=UTCDateTime)


class TriageRow(SQLModel, table=True):
    """An analyst's verdict on a story (the latest wins) and whether it is muted."""

    __tablename__ = "story_triage"

    story_id: int = Field(foreign_key="stories.id", primary_key=True)
    verdict: str | None = Field(default=None, max_length=16)  # relevant | not_relevant
    note: str = Field(default="", sa_type=Text)
    muted: bool = Field(default=False, sa_column_kwargs=_FALSE)
    updated_by: str = Field(max_length=100)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class RuleVersionRow(SQLModel, table=True):
    """One saved state of a rule: its YAML block, the file's diff, who and when."""

    __tablename__ = "rule_versions"
    __table_args__ = (Index("ix_rule_versions_rule", "rule_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    rule_id: str = Field(max_length=200)
    file: str = Field(sa_type=Text)
    action: str = Field(max_length=16)  # baseline | save | revert | create
    content: str = Field(sa_type=Text)  # the rule's YAML block after this version
    diff: str = Field(sa_type=Text)  # unified diff of the file
    author: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ConsoleKeyRow(SQLModel, table=True):
    """Secrets every console process shares (the session-signing key), made by the migration."""

    __tablename__ = "console_keys"

    name: str = Field(max_length=40, primary_key=True)
    value: str = Field(sa_type=Text)
