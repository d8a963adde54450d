"""Rules checked against the configuration: a notify tag no channel carries and a feeds: name no
feed has are errors at file:line:col (exit 1 from `rules check`, 2 at start-up); a muted_until
already past and the retired realert key are warnings."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.rules import read_rules
from monitor.rules.consistency import ConfiguredNames, check_rules

RULES = """rules:
  - id: ok-rule
    query: missile
    notify: [analysts]
    feeds: [wire, Maritime]
  - id: lost
    query: drone
    notify: [nobody]
    feeds: [Wier]
  - id: old
    query: tanker
    muted_until: 2020-01-01
    realert: on_new_source
"""
NAMES = ConfiguredNames(
    feed_names={"Wire"}, feed_tags={"maritime"}, channel_names={"mail"}, channel_tags={"analysts"}, has_channels=True
)


def test_problems_point_at_the_value(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RULES, encoding="utf-8")
    rules = read_rules([tmp_path / "r.yaml"]).rules.rules
    found = check_rules(rules, NAMES, datetime.date(2026, 12, 2))
    assert [str(error) for error in found.errors] == [
        f'{tmp_path / "r.yaml"}:8:13: rule lost: notify tag "nobody" is on no channel (tags: analysts)',
        f'{tmp_path / "r.yaml"}:9:12: rule lost: feeds: "Wier" is no configured feed\'s name or tag',
    ]
    assert [(w.rule_id, w.line, w.column) for w in found.warnings] == [("old", 12, 18), ("old", 13, 14)]
    assert "has passed" in found.warnings[0].message and "retired" in found.warnings[1].message
    mixed = ConfiguredNames({"Wire"}, {"maritime"}, {"mail", "all"}, {"analysts"}, True, ("all",))
    assert [e.rule_id for e in check_rules(rules, mixed, datetime.date(2026, 12, 2)).errors] == ["lost"]  # feeds
    assert any("nobody" in w.message for w in check_rules(rules, mixed, datetime.date(2026, 12, 2)).warnings)
    console_only = check_rules(rules, ConfiguredNames({"Wire"}, {"maritime"}, (), (), False), datetime.date(2019, 1, 1))
    assert [error.rule_id for error in console_only.errors] == ["lost"]  # the console takes every tag
    assert console_only.warnings[0].rule_id == "old" and "realert" in console_only.warnings[0].message


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(RULES, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""database: sqlite:///{tmp_path / "m.db"}
feeds:
  - {{url: "http://127.0.0.1:9/wire.xml", name: Wire, tags: [maritime]}}
notify:
  - {{name: mail, url: "json://127.0.0.1:9/hook", tags: [analysts]}}
""",
        encoding="utf-8",
    )
    return config


def test_rules_check_exits_1_and_start_up_exits_2(setup: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(app, ["rules", "check", "--config", str(setup)])
    assert checked.exit_code == 1
    assert 'r.yaml:8:13: rule lost: notify tag "nobody"' in checked.stderr
    assert "warning: " in checked.stderr and "muted_until 2020-01-01 has passed" in checked.stderr
    assert "2 error(s) against" in checked.stderr
    started = runner.invoke(app, ["once", "--config", str(setup)])
    assert started.exit_code == 2 and "invalid rules" in started.stderr and '"Wier"' in started.stderr
    fixed = RULES.replace("[nobody]", "[analysts]").replace("[Wier]", "[wire]")
    (setup.parent / "rules" / "r.yaml").write_text(fixed, encoding="utf-8")
    again = runner.invoke(app, ["rules", "check", "--config", str(setup)])
    assert again.exit_code == 0 and "realert is retired" in again.stderr
