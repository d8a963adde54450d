"""Checks the keys of one rule mapping and builds the Rule record."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Protocol

import yaml

from monitor.rules.model import REALERT_CHOICES, Rule
from monitor.types import Severity

RULE_KEYS = (
    "id",
    "title",
    "query",
    "exclude",
    "feeds",
    "severity",
    "notify",
    "enabled",
    "muted_until",
    "realert",
)
RULE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_SEVERITIES = ", ".join(s.value for s in Severity)


class Reporter(Protocol):
    def fail(self, node_or_pos: yaml.Node | tuple[int, int], rule_id: str | None, msg: str) -> None: ...

    def value(self, node: yaml.Node) -> object: ...


@dataclass(frozen=True, slots=True)
class RuleFields:
    rule: Rule | None  # None when a required key was missing or wrong
    query_node: yaml.ScalarNode | None
    exclude_node: yaml.ScalarNode | None


def rule_fields(
    out: Reporter,
    entries: list[tuple[str, yaml.Node, yaml.Node]],
    rule_id: str | None,
    node: yaml.Node,
    file: str,
    line: int,
) -> RuleFields:
    """Validate every key (reporting all problems), then build the Rule if the essentials hold."""
    values = {key: value for key, _, value in entries}
    for key, key_node, _ in entries:
        if key not in RULE_KEYS:
            out.fail(key_node, rule_id, f'unknown key "{key}" (expected {", ".join(RULE_KEYS)})')
    checked_id = _rule_id(out, values.get("id"), rule_id, node)
    query = _text_node(out, values.get("query"), rule_id, "query", node, required=True)
    exclude = _text_node(out, values.get("exclude"), rule_id, "exclude", node, required=False)
    title = _text_node(out, values.get("title"), rule_id, "title", node, required=False)
    severity = _severity(out, values.get("severity"), rule_id)
    notify = _names(out, values.get("notify"), rule_id, "notify")
    feeds = _names(out, values.get("feeds"), rule_id, "feeds")
    enabled = _enabled(out, values.get("enabled"), rule_id)
    muted = _date(out, values.get("muted_until"), rule_id)
    realert = _realert(out, values.get("realert"), rule_id)
    if checked_id is None or query is None:
        return RuleFields(None, None, None)
    rule = Rule(
        id=checked_id,
        title=title.value if title is not None else checked_id,
        query=query.value,
        severity=severity,
        notify=notify,
        exclude=exclude.value if exclude is not None else None,
        feeds=feeds,
        enabled=enabled,
        muted_until=muted,
        realert=realert,
        file=file,
        line=line,
        positions={key: (value.start_mark.line + 1, value.start_mark.column + 1) for key, _, value in entries},
    )
    return RuleFields(rule, query, exclude)


def _is_text(node: yaml.Node | None) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG


def _quote_hint(node: yaml.Node) -> str:
    """YAML reads off/yes/no/123/2026-01-01 as non-text; say so instead of a bare type error."""
    if isinstance(node, yaml.ScalarNode) and node.tag != _STR_TAG:
        kind = node.tag.rsplit(":", 1)[-1]
        return f' (YAML reads {node.value} as a {kind}; put it in quotes: "{node.value}")'
    return ""


def _rule_id(out: Reporter, node: yaml.Node | None, rule_id: str | None, rule: yaml.Node) -> str | None:
    if node is None:
        out.fail(rule, None, 'rule has no "id"')
        return None
    if not _is_text(node) or RULE_ID_RE.fullmatch(str(node.value)) is None:
        message = 'rule "id" must be a name of letters, digits, ".", "_" and "-"'
        out.fail(node, None, message + _quote_hint(node))
        return None
    return str(node.value)


def _text_node(
    out: Reporter,
    node: yaml.Node | None,
    rule_id: str | None,
    key: str,
    rule: yaml.Node,
    *,
    required: bool,
) -> yaml.ScalarNode | None:
    if node is None:
        if required:
            out.fail(rule, rule_id, f'rule has no "{key}"')
        return None
    if not isinstance(node, yaml.ScalarNode) or not _is_text(node):
        out.fail(node, rule_id, f'"{key}" must be text' + _quote_hint(node))
        return None
    if not node.value.strip():
        out.fail(node, rule_id, f'"{key}" is empty' if key != "query" else "query is empty")
        return None
    return node


def _severity(out: Reporter, node: yaml.Node | None, rule_id: str | None) -> Severity:
    if node is None:
        return Severity.MEDIUM
    value = node.value if _is_text(node) else None
    if value not in {s.value for s in Severity}:
        out.fail(node, rule_id, f'severity must be one of {_SEVERITIES}, not "{node.value}"')
        return Severity.MEDIUM
    return Severity(value)


def _names(out: Reporter, node: yaml.Node | None, rule_id: str | None, key: str) -> tuple[str, ...]:
    if node is None:
        return ()
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    names = []
    for item in items:
        if not _is_text(item) or not item.value.strip():
            out.fail(item, rule_id, f'"{key}" must be a list of names')
            continue
        names.append(item.value.strip())
    return tuple(names)


def _enabled(out: Reporter, node: yaml.Node | None, rule_id: str | None) -> bool:
    if node is None:
        return True
    if not isinstance(node, yaml.ScalarNode) or node.tag != _BOOL_TAG:
        out.fail(node, rule_id, '"enabled" must be true or false')
        return True
    return bool(out.value(node))


def _date(out: Reporter, node: yaml.Node | None, rule_id: str | None) -> datetime.date | None:
    if node is None:
        return None
    value = out.value(node)
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        out.fail(node, rule_id, '"muted_until" must be a date like 2026-12-31')
        return None
    return value


def _realert(out: Reporter, node: yaml.Node | None, rule_id: str | None) -> str:
    if node is None:
        return "never"
    if not _is_text(node) or node.value not in REALERT_CHOICES:
        shown = node.value if isinstance(node, yaml.ScalarNode) else "a list/mapping"
        out.fail(node, rule_id, f'realert must be one of {", ".join(REALERT_CHOICES)}, not "{shown}"')
        return "never"
    return str(node.value)
