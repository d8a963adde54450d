"""`monitor run` as a real child process: alerts arrive, rule edits are hot-reloaded (a broken edit
keeps the last good rules and tells the admin channel once), SIGTERM exits 0, a second SQLite writer
is refused."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.feedserver import FeedServer
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver

from monitor.parse_pool import PARSE_WORKER_NAME
from tests.e2e.conftest import run_cli
from tests.e2e.feeds import ARMS_1, ARMS_NEW, QUIET, RULES_YAML, Entry, rss


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def daemon_setup(tmp_path: Path, feed_server: FeedServer, smtp: SmtpSink, webhook: WebhookReceiver) -> Path:
    feed_server.route("/wire.xml", rss("Wire", [ARMS_1, QUIET]))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "main.yaml").write_text(RULES_YAML, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: sqlite:///{tmp_path / "monitor.db"}
rules: rules/
interval: 1s
tick: 0.3s
feeds:
  - url: {feed_server.url("/wire.xml")}
    name: Wire
notify:
  - name: mail
    url: {smtp.apprise_url()}
    min_interval: 0s
  - name: ops
    url: json://127.0.0.1:{webhook.port}/ops
    tags: [admin]
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def daemon(daemon_setup: Path) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ}
    env.pop("MONITOR_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(daemon_setup)],
        cwd=daemon_setup.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()
    assert process.stdout is not None
    process.stdout.close()  # a test's reader thread may still hold it; closing twice is harmless


def test_daemon_alerts_reloads_rules_and_stops_cleanly_on_sigterm(
    daemon: subprocess.Popen[str],
    daemon_setup: Path,
    feed_server: FeedServer,
    smtp: SmtpSink,
    webhook: WebhookReceiver,
) -> None:
    mails = smtp.wait_for(1, timeout=30)
    assert "North Korean artillery shells" in mails[0].subject

    rules_file = daemon_setup.parent / "rules" / "main.yaml"
    rules_file.write_text(RULES_YAML + "  - id: broken\n    title: x\n    query: 'Russia AND ('\n", encoding="utf-8")
    notices = webhook.wait_for(1, timeout=20)
    assert "rule files have errors" in json.dumps(notices[0])
    assert "main.yaml:" in json.dumps(notices[0])

    # the last good rules keep working while the file is broken
    feed_server.route("/wire.xml", rss("Wire", [ARMS_NEW, ARMS_1, QUIET]))
    wait_until(lambda: len(smtp.messages) >= 2, 20, "alert from the last good rules")

    rules_file.write_text(
        RULES_YAML
        + """  - id: rates
    title: Central bank rates
    query: '"central bank" AND rates'
    severity: low
    notify: [analysts]
""",
        encoding="utf-8",
    )
    feed_server.route(
        "/wire.xml",
        rss(
            "Wire",
            [
                Entry("wire-9", "Central bank raises rates", "A surprise move.", "https://example.org/9"),
                ARMS_NEW,
                ARMS_1,
                QUIET,
            ],
        ),
    )
    wait_until(lambda: any("Central bank" in m.subject for m in smtp.messages), 20, "alert from the reloaded rules")
    assert len(webhook.bodies()) == 1, "one notice per broken edit, not one per poll"

    started = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    output, _ = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, output
    assert time.monotonic() - started < 10
    assert "stopped" in output


def parse_workers(daemon_pid: int) -> list[int]:
    """The daemon's parse worker processes, by the name they give themselves (the channels'
    senders and the resource tracker are spawned too). Workers are started from whichever
    thread submitted first, so every thread's children count."""
    tasks = Path(f"/proc/{daemon_pid}/task").iterdir()
    children = [pid for task in tasks for pid in (task / "children").read_text().split()]
    return [int(pid) for pid in children if _name(pid) == PARSE_WORKER_NAME]


def _name(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:  # ended meanwhile
        return ""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to find the workers")
def test_daemon_keeps_parsing_after_its_parse_workers_are_killed(
    daemon: subprocess.Popen[str], feed_server: FeedServer, smtp: SmtpSink
) -> None:
    smtp.wait_for(1, timeout=30)
    workers = parse_workers(daemon.pid)
    assert workers, "the first poll ran in parse workers"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would

    feed_server.route("/wire.xml", rss("Wire", [ARMS_NEW, ARMS_1, QUIET]))
    wait_until(lambda: len(smtp.messages) >= 2, 30, "an alert parsed by new workers")
    assert "munitions train" in smtp.messages[1].subject
    assert not set(parse_workers(daemon.pid)) & set(workers)

    daemon.send_signal(signal.SIGTERM)
    output, _ = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, output
    assert "starting new parse workers" in output


def test_a_cycle_longer_than_the_tick_keeps_the_heartbeat(
    daemon_setup: Path, feed_server: FeedServer, smtp: SmtpSink
) -> None:
    feed_server.stall("/slow.xml")  # the cycle waits for this feed's 4 s deadline, 13 ticks
    config = daemon_setup.read_text(encoding="utf-8")
    config = config.replace(
        "    name: Wire\n", f"    name: Wire\n  - url: {feed_server.url('/slow.xml')}\n    name: Slow\n"
    )
    daemon_setup.write_text(config + "fetch:\n  read_timeout: 4s\n  deadline: 4s\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(daemon_setup)],
        cwd=daemon_setup.parent,
        env={k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        smtp.wait_for(1, timeout=30)
        # the whole stalled cycle (about 13 ticks) has passed once the feed's timeout is stored
        wait_until(lambda: _feed_error(daemon_setup.parent / "monitor.db", "Slow") == "timeout", 30, "the timeout")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Slow: error" in output and "timeout" in output
    assert "maximum number of running instances" not in output
    assert "skipped" not in output.lower()


def _feed_error(database: Path, name: str) -> str | None:
    with sqlite3.connect(database, timeout=5) as conn:
        row = conn.execute("SELECT last_error_kind FROM feeds WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def test_second_sqlite_writer_is_refused(daemon: subprocess.Popen[str], daemon_setup: Path, smtp: SmtpSink) -> None:
    smtp.wait_for(1, timeout=30)  # the daemon is up and holds the writer lock
    second = run_cli("run", "--config", str(daemon_setup), cwd=daemon_setup.parent, timeout=30)
    assert second.returncode == 1
    assert "another monitor process" in second.stderr
    assert "PostgreSQL" in second.stderr
    daemon.send_signal(signal.SIGINT)
    daemon.communicate(timeout=15)
    assert daemon.returncode == 0


def test_daemon_serves_health_and_metrics_and_logs_json(daemon_setup: Path, smtp: SmtpSink) -> None:
    import urllib.request

    from support.smtp import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "run",
            "--config",
            str(daemon_setup),
            "--metrics-port",
            str(port),
            "--log-format",
            "json",
        ],
        cwd=daemon_setup.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        smtp.wait_for(1, timeout=30)

        def get(path: str) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
                    return reply.status, reply.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        wait_until(lambda: get("/healthz")[0] == 200, 15, "a healthy /healthz")
        health = json.loads(get("/healthz")[1])
        assert health["scheduler_alive"] and health["database_ok"] and health["overdue_feeds"] == 0
        wait_until(
            lambda: 'monitor_alerts_sent_total{channel="mail"} 1.0' in get("/metrics")[1],
            15,
            "the sent alert in /metrics",
        )
        metrics = get("/metrics")[1]
        assert 'monitor_polls_total{status="ok"}' in metrics
        assert "monitor_hits_total 1.0" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any(record.get("feed") == "Wire" for record in records)
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
