"""Three `monitor run` workers on one PostgreSQL database and 300 local feeds (issue 5).

Checks that every feed is polled on time and by nobody twice, that no item, hit or delivery is
duplicated, and that after one worker is SIGKILLed in the middle of its fetches, its leased feeds
wait for the lease to run out and are then taken over, with new items alerting exactly once.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.webhook import WebhookReceiver

from tests.system.feedhub import FeedHub
from tests.system.harness import DbProbe, Worker, posts_mentioning, start_worker, stop_all, wait_until
from tests.system.synth import RULES_YAML, FeedWriter, feed_path

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(240)]

FEEDS = 300
MATCHING = range(0, FEEDS, 10)  # 30 feeds carry two matching items each
INTERVAL = 4.0
TICK = 0.3
DEADLINE = 2.0  # the feed lease is derived from it: 2 × deadline + 60 s
SLACK = 3.0  # tick, start-up and a loaded 2-core machine
POLLED = re.compile(r"Feed \d+: (ok|not_modified|unchanged)")


def write_config(tmp_path: Path, hub: FeedHub, webhook: WebhookReceiver, database: str) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "watch.yaml").write_text(RULES_YAML, encoding="utf-8")
    feeds = "".join(f"  - url: {hub.url(feed_path(n))}\n    name: Feed {n}\n" for n in range(FEEDS))
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: {database}
rules: {tmp_path / "rules"}
interval: {INTERVAL}s
max_backoff: {INTERVAL}s
tick: {TICK}s
fetch:
  connect_timeout: 1s
  read_timeout: {DEADLINE}s
  deadline: {DEADLINE}s
  concurrency: 32
alerts:
  retry_base: 1s
notify:
  - name: hook
    url: json://127.0.0.1:{webhook.port}/hook
    min_interval: 0s
feeds:
{feeds}""",
        encoding="utf-8",
    )
    return config


def explain(workers: list[Worker], db: DbProbe) -> str:
    tails = "\n".join(f"--- {w.worker_id}\n{w.log()[-3000:]}" for w in workers)
    return f"counts {db.safe_counts()}\n{tails}"


def test_three_workers_poll_on_time_once_and_take_over_a_killed_worker(
    tmp_path: Path, hub: FeedHub, webhook: WebhookReceiver, pg_url: str
) -> None:
    writer = FeedWriter(seed=5)
    refs = [writer.add_match(feed, serial) for feed in MATCHING for serial in (0, 1)]
    for feed in range(FEEDS):
        hub.set_feed(feed_path(feed), writer.body(feed))
    config = write_config(tmp_path, hub, webhook, pg_url)
    db = DbProbe(pg_url)
    workers = [start_worker(config, tmp_path / f"worker{n}.log") for n in range(3)]
    try:
        wait_until(
            lambda: len(webhook.bodies()) >= len(refs),
            90,
            "the first alerts",
            lambda: explain(workers, db),
            alive=workers,
        )
        assert all(w.alive() for w in workers), explain(workers, db)
        check_polled_on_time(hub, db)
        check_each_worker_polled(workers)
        check_exactly_once(webhook, db, refs, writer)
        refs += kill_one_mid_fetch_and_check_takeover(workers, hub, webhook, db, writer)
        check_exactly_once(webhook, db, refs, writer)
    finally:
        stop_all(workers)
        db.close()


def check_polled_on_time(hub: FeedHub, db: DbProbe) -> None:
    paths = [feed_path(n) for n in range(FEEDS)]
    before = {path: hub.hits(path) for path in paths}
    started = time.monotonic()
    rounds = 2
    wait_until(
        lambda: all(hub.hits(p) - before[p] >= rounds for p in paths),
        rounds * (INTERVAL + SLACK),
        f"every feed to be polled {rounds} more times",
    )
    elapsed = time.monotonic() - started
    most = max(hub.hits(p) - before[p] for p in paths)
    assert most <= elapsed / INTERVAL + 1, f"a feed was polled {most} times in {elapsed:.1f}s"
    now = datetime.now(UTC)
    for url, feed in db.feeds().items():
        assert feed.last_status in ("ok", "not_modified", "unchanged"), (url, feed)
        assert feed.last_fetch_at is not None
        assert feed.next_poll_at - feed.last_fetch_at == timedelta(seconds=INTERVAL), feed
        assert now - feed.last_fetch_at <= timedelta(seconds=INTERVAL + SLACK), feed


def check_each_worker_polled(workers: list[Worker]) -> None:
    polls = {w.worker_id: len(POLLED.findall(w.log())) for w in workers}
    assert all(count > 0 for count in polls.values()), polls


def check_exactly_once(webhook: WebhookReceiver, db: DbProbe, refs: list[str], writer: FeedWriter) -> None:
    bodies = webhook.bodies()
    assert len(bodies) == len(refs)
    for ref in refs:
        assert posts_mentioning(bodies, ref) == 1, ref
    counts = db.counts()
    assert counts["items"] == counts["distinct_items"] == sum(writer.item_count(n) for n in range(FEEDS))
    assert counts["hits"] == counts["distinct_hits"] == len(refs)
    assert counts["deliveries"] == counts["distinct_deliveries"] == counts["sent"] == len(refs)


def kill_one_mid_fetch_and_check_takeover(
    workers: list[Worker],
    hub: FeedHub,
    webhook: WebhookReceiver,
    db: DbProbe,
    writer: FeedWriter,
) -> list[str]:
    victim = workers[0]

    def victim_leases() -> list[tuple[str, datetime]]:
        return [
            (url, f.lease_until)
            for url, f in db.feeds().items()
            if f.claimed_by == victim.worker_id and f.lease_until is not None and f.lease_until > datetime.now(UTC)
        ]

    hub.close_gate()  # fetches now hang, so the victim is caught holding leases
    try:
        wait_until(lambda: bool(victim_leases()) and hub.held > 0, 3 * INTERVAL, "the victim to hold feed leases")
        victim.kill()
        killed_mono = time.monotonic()
        killed_at = datetime.now(UTC)
        leased = victim_leases()
    finally:
        hub.open_gate()
    assert leased, "the victim's leases vanished when it was killed"
    lease_end = max(until for _, until in leased)
    assert lease_end - killed_at >= timedelta(seconds=2 * DEADLINE + 50), "lease is not from deadline"
    feeds = sorted({int(url.rsplit("/", 1)[1].split(".")[0]) for url, _ in leased})[:5]
    others = [n for n in range(5, FEEDS, 10) if n not in feeds][:5]
    new_refs = []
    for feed in feeds + others:
        new_refs.append(writer.add_match(feed, 7))
        hub.set_feed(feed_path(feed), writer.body(feed))
    total = len(webhook.bodies()) + len(new_refs)
    wait = (lease_end - datetime.now(UTC)).total_seconds() + INTERVAL + 20
    wait_until(
        lambda: len(webhook.bodies()) >= total,
        wait,
        "alerts after the takeover",
        lambda: explain(workers[1:], db),
        alive=workers[1:],
    )
    lease_end_mono = killed_mono + (lease_end - killed_at).total_seconds()
    for feed in feeds:
        during_lease = [t for t in hub.times(feed_path(feed)) if killed_mono + 1 < t < lease_end_mono - 1]
        assert not during_lease, f"feed {feed} was polled while its dead holder's lease ran"
        state = db.feeds()[hub.url(feed_path(feed))]
        assert state.last_fetch_at is not None and state.last_fetch_at >= lease_end - timedelta(seconds=1)
    assert all(w.alive() for w in workers[1:])
    return new_refs
