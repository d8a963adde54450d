"""Bounded reads per key (the newest few rows; a count up to a limit), for a whole batch of
keys in one statement per dialect.

Story grouping asks, for every band and canonical link of a batch, which recent stories hold the
newest items sharing it. A key shared by thousands of items (wire copy syndicated by hundreds of
outlets, or a band over common words) must cost what the few newest rows cost, not what the key
has gathered: each key walks its index backwards (PostgreSQL: a LATERAL subquery; SQLite: an
IN-subquery with LIMIT, which it evaluates per key against the same index) and stops after
``per_key`` rows. Ranking every sharer with a window function instead made every copy of a
syndicated story slower than the last.

The keys travel as one parameter (a JSON array on SQLite, a text array on PostgreSQL), so one
statement serves any number of them and is compiled once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer, String, TypeEngine
from sqlmodel import Session

from monitor.store.columns import UTCDateTime

# Each statement yields (key, story id, story signature) for the newest `per_key` items sharing
# the key whose story grew at or after `cutoff`, newest item first within a key.
_BANDS = {
    "sqlite": """
        SELECT k.value, i.story_id, i.story_signature
        FROM json_each(:keys) AS k
        JOIN item_bands AS b ON b.band = k.value AND b.item_id IN (
            SELECT item_id FROM item_bands
            WHERE band = k.value AND item_id >= :first ORDER BY item_id DESC LIMIT :per_key)
        JOIN items AS i ON i.id = b.item_id
        JOIN stories AS s ON s.id = i.story_id
        WHERE s.last_seen_at >= :cutoff
        ORDER BY k.value, b.item_id DESC""",
    "postgresql": """
        SELECT k.band, i.story_id, i.story_signature
        FROM unnest(:keys) AS k(band)
        CROSS JOIN LATERAL (
            SELECT item_id FROM item_bands
            WHERE band = k.band AND item_id >= :first ORDER BY item_id DESC LIMIT :per_key) AS b
        JOIN items AS i ON i.id = b.item_id
        JOIN stories AS s ON s.id = i.story_id
        WHERE s.last_seen_at >= :cutoff
        ORDER BY k.band, b.item_id DESC""",
}

# Per canonical-link digest: the stories of its newest items, the most recently grown first.
_LINKS = {
    "sqlite": """
        SELECT k.value, s.id, NULL
        FROM json_each(:keys) AS k
        JOIN items AS i ON i.story_link_sha256 = k.value AND i.id IN (
            SELECT id FROM items
            WHERE story_link_sha256 = k.value AND id >= :first ORDER BY id DESC LIMIT :per_key)
        JOIN stories AS s ON s.id = i.story_id
        WHERE s.last_seen_at >= :cutoff
        ORDER BY k.value, s.last_seen_at DESC, s.id DESC""",
    "postgresql": """
        SELECT k.digest, s.id, NULL
        FROM unnest(:keys) AS k(digest)
        CROSS JOIN LATERAL (
            SELECT story_id FROM items
            WHERE story_link_sha256 = k.digest AND id >= :first ORDER BY id DESC LIMIT :per_key) AS i
        JOIN stories AS s ON s.id = i.story_id
        WHERE s.last_seen_at >= :cutoff
        ORDER BY k.digest, s.last_seen_at DESC, s.id DESC""",
}

# Per story: its distinct outlets (feeds), counted up to :per_key; the index on (story_id,
# feed_id) yields them in order, so counting stops at the limit.
_OUTLETS = {
    "sqlite": """
        SELECT k.value, (SELECT count(*) FROM (
            SELECT DISTINCT feed_id FROM items WHERE story_id = k.value LIMIT :per_key))
        FROM json_each(:keys) AS k""",
    "postgresql": """
        SELECT k.story, (SELECT count(*) FROM (
            SELECT DISTINCT feed_id FROM items WHERE story_id = k.story LIMIT :per_key) AS f)
        FROM unnest(:keys) AS k(story)""",
}

_FIRST_RECENT_ITEM = text("SELECT min(id) FROM items WHERE fetched_at >= :cutoff").bindparams(
    bindparam("cutoff", type_=UTCDateTime)
)


def first_recent_item(session: Session, cutoff: datetime) -> int | None:
    """The first item id fetched at or after ``cutoff`` (item ids grow with fetch time, so the
    window's items are those from it on); None when nothing was fetched within the window."""
    first = session.execute(_FIRST_RECENT_ITEM, {"cutoff": cutoff}).scalar()
    return None if first is None else int(first)


def newest_by_band(
    session: Session, keys: Sequence[str], first: int, cutoff: datetime, per_key: int
) -> list[tuple[str, int, str | None]]:
    return _run(session, _BANDS, keys, first, cutoff, per_key)


def newest_by_link(
    session: Session, keys: Sequence[str], first: int, cutoff: datetime, per_key: int
) -> list[tuple[str, int]]:
    return [(key, story) for key, story, _ in _run(session, _LINKS, keys, first, cutoff, per_key)]


def distinct_feeds(session: Session, story_ids: Sequence[int], at_most: int) -> dict[int, int]:
    """Each story's count of distinct feeds, up to ``at_most``."""
    if not story_ids:
        return {}
    statement, keys = _prepared(session, _OUTLETS, "int", story_ids)
    return {int(story): int(count) for story, count in session.execute(statement, {"keys": keys, "per_key": at_most})}


def _run(
    session: Session, statements: dict[str, str], keys: Sequence[str], first: int, cutoff: datetime, per_key: int
) -> list[tuple[str, int, str | None]]:
    if not keys:
        return []
    statement, keys_value = _prepared(session, statements, "text", keys)
    rows = session.execute(statement, {"keys": keys_value, "first": first, "cutoff": cutoff, "per_key": per_key})
    return [(str(key), int(story), signature) for key, story, signature in rows if story is not None]


def _prepared(
    session: Session, statements: dict[str, str], key_kind: str, keys: Sequence[object]
) -> tuple[TextClause, object]:
    """The dialect's statement, and the keys as its one parameter (an array, or JSON text)."""
    dialect = session.get_bind().dialect.name
    value: object = list(keys) if dialect == "postgresql" else json.dumps(list(keys))
    return _statement(statements[dialect], dialect, key_kind), value


@cache
def _statement(sql: str, dialect: str, key_kind: str) -> TextClause:
    keys_type: TypeEngine[Any] = String()  # SQLite: the keys as one JSON text
    if dialect == "postgresql":
        keys_type = ARRAY(Integer() if key_kind == "int" else String())
    known = {"keys": keys_type, "first": Integer(), "per_key": Integer(), "cutoff": UTCDateTime()}
    statement = text(sql)
    return statement.bindparams(*(bindparam(name, type_=kind) for name, kind in known.items() if f":{name}" in sql))
