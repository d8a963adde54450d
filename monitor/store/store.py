"""Store: the one object the rest of the monitor uses to reach the database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from monitor.rules.lists import WatchList
from monitor.store import feeds as feed_ops
from monitor.store import health, outbox, retention, views
from monitor.store import items as item_ops
from monitor.store import lists as list_ops
from monitor.store.db import (
    WriterLock,
    _session,
    check_sqlite_path,
    make_engine,
    normalise_url,
    run_migrations,
    schema_problem,
    sqlite_file,
    unreachable_message,
)
from monitor.store.items import SaveTransaction
from monitor.store.lists import ListState, ListVersion
from monitor.store.records import (
    DeliveryJob,
    DeliveryView,
    FeedJob,
    FeedView,
    HitView,
    PollOutcome,
    StoredItem,
    StoreUnavailableError,
)
from monitor.store.tables import DeliveryRow, FeedRow
from monitor.store.web_console import ConsoleStore
from monitor.types import FeedSpec, Severity


class Store:
    """Typed access to feeds, items, hits and the delivery outbox (SQLite or PostgreSQL).

    Thread-safe: every call runs in its own short transaction on a pooled connection.
    The store has no clock: every timestamp is passed in, as an aware datetime.
    A call that loses its database (e.g. a PostgreSQL restart) raises StoreUnavailableError
    and has saved nothing; the next call reconnects.
    """

    def __init__(self, engine: Engine, lock: WriterLock | None = None) -> None:
        self._engine = engine
        self._lock = lock

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, exclusive: bool = False) -> Store:
        """Connect (creating a SQLite file's directory), optionally lock and migrate.

        `exclusive=True` (the daemon) takes an OS lock next to a SQLite file and raises
        StoreLockedError if another process holds it; it is a no-op on PostgreSQL, where
        row leases coordinate several workers.
        """
        parsed = normalise_url(url)
        path = sqlite_file(parsed)
        if path is not None:
            check_sqlite_path(path)  # a read-only folder: one clear line, not a traceback
        lock = WriterLock(path) if exclusive and path is not None else None
        try:
            store = cls(make_engine(parsed), lock)
            if migrate:
                store.upgrade()
            if lock is not None and migrate:
                store._release_dead_leases()
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return store

    @classmethod
    def open_read_only(cls, url: str) -> Store:
        """Open an existing, current database without creating, locking or migrating anything;
        StoreUnavailableError says what is missing (no file, no schema, an older schema)."""
        parsed = normalise_url(url)
        path = sqlite_file(parsed)
        if path is not None and not path.is_file():
            raise StoreUnavailableError(f"no database at {path} yet: run `monitor once` or `monitor db upgrade` first")
        store = cls(make_engine(parsed), None)
        try:
            problem = schema_problem(store._engine)
        except OperationalError as error:
            store.close()
            raise StoreUnavailableError(unreachable_message(error)) from error
        if problem is not None:
            store.close()
            raise StoreUnavailableError(problem)
        return store

    def _release_dead_leases(self) -> None:
        """fix: holding the SQLite writer lock proves that every lease left in the file belongs to
        a process that died (SIGKILL, power loss); free them now, or its claimed feeds would wait
        2 × deadline + 60 s and its claimed batch of alerts the outbox lease (300 s)."""
        with _session(self._engine) as session:
            session.execute(
                update(FeedRow).where(col(FeedRow.lease_until).is_not(None)).values(claimed_by=None, lease_until=None)
            )
            session.execute(
                update(DeliveryRow)
                .where(col(DeliveryRow.lease_until).is_not(None))
                .values(claimed_by=None, lease_until=None)
            )

    def close(self) -> None:
        self._engine.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def upgrade(self) -> str:
        """Runs `alembic upgrade head`; returns the revision the database is now at. A database
        that cannot be reached raises StoreUnavailableError with a one-line reason."""
        try:
            return run_migrations(self._engine)
        except OperationalError as error:
            raise StoreUnavailableError(unreachable_message(error)) from error

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def console(self) -> ConsoleStore:
        """Accounts, inbox, triage and rule versions for the web console (monitor.web)."""
        return ConsoleStore(self._engine)

    # feeds
    def sync_feeds(self, feeds: Sequence[FeedSpec], now: datetime) -> None:
        feed_ops.sync_feeds(self._engine, feeds, now)

    def claim_feeds(
        self, now: datetime, worker_id: str, lease_seconds: float, limit: int, *, due_only: bool = True
    ) -> list[FeedJob]:
        return feed_ops.claim_feeds(self._engine, now, worker_id, lease_seconds, limit, due_only=due_only)

    def replan_feeds(self, now: datetime, tolerance_seconds: float) -> int:
        """Reschedule feeds last polled after ``now``: the clock was set back (feeds.replan_feeds)."""
        return feed_ops.replan_feeds(self._engine, now, tolerance_seconds)

    def set_feed_title(self, feed_id: int, title: str) -> None:
        """Show a feed configured without a name by its own fetched title (its configured or
        default name stays what rules' `feeds:` filters match)."""
        feed_ops.set_feed_title(self._engine, feed_id, title)

    def known_item_keys(self, feed_id: int, keys: Sequence[str]) -> set[str]:
        return feed_ops.known_item_keys(self._engine, feed_id, keys)

    def record_poll(self, feed_id: int, outcome: PollOutcome) -> None:
        feed_ops.record_poll(self._engine, feed_id, outcome)

    def record_polls(self, outcomes: Sequence[tuple[int, PollOutcome]]) -> None:
        """Several feeds' outcomes (feed id, outcome) in one transaction."""
        feed_ops.record_polls(self._engine, outcomes)

    def change_health_state(self, feed_id: int, expected: str, state: str) -> bool:
        """Move the feed from ``expected`` to ``state``; False if another worker did it first."""
        return health.change_health_state(self._engine, feed_id, expected, state)

    def claim_notice(self, key: str, now: datetime, quiet_seconds: float) -> bool:
        """True for the one worker that should send admin notice ``key`` now."""
        return health.claim_notice(self._engine, key, now, quiet_seconds)

    def release_notice(self, key: str) -> None:
        health.release_notice(self._engine, key)

    def typical_item_gap(self, feed_id: int, sample: int = 20) -> float | None:
        return health.typical_item_gap(self._engine, feed_id, sample)

    @contextmanager
    def saving(self) -> Iterator[SaveTransaction]:
        """One transaction for one feed's save: items, stories and hits, then the messages the
        caller decided to queue on what it read (see SaveTransaction)."""
        with item_ops.saving(self._engine) as transaction:
            yield transaction

    # entity lists (store/lists.py)
    def save_list(self, version: ListVersion, now: datetime, next_check_at: datetime | None) -> None:
        """Replace a list's entries with a good new version, in one transaction."""
        list_ops.save_list(self._engine, version, now, next_check_at)

    def record_list_check(
        self, name: str, fmt: str, source: str, now: datetime, next_check_at: datetime, error: str | None
    ) -> bool:
        """A check that changed no entry; True when its error starts a run of failures."""
        return list_ops.record_check(self._engine, name, fmt, source, now, next_check_at, error)

    def claim_list_check(self, name: str, fmt: str, source: str, now: datetime, worker: str, lease: float) -> bool:
        return list_ops.claim_check(self._engine, name, fmt, source, now, worker, lease)

    def load_lists(self, names: Sequence[str] | frozenset[str]) -> dict[str, WatchList]:
        return list_ops.load_lists(self._engine, names)

    def list_states(self) -> list[ListState]:
        return list_ops.list_states(self._engine)

    def list_versions(self) -> dict[str, str]:
        return list_ops.list_versions(self._engine)

    def remove_list(self, name: str) -> bool:
        return list_ops.remove_list(self._engine, name)

    # outbox
    def claim_deliveries(
        self,
        now: datetime,
        worker_id: str,
        lease_seconds: float,
        limit: int,
        channels: Sequence[str] | None = None,
        min_severity: Severity | None = None,
    ) -> list[DeliveryJob]:
        return outbox.claim_deliveries(self._engine, now, worker_id, lease_seconds, limit, channels, min_severity)

    def renew_lease(self, delivery_id: int, owner: str, now: datetime, lease_seconds: float) -> bool:
        """Extend ``owner``'s claim right before sending; False: someone else holds it now."""
        return outbox.renew_lease(self._engine, delivery_id, owner, now, lease_seconds)

    def mark_sent(self, delivery_id: int, now: datetime, owner: str | None = None) -> bool:
        """False when the delivery was no longer pending (or no longer ``owner``'s)."""
        return outbox.mark_sent(self._engine, delivery_id, now, owner)

    def mark_failed(
        self, delivery_id: int, error: str, now: datetime, retry_at: datetime | None, owner: str | None = None
    ) -> None:
        outbox.mark_failed(self._engine, delivery_id, error, now, retry_at, owner)

    def mark_sent_many(self, delivery_ids: Sequence[int], now: datetime, owner: str | None = None) -> None:
        """One digest sent: all its deliveries are marked in one transaction."""
        outbox.mark_sent_many(self._engine, delivery_ids, now, owner)

    def mark_failed_many(
        self,
        delivery_ids: Sequence[int],
        error: str,
        now: datetime,
        retry_at: datetime | None,
        owner: str | None = None,
    ) -> None:
        """One digest failed: all its deliveries fail (or retry at retry_at) together."""
        outbox.mark_failed_many(self._engine, delivery_ids, error, now, retry_at, owner)

    def release(self, delivery_ids: Sequence[int]) -> None:
        outbox.release(self._engine, delivery_ids)

    def last_sent_at(self, channel: str) -> datetime | None:
        return outbox.last_sent_at(self._engine, channel)

    def oldest_pending_at(self, channel: str) -> datetime | None:
        return outbox.oldest_pending_at(self._engine, channel)

    def list_deliveries(self, status: str | None = None, limit: int = 200) -> list[DeliveryView]:
        return outbox.list_deliveries(self._engine, status, limit)

    def requeue(self, delivery_ids: Sequence[int] | None, now: datetime) -> int:
        return outbox.requeue(self._engine, delivery_ids, now)

    def pending_count(self) -> int:
        return outbox.pending_count(self._engine)

    # retention
    def prune(self, kind: str, before: datetime, limit: int) -> dict[str, int]:
        """Delete up to ``limit`` rows of ``kind`` (retention.PRUNABLE: hits, deliveries, items,
        stories) older than ``before``, with the rows that exist only for them, in one short
        transaction; rows deleted, by table. Never an item with a hit, nor a hit whose alert is
        still pending."""
        return retention.prune(self._engine, kind, before, limit)

    # views
    def list_hits(
        self,
        since: datetime | None = None,
        rule_id: str | None = None,
        limit: int = 1000,
        include_suppressed: bool = False,
    ) -> list[HitView]:
        return views.list_hits(self._engine, since, rule_id, limit, include_suppressed=include_suppressed)

    def list_feeds(self) -> list[FeedView]:
        return views.list_feeds(self._engine)

    def iter_items(self, since: datetime | None = None) -> Iterator[StoredItem]:
        return item_ops.iter_items(self._engine, since)
