"""Editing one rule in a YAML file: every other byte kept, comments included; drafts checked
like `monitor rules check`; atomic saves that refuse a file changed underneath."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.rules import load_rules, parse_rule_text
from monitor.web.rule_files import ConflictError, RuleFiles, digest
from monitor.web.rule_yaml import RuleDraft, _load, _rules, read_draft, render_file

REPO = Path(__file__).resolve().parents[2]
PACK = sorted((REPO / "rules").glob("*.yaml"))


@pytest.mark.parametrize("path", PACK, ids=lambda p: p.name)
def test_every_shipped_rule_round_trips_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    for rule in _rules(_load(text)) or ():
        draft = read_draft(text, str(rule["id"]))
        assert draft is not None
        assert render_file(text, draft) == text
        edited = render_file(text, replace(draft, query=draft.query + "\nOR zzz", severity="low"))
        parsed = parse_rule_text(edited, path.name)
        assert parsed.errors == ()
        changed = next(d for d in parsed.rules if d.rule.id == draft.id)
        assert changed.rule.severity.value == "low" and changed.query.text.endswith("OR zzz")
        others = {d.rule.id: d.query.text for d in parsed.rules if d.rule.id != draft.id}
        assert others == {
            d.rule.id: d.query.text for d in parse_rule_text(text, path.name).rules if d.rule.id != draft.id
        }


def test_an_edit_touches_only_the_changed_keys_and_keeps_inline_comments() -> None:
    text = """# header comment
rules:
  # about the first rule
  - id: first
    title: First   # a title comment
    query: 'a AND b'
    severity: high   # why high
    notify: [desk]

  # about the second rule
  - id: second
    query: c
"""
    draft = read_draft(text, "first")
    assert draft == RuleDraft(id="first", title="First", query="a AND b", severity="high", notify=("desk",))
    edited = render_file(text, replace(draft, severity="low", exclude="x y", enabled=False))
    assert edited == text.replace("severity: high   # why high", "severity: low  # why high").replace(
        "    notify: [desk]\n", "    notify: [desk]\n    exclude: 'x y'\n    enabled: false\n"
    )
    assert render_file(text, replace(draft, title='It\'s "quoted": yes')).count("title: 'It''s \"quoted\": yes'") == 1


def test_checks_report_file_line_column_and_saves_are_atomic(tmp_path: Path) -> None:
    shutil.copytree(REPO / "rules", tmp_path / "rules")
    files = RuleFiles((tmp_path / "rules",))
    located = files.locate("iran-drones-russia")
    assert located is not None
    path, text, draft = located
    broken = files.check(replace(draft, query="Iran AND"), path)
    assert not broken.ok and str(broken.errors[0]).startswith(f"{path}:")
    assert "rule iran-drones-russia:" in str(broken.errors[0])
    fixed = files.check(replace(draft, query="Iran AND Shahed"), path)
    assert fixed.ok and fixed.rule is not None and [r.id for r in fixed.rule.rules] == ["iran-drones-russia"]
    path.write_text(text + "\n# edited by hand meanwhile\n")
    with pytest.raises(ConflictError):
        files.save(fixed, digest(text))
    files.save(fixed, None)
    assert "Iran AND Shahed" in path.read_text() and "# edited by hand meanwhile" in path.read_text()
    load_rules([tmp_path / "rules"])  # what the daemon will load
    assert [p.name for p in (tmp_path / "rules").iterdir() if p.name.startswith(".")] == []  # no temporary left
