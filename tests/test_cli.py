"""The command line in-process: rule checking, testing, explaining and backtesting; OPML import
and export; hit exports; muted rules; exit codes users' scripts rely on."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.feedserver import FeedServer
from typer.testing import CliRunner

from monitor.cli.app import app
from tests.e2e.feeds import ARMS_1, ARMS_2, QUIET, RULES_YAML, rss

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "main.yaml").write_text(RULES_YAML, encoding="utf-8")
    return tmp_path


@pytest.fixture
def config(workdir: Path, feed_server: FeedServer) -> Iterator[Path]:
    feed_server.route("/wire.xml", rss("Wire", [ARMS_1, ARMS_2, QUIET]))
    path = workdir / "monitor.yaml"
    path.write_text(
        f"""# our feeds
database: sqlite:///{workdir / "monitor.db"}
rules: rules/
feeds:
  - url: {feed_server.url("/wire.xml")}
    name: Wire
""",
        encoding="utf-8",
    )
    yield path


def test_rules_check_reports_every_error_with_file_line_column(workdir: Path) -> None:
    code, out, _ = invoke("rules", "check", "--rules-dir", "rules")
    assert code == 0 and out.startswith("ok: 2 rules (2 enabled)")
    (workdir / "rules" / "bad.yaml").write_text(
        "rules:\n  - id: broken\n    query: '@dprk AND (missile* OR'\n  - id: other\n    query: '@nope'\n",
        encoding="utf-8",
    )
    code, _, err = invoke("rules", "check", "--rules-dir", "rules")
    assert code == 1
    assert "rules/bad.yaml:3:" in err and "rule broken:" in err
    assert "rules/bad.yaml:5:" in err and "rule other:" in err and "nope" in err
    assert "2 error(s)" in err


def test_invalid_rules_make_once_exit_2(config: Path, workdir: Path) -> None:
    (workdir / "rules" / "bad.yaml").write_text("rules:\n  - id: x\n    query: 'a AND'\n", encoding="utf-8")
    code, _, err = invoke("once", "--config", str(config))
    assert code == 2
    assert "invalid rules" in err and "rules/bad.yaml:3" in err


def test_invalid_config_exits_2_naming_the_key(workdir: Path) -> None:
    path = workdir / "bad.yaml"
    path.write_text("interval: soon\n", encoding="utf-8")
    code, _, err = invoke("once", "--config", str(path))
    assert code == 2
    assert f"{path}:1: interval: invalid duration 'soon'" in err


def test_rules_test_json_for_a_jsonl_file(workdir: Path) -> None:
    items = workdir / "items.jsonl"
    items.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {"id": "a", "title": ARMS_1.title, "summary": ARMS_1.summary},
                {"id": "b", "title": QUIET.title, "summary": QUIET.summary},
                {"id": "c", "title": ARMS_2.title, "summary": ARMS_2.summary},
            ]
        ),
        encoding="utf-8",
    )
    code, out, _ = invoke("rules", "test", "--file", str(items), "--format", "json", "--rules-dir", "rules")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["id"], line["rules"]) for line in lines] == [
        ("a", ["dprk-russia-arms"]),
        ("b", []),
        ("c", ["iran-drones-russia"]),
    ]
    spans = lines[0]["matches"][0]["spans"]
    assert {"field", "start", "end", "text"} <= set(spans[0])


def test_rules_test_text_feed_file_and_url(workdir: Path, feed_server: FeedServer) -> None:
    code, out, _ = invoke("rules", "test", "--text", ARMS_1.summary, "--rules-dir", "rules")
    assert code == 0 and "✓ dprk-russia-arms [high]" in out
    feed = workdir / "feed.xml"
    feed.write_bytes(rss("Wire", [ARMS_1, QUIET]))
    code, out, _ = invoke("rules", "test", "--file", str(feed), "--only-matches", "--rules-dir", "rules")
    assert code == 0 and "wire-1" in out and "wire-3" not in out
    code, out, err = invoke("rules", "test", "--file", "feed.xml", "--rules-dir", "rules")  # relative path
    assert code == 0 and "wire-1" in out, err
    feed_server.route("/f.xml", rss("Wire", [ARMS_2]))
    code, out, _ = invoke("rules", "test", "--url", feed_server.url("/f.xml"), "--rules-dir", "rules")
    assert code == 0 and "iran-drones-russia" in out
    code, _, err = invoke("rules", "test", "--text", "x", "--url", "http://x", "--rules-dir", "rules")
    assert code == 2 and "exactly one of" in err


def test_rules_explain_names_the_failing_branch(workdir: Path) -> None:
    code, out, _ = invoke(
        "rules",
        "explain",
        "dprk-russia-arms",
        "--text",
        "North Korea sent artillery shells to Belarus",
        "--rules-dir",
        "rules",
    )
    assert code == 0
    assert "NO MATCH" in out and "✗" in out and "✓" in out
    code, _, err = invoke("rules", "explain", "nope", "--text", "x", "--rules-dir", "rules")
    assert code == 2 and "no rule with id 'nope'" in err


def test_backtest_reports_gains_and_losses_without_changing_anything(config: Path, workdir: Path) -> None:
    code, out, _ = invoke("once", "--config", str(config))
    assert code == 0 and "2 new hits" in out
    proposed = workdir / "proposed"
    proposed.mkdir()
    (proposed / "p.yaml").write_text(
        RULES_YAML.replace("(Iran OR Iranian)", "Venezuela")
        + """
  - id: rates
    title: Rates
    query: '"central bank" AND rates'
