"""Retention: delete what is old and no longer needed, a small batch per transaction.

Each call deletes at most `limit` rows of one kind, with the rows that exist only for them, in
one short transaction, so the daemon's own writes never wait long behind it (SQLite has a single
writer). Which rows depend on which is read from the schema's foreign keys rather than written
out here: a row is deleted only when no other row references it, except the dependent rows it
owns, which go with it. A table added later that points at items, hits or stories therefore
protects what it references until it is named here.

- hits (only when configured): matched before the cutoff, and no pending delivery is waiting
  for the hit or for its story; everything that references the hit goes with it.
- deliveries: sent before the cutoff (failed ones stay, for `monitor alerts retry`).
- items: fetched before the cutoff and referenced by nothing but their band rows (so never an
  item with a hit), which go with them.
- stories: last seen before the cutoff and referenced by nothing (no item, hit or delivery).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, exists, false, func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from monitor.store import tables as _tables  # noqa: F401 - registers every table in the metadata
from monitor.store.db import _session
from monitor.types import DeliveryStatus

PRUNABLE = ("hits", "deliveries", "items", "stories")  # the order that frees the most per pass

# Dependent rows deleted together with their parent (None: every referencing table).
_OWNED: dict[str, frozenset[str] | None] = {
    "hits": None,  # pending deliveries are excluded by the hit's own condition
    "deliveries": frozenset(),
    "items": frozenset({"item_bands"}),
    "stories": frozenset(),
}

Pruned = dict[str, int]  # rows deleted, by table


def prune(engine: Engine, kind: str, before: datetime, limit: int) -> Pruned:
    """Delete up to `limit` rows of `kind` (one of PRUNABLE) that are older than `before`."""
    if kind not in PRUNABLE:
        raise ValueError(f"cannot prune {kind!r}: one of {', '.join(PRUNABLE)}")
    table = _table(kind)
    condition = _CONDITIONS[kind](table, before)
    owned = _OWNED[kind]
    references = _references(table)
    kept_by = [fk for child, fk in references if owned is not None and child.name not in owned]
    doomed = [(child, fk) for child, fk in references if owned is None or child.name in owned]
    candidates = select(table.c.id).where(condition, *(~exists().where(fk == table.c.id) for fk in kept_by))
    with _session(engine) as session:
        ids = list(session.scalars(candidates.limit(limit)))
        if not ids:
            return {}
        pruned: Pruned = {}
        for child, fk in doomed:
            pruned[child.name] = pruned.get(child.name, 0) + _delete(session, child, fk, ids)
        pruned[kind] = _delete(session, table, table.c.id, ids)
    return {name: count for name, count in pruned.items() if count}


def _delete(session: Session, table: Table, column: ColumnElement[int], ids: list[int]) -> int:
    return int(session.connection().execute(delete(table).where(column.in_(ids))).rowcount)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _references(table: Table) -> list[tuple[Table, ColumnElement[int]]]:
    """(child table, its foreign-key column) for every column in the schema that points at
    `table`'s id."""
    return [
        (child, fk.parent)
        for child in SQLModel.metadata.sorted_tables
        for fk in child.foreign_keys
        if fk.column.table is table
    ]


def _old_hits(hits: Table, before: datetime) -> ColumnElement[bool]:
    return (hits.c.created_at < before) & ~_pending_delivery(hits)


def _pending_delivery(hits: Table) -> ColumnElement[bool]:
    """A pending delivery for the hit itself, or for anything the hit points at that a delivery
    also points at (its story, when deliveries are per story)."""
    deliveries = _table("deliveries")
    links = []
    for fk in deliveries.foreign_keys:
        if fk.column.table is hits:
            links.append(fk.parent == hits.c.id)
        links.extend(fk.parent == own.parent for own in hits.foreign_keys if own.column.table is fk.column.table)
    if not links:
        return false()
    return exists().where(deliveries.c.status == DeliveryStatus.PENDING, or_(*links))


def _sent_deliveries(deliveries: Table, before: datetime) -> ColumnElement[bool]:
    return (deliveries.c.status == DeliveryStatus.SENT) & (deliveries.c.sent_at < before)


def _old_items(items: Table, before: datetime) -> ColumnElement[bool]:
    return items.c.fetched_at < before


def _old_stories(stories: Table, before: datetime) -> ColumnElement[bool]:
    return func.coalesce(stories.c.last_seen_at, stories.c.first_seen_at) < before


_CONDITIONS: dict[str, Callable[[Table, datetime], ColumnElement[bool]]] = {
    "hits": _old_hits,
    "deliveries": _sent_deliveries,
    "items": _old_items,
    "stories": _old_stories,
}
