"""Feed health state and the usual gap between a feed's new items."""

from __future__ import annotations

import pytest
from store_factories import T0, at, by_notify, feed, item, save

from monitor.store import Store


@pytest.fixture
def feed_ids(store: Store) -> list[int]:
    store.sync_feeds([feed(1), feed(2)], T0)
    by_url = {job.url: job.id for job in store.claim_feeds(T0, "w", 60, 2)}
    return [by_url[feed(1).url], by_url[feed(2).url]]


def arrive(store: Store, feed_id: int, seconds: float, count: int = 1) -> None:
    """`count` new items fetched by one poll at T0 + seconds."""
    keys = [f"{feed_id}-{seconds}-{n}" for n in range(count)]
    save(store, feed_id, [item(key) for key in keys], {}, by_notify, at(seconds))


def test_health_state_is_stored_and_shown(store: Store, feed_ids: list[int]) -> None:
    assert store.change_health_state(feed_ids[0], "ok", "silent")
    assert store.change_health_state(feed_ids[1], "ok", "failing")
    assert [view.health_state for view in store.list_feeds()] == ["silent", "failing"]
    assert store.change_health_state(feed_ids[0], "silent", "ok")
    assert store.list_feeds()[0].health_state == "ok"


def test_only_one_worker_wins_a_health_transition(store: Store, feed_ids: list[int]) -> None:
    # Two workers both saw "ok" and both decided "failing": only the first change counts.
    assert store.change_health_state(feed_ids[0], "ok", "failing")
    assert not store.change_health_state(feed_ids[0], "ok", "failing")
    assert store.list_feeds()[0].health_state == "failing"


def test_unknown_health_state_is_refused(store: Store, feed_ids: list[int]) -> None:
    with pytest.raises(ValueError, match="unknown health state"):
        store.change_health_state(feed_ids[0], "ok", "sleepy")
    assert store.list_feeds()[0].health_state == "ok"


def test_gap_needs_four_items(store: Store, feed_ids: list[int]) -> None:
    for seconds in (0, 600, 1200):
        arrive(store, feed_ids[0], seconds)
    assert store.typical_item_gap(feed_ids[0]) is None
    arrive(store, feed_ids[0], 1800)
    assert store.typical_item_gap(feed_ids[0]) == 600.0


def test_gap_is_the_median_between_distinct_arrivals(store: Store, feed_ids: list[int]) -> None:
    for seconds, count in ((0, 3), (600, 2), (1200, 1), (4800, 4)):
        arrive(store, feed_ids[0], seconds, count)
    arrive(store, feed_ids[1], 60, 5)  # another feed's items never count
    assert store.typical_item_gap(feed_ids[0]) == 600.0  # gaps 600, 600, 3600


def test_gap_looks_at_recent_items_only(store: Store, feed_ids: list[int]) -> None:
    for n in range(6):
        arrive(store, feed_ids[0], n * 60)  # minutely at first ...
    for n in range(1, 4):
        arrive(store, feed_ids[0], 300 + n * 3600)  # ... hourly lately
    assert store.typical_item_gap(feed_ids[0], sample=4) == 3600.0
    assert store.typical_item_gap(feed_ids[0], sample=20) == 60.0


def test_one_poll_has_no_gap_yet(store: Store, feed_ids: list[int]) -> None:
    arrive(store, feed_ids[0], 0, count=10)
    assert store.typical_item_gap(feed_ids[0]) is None
    assert store.typical_item_gap(feed_ids[1]) is None


def test_a_notice_is_claimed_once_until_it_goes_quiet_or_is_released(store: Store) -> None:
    assert store.claim_notice("rules-broken", T0, quiet_seconds=600)
    assert not store.claim_notice("rules-broken", at(5), quiet_seconds=600), "a second worker stays quiet"
    assert store.claim_notice("other", at(5), quiet_seconds=600)
    assert store.claim_notice("rules-broken", at(601), quiet_seconds=600), "the same error later is news"
    store.release_notice("rules-broken")  # the send failed: the next attempt may claim it
    assert store.claim_notice("rules-broken", at(602), quiet_seconds=600)
