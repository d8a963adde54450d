"""Stories when saving: one story per event across feeds, one message per story and channel, bounded updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from store_factories import T0, at, by_notify, feed, item, match
from store_factories import save as store_save

from monitor.saving import AlertRouting, SaveResult, save_and_queue
from monitor.store import Store
from monitor.store.story_items import CANDIDATES_PER_BAND, CANDIDATES_PER_LINK
from monitor.stories import StoryKey, story_key
from monitor.types import ChannelSpec, Item, Severity

DAY = 24 * 3600.0
EVENT = "Coast guard seizes tanker carrying sanctioned crude oil near Strait of Hormuz"
EVENT_REWORDED = "Coast guard seizes tanker with sanctioned crude oil near the Strait of Hormuz"
OTHER_EVENT = "Central bank governor resigns after currency falls to record low against dollar"
LEDE = "Officials said the vessel had switched off its transponder before the boarding."


@pytest.fixture
def feed_ids(store: Store) -> list[int]:
    """Ids of Feed 1 .. Feed 12, in that order."""
    specs = [feed(n) for n in range(1, 13)]
    store.sync_feeds(specs, T0)
    by_url = {job.url: job.id for job in store.claim_feeds(T0, "w", 60, 20)}
    return [by_url[spec.url] for spec in specs]


def news(key: str, title: str = EVENT, link: str | None = None) -> Item:
    return item(key, title=title, link=link or f"https://site.example/{key}")


def keyed(entry: Item) -> StoryKey:
    return story_key(entry.title, LEDE, entry.link)


def save(
    store: Store,
    feed_id: int,
    entries: Sequence[Item],
    now: datetime,
    rules: Sequence[str] = ("arms",),
    **options: object,
) -> SaveResult:
    matches = {entry.key: [match(rule) for rule in rules] for entry in entries}
    keys = {entry.key: keyed(entry) for entry in entries}
    return store_save(store, feed_id, entries, matches, by_notify, now, story_keys=keys, **options)  # type: ignore[arg-type]


def all_hits(store: Store) -> list[tuple[int | None, bool, int]]:
    """(story id, shown, corroboration) per hit, oldest first."""
    shown = {hit.hit_id for hit in store.list_hits()}
    return [
        (h.story_id, h.hit_id in shown, h.corroboration) for h in reversed(store.list_hits(include_suppressed=True))
    ]


def test_same_link_in_two_feeds_alerts_once(store: Store, feed_ids: list[int]) -> None:
    link = "https://wire.example/tanker"
    first = save(store, feed_ids[0], [news("a", link=link)], T0)
    second = save(store, feed_ids[1], [news("b", title="Different words entirely", link=link)], at(60))
    assert (first.new_deliveries, first.suppressed_hits) == (1, 0)
    assert (second.new_hits, second.new_deliveries, second.suppressed_hits) == (1, 0, 1)
    shown = store.list_hits()
    assert len(shown) == 1
    assert (shown[0].feed_name, shown[0].corroboration, shown[0].also_reported_by) == ("Feed 1", 2, ("Feed 2",))
    hits = store.list_hits(include_suppressed=True)
    assert len(hits) == 2 and hits[0].story_id == hits[1].story_id is not None
    assert hits[0].also_reported_by == ("Feed 1",)
    assert store.pending_count() == 1


def test_near_duplicate_text_joins_and_other_text_does_not(store: Store, feed_ids: list[int]) -> None:
    save(store, feed_ids[0], [news("a")], T0)
    save(store, feed_ids[1], [news("b", title=EVENT_REWORDED)], at(60))
    save(store, feed_ids[2], [news("c", title=OTHER_EVENT)], at(120))
    (story_a, _, corroboration), (story_b, shown_b, _), (story_c, shown_c, _) = all_hits(store)
    assert story_a == story_b != story_c
    assert (corroboration, shown_b, shown_c) == (2, False, True)
    assert store.pending_count() == 2


def test_shared_band_without_similar_text_is_not_a_story(store: Store, feed_ids: list[int]) -> None:
    """A band is only a candidate: the stored signatures must confirm it."""
    for n, title in enumerate((EVENT, OTHER_EVENT)):
        entry = news(f"k{n}", title=title)
        colliding = StoryKey(None, keyed(entry).signature, ("tcollision",))
        store_save(
            store, feed_ids[n], [entry], {entry.key: [match()]}, by_notify, at(n), story_keys={entry.key: colliding}
        )
    first, second = all_hits(store)
    assert first[0] != second[0]
    assert store.pending_count() == 2


def test_stories_close_after_the_window_since_their_last_item(store: Store, feed_ids: list[int]) -> None:
    link = "https://wire.example/same"
    save(store, feed_ids[0], [news("a", link=link)], T0)
    save(store, feed_ids[1], [news("b", link=link)], at(2.5 * DAY))  # keeps the story open
    save(store, feed_ids[2], [news("c", link=link)], at(5 * DAY))
    save(store, feed_ids[3], [news("d", link=link)], at(8.5 * DAY))  # 3.5 days of silence
    stories = [story for story, _, _ in all_hits(store)]
    assert stories[0] == stories[1] == stories[2] != stories[3]
    wide = save(store, feed_ids[4], [news("e", link=link)], at(20 * DAY), story_window=timedelta(days=30))
    assert wide.suppressed_hits == 1


def test_text_matches_look_at_items_fetched_within_the_window(store: Store, feed_ids: list[int]) -> None:
    save(store, feed_ids[0], [news("a")], T0)
    save(store, feed_ids[1], [news("b", title=EVENT_REWORDED)], at(2.5 * DAY))  # same story, by text
    save(store, feed_ids[2], [news("c")], at(4 * DAY))  # "a" is 4 days old; "b" is recent and similar
    save(store, feed_ids[3], [news("d", title=OTHER_EVENT)], at(4 * DAY))
    save(store, feed_ids[4], [news("e")], at(7.6 * DAY))  # "c" is 3.6 days old: outside the window
    stories = [story for story, _, _ in all_hits(store)]
    assert stories[0] == stories[1] == stories[2]
    assert len({stories[0], stories[3], stories[4]}) == 3


def send_all(store: Store, now: datetime) -> list[str]:
    """Claim and mark sent every due message; their events, in order."""
    jobs = store.claim_deliveries(now, "sender", 30, 100)
    for job in jobs:
        store.mark_sent(job.delivery_id, now)
    return [job.alert.event for job in jobs]


def test_corroboration_updates_once_per_threshold_after_the_first_message(store: Store, feed_ids: list[int]) -> None:
    save(store, feed_ids[0], [news("a")], T0)
    save(store, feed_ids[1], [news("b", title=EVENT_REWORDED)], at(30))  # before the send: joins it
    assert send_all(store, at(40)) == ["first"]
    third = save(store, feed_ids[2], [news("c")], at(60))
    again = save(store, feed_ids[2], [news("c2")], at(70))  # the same outlet again: no new count
    assert (third.new_deliveries, again.new_deliveries) == (1, 0)
    (update,) = store.claim_deliveries(at(80), "sender", 30, 10)
    assert (update.alert.event, update.alert.is_update) == ("outlets:3", True)
    assert update.alert.thread_id is not None and update.alert.thread_id != update.alert.message_id
    assert update.alert.outlets == ("Feed 1", "Feed 2", "Feed 3")
    store.mark_sent(update.delivery_id, at(80))
    queued = [save(store, feed_ids[n], [news(f"k{n}")], at(100 + n)).new_deliveries for n in range(3, 12)]
    assert queued == [0] * 6 + [1, 0, 0]  # the tenth outlet crosses the next threshold
    assert send_all(store, at(200)) == ["outlets:10"]


def test_a_more_severe_rule_after_the_first_message_sends_one_update(store: Store, feed_ids: list[int]) -> None:
    low = {"a": [match("watch", severity=Severity.LOW)]}
    keys = {"a": keyed(news("a"))}
    store_save(store, feed_ids[0], [news("a")], low, by_notify, T0, story_keys=keys)
    assert send_all(store, at(1)) == ["first"]
    severe = {"b": [match("arms", severity=Severity.HIGH)], "c": [match("oil", severity=Severity.HIGH)]}
    keys = {"b": keyed(news("b")), "c": keyed(news("c"))}
    result = store_save(store, feed_ids[1], [news("b"), news("c")], severe, by_notify, at(2), story_keys=keys)
    assert result.new_deliveries == 1
    (update,) = store.claim_deliveries(at(3), "sender", 30, 10)
    assert update.alert.event == "severity:high"
    assert [rule.rule_id for rule in update.alert.rules] == ["arms", "oil", "watch"]


def test_channels_without_updates_hear_of_a_story_once(store: Store, feed_ids: list[int]) -> None:
    quiet = AlertRouting((ChannelSpec("ops", "", updates=frozenset()),))
    for n in range(4):
        entry = news(f"k{n}")
        save_and_queue(
            store, feed_ids[n], [entry], {entry.key: [match()]}, at(n), quiet, story_keys={entry.key: keyed(entry)}
        )
        send_all(store, at(n))
    assert [d.event for d in store.list_deliveries()] == ["first"]


def test_each_rule_joins_the_story_message(store: Store, feed_ids: list[int]) -> None:
    save(store, feed_ids[0], [news("a")], T0, rules=("arms",))
    mixed = save(store, feed_ids[1], [news("b")], at(60), rules=("arms", "oil"))
    assert (mixed.new_hits, mixed.suppressed_hits, mixed.new_deliveries) == (2, 1, 0)
    assert {(h.rule_id, h.corroboration) for h in store.list_hits()} == {("arms", 2), ("oil", 1)}
    (job,) = store.claim_deliveries(at(61), "sender", 30, 10)
    assert [rule.rule_id for rule in job.alert.rules] == ["arms", "oil"]


def test_one_batch_with_two_copies_of_a_story(store: Store, feed_ids: list[int]) -> None:
    result = save(store, feed_ids[0], [news("a"), news("b", title=EVENT_REWORDED)], T0)
    assert (result.new_items, result.new_hits, result.suppressed_hits) == (2, 2, 1)
    (story_a, _, corroboration), (story_b, _, _) = all_hits(store)
    assert story_a == story_b and corroboration == 1  # one outlet, however many items
    shown = store.list_hits()
    assert [(h.item_title, h.also_reported_by) for h in shown] == [(EVENT, ())]  # first saved


def test_items_without_story_keys_are_stories_of_their_own(store: Store, feed_ids: list[int]) -> None:
    for n in range(2):
        entry = news(f"k{n}", link="https://wire.example/one")
        result = store_save(store, feed_ids[n], [entry], {entry.key: [match()]}, by_notify, T0)
        assert (result.new_deliveries, result.suppressed_hits) == (1, 0)
    stories = [story for story, _, _ in all_hits(store)]
    assert len(set(stories)) == 2 and None not in stories  # each a story of its own


def test_resaving_and_new_rules_on_stored_items_keep_their_story(store: Store, feed_ids: list[int]) -> None:
    save(store, feed_ids[0], [news("a")], T0)
    save(store, feed_ids[1], [news("b")], at(60))
    again = save(store, feed_ids[1], [news("b")], at(120), rules=("arms", "oil"))
    assert (again.new_items, again.new_hits, again.new_deliveries) == (0, 1, 0)
    stories = {hit.story_id for hit in store.list_hits(include_suppressed=True)}
    assert len(stories) == 1 and None not in stories


def test_messages_carry_every_outlet_and_hits_at_most_ten_others(store: Store, feed_ids: list[int]) -> None:
    link = "https://wire.example/everywhere"
    for n in reversed(range(12)):  # Feed 12 first: it is the one that alerts
        save(store, feed_ids[n], [news(f"k{n}", link=link)], at(12 - n))
    jobs = store.claim_deliveries(at(60), "sender", 30, 10)
    assert len(jobs) == 1
    alert = jobs[0].alert
    assert alert.feed_name == "Feed 12" and alert.story_id is not None
    assert alert.outlets == tuple(f"Feed {n}" for n in range(12, 0, -1))
    expected = sorted(f"Feed {n}" for n in range(1, 12))[:10]
    shown = store.list_hits()
    assert [(h.corroboration, h.also_reported_by) for h in shown] == [(12, tuple(expected))]


def test_a_story_with_more_copies_than_lookups_read_still_takes_the_next(store: Store, feed_ids: list[int]) -> None:
    # Wire copy under many links (bands) and under one link: the lookups read only the newest
    # few items per band or link, which must still find the story.
    copies = CANDIDATES_PER_BAND + 5
    for n in range(copies):
        save(store, feed_ids[n % 12], [news(f"band{n}", link=f"https://outlet{n}.example/story")], at(n))
    for n in range(CANDIDATES_PER_LINK + 3):
        save(store, feed_ids[n % 12], [news(f"link{n}", title=OTHER_EVENT, link="https://wire.example/x")], at(40 + n))
    save(store, feed_ids[0], [news("late", title=EVENT_REWORDED, link="https://late.example/1")], at(80))
    save(store, feed_ids[1], [news("late-link", title=OTHER_EVENT, link="https://wire.example/x")], at(81))
    stories = {story for story, _, _ in all_hits(store)}
    assert len(stories) == 2


def test_outlets_are_counted_once_per_feed_and_up_to_what_matters(store: Store, feed_ids: list[int]) -> None:
    link = "https://wire.example/everywhere"
    for n in range(5):
        save(store, feed_ids[n], [news(f"k{n}", link=link)], at(n))
    save(store, feed_ids[0], [news("k0-again", link=link)], at(10))  # the same outlet again
    ((story, _, outlets),) = [hit for hit in all_hits(store) if hit[1]]
    assert story is not None and outlets == 5
    with store.saving() as transaction:
        assert transaction.outlet_counts({story}, feed_ids[5], [], at_most=10) == {story: (5, 5)}
        assert transaction.outlet_counts({story}, feed_ids[5], [], at_most=3) == {story: (3, 3)}
        assert transaction.outlet_counts({story}, feed_ids[5], [], at_most=0) == {}
