"""Retention on 100,000 items (issue 12, 9: nothing was ever deleted, about 3.6 KB per item):
the database shrinks and every alerted item stays. Figures are printed for the report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from bulk_history import HIT_EVERY, PRUNED_TABLES, History, row_counts, write_history
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from store_factories import feed

from monitor.policies import RetentionPolicy
from monitor.retention import Pruner
from monitor.store import AsyncStore, Store

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HISTORY = History(items=100_000, old_share=0.8, now=NOW)  # 80,000 fetched 120 days ago


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
    else:
        yield request.getfixturevalue("clean_pg_url")


def alerted_items(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT items.id FROM items JOIN hits ON hits.item_id = items.id")).scalars())


def compacted_bytes(url: str, engine: Engine) -> int:
    """The database's size once free space is given back (VACUUM; VACUUM FULL on PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM FULL")
        sizes = [conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone() for table in PRUNED_TABLES]
        return sum(int(size[0]) for size in sizes if size is not None)


def test_a_hundred_thousand_items_shrink_to_what_is_kept(url: str) -> None:
    store = Store.open(url)
    engine = create_engine(url)
    try:
        store.sync_feeds([feed(1)], NOW)
        write_history(engine, store.list_feeds()[0].id, HISTORY)
        before, size_before, alerted = row_counts(engine), compacted_bytes(url, engine), alerted_items(engine)

        started = time.monotonic()
        pruned = asyncio.run(Pruner(AsyncStore(store), RetentionPolicy(), lambda: NOW).run())
        seconds = time.monotonic() - started

        after, size_after = row_counts(engine), compacted_bytes(url, engine)
        print(f"\n{engine.dialect.name}: pruned in {seconds:.1f} s: {pruned}")
        print(f"rows before {before}\nrows after  {after}")
        print(f"bytes {size_before:,} -> {size_after:,} ({size_before / HISTORY.items:,.0f} bytes per item before)")

        assert alerted_items(engine) == alerted and len(alerted) == HISTORY.items // HIT_EVERY
        old_quiet = HISTORY.old_items - HISTORY.old_items // HIT_EVERY
        assert pruned["items"] == old_quiet
        assert after["items"] == HISTORY.items - old_quiet
        assert after["hits"] == before["hits"], "hits are kept unless configured"
        assert {table: before[table] - after[table] for table in PRUNED_TABLES} == {
            t: pruned.get(t, 0) for t in PRUNED_TABLES
        }
        assert size_after < size_before * 0.35
    finally:
        engine.dispose()
        store.close()
