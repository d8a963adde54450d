"""Real third-party feeds (../shared/corpus, referenced by path only): round trip and stories."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from store_factories import T0, by_notify, match, save

from monitor.store import HitView, Store
from monitor.stories import StoryKey, same_story, story_key
from monitor.types import FeedSpec, Item

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
NEWS_FEEDS = CORPUS / "kagisearch_fastfeedparser" / "benchmark_data"

pytestmark = pytest.mark.corpus


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return None if parsed is None else datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _items(path: Path) -> list[Item]:
    """Just enough of normalisation for a storage test: the text exactly as feedparser gave it."""
    parsed = feedparser.parse(path.read_bytes())
    url = f"file://{path.name}"
    return [
        Item(
            key=str(e.get("id") or e.get("link") or e.get("title") or index),
            feed_url=url,
            title=str(e.get("title", "")),
            summary=str(e.get("summary", "")),
            content=str(e["content"][0].get("value", "")) if e.get("content") else "",
            link=e.get("link"),
            published=_when(e),
            author=e.get("author"),
        )
        for index, e in enumerate(parsed.entries)
    ]


def test_real_news_feeds_round_trip(store: Store) -> None:
    if not NEWS_FEEDS.is_dir():
        pytest.skip(f"corpus not present at {NEWS_FEEDS}")
    feeds = {path: _items(path) for path in sorted(NEWS_FEEDS.iterdir()) if path.is_file()}
    feeds = {path: items for path, items in feeds.items() if items}
    assert feeds, "expected parseable news feeds in the corpus"
    store.sync_feeds([FeedSpec(f"file://{p.name}", p.name, 600) for p in feeds], T0)
    ids = {job.url: job.id for job in store.claim_feeds(T0, "corpus", 60, len(feeds))}
    expected: list[Item] = []
    for path, items in feeds.items():
        unique: dict[str, Item] = {}  # feeds repeat ids; the store keeps the first copy
        for item in items:
            unique.setdefault(item.key, item)
        result = save(store, ids[f"file://{path.name}"], items, {}, by_notify, T0)
        assert result.new_items == len(unique)
        assert store.known_item_keys(ids[f"file://{path.name}"], [i.key for i in items]) == {i.key for i in items}
        expected.extend(unique.values())
    assert [stored.item for stored in store.iter_items()] == expected


def test_real_news_feeds_group_into_stories(store: Store) -> None:
    """Same-day captures of many outlets: cross-feed stories form, and every join is justified."""
    if not NEWS_FEEDS.is_dir():
        pytest.skip(f"corpus not present at {NEWS_FEEDS}")
    feeds = {p: items for p in sorted(NEWS_FEEDS.iterdir()) if p.is_file() and (items := _items(p))}
    store.sync_feeds([FeedSpec(f"file://{p.name}", p.name, 600) for p in feeds], T0)
    ids = {job.url: job.id for job in store.claim_feeds(T0, "corpus", 60, len(feeds))}
    keys: dict[tuple[str, str, str | None], StoryKey] = {}
    for path, items in feeds.items():
        story_keys: dict[str, StoryKey] = {}
        for entry in items:  # a repeated id: the store keeps the first copy, so do we
            if entry.key not in story_keys:
                story_keys[entry.key] = story_key(entry.title, entry.summary, entry.link)
                keys.setdefault((path.name, entry.title, entry.link), story_keys[entry.key])
        matches = {entry.key: [match("all", notify=("ops",))] for entry in items}
        save(store, ids[f"file://{path.name}"], items, matches, by_notify, T0, story_keys=story_keys)
    hits = store.list_hits(limit=100_000, include_suppressed=True)
    members: dict[int, list[HitView]] = defaultdict(list)
    for hit in hits:
        assert hit.story_id is not None
        members[hit.story_id].append(hit)
    shown = store.list_hits(limit=100_000)
    assert len(shown) == len(members) == store.pending_count()
    assert any(len({h.feed_name for h in group}) > 1 for group in members.values())
    for hit in shown:
        outlets = sorted({h.feed_name for h in members[hit.story_id or 0]})
        assert hit.corroboration == len(outlets)
        assert list(hit.also_reported_by) == [o for o in outlets if o != hit.feed_name][:10]
    for group in members.values():
        group_keys = [keys[(h.feed_name, h.item_title, h.link)] for h in group]
        for index, key in enumerate(group_keys):
            others = group_keys[:index] + group_keys[index + 1 :]
            assert not others or any(same_story(key, other) for other in others)
