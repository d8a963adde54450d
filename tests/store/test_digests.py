"""Outbox calls for digests and severity routing: whole-digest marks, release, channel clocks."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from store_factories import T0, at, by_notify, feed, item, match, save

from monitor.store import Store
from monitor.types import Severity

SEVERITIES = {"low": Severity.LOW, "mid": Severity.MEDIUM, "high": Severity.HIGH}


@pytest.fixture
def feed_id(store: Store) -> int:
    store.sync_feeds([feed(1)], T0)
    return store.claim_feeds(T0, "w", 60, 1)[0].id


def queue(
    store: Store,
    feed_id: int,
    keys: list[str],
    now: datetime,
    severity: Severity = Severity.HIGH,
    channels: tuple[str, ...] = ("digest",),
) -> None:
    matches = {key: [match("arms", severity, notify=channels)] for key in keys}
    save(store, feed_id, [item(key) for key in keys], matches, by_notify, now)


def statuses(store: Store) -> list[tuple[str, int]]:
    return sorted((d.status, d.attempts) for d in store.list_deliveries())


def test_min_severity_claims_only_hits_at_or_above_it(store: Store, feed_id: int) -> None:
    for key, severity in SEVERITIES.items():
        queue(store, feed_id, [key], T0, severity)
    urgent = store.claim_deliveries(T0, "w", 30, 10, min_severity=Severity.MEDIUM)
    assert sorted(job.alert.severity for job in urgent) == [Severity.HIGH, Severity.MEDIUM]
    assert store.claim_deliveries(T0, "w", 30, 10, min_severity=Severity.HIGH) == []
    rest = store.claim_deliveries(T0, "w", 30, 10, min_severity=Severity.LOW)
    assert [job.alert.severity for job in rest] == [Severity.LOW]


def test_channel_clocks(store: Store, feed_id: int) -> None:
    assert (store.last_sent_at("digest"), store.oldest_pending_at("digest")) == (None, None)
    queue(store, feed_id, ["a"], at(10))
    queue(store, feed_id, ["b"], at(20), channels=("digest", "ops"))
    assert store.oldest_pending_at("digest") == at(10)
    assert store.oldest_pending_at("ops") == at(20)
    first = [j.delivery_id for j in store.claim_deliveries(at(30), "w", 30, 1, ["digest"])]
    assert store.oldest_pending_at("digest") == at(10)  # leased is still waiting
    store.mark_sent_many(first, at(40))
    sent_at = store.last_sent_at("digest")
    assert sent_at == at(40) and sent_at is not None and sent_at.tzinfo is not None
    assert store.oldest_pending_at("digest") == at(20)
    assert store.last_sent_at("ops") is None


def test_a_digest_is_marked_sent_as_a_whole(store: Store, feed_id: int) -> None:
    queue(store, feed_id, ["a", "b", "c"], T0)
    ids = [job.delivery_id for job in store.claim_deliveries(T0, "w", 30, 10)]
    store.mark_sent_many(ids, at(1))
    assert statuses(store) == [("sent", 1)] * 3
    assert store.claim_deliveries(at(3600), "w", 30, 10) == []


def test_a_failed_digest_retries_or_fails_as_a_whole(store: Store, feed_id: int) -> None:
    queue(store, feed_id, ["a", "b"], T0)
    ids = [job.delivery_id for job in store.claim_deliveries(T0, "w", 30, 10)]
    store.mark_failed_many(ids, "SMTP 451", at(1), retry_at=at(300))
    assert statuses(store) == [("pending", 1)] * 2
    assert store.claim_deliveries(at(299), "w", 30, 10) == []
    again = store.claim_deliveries(at(300), "w", 30, 10)
    assert sorted(job.delivery_id for job in again) == sorted(ids)
    store.mark_failed_many(ids, "SMTP 550", at(301), retry_at=None)
    assert statuses(store) == [("failed", 2)] * 2
    assert {d.last_error for d in store.list_deliveries()} == {"SMTP 550"}


def test_a_naive_time_changes_nothing(store: Store, feed_id: int) -> None:
    queue(store, feed_id, ["a", "b"], T0)
    ids = [job.delivery_id for job in store.claim_deliveries(T0, "w", 30, 10)]
    with pytest.raises(ValueError, match="naive datetime"):
        store.mark_sent_many(ids, datetime(2026, 3, 1, 12, 1))
    assert statuses(store) == [("pending", 0)] * 2


def test_late_failure_report_never_requeues_a_sent_delivery(store: Store, feed_id: int) -> None:
    queue(store, feed_id, ["a"], T0)
    ids = [job.delivery_id for job in store.claim_deliveries(T0, "w", 30, 10)]
    store.mark_sent_many(ids, at(1))
    store.mark_failed_many(ids, "lease expired elsewhere", at(2), retry_at=at(3))
    store.mark_failed(ids[0], "late", at(2), retry_at=at(3))
    assert statuses(store) == [("sent", 1)]
    assert store.pending_count() == 0


def test_release_returns_claims_without_counting_an_attempt(store: Store, feed_id: int) -> None:
    queue(store, feed_id, ["a", "b"], T0)
    ids = [job.delivery_id for job in store.claim_deliveries(T0, "w", 300, 10)]
    assert store.claim_deliveries(at(1), "other", 30, 10) == []
    store.release(ids)
    store.release([])
    again = store.claim_deliveries(at(1), "other", 30, 10)
    assert sorted((job.delivery_id, job.attempts) for job in again) == [(i, 0) for i in sorted(ids)]


def test_digesting_workers_never_share_a_hit(store: Store, feed_id: int) -> None:
    """Workers each claim, "send" and mark their own digests until the channel is empty."""
    queue(store, feed_id, [f"k{n:03d}" for n in range(120)], T0)
    digests: list[list[int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def drain(worker: str) -> None:
        try:
            while jobs := store.claim_deliveries(at(1), worker, 60, 7, ["digest"]):
                ids = [job.delivery_id for job in jobs]
                store.mark_sent_many(ids, at(2))
                with lock:
                    digests.append(ids)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=drain, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sent = [delivery_id for digest in digests for delivery_id in digest]
    assert len(sent) == len(set(sent)) == 120
    assert statuses(store) == [("sent", 1)] * 120
