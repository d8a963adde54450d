"""Retention deletes what is old and unneeded, and never an alerted item or a pending alert
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from bulk_history import PRUNED_TABLES, row_counts
from sqlalchemy import create_engine
from store_factories import T0, by_notify, feed, item, match
from store_factories import save as store_save

from monitor.metrics import Metrics
from monitor.policies import DAY, RetentionPolicy
from monitor.retention import Pruner
from monitor.store import AsyncStore, Store
from monitor.stories import story_key

NOW = T0 + timedelta(days=100)


def rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        return row_counts(engine)
    finally:
        engine.dispose()


# Distinct enough that each item is its own story, long enough for band keys.
TITLES = {
    "old-quiet": "Central bank holds interest rates steady as inflation eases in the autumn",
    "old-sent": "Tanker seized after ship-to-ship transfer of crude oil off the Malaysian coast",
    "old-pending": "Investigators trace drone components shipped through three trading companies",
    "old-failed": "Customs officers find artillery shells hidden in a cargo of farm machinery",
    "recent-quiet": "Football club appoints new manager after a difficult season in the league",
}


def item_keys(store: Store) -> set[str]:
    return {stored.item.key for stored in store.iter_items()}


def save(store: Store, feed_id: int, key: str, when: timedelta, *, hit: bool = False) -> None:
    entry = item(key, title=TITLES[key])
    keys = {key: story_key(entry.title, "", entry.link)}
    matches = {key: [match()]} if hit else {}
    store_save(store, feed_id, [entry], matches, by_notify, T0 + when, story_keys=keys)


@pytest.fixture
def history(store: Store) -> Store:
    """Four old items (100 days) and a recent one; three old ones alerted: sent, pending, failed."""
    store.sync_feeds([feed(1)], T0)
    feed_id = store.claim_feeds(T0, "w", 60, 1)[0].id
    save(store, feed_id, "old-quiet", timedelta(0))
    for key in ("old-sent", "old-pending", "old-failed"):
        save(store, feed_id, key, timedelta(0), hit=True)
    save(store, feed_id, "recent-quiet", timedelta(days=95))
    sent, pending, failed = store.claim_deliveries(T0, "w", 60, 10)
    store.mark_sent(sent.delivery_id, T0 + timedelta(hours=1))
    store.release([pending.delivery_id])
    store.mark_failed(failed.delivery_id, "HTTP 500", T0, None)
    return store


def prune(store: Store, policy: RetentionPolicy, metrics: Metrics | None = None) -> dict[str, int]:
    return asyncio.run(Pruner(AsyncStore(store), policy, lambda: NOW, metrics).run())


def test_default_retention_keeps_every_alerted_item(history: Store, store_url: str) -> None:
    before = rows(store_url)
    assert before["stories"] == 5 and before["item_bands"] == 5 * 16
    metrics = Metrics()
    pruned = prune(history, RetentionPolicy(), metrics)

    assert item_keys(history) == {"old-sent", "old-pending", "old-failed", "recent-quiet"}
    assert pruned == {"items": 1, "item_bands": before["item_bands"] // 5, "deliveries": 1, "stories": 1}
    assert [d.status for d in history.list_deliveries()] == ["failed", "pending"]
    assert len(history.list_hits()) == 3
    after = rows(store_url)
    assert {t: before[t] - after[t] for t in PRUNED_TABLES} == {t: pruned.get(t, 0) for t in PRUNED_TABLES}
    assert b'monitor_pruned_rows_total{table="items"} 1.0' in metrics.render()
    assert prune(history, RetentionPolicy()) == {}, "a second pass finds nothing"


def test_hit_retention_spares_hits_whose_alert_is_still_pending(history: Store) -> None:
    pruned = prune(history, RetentionPolicy(hits_seconds=30 * DAY))

    assert item_keys(history) == {"old-pending", "recent-quiet"}
    assert [hit.item_title for hit in history.list_hits()] == [TITLES["old-pending"]]
    # The failed message stays listed (a story, not a hit, is what it is about); retried, it
    # finds nothing left to send and fails for good instead of coming back at every lease.
    assert [d.status for d in history.list_deliveries()] == ["failed", "pending"]
    failed = next(d for d in history.list_deliveries() if d.status == "failed")
    assert history.requeue([failed.delivery_id], NOW) == 1
    assert [job.delivery_id for job in history.claim_deliveries(NOW, "w", 60, 10)] != [failed.delivery_id]
    assert next(d for d in history.list_deliveries() if d.delivery_id == failed.delivery_id).status == "failed"
    assert pruned["hits"] == 2
    assert pruned["items"] == 3, "the quiet item, and the two whose hits went"


def test_nothing_goes_when_everything_is_kept(history: Store, store_url: str) -> None:
    before = rows(store_url)
    assert prune(history, RetentionPolicy(None, None, None)) == {}
    assert rows(store_url) == before


def test_unknown_kind_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="cannot prune"):
        store.prune("feeds", NOW, 10)
