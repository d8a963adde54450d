"""Rule files: fields, aliases across files, and errors that point at file:line:col."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from monitor.rules import (
    RuleError,
    RuleLoadError,
    Severity,
    compile_rules,
    compile_text,
    load_rules,
    parse_rule_text,
)


def errors_of(text: str, filename: str = "rules/x.yaml") -> list[str]:
    with pytest.raises(RuleLoadError) as caught:
        compile_text(text, filename)
    return [f"{e.line}:{e.column}: {e.rule_id or '-'}: {e.message}" for e in caught.value.errors]


FULL = """\
aliases:
  dprk: ["North Korea", "DPRK"]
rules:
  - id: dprk-russia-arms
    title: North Korea–Russia arms transfers
    query: '@dprk AND (Russia OR Moscow) AND (missile* OR artillery)'
    exclude: 'title:(football OR olympic*)'
    feeds: [reuters, wire]
    severity: high
    notify: [analysts]
    enabled: true
    muted_until: 2026-12-31
    realert: on_new_source
  - id: minimal
    query: sanctions
"""


def test_all_rule_fields_are_read() -> None:
    ruleset = compile_text(FULL, "rules/dprk.yaml")
    rule = ruleset.rule("dprk-russia-arms")
    assert rule.title == "North Korea–Russia arms transfers"
    assert rule.query == "@dprk AND (Russia OR Moscow) AND (missile* OR artillery)"
    assert rule.exclude == "title:(football OR olympic*)"
    assert rule.feeds == ("reuters", "wire")
    assert rule.severity is Severity.HIGH
    assert rule.notify == ("analysts",)
    assert rule.enabled is True
    assert rule.muted_until == datetime.date(2026, 12, 31)
    assert rule.is_muted(datetime.date(2026, 12, 31))
    assert not rule.is_muted(datetime.date(2027, 1, 1))
    assert rule.realert == "on_new_source"
    assert (rule.file, rule.line) == ("rules/dprk.yaml", 4)
    minimal = ruleset.rule("minimal")
    assert (minimal.title, minimal.severity, minimal.notify, minimal.feeds) == ("minimal", Severity.MEDIUM, (), ())
    assert (minimal.enabled, minimal.muted_until, minimal.realert, minimal.exclude) == (True, None, "never", None)
    assert [r.id for r in ruleset.rules] == ["dprk-russia-arms", "minimal"]


def test_error_format_with_source_line_and_caret() -> None:
    text = "rules:\n  - id: dprk-russia-arms\n    query: '@dprk AND (missile* OR artillery'\n"
    with pytest.raises(RuleLoadError) as caught:
        compile_text(text, "rules/dprk.yaml")
    (error,) = caught.value.errors
    assert error == RuleError(
        "rules/dprk.yaml",
        3,
        45,
        "dprk-russia-arms",
        "expected ')' after \"artillery\"",
        "    query: '@dprk AND (missile* OR artillery'",
    )
    assert str(error) == (
        "rules/dprk.yaml:3:45: rule dprk-russia-arms: expected ')' after \"artillery\"\n"
        "        query: '@dprk AND (missile* OR artillery'\n"
        "    " + " " * 44 + "^"
    )
    assert str(caught.value).startswith("1 error in rule files:\nrules/dprk.yaml:3:45:")


def test_query_error_columns_in_each_scalar_style() -> None:
    plain = "rules:\n  - id: a\n    query: x AND (y\n"
    assert errors_of(plain) == ["3:20: a: expected ')' after \"y\""]
    double = 'rules:\n  - id: a\n    query: "x y"\n'
    assert errors_of(double)[0].startswith("3:15: a: expected AND or OR between terms")
    escaped = "rules:\n  - id: a\n    query: 'it''s AND x y'\n"
    assert errors_of(escaped)[0].startswith("3:25: a: expected AND or OR")
    block = "rules:\n  - id: a\n    query: |\n      russia AND\n      (arms OR\n      tanks\n"
    assert errors_of(block) == ["6:12: a: expected ')' after \"tanks\""]
    folded = "rules:\n  - id: a\n    query: >-\n      russia AND\n      arms tanks\n"
    assert errors_of(folded)[0].startswith("5:12: a: expected AND or OR between terms")


def test_every_kind_of_mistake_is_reported_at_its_line() -> None:
    text = """\
colour: red
aliases:
  a: ["@b"]
  b: ["@a", "x"]
  c: ["@nope"]
  bad name: [x]
  d: []
rules:
  - id: one
    query: '@zzz AND x'
    severity: urgent
    colour: red
    enabled: yes please
    muted_until: soon
    realert: always
    notify: {a: b}
    query: again
  - id: one
    query: x
  - query: foo
  - id: two
    query: ''
  - id: three
    query: NOT x
  - id: four
    query: [x]
  - just text
