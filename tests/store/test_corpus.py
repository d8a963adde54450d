"""Real third-party feeds (../shared/corpus, referenced by path only) round-trip unchanged."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from store_factories import T0, by_notify

from monitor.store import Store
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
        Item(key=str(e.get("id") or e.get("link") or e.get("title") or index), feed_url=url,
             title=str(e.get("title", "")), summary=str(e.get("summary", "")),
             content=str(e["content"][0].get("value", "")) if e.get("content") else "",
             link=e.get("link"), published=_when(e), author=e.get("author"))
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
        result = store.save_items(ids[f"file://{path.name}"], items, {}, by_notify, T0)
        assert result.new_items == len(unique)
        assert store.known_item_keys(ids[f"file://{path.name}"], [i.key for i in items]) == {
            i.key for i in items}
        expected.extend(unique.values())
    assert [stored.item for stored in store.iter_items()] == expected