""",
        encoding="utf-8",
    )
    code, out, _ = invoke("rules", "backtest", "--config", str(config), "--rules-dir", str(proposed))
    assert code == 0, out
    assert "checked 3 stored items (nothing sent, nothing changed)" in out
    assert "iran-drones-russia: +0 new, -1 no longer, 0 same" in out
    assert "rates: +1 new, -0 no longer, 0 same" in out
    assert "dprk-russia-arms: +0 new, -0 no longer, 1 same" in out
    code, out, _ = invoke("hits", "--format", "json", "--config", str(config))
    stored = json.loads(out)
    assert len(stored) == 2, "the backtest stored nothing"
    spans = [span for hit in stored for span in hit["spans"]]
    assert spans and all(set(span) == {"field", "start", "end", "text"} for span in spans)
    for hit in stored:  # offsets point into the stored text (the title is in the output)
        for span in (s for s in hit["spans"] if s["field"] == "title"):
            assert hit["title"][span["start"] : span["end"]] == span["text"]
    code, _, err = invoke("rules", "backtest", "--rule", "nope", "--config", str(config))
    assert code == 2 and "no rule with id 'nope'" in err


def test_backtest_never_creates_or_migrates_a_database(config: Path, workdir: Path) -> None:
    database = workdir / "monitor.db"
    assert not database.exists()
    code, _, err = invoke("rules", "backtest", "--config", str(config))
    assert code == 1 and "no database at" in err and "monitor once" in err
    assert not database.exists(), "a backtest created the database"

    with sqlite3.connect(database) as conn:  # an empty file: a database without our schema
        conn.execute("CREATE TABLE unrelated (x)")
    code, _, err = invoke("rules", "backtest", "--config", str(config))
    assert code == 1 and "no monitor schema" in err
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"unrelated"}, "a backtest migrated the database"


def test_backtest_reads_while_another_process_holds_the_writer_lock(config: Path, workdir: Path) -> None:
    code, _, _ = invoke("once", "--config", str(config))
    assert code == 0
    writer = sqlite3.connect(workdir / "monitor.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # as the daemon does while it stores a feed
        code, out, err = invoke("rules", "backtest", "--config", str(config))
        assert code == 0, err
        assert "checked 3 stored items" in out
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_hits_csv_and_table_and_muted_rules(config: Path, workdir: Path) -> None:
    muted = RULES_YAML.replace("    severity: medium\n", "    severity: medium\n    muted_until: 2999-01-01\n")
    (workdir / "rules" / "main.yaml").write_text(muted, encoding="utf-8")
    code, out, _ = invoke("once", "--config", str(config))
    assert code == 0
    assert "alerts: 1 sent" in out, "the muted rule stores its hit but sends nothing"
    code, out, _ = invoke("hits", "--format", "csv", "--config", str(config))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(row["rule_id"] for row in rows) == ["dprk-russia-arms", "iran-drones-russia"]
    assert rows[0]["feed"] == "Wire" and rows[0]["link"].startswith("https://example.org/")
    assert all("«" in row["snippet"] for row in rows), "the snippet marks the matched words"
    assert all(re.search(r"(title|summary)\[\d+:\d+\] \w+", row["spans"]) for row in rows)
    code, out, _ = invoke("hits", "--snippets", "--config", str(config))
    assert code == 0 and "«" in out and re.search(r"(title|summary)\[\d+:\d+\] ", out)
    code, out, _ = invoke("hits", "--rule", "iran-drones-russia", "--since", "1d", "--config", str(config))
    assert code == 0 and "1 hits" in out and "iran-drones-russia" in out
    code, out, _ = invoke("feeds", "--config", str(config))
    assert code == 0 and "Wire" in out and "ok" in out
    code, out, _ = invoke("alerts", "--config", str(config))
    assert code == 0 and "sent" in out and "console" in out
    code, _, err = invoke("hits", "--since", "lately", "--config", str(config))
    assert code == 2 and "--since" in err


def test_opml_import_keeps_comments_and_export_round_trips(config: Path, workdir: Path) -> None:
    opml = workdir / "reader.opml"
    opml.write_text(
        """<?xml version="1.0"?><opml version="2.0"><head><title>r</title></head><body>
