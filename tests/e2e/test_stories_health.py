"""One story, one alert across outlets (through `monitor once`), and feed health notices from the
daemon: one when a feed starts failing, one when it recovers — never one per failed poll."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from support.feedserver import FeedServer
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver

from tests.e2e.conftest import run_cli
from tests.e2e.feeds import ARMS_1, QUIET, RULES_YAML, Entry, rss

# the same wire story as ARMS_1, carried by two other outlets with small edits
COPY_A = Entry(
    "a-77",
    "North Korean artillery shells reach Russian front, officials say",
    "Pyongyang has shipped millions of artillery shells to Russia in breach of UN sanctions, officials said on Friday.",
    "https://outlet-a.example/world/77",
)
COPY_B = Entry(
    "b-12",
    "Officials say North Korean artillery shells reach Russian front",
    "Pyongyang has shipped millions of artillery shells to Russia in breach of UN sanctions.",
    "https://outlet-b.example/news/12",
)


def test_one_story_alerts_once_then_one_threaded_update_at_three_outlets(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpSink,
    database_url: str,
) -> None:
    feed_server.route("/wire.xml", rss("Wire", [ARMS_1, QUIET]))
    feed_server.route("/a.xml", rss("Outlet A", [COPY_A]))
    feed_server.route("/b.xml", rss("Outlet B", [COPY_B]))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(RULES_YAML, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: {database_url}
feeds:
  - {{url: "{feed_server.url("/wire.xml")}", name: Wire}}
notify:
  - {{name: mail, url: "{smtp.apprise_url()}", min_interval: 0s}}
""",
        encoding="utf-8",
    )
    assert run_cli("once", "--config", str(config), cwd=tmp_path).returncode == 0
    smtp.wait_for(1)

    config.write_text(
        config.read_text().replace(
            "feeds:\n",
            f"""feeds:
  - {{url: "{feed_server.url("/a.xml")}", name: Outlet A}}
  - {{url: "{feed_server.url("/b.xml")}", name: Outlet B}}
""",
        ),
        encoding="utf-8",
    )
    later = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    assert "Outlet A: ok, 1 items, 1 new, 1 new hits" in later.stdout
    assert "alerts: 1 sent" in later.stdout, "three outlets: one update, threaded under the first"
    first, update = smtp.wait_for(2)
    assert update.subject.startswith("Re: ") and update.subject.endswith("— now reported by 3 outlets")
    assert first.message["Message-ID"].endswith("@sanctions-monitor>")
    assert update.message["In-Reply-To"] == first.message["Message-ID"]
    assert update.message["References"] == first.message["Message-ID"]
    assert len(update.message.get_all("Message-ID")) == 1
    assert "Reported by 3 outlets: Wire, Outlet " in update.text()  # the first report leads
    again = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert "alerts: 0 sent" in again.stdout and len(smtp.messages) == 2

    shown = json.loads(run_cli("hits", "--format", "json", "--config", str(config), cwd=tmp_path).stdout)
    assert len(shown) == 1
    assert shown[0]["corroboration"] == 3
    assert shown[0]["also_reported_by"] == ["Outlet A", "Outlet B"]
    everything = json.loads(
        run_cli("hits", "--format", "json", "--duplicates", "--config", str(config), cwd=tmp_path).stdout
    )
    assert len(everything) == 3
    assert len({hit["story_id"] for hit in everything}) == 1


def test_daemon_announces_a_failing_feed_once_and_its_recovery(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook: WebhookReceiver,
) -> None:
    feed_server.route("/flaky.xml", b"down for maintenance", status=503, content_type="text/plain")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(RULES_YAML, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: sqlite:///{tmp_path / "monitor.db"}
interval: 0.2s
max_backoff: 0.4s
tick: 0.2s
feeds:
  - {{url: "{feed_server.url("/flaky.xml")}", name: Flaky}}
notify:
  - {{name: ops, url: "json://127.0.0.1:{webhook.port}/ops", tags: [admin, analysts]}}
health:
  failures: 3
  check_every: 0.5s
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        (failing,) = webhook.wait_for(1, timeout=30)
        assert "feed failing: Flaky" in failing["title"]
        assert "HTTP 503" in failing["message"]
        feed_server.route("/flaky.xml", rss("Flaky", [QUIET]))
        notices = webhook.wait_for(2, timeout=30)
        assert "feed recovered: Flaky" in notices[1]["title"]
        polls_after_recovery = feed_server.hits("/flaky.xml")
        _wait_for_polls(feed_server, polls_after_recovery + 3)
        assert len(webhook.bodies()) == 2, "one notice per state change"
    finally:
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, output


def _wait_for_polls(server: FeedServer, count: int) -> None:
    import time

    deadline = time.monotonic() + 20
    while server.hits("/flaky.xml") < count:
        assert time.monotonic() < deadline, "the daemon stopped polling"
        time.sleep(0.05)