"""
    assert errors_of(text) == [
        '1:1: -: unknown key "colour" (expected aliases, rules)',
        "3:3: -: alias cycle: @a -> @b -> @a",
        "5:7: -: alias @c: unknown alias @nope",
        '6:3: -: invalid alias name "bad name" (letters, digits, _ and -)',
        "7:6: -: alias @d has no members",
        "10:13: one: unknown alias @zzz",
        '11:15: one: severity must be one of low, medium, high, not "urgent"',
        '12:5: one: unknown key "colour" (expected id, title, query, exclude, feeds, severity, '
        "notify, enabled, muted_until, realert)",
        '13:14: one: "enabled" must be true or false',
        '14:18: one: "muted_until" must be a date like 2026-12-31',
        '15:14: one: realert must be one of never, on_new_source, not "always"',
        '16:13: one: "notify" must be a list of names',
        '17:5: one: duplicate key "query"',
        "18:5: one: duplicate rule id (first at rules/x.yaml:9)",
        '20:5: -: rule has no "id"',
        "22:12: two: query is empty",
        "24:12: three: query would match items that contain none of its words (NOT without a "
        "required term); combine NOT with AND and a term that must occur",
        '26:12: four: "query" must be text',
        "27:5: -: a rule must be a mapping (key: value)",
    ]


def test_invalid_yaml_and_wrong_top_level() -> None:
    assert errors_of("rules: [\n")[0].startswith("2:1: -: invalid YAML:")
    assert errors_of("- a\n- b\n") == ["1:1: -: the file must be a mapping (key: value)"]
    assert errors_of("rules: {a: 1}\n") == ['1:8: -: rules must be a list ("- id: ..." entries)']
    assert compile_text("", "empty.yaml").rules == ()
    assert compile_text("# only a comment\n", "c.yaml").rules == ()


def test_aliases_are_global_across_files_and_duplicates_are_errors() -> None:
    aliases = parse_rule_text("aliases:\n  dprk: [DPRK, '@kim']\n  kim: [Kim Jong Un]\n", "a.yaml")
    rules = parse_rule_text("rules:\n  - id: r\n    query: '@dprk AND missile*'\n", "b.yaml")
    ruleset = compile_rules([aliases, rules])
    assert ruleset.match({"title": "Kim Jong Un tests missiles"})
    again = parse_rule_text("aliases:\n  kim: [Kim]\n", "c.yaml")
    with pytest.raises(RuleLoadError) as caught:
        compile_rules([aliases, rules, again])
    assert [str(e).splitlines()[0] for e in caught.value.errors] == [
        "c.yaml:2:3: duplicate alias @kim (first at a.yaml:3)"
    ]


def test_load_is_all_or_nothing_with_every_error_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules:\n  - id: a\n    query: x AND\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("rules:\n  - id: b\n    query: ok\n    severity: 3\n")
    (tmp_path / "c.yaml").write_text("rules:\n  - id: a\n    query: fine\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a rule file")
    with pytest.raises(RuleLoadError) as caught:
        load_rules([tmp_path])
    assert [(Path(e.file).name, e.line, e.column) for e in caught.value.errors] == [
        ("a.yaml", 3, 17),
        ("b.yml", 4, 15),
        ("c.yaml", 2, 5),
    ]
    assert "duplicate rule id" in caught.value.errors[2].message
    assert str(caught.value).startswith("3 errors in rule files:")


def test_load_folders_and_files_sorted(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "b.yaml").write_text("rules:\n  - id: from-b\n    query: '@x'\n")
    (folder / "a.yaml").write_text("aliases:\n  x: [Pyongyang]\n")
    extra = tmp_path / "extra.yml"
    extra.write_text("rules:\n  - id: extra\n    query: '@x AND launch'\n")
    ruleset = load_rules([folder, extra])
    assert [r.id for r in ruleset.rules] == ["from-b", "extra"]
    assert ruleset.rules[0].file == str(folder / "b.yaml")
    found = ruleset.match({"title": "Pyongyang launch"})
    assert [m.rule_id for m in found] == ["extra", "from-b"]


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleLoadError, match="cannot read rule file"):
        load_rules([tmp_path / "missing.yaml"])
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("rules: [caf\xe9]".encode("latin-1"))
    with pytest.raises(RuleLoadError, match="cannot read rule file"):
        load_rules([bad])


def test_alias_member_syntax() -> None:
    text = """\
aliases:
  un: ["=UN", "United Nations", "Security Council*"]
  broken: ["mis*le"]
rules:
  - id: r
    query: '@un'
"""
    assert errors_of(text) == ["3:16: -: '*' is only allowed once, at the end of a word"]
    ruleset = compile_text(text.replace('  broken: ["mis*le"]\n', ""))
    assert ruleset.match({"title": "Security Councils meet"})
    assert not ruleset.match({"title": "un ami"})


def test_yaml_non_text_scalars_get_a_quoting_hint() -> None:
    assert errors_of("rules:\n  - id: off\n    query: yes\n") == [
        '2:9: -: rule "id" must be a name of letters, digits, ".", "_" and "-" '
        '(YAML reads off as a bool; put it in quotes: "off")',
        '3:12: -: "query" must be text (YAML reads yes as a bool; put it in quotes: "yes")',
    ]


def test_muted_until_accepts_a_quoted_date_and_rejects_a_timestamp() -> None:
    ok = compile_text("rules:\n  - id: a\n    query: x\n    muted_until: '2026-01-31'\n")
    assert ok.rule("a").muted_until == datetime.date(2026, 1, 31)
    assert errors_of("rules:\n  - id: a\n    query: x\n    muted_until: 2026-01-31 10:00:00\n") == [
        '4:18: a: "muted_until" must be a date like 2026-12-31'
    ]
