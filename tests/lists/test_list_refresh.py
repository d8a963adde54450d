"""Lists end to end: a configured list is read at start, a vessel from it is alerted in every
identifier spelling with the entry in the alert, and a refresh that fails keeps the last good
list and tells the admin channel once per run of failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e.feeds import Entry, rss
from support.configs import write_config
from support.feedserver import FeedServer
from support.webhook import WebhookReceiver

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.fetch import Fetcher
from monitor.runtime import Runtime, open_runtime

SAMPLES = Path(__file__).parent / "samples"
VESSEL_RULE = "rules:\n  - id: listed-vessel\n    title: Listed vessel\n    query: '@list:ofac[Vessel]'\n"
SPELLINGS = ("IMO 9570853", "IMO9570853", "IMO No. 9570853", "IMO number: 9570853", "MMSI 667001234")
TOPICS = ("loads fuel at Nakhodka", "seen near Taiwan strait", "drifts off Busan", "calls at Vladivostok",
          "turns back to Nampo")  # fmt: skip


def test_a_listed_vessel_is_alerted_in_every_spelling(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [
        Entry(f"v{i}", f"Tanker {spelling} {topic}", f"Report {i} on a ship.", f"https://example.org/{i}")
        for i, (spelling, topic) in enumerate(zip(SPELLINGS, TOPICS, strict=True))
    ]
    feed_server.route("/feed.xml", rss("Shipping", entries))
    body = (
        f"feeds:\n  - url: {feed_server.url('/feed.xml')}\n    name: Shipping\n    fulltext: never\n"
        f"lists:\n  - name: ofac\n    source: {SAMPLES / 'ofac_sdn.xml'}\n"
    )
    runtime = open_runtime(load_settings(write_config(tmp_path, body, VESSEL_RULE), {}), exclusive=True)
    try:
        asyncio.run(_cycle(runtime))
        hits = runtime.store.list_hits()
    finally:
        runtime.close()
    assert sorted(next(s.text for s in hit.spans) for hit in hits) == sorted(SPELLINGS)
    named = {(e.list_name, e.entry_id, e.name) for hit in hits for e in hit.entities}
    assert named == {("ofac", "90001", "SEA PIONEER 7")}
    printed = capsys.readouterr().out
    assert printed.count("list ofac: SEA PIONEER 7 (Vessel, entry 90001)") >= 1


async def _cycle(runtime: Runtime) -> None:
    async with Fetcher(runtime.settings.fetch) as fetcher:
        await runtime.cycle(fetcher, None, due_only=False)


def test_a_failed_refresh_keeps_the_last_good_list_and_sends_one_notice(
    tmp_path: Path, feed_server: FeedServer, webhook: WebhookReceiver
) -> None:
    feed_server.route("/un.xml", (SAMPLES / "un_consolidated.xml").read_bytes(), content_type="application/xml")
    body = (
        f"lists:\n  - name: un\n    source: {feed_server.url('/un.xml')}\n    refresh: 1h\n"
        f"notify:\n  - name: ops\n    url: json://127.0.0.1:{webhook.port}/ops\n    tags: [admin]\n"
    )
    rules = "rules:\n  - id: un-listed\n    query: '@list:un'\n"
    runtime = open_runtime(load_settings(write_config(tmp_path, body, rules), {}), exclusive=True)
    clock = [datetime.now(UTC)]
    runtime.clock = lambda: clock[0]
    try:
        asyncio.run(_checks(runtime, feed_server, clock))
        (state,) = runtime.store.list_states()
        assert (state.entry_count, state.last_error is not None) == (2, True)
        assert runtime.rules.get().match({"title": "Ri Myong-ho travelled"})  # the last good list
    finally:
        runtime.close()
    notices = webhook.wait_for(2)
    assert len(notices) == 2  # one per run of failures, not one per failed check
    assert "list un: refresh failed" in str(notices[0]) and "HTTP 500" in str(notices[0])


async def _checks(runtime: Runtime, server: FeedServer, clock: list[datetime]) -> None:
    daemon = Daemon(runtime, watch_rules=False)
    try:
        for answer in ("fail", "fail", "garbage", "good", "fail"):
            clock[0] += timedelta(hours=2)
            if answer == "fail":
                server.route("/un.xml", b"oops", status=500)
            elif answer == "garbage":
                server.route("/un.xml", b"<html>maintenance</html>", content_type="text/html")
            else:
                server.route("/un.xml", (SAMPLES / "un_consolidated.xml").read_bytes(), content_type="application/xml")
            await daemon.check_lists()
    finally:
        daemon._executor.shutdown(wait=False)  # the parse pool, never used here


def test_rule_commands_see_the_imported_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rules check`, `rules test` and `rules explain` compile `@list:` rules against the lists
    stored in the configured database; a list never imported stays an error that says so."""
    from typer.testing import CliRunner

    from monitor.cli.app import app

    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, "feeds: []\n", VESSEL_RULE)
    runner = CliRunner()
    before = runner.invoke(app, ["rules", "check", "--config", str(config)])
    assert before.exit_code == 1 and "ofac" in before.stderr
    imported = runner.invoke(app, ["lists", "import", "ofac", str(SAMPLES / "ofac_sdn.xml"), "--config", str(config)])
    assert imported.exit_code == 0, imported.stderr
    assert runner.invoke(app, ["rules", "check", "--config", str(config)]).exit_code == 0
    tested = runner.invoke(app, ["rules", "test", "--text", "Tanker IMO9570853 drifts", "--config", str(config)])
    assert tested.exit_code == 0 and "listed-vessel" in tested.stdout
    explained = runner.invoke(
        app, ["rules", "explain", "listed-vessel", "--text", "Tanker IMO9570853 drifts", "--config", str(config)]
    )
    assert explained.exit_code == 0 and "listed-vessel" in explained.stdout
