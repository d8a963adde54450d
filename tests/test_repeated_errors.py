"""An error that recurs every tick is logged once in full, then as one line per window with a
count (issue 12: a full disk wrote a 53-line traceback every tick, 3,500 lines a minute)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from support.configs import write_config
from support.waiting import until

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.logs import RepeatedErrors
from monitor.runtime import open_runtime

log = logging.getLogger("monitor.test_repeats")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def disk_full(parameters: str) -> OperationalError:
    # SQLAlchemy's text carries the statement and its parameters on later lines
    return OperationalError("INSERT INTO items ...", {"title": parameters}, Exception("database or disk is full"))


def raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:
        return caught


def test_a_repeated_error_is_logged_once_then_counted(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    repeats = RepeatedErrors(window=300, clock=clock)
    with caplog.at_level(logging.ERROR, logger=log.name):
        for tick in range(720):  # an hour of 5 s ticks
            clock.now = 1000.0 + tick * 5
            repeats.log(log, logging.ERROR, "poll cycle failed", raised(disk_full(f"item {tick}")))
            repeats.flush()
    records = caplog.records
    assert records[0].exc_info is not None, "the first one keeps its traceback"
    assert [r.exc_info for r in records[1:]] == [None] * (len(records) - 1)
    assert len(records) == 1 + 11, "then one line per 5-minute window (the 12th is still open)"
    assert records[1].getMessage() == (
        "poll cycle failed: same error 60 more times in the last 5 minutes "
        "(OperationalError: (builtins.Exception) database or disk is full)"
    )
    assert sum(int(r.getMessage().split("same error ")[1].split()[0]) for r in records[1:]) == 660


def test_the_last_repeats_are_reported_when_the_error_stops(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    repeats = RepeatedErrors(window=300, clock=clock)
    with caplog.at_level(logging.WARNING, logger=log.name):
        for _ in range(3):
            repeats.log(log, logging.WARNING, "database unreachable")
        clock.now += 301
        repeats.flush()  # the error stopped: its count is still told
        clock.now += 301
        repeats.flush()  # a quiet window: forgotten
        repeats.log(log, logging.WARNING, "database unreachable")
    assert [r.getMessage() for r in caplog.records] == [
        "database unreachable",
        "database unreachable: same error 2 more times in the last 5 minutes",
        "database unreachable",
    ]


def test_different_errors_and_messages_are_not_merged(caplog: pytest.LogCaptureFixture) -> None:
    repeats = RepeatedErrors(window=300, clock=Clock())
    with caplog.at_level(logging.ERROR, logger=log.name):
        repeats.log(log, logging.ERROR, "poll cycle failed", raised(disk_full("a")))
        repeats.log(log, logging.ERROR, "poll cycle failed", raised(RuntimeError("lost connection")))
        repeats.log(log, logging.ERROR, "alert delivery failed", raised(disk_full("a")))
        repeats.log(log, logging.ERROR, "poll cycle failed", raised(disk_full("b")))
    assert len(caplog.records) == 3


def test_the_daemon_logs_a_full_disk_once_not_every_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, "tick: 0.02s\nfeeds:\n  - url: http://127.0.0.1:9/feed.xml\n")
    runtime = open_runtime(load_settings(config, {}), exclusive=True)
    attempts: list[int] = []

    def full_disk(*_args: object, **_kwargs: object) -> list[object]:
        attempts.append(1)
        raise disk_full("lease")

    monkeypatch.setattr(runtime.store, "claim_feeds", full_disk)

    async def scenario() -> None:
        daemon = Daemon(runtime, watch_rules=False)
        running = asyncio.create_task(daemon.run())
        await until(lambda: len(attempts) >= 50, "50 failed ticks")
        daemon.request_stop()
        assert await running == 0

    with caplog.at_level(logging.ERROR, logger="monitor.daemon"):
        asyncio.run(scenario())
    failures = [r for r in caplog.records if r.getMessage().startswith("poll cycle failed")]
    assert len(failures) == 1, f"{len(attempts)} failed ticks"
    assert failures[0].exc_info is not None
