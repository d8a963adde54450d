"""Import and refresh entity lists: read the source (URL or file), parse, store.

A refresh that fails for any reason (network, HTTP status, size cap, a file that is not a list)
leaves the stored entries as they were: the last good list stays in force. The first failure of
a run says so (``ListOutcome.notify``), so the daemon sends one admin notice per run of failures,
whichever worker made the check.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import stat
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from monitor.durations import format_size
from monitor.fetch import Fetcher, FetchSettings
from monitor.lists.entries import ListFormatError
from monitor.lists.formats import read_list
from monitor.store import Store
from monitor.store.lists import ListState, ListVersion
from monitor.types import ConditionalState, ListSpec

log = logging.getLogger(__name__)
LIST_DEADLINE_SECONDS = 300.0  # a 100 MB list over a slow link; feeds get 60 s
RETRY_AFTER_FAILURE_SECONDS = 3_600.0  # a failed refresh is tried again within the hour
LEASE_SECONDS = LIST_DEADLINE_SECONDS * 2


@dataclass(frozen=True, slots=True)
class ListOutcome:
    name: str
    status: str  # imported | unchanged | not_modified | error | busy (another worker has it)
    entries: int = 0
    skipped: int = 0
    error: str | None = None
    notify: bool = False  # this failure starts a run of failures: tell the administrators

    def summary(self) -> str:
        if self.status == "error":
            return f"list {self.name}: error — {self.error}"
        if self.status == "imported":
            return f"list {self.name}: imported, {self.entries:,} entries ({self.skipped:,} records skipped)"
        return f"list {self.name}: {self.status}"


@dataclass(frozen=True, slots=True)
class _Read:
    data: bytes | None  # None: not modified
    etag: str | None = None
    last_modified: str | None = None


class _ReadError(Exception):
    pass


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


async def check_list(
    store: Store, spec: ListSpec, fetch: FetchSettings, now: datetime, *, force: bool = False
) -> ListOutcome:
    """Read ``spec``'s source and store a new version if it changed. ``force``: even when the
    server says not modified and the content hash is unchanged (a manual import)."""
    state = next((s for s in await asyncio.to_thread(store.list_states) if s.name == spec.name), None)
    fmt = spec.format or (state.format if state else "") or "auto"
    retry = now + timedelta(seconds=min(spec.refresh_seconds, RETRY_AFTER_FAILURE_SECONDS))
    try:
        read = await _read_source(spec, fetch, None if force else state)
        if read.data is None:
            return await _unchanged(store, spec, fmt, now, "not_modified")
        digest = hashlib.sha256(read.data).hexdigest()
        if not force and state is not None and state.imported_at is not None and state.sha256 == digest:
            return await _unchanged(store, spec, fmt, now, "unchanged")
        parsed = await asyncio.to_thread(read_list, read.data, spec.format)
    except (_ReadError, ListFormatError, OSError) as exc:
        error = str(exc) or type(exc).__name__
        starts = await asyncio.to_thread(store.record_list_check, spec.name, fmt, spec.source, now, retry, error)
        return ListOutcome(spec.name, "error", error=error, notify=starts)
    version = ListVersion(spec.name, parsed.format, spec.source, digest, parsed.entries, read.etag, read.last_modified)
    next_check = now + timedelta(seconds=spec.refresh_seconds)
    await asyncio.to_thread(store.save_list, version, now, next_check)
    return ListOutcome(spec.name, "imported", len(parsed.entries), parsed.skipped)


async def refresh_due(store: Store, specs: tuple[ListSpec, ...], fetch: FetchSettings, now: datetime,
                      worker: str) -> list[ListOutcome]:  # fmt: skip
    """Check each configured list that is due and that no other worker is checking."""
    outcomes = []
    for spec in specs:
        fmt = spec.format or "auto"
        claimed = await asyncio.to_thread(
            store.claim_list_check, spec.name, fmt, spec.source, now, worker, LEASE_SECONDS
        )
        if claimed:
            outcomes.append(await check_list(store, spec, fetch, now))
    return outcomes


def import_missing(store: Store, specs: tuple[ListSpec, ...], fetch: FetchSettings, now: datetime) -> list[ListOutcome]:
    """At start-up, before rules are loaded: read the configured lists never read yet, so rules
    naming them can load on a fresh database. Runs its own event loop (called from sync code)."""
    known = {state.name for state in store.list_states() if state.imported_at is not None}
    missing = tuple(spec for spec in specs if spec.name not in known)
    if not missing:
        return []

    async def read_all() -> list[ListOutcome]:
        return [await check_list(store, spec, fetch, now) for spec in missing]

    return asyncio.run(read_all())


async def _unchanged(store: Store, spec: ListSpec, fmt: str, now: datetime, status: str) -> ListOutcome:
    next_check = now + timedelta(seconds=spec.refresh_seconds)
    await asyncio.to_thread(store.record_list_check, spec.name, fmt, spec.source, now, next_check, None)
    return ListOutcome(spec.name, status)


async def _read_source(spec: ListSpec, fetch: FetchSettings, state: ListState | None) -> _Read:
    if not is_url(spec.source):
        return _Read(await asyncio.to_thread(read_file, Path(spec.source), spec.max_bytes))
    settings = replace(fetch, max_bytes=spec.max_bytes, deadline=max(fetch.deadline, LIST_DEADLINE_SECONDS))
    conditional = ConditionalState(state.etag, state.last_modified) if state and state.imported_at else None
    async with Fetcher(settings) as fetcher:
        result = await fetcher.fetch(spec.source, conditional)
    if not result.ok:
        raise _ReadError(f"{result.error_kind}: {result.error}")
    if result.not_modified:
        return _Read(None)
    return _Read(result.body or b"", result.etag, result.last_modified)


def read_file(path: Path, max_bytes: int) -> bytes:
    """A regular file of at most ``max_bytes`` (a device or FIFO would never end)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise _ReadError(f"{path}: not a regular file")
    if info.st_size > max_bytes:
        raise _ReadError(f"{path}: {format_size(info.st_size)} is over the limit of {format_size(max_bytes)}")
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _ReadError(f"{path}: grew past the limit of {format_size(max_bytes)} while read")
    return data
