"""PostgreSQL going away: failed calls say so and leave nothing behind; the next call reconnects."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from sqlalchemy.engine import make_url
from store_factories import PG_ADMIN_DSN, T0, at, by_notify, feed, item, match, save

from monitor.saving import AlertRouting, SaveResult, save_and_queue
from monitor.store import Store, StoreUnavailableError
from monitor.types import ChannelSpec, Item, RuleMatch

pytestmark = pytest.mark.postgres

T = TypeVar("T")
SERVER_DEADLINE_SECONDS = 90.0


@pytest.fixture
def pg_store(clean_pg_url: str) -> Iterator[Store]:
    store = Store.open(clean_pg_url)
    yield store
    store.close()


def _database_name(url: str) -> str:
    name = make_url(url).database
    assert name
    return name


def _kill_connections_to(database: str) -> int:
    """What a server restart or an admin does to the store's open connections."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def _server_accepts_connections() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _wait_for_server() -> None:
    deadline = time.monotonic() + SERVER_DEADLINE_SECONDS
    while not _server_accepts_connections():
        if time.monotonic() > deadline:
            raise AssertionError("PostgreSQL did not come back within the deadline")
        time.sleep(0.2)


def _pg_ctlcluster(action: str) -> None:
    versions = sorted(path.name for path in Path("/etc/postgresql").iterdir())
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", action],
        check=True,
        capture_output=True,
        timeout=SERVER_DEADLINE_SECONDS,
    )


def _retry_once(call: Callable[[], T]) -> T:
    """The daemon's behaviour: a failed tick is logged and the next one tries again."""
    try:
        return call()
    except StoreUnavailableError:
        return call()


def _save(store: Store, feed_id: int, key: str, routing: AlertRouting | None = None) -> SaveResult:
    if routing is None:
        return save(store, feed_id, [item(key)], {key: [match()]}, by_notify, at(10))
    return save_and_queue(store, feed_id, [item(key)], {key: [match()]}, at(10), routing)


def _feed_id(store: Store) -> int:
    store.sync_feeds([feed(1)], T0)
    return store.claim_feeds(T0, "w", 60, 1)[0].id


def test_connection_lost_mid_save_raises_and_leaves_nothing(pg_store: Store, clean_pg_url: str) -> None:
    feed_id = _feed_id(pg_store)
    database = _database_name(clean_pg_url)

    class LosingTheConnection(AlertRouting):
        def channels_for(self, entry: Item, found: RuleMatch, now: datetime) -> tuple[str, ...]:
            # Items, stories and hits are written by now; the messages would be next.
            assert _kill_connections_to(database) >= 1
            return super().channels_for(entry, found, now)

    with pytest.raises(StoreUnavailableError, match="nothing from it was saved") as caught:
        _save(pg_store, feed_id, "a", LosingTheConnection((ChannelSpec("ops", "", tags=("ops",)),)))
    assert "content of a" not in str(caught.value)  # no feed text (SQL parameters) in the message
    assert [view.item_count for view in pg_store.list_feeds()] == [0]
    assert pg_store.list_hits(include_suppressed=True) == []
    retried = _save(pg_store, feed_id, "a")
    assert (retried.new_items, retried.new_hits, retried.new_deliveries) == (1, 1, 1)


def test_dropped_idle_connections_are_replaced_transparently(pg_store: Store, clean_pg_url: str) -> None:
    feed_id = _feed_id(pg_store)
    assert _kill_connections_to(_database_name(clean_pg_url)) >= 1  # the pooled one
    assert _save(pg_store, feed_id, "a").new_items == 1  # pre-ping notices, reconnects


@pytest.mark.slow
def test_server_restart_between_calls(pg_store: Store) -> None:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        pytest.skip("no pg_ctlcluster here to restart the local server with")
    feed_id = _feed_id(pg_store)
    assert _save(pg_store, feed_id, "before").new_items == 1
    try:
        _pg_ctlcluster("restart")
        _wait_for_server()
        after = _retry_once(lambda: _save(pg_store, feed_id, "after"))
    finally:
        if not _server_accepts_connections():  # never leave the shared server down
            _pg_ctlcluster("start")
            _wait_for_server()
    assert after.new_items == 1
    assert sorted(stored.item.key for stored in pg_store.iter_items()) == ["after", "before"]
    assert pg_store.pending_count() == 2
