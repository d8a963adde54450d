"""The delivery outbox: claims with leases, sent, retry, final failure, requeue."""

from __future__ import annotations

import pytest
from store_factories import T0, at, by_notify, feed, item, match, save

from monitor.store import Store
from monitor.types import Severity


@pytest.fixture
def hit_id(store: Store) -> int:
    store.sync_feeds([feed(1)], T0)
    feed_id = store.claim_feeds(T0, "w", 60, 1)[0].id
    matches = {"a": [match("arms", notify=("ops", "mail"))]}
    return save(store, feed_id, [item("a")], matches, by_notify, T0).hit_ids[0]


def test_claim_builds_the_story_message_from_hits_items_and_feeds(store: Store, hit_id: int) -> None:
    jobs = store.claim_deliveries(T0, "sender", 30, 10)
    assert sorted(job.channel for job in jobs) == ["mail", "ops"]
    alert = jobs[0].alert
    assert (alert.event, alert.is_update, alert.severity, alert.thread_id) == ("first", False, Severity.HIGH, None)
    assert (alert.headline, alert.link, alert.feed_name, alert.published, alert.first_seen) == (
        "Shipment seized at port",
        "https://news.example/a",
        "Feed 1",
        T0,
        T0,
    )
    assert alert.summary == "summary of a"
    assert [s.text for s in alert.summary_spans] == ["seized"]  # as stored; rendering checks offsets
    (rule,) = alert.rules
    assert (rule.rule_id, rule.rule_title, rule.severity) == ("arms", "Rule arms", Severity.HIGH)
    assert rule.feed_name == "Feed 1"
    assert rule.matched == ("shipment", "seized")
    assert rule.snippet == "«Shipment» «seized» at port"
    assert alert.outlets == ("Feed 1",)
    assert alert.message_id.startswith("<") and alert.message_id.endswith("@sanctions-monitor>")
    assert jobs[0].attempts == 0
    again = store.claim_deliveries(at(60), "other", 30, 10)
    assert {job.alert.message_id for job in again} == {job.alert.message_id for job in jobs}


def test_lease_hides_claimed_deliveries_until_expiry(store: Store, hit_id: int) -> None:
    assert len(store.claim_deliveries(T0, "a", 30, 10)) == 2
    assert store.claim_deliveries(at(29), "b", 30, 10) == []
    assert len(store.claim_deliveries(at(31), "b", 30, 10)) == 2


def test_claim_respects_limit_and_channel_filter(store: Store, hit_id: int) -> None:
    assert [j.channel for j in store.claim_deliveries(T0, "a", 30, 10, channels=["mail"])] == ["mail"]
    assert store.claim_deliveries(T0, "a", 30, 10, channels=[]) == []
    assert len(store.claim_deliveries(T0, "a", 30, 1)) == 1


def test_mark_sent_is_final(store: Store, hit_id: int) -> None:
    job = store.claim_deliveries(T0, "a", 30, 1, channels=["ops"])[0]
    store.mark_sent(job.delivery_id, at(1))
    sent = store.list_deliveries(status="sent")
    assert [(d.channel, d.sent_at, d.attempts) for d in sent] == [("ops", at(1), 1)]
    assert store.claim_deliveries(at(3600), "b", 30, 10, channels=["ops"]) == []
    assert store.pending_count() == 1


def test_failure_with_retry_waits_then_comes_back(store: Store, hit_id: int) -> None:
    job = store.claim_deliveries(T0, "a", 30, 1, channels=["ops"])[0]
    store.mark_failed(job.delivery_id, "HTTP 502 from webhook", at(1), retry_at=at(120))
    assert store.claim_deliveries(at(119), "b", 30, 10, channels=["ops"]) == []
    retried = store.claim_deliveries(at(120), "b", 30, 10, channels=["ops"])
    assert [(j.delivery_id, j.attempts) for j in retried] == [(job.delivery_id, 1)]
    view = store.list_deliveries(status="pending")
    assert {d.last_error for d in view if d.channel == "ops"} == {"HTTP 502 from webhook"}


def test_final_failure_then_requeue_by_id(store: Store, hit_id: int) -> None:
    job = store.claim_deliveries(T0, "a", 30, 1, channels=["ops"])[0]
    store.mark_failed(job.delivery_id, "x" * 50_000, at(1), retry_at=None)
    failed = store.list_deliveries(status="failed")
    assert [d.delivery_id for d in failed] == [job.delivery_id]
    assert len(failed[0].last_error or "") < 50_000  # errors are bounded
    assert store.claim_deliveries(at(3600), "b", 30, 10, channels=["ops"]) == []
    assert store.requeue([job.delivery_id], at(7200)) == 1
    assert store.requeue([job.delivery_id], at(7200)) == 0  # no longer failed
    again = store.claim_deliveries(at(7200), "b", 30, 10, channels=["ops"])
    assert [(j.delivery_id, j.attempts) for j in again] == [(job.delivery_id, 0)]


def test_requeue_all_failed_leaves_sent_alone(store: Store, hit_id: int) -> None:
    ops, mail = sorted(store.claim_deliveries(T0, "a", 30, 10), key=lambda j: j.channel != "ops")
    store.mark_sent(ops.delivery_id, at(1))
    store.mark_failed(mail.delivery_id, "smtp refused", at(1), retry_at=None)
    assert store.pending_count() == 0
    assert store.requeue(None, at(2)) == 1
    assert store.requeue([], at(2)) == 0
    assert store.pending_count() == 1
    assert [d.status for d in store.list_deliveries(status="sent")] == ["sent"]


def test_list_deliveries_rejects_unknown_status(store: Store, hit_id: int) -> None:
    with pytest.raises(ValueError, match="unknown delivery status"):
        store.list_deliveries(status="lost")
    assert len(store.list_deliveries(limit=1)) == 1
