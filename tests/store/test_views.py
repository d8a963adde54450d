"""Hit and feed views, and the aware-UTC contract for every timestamp."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from store_factories import T0, at, by_notify, feed, item, match, save

from monitor.store import Store
from monitor.types import Severity

KYIV = timezone(timedelta(hours=2))
PACIFIC = timezone(timedelta(hours=-8))


@pytest.fixture
def feed_id(store: Store) -> int:
    store.sync_feeds([feed(1)], T0)
    return store.claim_feeds(T0, "w", 60, 1)[0].id


def test_list_hits_newest_first_with_filters(store: Store, feed_id: int) -> None:
    save(store, feed_id, [item("a")], {"a": [match("arms", Severity.LOW)]}, by_notify, T0)
    save(store, feed_id, [item("b")], {"b": [match("oil")]}, by_notify, at(60))
    save(store, feed_id, [item("c")], {"c": [match("arms")]}, by_notify, at(120))
    assert [(h.rule_id, h.created_at) for h in store.list_hits()] == [("arms", at(120)), ("oil", at(60)), ("arms", T0)]
    assert [h.created_at for h in store.list_hits(rule_id="arms")] == [at(120), T0]
    assert [h.rule_id for h in store.list_hits(since=at(60))] == ["arms", "oil"]
    assert [h.created_at for h in store.list_hits(since=at(1), rule_id="arms")] == [at(120)]
    assert len(store.list_hits(limit=1)) == 1
    oldest = store.list_hits()[-1]
    assert (oldest.severity, oldest.feed_name, oldest.item_title, oldest.corroboration) == (
        Severity.LOW,
        "Feed 1",
        "Shipment seized at port",
        1,
    )
    assert oldest.story_id is not None  # every item has a story, if only its own
    assert [s.field for s in oldest.spans] == ["title", "summary"]


def test_list_feeds_counts_items(store: Store, feed_id: int) -> None:
    store.sync_feeds([feed(1), feed(2)], T0)
    save(store, feed_id, [item("a"), item("b")], {}, by_notify, T0)
    counts = {v.name: v.item_count for v in store.list_feeds()}
    assert counts == {"Feed 1": 2, "Feed 2": 0}


def test_timestamps_round_trip_as_aware_utc(store: Store, feed_id: int) -> None:
    published = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=PACIFIC)
    fetched = datetime(2026, 3, 1, 20, 0, tzinfo=KYIV)
    save(store, feed_id, [item("a", published=published)], {"a": [match()]}, by_notify, fetched)
    hit = store.list_hits()[0]
    for value, original in ((hit.published, published), (hit.created_at, fetched)):
        assert value == original
        assert value is not None and value.utcoffset() == timedelta(0)
    assert hit.published is not None and hit.published.hour == 17
    assert store.list_hits(since=fetched) == [hit]  # comparisons use the same instant
    assert store.list_hits(since=fetched + timedelta(microseconds=1)) == []


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        store.sync_feeds([feed(1)], datetime(2026, 3, 1, 12, 0))


def test_published_may_be_missing(store: Store, feed_id: int) -> None:
    save(store, feed_id, [item("a", published=None)], {"a": [match()]}, by_notify, T0)
    assert store.list_hits()[0].published is None
    assert next(iter(store.iter_items())).item.published is None
