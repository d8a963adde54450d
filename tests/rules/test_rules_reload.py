"""A broken rule edit of any kind keeps the last good rules, is logged and announced once, and the
next good edit loads: the daemon (a real child process on SQLite, with real feed, SMTP and
webhook servers on loopback) alerts on a fresh item through a rule added after the broken edits
(issue 12, defect 1)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest
from bounded import alias_bomb
from support.feedserver import FeedServer
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver

from monitor.rules import RuleLoadError
from monitor.runtime import RulesHolder, load_off_loop, load_within
from tests.e2e.feeds import ARMS_1, ARMS_NEW, QUIET, RULES_YAML, Entry, rss
from tests.e2e.test_daemon import daemon, daemon_setup  # noqa: F401 - the daemon's fixtures, reused

NOT_CHAIN = "rules:\n  - id: nots\n    query: 'x AND " + "NOT " * 1000 + "y'\n"
RATES = """rules:
  - id: rates
    title: Central bank rates
    query: '"central bank" AND rates'
    notify: [analysts]
"""
FRESH = Entry("wire-9", "Central bank raises rates", "A surprise move.", "https://example.org/9")


def replace_file(path: Path, text: str) -> None:
    """Write as editors do (a new file renamed over the old), so no reload sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


class Output:
    """The lines a child process writes, collected as they come."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()
        except ValueError:
            return  # the fixture closed the stream after the process exited

    def wait_for(self, text: str, timeout: float = 20) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: any(text in line for line in self.lines), timeout):
                raise AssertionError(f"no line with {text!r} in:\n{''.join(self.lines)}")


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "main.yaml").write_text(RULES_YAML, encoding="utf-8")
    return rules


def test_after_broken_edits_a_later_good_rule_alerts_on_a_fresh_item(
    daemon: subprocess.Popen[str],  # noqa: F811 - the fixture imported above
    daemon_setup: Path,  # noqa: F811
    feed_server: FeedServer,
    smtp: SmtpSink,
    webhook: WebhookReceiver,
) -> None:
    """The daemon of tests/e2e/test_daemon.py: rules/main.yaml, the Wire feed, mail and ops."""
    assert daemon.stdout is not None
    output = Output(daemon.stdout)
    assert "North Korean artillery shells" in smtp.wait_for(1, timeout=30)[0].subject
    extra = daemon_setup.parent / "rules" / "extra.yaml"

    replace_file(extra, NOT_CHAIN)  # a RecursionError once, and the watcher died silently
    notice = json.dumps(webhook.wait_for(1)[0])
    assert "rule files have errors" in notice
    assert "rules/extra.yaml:3:4015: rule nots: query has more than 1,000 operators" in notice

    replace_file(extra, alias_bomb())  # ran for minutes on the event loop once
    assert "alias @a4 stands for 13,122 terms" in json.dumps(webhook.wait_for(2)[1])

    # the last good rules keep matching while the files are broken
    feed_server.route("/wire.xml", rss("Wire", [ARMS_NEW, ARMS_1, QUIET]))
    assert "munitions train" in smtp.wait_for(2)[1].subject

    replace_file(extra, RATES)
    output.wait_for("rules reloaded: 3 rules")
    feed_server.route("/wire.xml", rss("Wire", [FRESH, ARMS_NEW, ARMS_1, QUIET]))
    assert "Central bank raises rates" in smtp.wait_for(3)[2].subject
    assert len(webhook.bodies()) == 2, "one notice per broken edit"

    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=15) == 0
    text = "".join(output.lines)
    assert "rule reload failed; keeping the last good rules" in text
    assert "Traceback" not in text


def test_the_holder_keeps_the_last_good_rules_and_names_skipped_entries(
    rules_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = RulesHolder([rules_dir])
    first = holder.get()
    (rules_dir / "old.yaml").mkdir()
    replace_file(rules_dir / "extra.yaml", NOT_CHAIN)
    error = asyncio.run(holder.reload())
    assert isinstance(error, RuleLoadError)
    assert "more than 1,000 operators" in str(error)
    assert holder.get() is first

    replace_file(rules_dir / "extra.yaml", RATES)
    with caplog.at_level(logging.WARNING, logger="monitor.runtime"):
        assert asyncio.run(holder.reload()) is None
    assert sorted(rule.id for rule in holder.get().rules) == ["dprk-russia-arms", "iran-drones-russia", "rates"]
    assert f"rule files: {rules_dir / 'old.yaml'}: skipped, a directory" in caplog.messages


def test_a_load_past_its_deadline_is_abandoned_with_a_message(rules_dir: Path) -> None:
    many = "".join(f"  - {{id: r{i}, query: '\"word {i}\" AND (a{i} OR bee{i}*)'}}\n" for i in range(2000))
    (rules_dir / "many.yaml").write_text("rules:\n" + many, encoding="utf-8")
    assert len(load_within([rules_dir], deadline=60).rules) == 2002
    assert len(asyncio.run(load_off_loop([rules_dir], deadline=60)).rules) == 2002
    # the load thread cannot finish 2,000 rules before the caller looks, at once, for a result
    late = f"1 error in rule files:\n{rules_dir}: loading took longer than the 0 s deadline; nothing was loaded"
    with pytest.raises(RuleLoadError) as caught:
        load_within([rules_dir], deadline=0)
    assert str(caught.value) == late
    with pytest.raises(RuleLoadError) as caught:
        asyncio.run(load_off_loop([rules_dir], deadline=0))
    assert str(caught.value) == late
