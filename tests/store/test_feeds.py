"""Feed config sync, leased claims, poll bookkeeping and known-key lookups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_factories import T0, at, by_notify, feed, item, poll, save

from monitor.store import Store
from monitor.types import ConditionalState, FeedSpec


def test_sync_inserts_new_feeds_due_now(store: Store) -> None:
    store.sync_feeds([feed(1, tags=("ru", "arms")), feed(2, interval=900)], T0)
    views = store.list_feeds()
    assert [(v.name, v.active, v.next_poll_at, v.tags) for v in views] == [
        ("Feed 1", True, T0, ("ru", "arms")),
        ("Feed 2", True, T0, ()),
    ]
    assert views[1].interval_seconds == 900


def test_sync_updates_and_deactivates_but_keeps_history(store: Store) -> None:
    store.sync_feeds([feed(1), feed(2)], T0)
    job = store.claim_feeds(T0, "w", 60, 10)[0]
    save(store, job.id, [item("a")], {}, by_notify, T0)

    store.sync_feeds([FeedSpec(feed(1).url, "Renamed", 60, ("new",))], at(10))
    views = {v.url: v for v in store.list_feeds()}
    first, second = views[feed(1).url], views[feed(2).url]
    assert (first.name, first.interval_seconds, first.tags, first.active) == ("Renamed", 60, ("new",), True)
    assert second.active is False
    assert first.item_count == 1
    assert first.next_poll_at == T0  # an update does not reschedule


def test_sync_reactivates_a_feed_that_comes_back(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    store.sync_feeds([], at(1))
    assert store.claim_feeds(at(2), "w", 60, 10) == []
    store.sync_feeds([feed(1)], at(3))
    assert [job.url for job in store.claim_feeds(at(4), "w", 60, 10)] == [feed(1).url]


def test_claim_returns_due_feeds_oldest_first_up_to_limit(store: Store) -> None:
    store.sync_feeds([feed(1)], at(30))
    store.sync_feeds([feed(1), feed(2)], at(10))
    store.sync_feeds([feed(1), feed(2), feed(3)], at(20))
    jobs = store.claim_feeds(at(60), "w", 60, 2)
    assert [job.url for job in jobs] == [feed(2).url, feed(3).url]
    assert jobs[0].state == ConditionalState()
    assert jobs[0].consecutive_failures == 0


def test_claim_skips_feeds_not_yet_due_unless_asked(store: Store) -> None:
    store.sync_feeds([feed(1)], at(100))
    assert store.claim_feeds(at(50), "w", 60, 10) == []
    assert len(store.claim_feeds(at(50), "w", 60, 10, due_only=False)) == 1


def test_lease_blocks_second_claim_until_it_expires(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    assert len(store.claim_feeds(T0, "worker-a", 30, 10)) == 1
    assert store.claim_feeds(at(29), "worker-b", 30, 10) == []
    assert store.claim_feeds(at(29), "worker-b", 30, 10, due_only=False) == []
    again = store.claim_feeds(at(31), "worker-b", 30, 10)
    assert [job.url for job in again] == [feed(1).url]


def test_record_poll_ok_stores_validators_and_releases_lease(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    job = store.claim_feeds(T0, "w", 300, 1)[0]
    store.record_poll(
        job.id,
        poll(
            "ok",
            at(1),
            etag='"v1"',
            last_modified="Sun, 01 Mar 2026",
            body_sha256="ab" * 32,
            new_items=3,
            next_poll_at=at(2),
        ),
    )
    again = store.claim_feeds(at(2), "w", 300, 1)[0]  # lease released, due at(2)
    assert again.state == ConditionalState('"v1"', "Sun, 01 Mar 2026", "ab" * 32)
    assert again.last_success_at == at(1)
    view = store.list_feeds()[0]
    assert (view.last_status, view.last_http_status, view.last_new_item_at) == ("ok", 200, at(1))


def test_not_modified_keeps_validators_it_was_not_given(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    job = store.claim_feeds(T0, "w", 300, 1)[0]
    store.record_poll(job.id, poll("ok", at(1), etag="e1", body_sha256="h1", next_poll_at=at(2)))
    store.record_poll(job.id, poll("not_modified", at(2), http_status=304, next_poll_at=at(3)))
    state = store.claim_feeds(at(3), "w", 300, 1)[0].state
    assert (state.etag, state.body_sha256) == ("e1", "h1")
    store.record_poll(job.id, poll("unchanged", at(4), etag="e2", next_poll_at=at(5)))
    assert store.claim_feeds(at(5), "w", 300, 1)[0].state.etag == "e2"


def test_errors_count_up_keep_state_and_success_resets(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    job = store.claim_feeds(T0, "w", 300, 1)[0]
    store.record_poll(job.id, poll("ok", at(1), etag="e1", next_poll_at=at(1)))
    for n in range(2):
        store.record_poll(
            job.id,
            poll(
                "error",
                at(2 + n),
                http_status=503,
                etag="ignored",
                error_kind="http_status",
                error="HTTP 503",
                next_poll_at=at(10),
            ),
        )
    failing = store.claim_feeds(at(10), "w", 300, 1)[0]
    assert failing.consecutive_failures == 2
    assert failing.state.etag == "e1"
    assert failing.last_success_at == at(1)
    view = store.list_feeds()[0]
    assert (view.last_status, view.last_error_kind, view.last_error) == ("error", "http_status", "HTTP 503")
    store.record_poll(job.id, poll("not_modified", at(11), http_status=304, next_poll_at=at(12)))
    view = store.list_feeds()[0]
    assert (view.consecutive_failures, view.last_error, view.last_success_at) == (0, None, at(11))


def test_record_poll_rejects_unknown_status(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    with pytest.raises(ValueError, match="unknown poll status"):
        store.record_poll(1, poll("maybe", T0))


def test_record_polls_writes_each_feeds_outcome_or_nothing(store: Store) -> None:
    store.sync_feeds([feed(1), feed(2), feed(3)], T0)
    jobs = {job.url: job.id for job in store.claim_feeds(T0, "w", 300, 3)}
    ids = [jobs[feed(n).url] for n in (1, 2, 3)]
    with pytest.raises(ValueError, match="unknown poll status"):
        store.record_polls([(ids[0], poll("ok", at(1))), (ids[1], poll("maybe", at(1)))])
    assert [view.last_status for view in store.list_feeds()] == [None, None, None]
    store.record_polls(
        [
            (ids[0], poll("not_modified", at(1), http_status=304, etag="e1", next_poll_at=at(5))),
            (ids[1], poll("unchanged", at(2), body_sha256="h2", next_poll_at=at(6))),
            (ids[2], poll("error", at(3), http_status=503, error_kind="http_status", error="HTTP 503")),
        ]
    )
    views = {view.url: view for view in store.list_feeds()}
    assert [views[feed(n).url].last_status for n in (1, 2, 3)] == ["not_modified", "unchanged", "error"]
    assert views[feed(3).url].consecutive_failures == 1
    again = {job.url: job for job in store.claim_feeds(at(6), "w", 300, 3)}  # leases released
    assert again[feed(1).url].state.etag == "e1"
    assert again[feed(2).url].state.body_sha256 == "h2"
    # outcomes of one shape share a statement: each row keeps its own values
    failed = [
        (ids[n], poll("error", at(7), http_status=500 + n, error_kind="http_status", error=f"E{n}")) for n in (1, 2)
    ]
    store.record_polls([*failed, (ids[0], poll("not_modified", at(7), http_status=304, next_poll_at=at(9)))])
    views = {view.url: view for view in store.list_feeds()}
    assert [views[feed(n).url].consecutive_failures for n in (1, 2, 3)] == [0, 1, 2]
    assert [views[feed(n).url].last_error for n in (2, 3)] == ["E1", "E2"]
    assert views[feed(1).url].last_status == "not_modified"


def test_known_item_keys_only_reports_this_feeds_stored_keys(store: Store) -> None:
    store.sync_feeds([feed(1), feed(2)], T0)
    first, second = store.claim_feeds(T0, "w", 60, 2)
    long_key = "guid-" + "x" * 10_000  # feed-controlled: must not break the unique index
    save(store, first.id, [item("a"), item(long_key)], {}, by_notify, T0)
    save(store, second.id, [item("b")], {}, by_notify, T0)
    assert store.known_item_keys(first.id, ["a", "b", long_key, "zzz"]) == {"a", long_key}
    many = [f"k{n}" for n in range(1300)]
    assert store.known_item_keys(first.id, many) == set()
    assert store.known_item_keys(second.id, []) == set()


def test_next_poll_in_the_past_is_claimed_immediately(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    job = store.claim_feeds(T0, "w", 60, 1)[0]
    store.record_poll(job.id, poll("ok", at(5), next_poll_at=T0 - timedelta(hours=1)))
    assert len(store.claim_feeds(at(6), "w", 60, 1)) == 1
