"""PostgreSQL restarts under a running daemon: the daemon logs the error, reconnects on a later
tick and loses nothing — items added just before, during and after the restart all alert once.

Restarting the server needs root and pg_ctlcluster; the test skips cleanly without them and
always leaves the server running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.webhook import WebhookReceiver

from tests.system.feedhub import FeedHub
from tests.system.harness import DbProbe, posts_mentioning, start_worker, wait_until
from tests.system.synth import RULES_YAML, FeedWriter, feed_path

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(240)]

FEEDS = 20


def pg_ctl(action: str) -> subprocess.CompletedProcess[str]:
    version = sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]
    return subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def pg_ready() -> bool:
    probe = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False)
    return probe.returncode == 0


@pytest.fixture
def restartable_postgres() -> Iterator[None]:
    if os.geteuid() != 0 or shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        pytest.skip("restarting PostgreSQL needs root and pg_ctlcluster")
    yield
    if not pg_ready():  # whatever happened in the test, leave the server running
        pg_ctl("start")
        wait_until(pg_ready, 60, "PostgreSQL to come back")


def write_config(tmp_path: Path, hub: FeedHub, webhook: WebhookReceiver, database: str) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "watch.yaml").write_text(RULES_YAML, encoding="utf-8")
    feeds = "".join(f"  - url: {hub.url(feed_path(n))}\n    name: Feed {n}\n" for n in range(FEEDS))
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: {database}
rules: {tmp_path / "rules"}
interval: 1s
max_backoff: 2s
tick: 0.3s
fetch:
  deadline: 2s
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


def publish(hub: FeedHub, writer: FeedWriter, feeds: range, serial: int) -> list[str]:
    refs = []
    for feed in feeds:
        refs.append(writer.add_match(feed, serial))
        hub.set_feed(feed_path(feed), writer.body(feed))
    return refs


def test_daemon_survives_a_postgresql_restart_and_loses_nothing(
    tmp_path: Path,
    hub: FeedHub,
    webhook: WebhookReceiver,
    pg_url: str,
    restartable_postgres: None,
) -> None:
    writer = FeedWriter(seed=23, quiet=2)
    refs = publish(hub, writer, range(FEEDS), 0)
    daemon = start_worker(write_config(tmp_path, hub, webhook, pg_url), tmp_path / "daemon.log")
    try:
        wait_until(
            lambda: len(webhook.bodies()) >= len(refs),
            60,
            "the first alerts",
            lambda: daemon.log()[-3000:],
            alive=[daemon],
        )
        refs += publish(hub, writer, range(0, FEEDS, 2), 1)  # just before the restart
        restart = pg_ctl("restart")
        assert restart.returncode == 0, restart.stderr
        refs += publish(hub, writer, range(1, FEEDS, 2), 2)  # while it comes back
        wait_until(pg_ready, 60, "PostgreSQL to accept connections again")
        refs += publish(hub, writer, range(0, FEEDS, 3), 3)  # after it is back
        wait_until(
            lambda: all(posts_mentioning(webhook.bodies(), r) >= 1 for r in refs),
            90,
            "every alert after the restart",
            lambda: daemon.log()[-4000:],
            alive=[daemon],
        )
        assert daemon.alive()
    finally:
        assert daemon.stop() == 0, daemon.log()[-3000:]
    bodies = webhook.bodies()
    assert [ref for ref in refs if posts_mentioning(bodies, ref) != 1] == []
    assert len(bodies) == len(refs)
    log = daemon.log()
    assert "terminating connection" in log or "unavailable" in log.lower() or "failed" in log, (
        "the daemon did not report the lost database"
    )
    db = DbProbe(pg_url)
    try:
        counts = db.counts()
    finally:
        db.close()
    assert counts["hits"] == counts["distinct_hits"] == counts["sent"] == len(refs)
