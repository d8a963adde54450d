"""Stored stories for console tests: synthetic wire items matched by the real rule engine and
saved through the pipeline's store step (items, stories, hits and queued messages)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.rules import RuleSet
from monitor.saving import AlertRouting, save_and_queue
from monitor.store import Store
from monitor.stories import story_key
from monitor.types import ChannelSpec, FeedSpec, Item

NOW = datetime.now(UTC).replace(microsecond=0)
CHANNEL = ChannelSpec(name="desk", url="json://127.0.0.1:9/x")


@dataclass(frozen=True)
class Wire:
    key: str
    title: str
    summary: str
    link: str | None = None


ARMS = Wire(
    "arms-1",
    "North Korea ships artillery shells to Russia, officials say",
    "Pyongyang delivered millions of artillery shells and ballistic missiles to Moscow in breach of sanctions.",
    "https://example.org/wire/arms-1",
)
DRONES = Wire(
    "drones-1",
    "Iran supplied Shahed drones to Russia, investigators say",
    "Iranian Shahed drones were shipped to Russia and used against Ukrainian cities.",
    "https://example.org/wire/drones-1",
)
QUIET = Wire("rates-1", "Central bank holds rates steady", "Inflation eased in the autumn, said the governor.")
HOSTILE = Wire(
    "hostile-1",
    'North Korea sends missiles to Russia <script>alert("x")</script> <img src=x onerror=alert(1)>',
    'Pyongyang shipped ballistic missiles to Moscow <a href="javascript:alert(2)">click</a> in breach of sanctions.',
    "javascript:alert(3)",
)


def seed(store: Store, rules: RuleSet, wires: Sequence[Wire], *, feed_name: str = "Wire", at: datetime = NOW) -> int:
    """Save the wires as one feed's items; returns the feed id."""
    url = f"https://{feed_name.lower().replace(' ', '-')}.example/feed.xml"
    store.sync_feeds([FeedSpec(url, feed_name, 900.0)], at - timedelta(hours=1))
    feed_id = next(feed.id for feed in store.list_feeds() if feed.url == url)
    items = [
        Item(key=w.key, feed_url=url, title=w.title, summary=w.summary, content="", link=w.link, published=at)
        for w in wires
    ]
    matches = {item.key: rules.match(item.fields(), feed_name=feed_name) for item in items}
    keys = {item.key: story_key(item.title, item.summary, item.link) for item in items}
    save_and_queue(store, feed_id, items, matches, at, AlertRouting((CHANNEL,)), story_keys=keys)
    return feed_id
