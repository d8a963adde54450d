"""Imported entity lists: the last good version of each, and the state of its refreshes.

A list's entries are replaced in one transaction, so readers (the rule loader of every worker)
see either the old list or the new one, and a refresh that fails changes nothing but the
list's error. Lists live in the database rather than in files so that every worker sharing a
PostgreSQL database matches against the same version, and `monitor lists import` on one machine
reaches them all.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.rules.lists import ListEntry, WatchList
from monitor.store.columns import MAX_ERROR_TEXT, clip, free_of_lease
from monitor.store.db import _session
from monitor.store.tables import EntityListRow, ListEntryRow

_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class ListState:
    name: str
    format: str
    source: str
    sha256: str | None
    entry_count: int
    imported_at: datetime | None  # None: never read successfully
    etag: str | None
    last_modified: str | None
    checked_at: datetime | None
    next_check_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ListVersion:
    """What one successful read produced."""

    name: str
    format: str
    source: str
    sha256: str
    entries: Sequence[ListEntry]
    etag: str | None = None
    last_modified: str | None = None


def save_list(engine: Engine, version: ListVersion, now: datetime, next_check_at: datetime | None) -> None:
    """Replace the list's entries and mark it good, in one transaction."""
    with _session(engine) as session:
        row = _row(session, version.name, version.format, version.source)
        row.format, row.source, row.sha256 = version.format, version.source, version.sha256
        row.entry_count, row.imported_at, row.checked_at = len(version.entries), now, now
        row.etag, row.last_modified = version.etag, version.last_modified
        row.next_check_at, row.last_error = next_check_at, None
        row.claimed_by = row.lease_until = None
        session.add(row)
        session.flush()
        session.execute(delete(ListEntryRow).where(col(ListEntryRow.list_name) == version.name))
        rows = [_entry_values(version.name, entry) for entry in version.entries]
        for start in range(0, len(rows), _CHUNK):
            session.execute(insert(ListEntryRow), rows[start : start + _CHUNK])


def record_check(
    engine: Engine, name: str, fmt: str, source: str, now: datetime, next_check_at: datetime, error: str | None
) -> bool:
    """A check that read nothing new (error None: not modified, or the same file) or failed;
    the entries stay. True when this failure starts a run of failures (the list was fine, or
    never checked, before): the moment to tell an administrator, once."""
    with _session(engine) as session:
        row = _row(session, name, fmt, source)
        starts = error is not None and (row.last_error is None)
        row.checked_at, row.next_check_at = now, next_check_at
        row.last_error = clip(error, MAX_ERROR_TEXT)
        row.claimed_by = row.lease_until = None
        session.add(row)
        return starts


def claim_check(engine: Engine, name: str, fmt: str, source: str, now: datetime, worker: str, lease: float) -> bool:
    """Whether this worker should check the list now: it is due and nobody else is at it."""
    with _session(engine) as session:
        row = _row(session, name, fmt, source)
        session.add(row)
        session.flush()
        due = (col(EntityListRow.next_check_at).is_(None)) | (col(EntityListRow.next_check_at) <= now)
        claimed = session.execute(
            update(EntityListRow)
            .where(col(EntityListRow.name) == name, due, free_of_lease(col(EntityListRow.lease_until), now))
            .values(claimed_by=worker, lease_until=now + timedelta(seconds=lease))
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _row(session: Session, name: str, fmt: str, source: str) -> EntityListRow:
    row = session.get(EntityListRow, name)
    return row if row is not None else EntityListRow(name=name, format=fmt, source=source)


def load_lists(engine: Engine, names: Collection[str]) -> dict[str, WatchList]:
    """The named lists that have been read successfully, by name (others are left out)."""
    with _session(engine, write=False) as session:
        wanted = col(EntityListRow.name).in_(list(names))
        heads = session.exec(select(EntityListRow).where(wanted, col(EntityListRow.imported_at).is_not(None))).all()
        found: dict[str, WatchList] = {}
        for head in heads:
            query = select(ListEntryRow).where(col(ListEntryRow.list_name) == head.name)
            query = query.order_by(col(ListEntryRow.entry_id))  # the same order on every worker
            entries = tuple(_entry(row) for row in session.exec(query))
            found[head.name] = WatchList(head.name, head.sha256 or "", entries)
    return found


def list_states(engine: Engine) -> list[ListState]:
    with _session(engine, write=False) as session:
        rows = session.exec(select(EntityListRow).order_by(col(EntityListRow.name))).all()
        return [_state(row) for row in rows]


def list_versions(engine: Engine) -> dict[str, str]:
    """Name → version (SHA-256) of every list read successfully: cheap, for noticing changes."""
    with _session(engine, write=False) as session:
        imported = col(EntityListRow.imported_at).is_not(None)
        query = select(col(EntityListRow.name), col(EntityListRow.sha256)).where(imported)
        return {name: sha or "" for name, sha in session.exec(query)}


def remove_list(engine: Engine, name: str) -> bool:
    with _session(engine) as session:
        session.execute(delete(ListEntryRow).where(col(ListEntryRow.list_name) == name))
        removed = session.execute(delete(EntityListRow).where(col(EntityListRow.name) == name))
        return bool(removed.rowcount)  # type: ignore[attr-defined]


def _entry_values(list_name: str, entry: ListEntry) -> dict[str, Any]:
    return {
        "list_name": list_name,
        "entry_id": entry.entry_id,
        "caption": entry.caption,
        "schema_name": entry.schema,
        "schemata": json.dumps(sorted(entry.schemata)),
        "names": json.dumps(entry.names, ensure_ascii=False),
        "imo": json.dumps(entry.imo),
        "mmsi": json.dumps(entry.mmsi),
    }


def _entry(row: ListEntryRow) -> ListEntry:
    return ListEntry(
        entry_id=row.entry_id,
        caption=row.caption,
        schema=row.schema_name,
        schemata=frozenset(_strings(row.schemata)),
        names=_strings(row.names),
        imo=_strings(row.imo),
        mmsi=_strings(row.mmsi),
    )


def _strings(raw: str) -> tuple[str, ...]:
    loaded: Any = json.loads(raw)
    return tuple(str(value) for value in loaded) if isinstance(loaded, list) else ()


def _state(row: EntityListRow) -> ListState:
    return ListState(
        row.name, row.format, row.source, row.sha256, row.entry_count, row.imported_at, row.etag,
        row.last_modified, row.checked_at, row.next_check_at, row.last_error,
    )  # fmt: skip
