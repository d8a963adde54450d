"""`monitor run` with a webhook that trickles one header byte every 2 s (issue 12, 4: the process
logged "stopped" after SIGTERM and was still alive 165 s later, its socket open). SIGTERM must
end it with exit 0 within the documented 10 s, the webhook must see the connection closed, and
the alert must still be pending for the next start."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from support.configs import write_config
from support.feedserver import FeedServer
from support.trickle import TrickleServer

from tests.e2e.conftest import spawn_daemon
from tests.e2e.feeds import ARMS_1, QUIET, RULES_YAML, rss


def test_sigterm_exits_within_10s_while_a_channel_trickles(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/wire.xml", rss("Wire", [ARMS_1, QUIET]))
    with TrickleServer(interval=2.0) as trickle:
        body = f"""interval: 1s
tick: 0.3s
feeds:
  - url: {feed_server.url("/wire.xml")}
    name: Wire
notify:
  - name: slow-hook
    url: json://127.0.0.1:{trickle.port}/hook
"""
        daemon = spawn_daemon(write_config(tmp_path, body, rules=RULES_YAML))
        try:
            assert trickle.connected.wait(timeout=60), "the alert went out to the slow webhook"
            started = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            output, _ = daemon.communicate(timeout=30)
            elapsed = time.monotonic() - started
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.communicate()
        print(f"SIGTERM to exit with a trickling channel: {elapsed:.1f} s")
        assert daemon.returncode == 0, output
        assert elapsed < 10, f"exit took {elapsed:.1f} s\n{output}"
        assert trickle.hung_up.wait(timeout=10), "no process kept the webhook's connection open"
    assert "unsent alerts stay pending" in output
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        rows = conn.execute("SELECT status, sent_at FROM deliveries WHERE channel = 'slow-hook'").fetchall()
    assert rows == [("pending", None)]
