"""Pipeline.poll_feeds in-process, against the local feed server and a real SQLite store, with
the shipped rule pack: a first cycle stores and alerts, a second finds nothing new, and at no
point is the event loop blocked for more than 100 ms: no callback of the loop runs that long on
the loop's thread (the store, parsing and matching all run off the loop).

Blocking is measured as the loop thread's CPU time per callback, not wall time: on a loaded
two-core machine a callback can wait for a CPU longer than that without holding the loop up
through any fault of ours."""

from __future__ import annotations

import asyncio
import gc
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

import pytest
from support.feedserver import FeedServer
from support.smtp import SmtpSink

from monitor import stages
from monitor.config import load_settings
from monitor.fetch import Fetcher
from monitor.parse_pool import parse_pool
from monitor.pipeline import FeedReport
from monitor.runtime import Runtime, open_runtime
from monitor.stages import Stage
from tests.e2e.feeds import ARMS_1, ARMS_2, Entry, rss

REPO = Path(__file__).resolve().parents[1]
FEEDS = 24
QUIET_ITEMS = 30
BLOCKED_SECONDS = 0.1


def quiet(feed: int, n: int) -> Entry:
    return Entry(
        f"f{feed}-{n}",
        f"Regional council {feed} approves budget line {n} for harbour works",
        f"Councillors in district {feed} voted on item {n} of the spending plan after a long debate.",
        f"https://example.org/{feed}/{n}",
    )


@pytest.fixture
def runtime(tmp_path: Path, feed_server: FeedServer, smtp: SmtpSink) -> Runtime:
    for feed in range(FEEDS):
        entries = [quiet(feed, n) for n in range(QUIET_ITEMS)]
        if feed == 3:
            entries.append(ARMS_1)
        if feed == 7:
            entries.append(ARMS_2)
        feed_server.route(f"/f{feed}.xml", rss(f"Feed {feed}", entries))
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    listed = "".join(f'  - {{url: "{feed_server.url(f"/f{n}.xml")}", name: "Feed {n}"}}\n' for n in range(FEEDS))
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""database: sqlite:///{tmp_path / "monitor.db"}
rules: {tmp_path / "rules"}
feeds:
{listed}notify:
  - {{name: mail, url: "{smtp.apprise_url()}", min_interval: 0s}}
""",
        encoding="utf-8",
    )
    opened = open_runtime(load_settings(config, {}), exclusive=True)
    yield opened
    opened.close()


@pytest.fixture
def loop_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[float, str]]]:
    """(CPU seconds, callback) of every callback the event loop runs during the test."""
    steps: list[tuple[float, str]] = []
    run = asyncio.events.Handle._run

    def timed(handle: asyncio.events.Handle) -> None:
        started = time.thread_time()
        try:
            run(handle)
        finally:
            steps.append((time.thread_time() - started, repr(handle)[:300]))

    monkeypatch.setattr(asyncio.events.Handle, "_run", timed)
    # A full garbage collection falls in whichever callback allocates when it is due, and scanning
    # the whole heap (rule pack, imports, earlier tests' leftovers) took 0.13-0.17 s: the
    # interpreter's pause, not that callback's work. Frozen objects are not scanned.
    gc.freeze()
    yield steps
    gc.unfreeze()


async def cycle(runtime: Runtime, executor: Executor) -> tuple[list[FeedReport], int]:
    async with Fetcher(runtime.settings.fetch) as fetcher:
        reports = await runtime.pipeline(fetcher, executor).poll_feeds(runtime.worker_id, due_only=False, limit=1000)
        outbox = await runtime.deliver()
    return reports, outbox.sent


def test_a_cycle_stores_alerts_and_never_blocks_the_loop(
    runtime: Runtime, smtp: SmtpSink, loop_steps: list[tuple[float, str]]
) -> None:
    with parse_pool() as executor:
        first, sent = asyncio.run(cycle(runtime, executor))
        second, sent_again = asyncio.run(cycle(runtime, executor))
    assert [r.status for r in first] == ["ok"] * FEEDS, [r.error for r in first][:3]
    assert sum(r.new_items for r in first) == FEEDS * QUIET_ITEMS + 2
    assert sum(r.new_hits for r in first) >= 2 and sent == 2
    assert {r.status for r in second} == {"unchanged"} and sent_again == 0
    assert len(smtp.wait_for(2)) == 2
    assert len(loop_steps) > 100  # the instrument saw the cycles
    blocked = [(round(seconds, 3), what) for seconds, what in loop_steps if seconds > BLOCKED_SECONDS]
    assert blocked == [], blocked


def test_a_first_cycle_runs_every_stage(runtime: Runtime) -> None:
    stages.reset()
    with parse_pool() as executor:
        first, _ = asyncio.run(cycle(runtime, executor))
    assert sum(r.new_hits for r in first) >= 2
    snapshot = stages.snapshot()
    ran = {name: snapshot.combined.get(name).calls for name in Stage}
    assert all(calls > 0 for calls in ran.values()), ran
    # parsing ran in the workers and came back with their results; the rest ran here
    worker_stages = {Stage.PARSE, Stage.NORMALISE, Stage.LANGUAGE, Stage.STORY_KEYS}
    assert set(snapshot.merged.by_stage) == worker_stages
    assert set(snapshot.own.by_stage) == set(Stage) - worker_stages
    assert snapshot.merged.get(Stage.PARSE).calls == FEEDS
