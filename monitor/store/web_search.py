"""Full-text search over stored items, one interface for both databases.

SQLite: an FTS5 table `items_fts` (external content: it indexes `items` without a second copy of
the text), kept in step by triggers. PostgreSQL: a GIN index on a to_tsvector expression, queried
with websearch_to_tsquery. Both stem English words (FTS5's porter tokenizer, PostgreSQL's english
configuration), so "missiles" finds "missile".

The query language is the same on both, parsed here once: words (all must occur), "quoted
phrases", `OR` between two alternatives, and `-word` to exclude. Results come newest item first
and are read page by page from a cursor (an item id), so a page costs the same at 10 thousand
and at a million items.

A later migration that rebuilds the `items` table on SQLite (Alembic batch mode copies it)
drops the triggers: it must call create_search again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, literal_column, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select, column, select

from monitor.store.tables import ItemRow

MAX_INDEXED = 100_000  # characters of an item's text that are indexed (PostgreSQL caps a tsvector at 1 MB)
MAX_TERMS = 16
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_WORDY = re.compile(r"\w")

# One text for the index and the query: the planner uses the index only for the same expression.
_PG_DOCUMENT = (
    "to_tsvector('english'::regconfig, left({p}title || ' ' || {p}summary || ' ' || {p}content, "
    + str(MAX_INDEXED)
    + "))"
)


def _indexed(row: str) -> str:
    """The FTS5 values of a trigger's ``new`` or ``old`` row (constant SQL, no input in it)."""
    parts = ", ".join(f"substr({row}.{name}, 1, {MAX_INDEXED})" for name in ("title", "summary", "content"))
    return f"{row}.id, {parts}"


# S608: these statements are built from constants only.
_FTS_INSERT = f"INSERT INTO items_fts(rowid, title, summary, content) VALUES ({_indexed('new')});"  # noqa: S608
_FTS_DELETE = f"INSERT INTO items_fts(items_fts, rowid, title, summary, content) VALUES ('delete', {_indexed('old')});"  # noqa: S608
_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, content, content='items', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN {_FTS_INSERT} END",
    f"CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN {_FTS_DELETE} END",
    f"CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, content ON items "
    f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    # external content: 'rebuild' reads every stored item once
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS items_fts_insert",
    "DROP TRIGGER IF EXISTS items_fts_delete",
    "DROP TRIGGER IF EXISTS items_fts_update",
    "DROP TABLE IF EXISTS items_fts",
)
SEARCH_TABLE_PREFIX = "items_fts"  # FTS5's table and its shadow tables (not SQLModel tables)
PG_SEARCH_INDEX = "ix_items_search"


def create_search(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        document = _PG_DOCUMENT.format(p="")
        connection.execute(text(f"CREATE INDEX {PG_SEARCH_INDEX} ON items USING gin (({document}))"))
        return
    for statement in _SQLITE_DDL:
        connection.execute(text(statement))


def drop_search(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DROP INDEX IF EXISTS {PG_SEARCH_INDEX}"))
        return
    for statement in _SQLITE_DROP:
        connection.execute(text(statement))


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """All groups must occur (a group: one of its alternatives); no excluded term may occur.
    An alternative is a word or a phrase, as typed."""

    groups: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """Every searched word, lower case, for highlighting."""
        return tuple(word.lower() for group in self.groups for phrase in group for word in re.findall(r"\w+", phrase))

    def fts5(self) -> str:
        """FTS5 syntax: every alternative quoted (so nothing typed is an FTS5 operator)."""
        positive = " AND ".join("(" + " OR ".join(_quote(alt) for alt in group) + ")" for group in self.groups)
        return positive + "".join(f" NOT {_quote(term)}" for term in self.excluded)

    def websearch(self) -> str:
        """websearch_to_tsquery syntax, rebuilt from the parse so both databases read the same query."""
        parts = [" or ".join(_quote(alt) for alt in group) for group in self.groups]
        return " ".join(parts + [f"-{_quote(term)}" for term in self.excluded])


def _quote(term: str) -> str:
    return '"' + term.replace('"', " ") + '"'


def parse_search(typed: str) -> SearchQuery | None:
    """None when nothing positive is left to search for (an empty box, or only exclusions)."""
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for part in _TOKEN.findall(typed)[: MAX_TERMS * 3]:
        if part in ("OR", "or"):
            join_next = bool(groups)
            continue
        negative = part.startswith("-") and len(part) > 1
        term = part.lstrip("-").strip('"').strip()
        if not _WORDY.search(term):
            continue
        if negative:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    if not groups:
        return None
    return SearchQuery(tuple(tuple(group) for group in groups[:MAX_TERMS]), tuple(excluded[:MAX_TERMS]))


_ITEMS = ItemRow.__table__  # type: ignore[attr-defined]
_FTS = table("items_fts", column("rowid"))


def matching_items(
    dialect: str,
    query: SearchQuery,
    *,
    before: int | None,
    after: int | None,
    limit: int,
    where: tuple[ColumnElement[bool], ...] = (),
) -> Select[Any]:
    """(item id, story id) of matching items, newest first from the cursor (oldest first with
    ``after``, for the page before). ``where`` adds conditions on `items`."""
    if dialect == "postgresql":
        key = _ITEMS.c.id
        document: ColumnElement[Any] = literal_column(_PG_DOCUMENT.format(p="items."))
        wanted = func.websearch_to_tsquery(literal_column("'english'::regconfig"), bindparam("q", query.websearch()))
        statement = select(_ITEMS.c.id, _ITEMS.c.story_id).where(document.op("@@")(wanted))
    else:
        key = _FTS.c.rowid
        match = literal_column("items_fts").op("MATCH")(bindparam("q", query.fts5()))
        joined = _FTS.join(_ITEMS, _ITEMS.c.id == _FTS.c.rowid)
        statement = select(_ITEMS.c.id, _ITEMS.c.story_id).select_from(joined).where(match)
    statement = statement.where(*where)
    if after is not None:
        return statement.where(key > after).order_by(key.asc()).limit(limit)
    if before is not None:
        statement = statement.where(key < before)
    return statement.order_by(key.desc()).limit(limit)
