"""A wall clock set back must not stop polling (issue 12: polling stopped for the size of the
step while /healthz said ok with 0 feeds overdue). All in-process, with an injected wall clock;
the real clock is never touched."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.configs import write_config
from support.feedserver import FeedServer
from support.waiting import until

from monitor.clock import ClockWatch, run_every
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.metrics import Metrics
from monitor.observe import HealthCheck
from monitor.runtime import open_runtime
from monitor.store import Store
from tests.e2e.feeds import QUIET, rss
from tests.store.store_factories import T0

HOUR = timedelta(hours=1)


class SteppedClock:
    """The real wall clock plus an offset a test can change: a step, as NTP or an admin makes."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_clock_watch_sees_steps_but_not_the_passing_of_time() -> None:
    wall, mono = [T0], [100.0]
    watch = ClockWatch(lambda: wall[0], lambda: mono[0])
    wall[0], mono[0] = wall[0] + timedelta(seconds=30), 130.0
    assert watch.step() == 0
    wall[0], mono[0] = wall[0] - HOUR + timedelta(seconds=5), 135.0
    assert watch.step() == -3600
    wall[0], mono[0] = wall[0] + timedelta(seconds=65), 140.0
    assert watch.step() == 60


def wire(feed_server: FeedServer) -> str:
    return f"interval: 1s\ntick: 0.2s\nfeeds:\n  - url: {feed_server.url('/wire.xml')}\n    name: Wire\n"


def test_the_daemon_keeps_polling_after_the_clock_is_set_back_an_hour(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.route("/wire.xml", rss("Wire", [QUIET]))
    runtime = open_runtime(load_settings(write_config(tmp_path, wire(feed_server)), {}), exclusive=True)
    clock = SteppedClock()
    runtime.clock = clock

    async def scenario() -> None:
        daemon = Daemon(runtime, watch_rules=False)
        running = asyncio.create_task(daemon.run())
        try:
            await until(lambda: _polled(runtime.store), "the first poll")
            clock.offset = -HOUR
            before = feed_server.hits("/wire.xml")
            # the feed's interval is 1 s: it must be polled again soon, not in an hour
            await until(lambda: feed_server.hits("/wire.xml") > before + 1, "polls after the step")
        finally:
            daemon.request_stop()
            assert await running == 0

    with caplog.at_level(logging.WARNING, logger="monitor.daemon"):
        asyncio.run(scenario())
    assert "the wall clock was set back by 3600 s" in caplog.text


def _polled(store: Store) -> bool:
    return any(f.last_fetch_at is not None for f in store.list_feeds())


def test_a_failing_periodic_job_keeps_its_rhythm(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def scenario() -> None:
        stop = asyncio.Event()

        async def job() -> None:
            runs.append(len(runs))
            if len(runs) == 3:
                stop.set()
            raise RuntimeError("boom")

        await run_every(0.01, job, stop)

    asyncio.run(scenario())
    assert runs == [0, 1, 2]
    assert caplog.text.count("periodic job job failed") == 3


def test_a_stalled_heartbeat_shows_even_when_the_wall_clock_went_back(tmp_path: Path) -> None:
    wall, mono = [T0], [0.0]
    with Store.open(f"sqlite:///{tmp_path / 'm.db'}") as store:
        health = HealthCheck(store, Metrics(), 5.0, lambda: wall[0], lambda: mono[0])
        health.ticked()
        wall[0], mono[0] = T0 - HOUR, 600.0  # ten minutes without a tick; the wall clock says -1 h
        status = health()
    assert not status.scheduler_alive and not status.ok
