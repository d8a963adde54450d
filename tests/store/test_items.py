"""Saving a batch: one transaction, idempotent, one message per story and channel; iter_items."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_factories import T0, at, by_notify, feed, item, match, save

from monitor.saving import AlertRouting, save_and_queue
from monitor.store import Store
from monitor.types import ChannelSpec, Severity


@pytest.fixture
def feed_id(store: Store) -> int:
    store.sync_feeds([feed(1, tags=("wire",))], T0)
    return store.claim_feeds(T0, "w", 60, 1)[0].id


def test_save_queues_one_message_per_story_and_channel(store: Store, feed_id: int) -> None:
    matches = {"a": [match("arms", notify=("ops", "mail")), match("oil", notify=("ops",))]}
    result = save(store, feed_id, [item("a"), item("b")], matches, by_notify, T0)
    assert (result.new_items, result.new_hits, result.new_deliveries) == (2, 2, 2)
    assert len(result.hit_ids) == 2
    assert sorted(d.channel for d in store.list_deliveries()) == ["mail", "ops"]
    assert store.pending_count() == 2
    jobs = {job.channel: job.alert for job in store.claim_deliveries(at(1), "w", 60, 10)}
    assert [rule.rule_id for rule in jobs["ops"].rules] == ["arms", "oil"]
    assert [rule.rule_id for rule in jobs["mail"].rules] == ["arms"]


def test_second_save_of_the_same_batch_creates_nothing(store: Store, feed_id: int) -> None:
    batch = [item("a"), item("b")]
    matches = {"a": [match("arms")], "b": [match("arms"), match("oil")]}
    first = save(store, feed_id, batch, matches, by_notify, T0)
    second = save(store, feed_id, batch, matches, by_notify, at(60))
    assert (first.new_items, first.new_hits, first.new_deliveries) == (2, 3, 2)
    assert (second.new_items, second.new_hits, second.new_deliveries, second.hit_ids) == (0, 0, 0, ())
    assert len(store.list_hits()) == 3
    assert store.pending_count() == 2


def test_new_rule_on_a_stored_item_joins_the_pending_message(store: Store, feed_id: int) -> None:
    save(store, feed_id, [item("a")], {"a": [match("arms")]}, by_notify, T0)
    later = save(store, feed_id, [item("a")], {"a": [match("arms"), match("oil")]}, by_notify, at(5))
    assert (later.new_items, later.new_hits, later.new_deliveries) == (0, 1, 0)
    assert {hit.rule_id for hit in store.list_hits()} == {"arms", "oil"}
    (job,) = store.claim_deliveries(at(6), "w", 60, 10)
    assert {rule.rule_id for rule in job.alert.rules} == {"arms", "oil"}


def test_routing_applies_per_rule(store: Store, feed_id: int) -> None:
    channels = tuple(ChannelSpec(name, "", min_severity=Severity.MEDIUM) for name in ("ops", "slack"))
    matches = {"a": [match("quiet", severity=Severity.LOW), match("loud")]}
    result = save_and_queue(store, feed_id, [item("a")], matches, T0, AlertRouting(channels))
    assert (result.new_hits, result.new_deliveries) == (2, 2)
    assert {d.channel for d in store.list_deliveries()} == {"ops", "slack"}
    for job in store.claim_deliveries(at(1), "w", 60, 10):
        assert [rule.rule_id for rule in job.alert.rules] == ["loud"]


def test_old_news_is_stored_but_raises_no_alert(store: Store, feed_id: int) -> None:
    old = item("old", published=T0 - timedelta(days=60))
    undated = item("undated", published=None)
    routing = AlertRouting((ChannelSpec("ops", ""),), max_age=timedelta(days=3))
    matches = {"old": [match()], "undated": [match()]}
    result = save_and_queue(store, feed_id, [old, undated], matches, T0, routing)
    assert (result.new_items, result.new_hits, result.new_deliveries) == (2, 2, 1)
    (job,) = store.claim_deliveries(at(1), "w", 60, 10)
    assert job.alert.headline == undated.title and job.alert.published is None
    assert [s.item.key for s in store.iter_items()] == ["old", "undated"]


def test_muted_rules_store_hits_without_messages(store: Store, feed_id: int) -> None:
    routing = AlertRouting((ChannelSpec("ops", ""),), muted=frozenset({"arms"}))
    result = save_and_queue(store, feed_id, [item("a")], {"a": [match("arms")]}, T0, routing)
    assert (result.new_hits, result.new_deliveries) == (1, 0)


def test_duplicates_within_one_batch_are_saved_once(store: Store, feed_id: int) -> None:
    result = save(
        store,
        feed_id,
        [item("a"), item("a", title="second copy")],
        {"a": [match("arms"), match("arms")]},
        by_notify,
        T0,
    )
    assert (result.new_items, result.new_hits, result.new_deliveries) == (1, 1, 1)
    assert [s.item.title for s in store.iter_items()] == ["Shipment seized at port"]


def test_matches_for_unknown_items_are_ignored(store: Store, feed_id: int) -> None:
    result = save(store, feed_id, [item("a")], {"ghost": [match("arms")]}, by_notify, T0)
    assert (result.new_items, result.new_hits) == (1, 0)


def test_same_key_in_two_feeds_is_two_items(store: Store, feed_id: int) -> None:
    store.sync_feeds([feed(1), feed(2)], T0)
    other = next(j.id for j in store.claim_feeds(T0, "w", 60, 5, due_only=False) if j.id != feed_id)
    assert save(store, feed_id, [item("a")], {}, by_notify, T0).new_items == 1
    assert save(store, other, [item("a")], {}, by_notify, T0).new_items == 1


def test_text_is_stored_as_given(store: Store, feed_id: int) -> None:
    hostile = item(
        "k",
        title="Ракеты «Искандер» — 北朝鮮 \u202e<b>x</b> 🚀 " + "é" * 5000,
        link="https://example.org/" + "p" * 9000,
    )
    save(store, feed_id, [hostile], {"k": [match()]}, by_notify, T0)
    stored = next(iter(store.iter_items())).item
    assert stored == hostile
    assert store.list_hits()[0].link == hostile.link


def test_iter_items_streams_everything_with_hit_rules(store: Store, feed_id: int) -> None:
    batch = [item(f"k{n:04d}") for n in range(1234)]  # more than one streamed batch
    matches = {"k0007": [match("arms"), match("oil")], "k1200": [match("oil")]}
    save(store, feed_id, batch, matches, by_notify, T0)
    stored = list(store.iter_items())
    assert [s.item.key for s in stored] == [i.key for i in batch]
    assert stored[7].hit_rule_ids == frozenset({"arms", "oil"})
    assert stored[1200].hit_rule_ids == frozenset({"oil"})
    assert stored[0].hit_rule_ids == frozenset()
    assert (stored[0].feed_name, stored[0].feed_tags) == ("Feed 1", ("wire",))
    assert stored[0].item.feed_url == feed(1).url


def test_iter_items_since_filters_on_fetch_time(store: Store, feed_id: int) -> None:
    save(store, feed_id, [item("old")], {}, by_notify, T0)
    save(store, feed_id, [item("new")], {}, by_notify, at(3600))
    assert [s.item.key for s in store.iter_items(since=at(60))] == ["new"]
    assert [s.item.key for s in store.iter_items()] == ["old", "new"]
