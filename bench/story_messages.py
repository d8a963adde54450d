"""Messages per alerted story per channel, on real news, with the shipped rule pack.

The 27 outlet feeds of 2026 (kagisearch_fastfeedparser/benchmark_data: BBC, NYT, DW, Al Jazeera,
WSJ World, …) are polled one after another, then 3,540 WSJ World items (orx365_rss-arch, every
version of the feed from April 2025 to February 2026) are replayed poll by poll in the order
they first appeared. After every poll every queued message is sent, as a daemon would: a later
report of a story that already alerted can only add an update. One channel, default updates
(outlet thresholds 3 and 10, severity). Baseline in the same run: the model before stories
became the unit of alerting, one message per matching rule of each story.

Run: ``.venv/bin/python bench/story_messages.py`` (target: at most 1.1 messages per story).
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.parse import FeedParseError  # noqa: E402
from monitor.parse_worker import parse_body  # noqa: E402
from monitor.rules import load_rules  # noqa: E402
from monitor.saving import AlertRouting, save_and_queue  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.stories import story_key  # noqa: E402
from monitor.types import ChannelSpec, FeedSpec, Item  # noqa: E402

CORPUS = REPO / ".." / "shared" / "corpus"
OUTLETS = CORPUS / "kagisearch_fastfeedparser" / "benchmark_data"
WSJ_TSV = CORPUS / "orx365_rss-arch" / "derived_from_git_history" / "wsj_world_unique_items_2025-04_to_2026-02.tsv"
TARGET = 1.1
CHANNEL = ChannelSpec(name="analysts", url="")
# Every item counts, however old: the corpus was captured months ago; this measures grouping.
ROUTING = AlertRouting((CHANNEL,), max_age=timedelta(days=100_000))


@dataclass(frozen=True, slots=True)
class Poll:
    feed_name: str
    items: tuple[Item, ...]
    now: datetime


def outlet_polls() -> Iterator[Poll]:
    start = datetime(2026, 2, 18, tzinfo=UTC)
    for n, path in enumerate(sorted(OUTLETS.iterdir())):
        url = f"https://outlet.example/{path.name}"
        try:
            parsed = parse_body(path.read_bytes(), feed_url=url, final_url=url, headers={}, max_items=500)
        except FeedParseError:
            continue
        name = parsed.feed.title or path.name
        yield Poll(f"{name} ({path.name[:6]})", parsed.feed.items, start + timedelta(minutes=n))


def wsj_polls() -> Iterator[Poll]:
    by_commit: dict[str, list[dict[str, str]]] = {}
    with WSJ_TSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            by_commit.setdefault(row["first_seen_in_commit"], []).append(row)
    batches = sorted(by_commit.values(), key=lambda rows: min(_when(row) for row in rows))
    for rows in batches:
        items = tuple(
            Item(
                key=row["guid"] or row["wsj_link"],
                feed_url="https://wsj.example/world",
                title=row["title"],
                summary=row["description"],
                content="",
                link=row["wsj_link"] or None,
                published=_when(row),
            )
            for row in rows
        )
        yield Poll("WSJ World (history)", items, max(_when(row) for row in rows))


def _when(row: dict[str, str]) -> datetime:
    try:
        return parsedate_to_datetime(row["pubDate"]).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime(2025, 4, 19, tzinfo=UTC)


@dataclass
class Tally:
    polls: int = 0
    items: int = 0
    hits: int = 0
    messages: int = 0
    events: Counter[str] | None = None


def run(store: Store) -> Tally:
    rules = load_rules([REPO / "rules"])
    tally = Tally(events=Counter())
    polls = [*outlet_polls(), *wsj_polls()]
    names = list(dict.fromkeys(poll.feed_name for poll in polls))
    store.sync_feeds([FeedSpec(f"https://feeds.example/{n}", name, 900) for n, name in enumerate(names)], polls[0].now)
    feed_ids = {feed.name: feed.id for feed in store.list_feeds()}
    for poll in polls:
        matches = {item.key: rules.match(item.fields(), feed_name=poll.feed_name) for item in poll.items}
        keys = {item.key: story_key(item.title, item.summary, item.link) for item in poll.items}
        saved = save_and_queue(store, feed_ids[poll.feed_name], poll.items, matches, poll.now, ROUTING, story_keys=keys)
        tally.polls += 1
        tally.items += saved.new_items
        tally.hits += saved.new_hits
        for job in store.claim_deliveries(poll.now, "bench", 60, 10_000):
            store.mark_sent(job.delivery_id, poll.now)
            tally.messages += 1
            assert tally.events is not None
            tally.events[job.alert.event.partition(":")[0]] += 1
    return tally


def main() -> None:
    if not OUTLETS.is_dir() or not WSJ_TSV.is_file():
        print(f"corpus not found under {CORPUS}; nothing measured")
        return
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        started = time.perf_counter()
        tally = run(store)
        elapsed = time.perf_counter() - started
        views = store.list_deliveries(limit=1_000_000)
        hits = store.list_hits(limit=1_000_000, include_suppressed=True)
        store.close()
    stories = {view.story_id for view in views}
    per_rule = {(hit.story_id, hit.rule_id) for hit in hits}  # the old model: a message per rule of a story
    ratio = tally.messages / len(stories) if stories else 0.0
    baseline = len(per_rule) / len(stories) if stories else 0.0
    events = tally.events or Counter()
    print(f"polls {tally.polls}, new items {tally.items}, hits {tally.hits}, alerted stories {len(stories)}")
    print(
        f"messages {tally.messages}: first {events['first']}, outlet updates {events['outlets']}, "
        f"severity updates {events['severity']}"
    )
    verdict = "MET" if ratio <= TARGET else "MISSED"
    print(f"messages per alerted story per channel: {ratio:.3f} (target <= {TARGET}) -> {verdict}")
    fewer = baseline / ratio if ratio else 0.0
    print(f"baseline, one message per rule of a story: {baseline:.3f} ({len(per_rule)} messages); {fewer:.2f}x as many")
    print(f"elapsed {elapsed:.1f} s")


if __name__ == "__main__":
    main()
