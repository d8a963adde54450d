"""Driving real `monitor run` processes and looking at what they left in the database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

REPO_ROOT = Path(__file__).resolve().parents[2]


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    explain: Callable[[], str] | None = None,
    alive: Iterable[Worker] = (),
) -> None:
    """Polls `condition`; gives up at the deadline, or at once if a worker in `alive` died."""
    deadline = time.monotonic() + timeout
    watched = list(alive)
    while time.monotonic() < deadline:
        if condition():
            return
        dead = [w for w in watched if not w.alive()]
        if dead:
            detail = f"\n{explain()}" if explain is not None else ""
            raise AssertionError(f"worker {dead[0].pid} exited while waiting for {what}{detail}")
        time.sleep(0.05)
    detail = f"\n{explain()}" if explain is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


@dataclass
class Worker:
    """One `monitor run` child process with its output in a log file."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def worker_id(self) -> str:
        return f"{socket.gethostname()}:{self.pid}"  # what monitor.runtime.worker_name() gives

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_worker(config: Path, log_path: Path) -> Worker:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Worker(process, log_path)


def stop_all(workers: Iterable[Worker]) -> None:
    for worker in workers:
        if worker.alive():
            worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.stop()


@dataclass(frozen=True)
class FeedState:
    url: str
    last_status: str | None
    last_fetch_at: datetime | None
    next_poll_at: datetime
    claimed_by: str | None
    lease_until: datetime | None
    interval_seconds: float


class DbProbe:
    """Read-only SQL against the monitor's tables, independent of its ORM layer."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self._engine: Engine = create_engine(parsed, pool_pre_ping=True)

    def close(self) -> None:
        self._engine.dispose()

    def scalar(self, sql: str, **params: Any) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self._engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def feeds(self) -> dict[str, FeedState]:
        rows = self.rows(
            "SELECT url, last_status, last_fetch_at, next_poll_at, claimed_by, lease_until, interval_seconds FROM feeds"
        )
        return {row[0]: FeedState(*row) for row in rows}

    def safe_counts(self) -> dict[str, int] | str:
        """For failure messages: the counts, or why they could not be read."""
        try:
            return self.counts()
        except Exception as exc:
            return f"unreadable: {type(exc).__name__}: {str(exc)[:200]}"

    def counts(self) -> dict[str, int]:
        """Totals plus distinct counts of what must be unique, for a duplicate check."""
        return {
            "items": self.scalar("SELECT count(*) FROM items"),
            "distinct_items": self.scalar("SELECT count(*) FROM (SELECT DISTINCT feed_id, key FROM items) AS d"),
            "hits": self.scalar("SELECT count(*) FROM hits"),
            "distinct_hits": self.scalar("SELECT count(*) FROM (SELECT DISTINCT item_id, rule_id FROM hits) AS d"),
            "deliveries": self.scalar("SELECT count(*) FROM deliveries"),
            "distinct_deliveries": self.scalar(
                "SELECT count(*) FROM (SELECT DISTINCT story_id, channel, event FROM deliveries) AS d"
            ),
            "sent": self.scalar("SELECT count(*) FROM deliveries WHERE status = 'sent'"),
        }


def posts_mentioning(bodies: Iterable[Any], word: str) -> int:
    """How many webhook posts carry `word` anywhere in their payload."""
    return sum(1 for body in bodies if word in json.dumps(body, ensure_ascii=False))


def mails_mentioning(texts: Iterable[str], word: str) -> int:
    return sum(1 for body in texts if word in body)