<outline text="Maritime"><outline type="rss" text="Ship news" xmlUrl="https://ships.example.org/rss"/></outline>
<outline type="rss" text="Bad" xmlUrl="file:///etc/passwd"/></body></opml>""",
        encoding="utf-8",
    )
    code, out, err = invoke("feeds", "import", str(opml), "--config", str(config))
    assert code == 0 and "added 1 feeds" in out and "skipped" in err
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# our feeds") and "https://ships.example.org/rss" in text
    code, out, _ = invoke("feeds", "import", str(opml), "--config", str(config))
    assert code == 0 and "added 0 feeds" in out and "(1 already configured, 1 skipped)" in out
    assert config.read_text(encoding="utf-8") == text
    code, out, _ = invoke("feeds", "export", "--config", str(config))
    assert code == 0 and 'xmlUrl="https://ships.example.org/rss"' in out and "Wire" in out
    hostile = workdir / "bomb.opml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>', encoding="utf-8")
    code, _, err = invoke("feeds", "import", str(hostile), "--config", str(config))
    assert code == 2 and "DOCTYPE" in err.upper()
    assert config.read_text(encoding="utf-8") == text


def test_db_upgrade(workdir: Path) -> None:
    path = workdir / "m.yaml"
    path.write_text(f"database: sqlite:///{workdir / 'x.db'}\n", encoding="utf-8")
    code, out, _ = invoke("db", "upgrade", "--config", str(path))
    assert code == 0 and out.startswith("database at revision ")
    code, again, _ = invoke("db", "upgrade", "--config", str(path))
    assert code == 0 and again == out


def test_reports_and_rule_tools_run_without_the_channel_secrets(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An analyst lists hits without the mail password; only run/once insist on it."""
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    with config.open("a", encoding="utf-8") as handle:
        handle.write(
            "notify:\n  - url: mailto://m:${SMTP_PASSWORD}@127.0.0.1:2525?from=m@example.org&to=a@example.org&secure=no\n"
        )
    for command in (["hits"], ["feeds"], ["alerts"], ["rules", "check"], ["feeds", "export"]):
        code, _, err = invoke(*command, "--config", str(config))
        assert code == 0, (command, err)
    code, _, err = invoke("once", "--config", str(config))
    assert code == 2 and "SMTP_PASSWORD" in err


def test_alerts_retry_of_an_unknown_id_exits_1(config: Path) -> None:
    code, out, err = invoke("alerts", "retry", "999", "--config", str(config))
    assert code == 1 and "requeued 0 deliveries" in out and "not failed deliveries" in err


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("mysql://u@h/db", "database: unsupported database 'mysql': use sqlite or postgresql"),
        ("not a url", "database: not a database URL"),
    ],
)
def test_a_wrong_database_url_is_a_config_error_naming_the_line(config: Path, database: str, expected: str) -> None:
    text = config.read_text(encoding="utf-8")
    lines = [f"database: {database}" if line.startswith("database:") else line for line in text.splitlines()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in (["once"], ["hits"]):
        code, _, err = invoke(*command, "--config", str(config))
        assert code == 2 and f"monitor.yaml:2: {expected}" in err and "Traceback" not in err, err


def test_an_unreachable_database_is_one_line_and_exit_1(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/db")
    for command in (["once"], ["hits"], ["db", "upgrade"]):
        code, _, err = invoke(*command, "--config", str(config))
        assert code == 1 and err.startswith("cannot open the database (OperationalError:"), err
        assert "hunter2" not in err and "Traceback" not in err


def test_rules_test_explains_a_rule_and_takes_the_feed_for_feeds_filters(workdir: Path) -> None:
    (workdir / "rules" / "scoped.yaml").write_text(
        "rules:\n  - id: lloyds-only\n    title: Tankers\n    query: tanker\n    feeds: [Lloyds, shipping]\n",
        encoding="utf-8",
    )
    code, out, _ = invoke(
        "rules", "test", "--text", "North Korea sent rockets", "--explain", "dprk-russia-arms", "--rules-dir", "rules"
    )
    assert code == 0 and "(no rule matched)" in out and "rule dprk-russia-arms: NO MATCH" in out and "✗" in out
    code, out, _ = invoke("rules", "test", "--text", "a tanker", "--format", "json", "--rules-dir", "rules")
    assert json.loads(out)["rules"] == []
    code, out, _ = invoke(
        "rules", "test", "--text", "a tanker", "--feed", "Lloyds", "--format", "json",
        "--explain", "lloyds-only", "--rules-dir", "rules",
    )  # fmt: skip
    record = json.loads(out)
    assert record["rules"] == ["lloyds-only"] and record["explanation"].startswith("rule lloyds-only: MATCH")
    code, out, _ = invoke(
        "rules", "explain", "lloyds-only", "--text", "a tanker", "--feed-tag", "shipping", "--rules-dir", "rules"
    )
    assert code == 0 and out.startswith("rule lloyds-only: MATCH")
    code, _, err = invoke("rules", "test", "--text", "x", "--explain", "nope", "--rules-dir", "rules")
    assert code == 2 and "no rule with id 'nope'" in err
