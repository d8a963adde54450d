"""Unnamed feeds, through `monitor once` against the real local feed server: alerts and `monitor
feeds` show each feed's own <title>, while rules' `feeds:` filters still use the default name."""

from __future__ import annotations

import json
from pathlib import Path

from support.feedserver import FeedServer
from support.smtp import SmtpSink

from tests.e2e.conftest import run_cli
from tests.e2e.feeds import ARMS_1, QUIET, Entry, rss

# the same story from another outlet (our own text)
COPY = Entry(
    "copy-1",
    "Officials say North Korean artillery shells reach Russian front",
    "Pyongyang has shipped millions of artillery shells to Russia in breach of UN sanctions.",
    "https://outlet.example/news/1",
)
RULES = """
rules:
  - id: dprk-shells
    title: North Korean shells for Russia
    query: '"North Korean" AND Russia* AND shell*'
    severity: high
    feeds: ["127.0.0.1"]
"""


def test_unnamed_feeds_are_shown_by_their_titles_and_filtered_by_their_default_names(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpSink, database_url: str
) -> None:
    feed_server.route("/wire.xml", rss("Deutsche Welle", [ARMS_1, QUIET]))
    feed_server.route("/copy.xml", rss("Outlet A", [COPY]))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(RULES, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: {database_url}
feeds:
  - url: "{feed_server.url("/wire.xml")}"
  - url: "{feed_server.url("/copy.xml")}"
notify:
  - {{name: mail, url: "{smtp.apprise_url()}", min_interval: 0s}}
""",
        encoding="utf-8",
    )
    done = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (mail,) = smtp.wait_for(1)
    assert "Deutsche Welle" in mail.text()
    assert "127.0.0.1" not in mail.text()

    # The rule's `feeds: ["127.0.0.1"]` took the first feed's items and not the second's, whose
    # default name is "127.0.0.1/copy.xml".
    hits = json.loads(run_cli("hits", "--format", "json", "--config", str(config), cwd=tmp_path).stdout)
    assert [(hit["rule_id"], hit["feed"]) for hit in hits] == [("dprk-shells", "Deutsche Welle")]
    assert hits[0]["also_reported_by"] == ["Outlet A"]

    listed = run_cli("feeds", "--config", str(config), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "Deutsche Welle" in listed.stdout and "Outlet A" in listed.stdout

    # A second poll (and the restart it implies) keeps the titles and the filter.
    config.write_text(config.read_text().replace('wire.xml"', 'wire.xml"\n    interval: 1m'), encoding="utf-8")
    again = run_cli("once", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    hits = json.loads(run_cli("hits", "--format", "json", "--config", str(config), cwd=tmp_path).stdout)
    assert [hit["feed"] for hit in hits] == ["Deutsche Welle"]
