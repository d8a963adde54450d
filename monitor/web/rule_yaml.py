"""Edit one rule inside a rule file's text, leaving every other byte of the file as it was.

ruamel.yaml's round-trip loader tells where each rule and each of its keys starts; a changed
key's lines are replaced by the new value rendered by ruamel (so it is quoted correctly), an
unchanged key keeps its text, comments included. Re-dumping the whole document instead would
re-flow other rules' multi-line lists and move comments around, and the diff recorded in the
rule's history would show changes nobody made.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass, fields, replace
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

# Keys the console edits, in the order a new rule is written; others are left alone.
EDITED_KEYS = ("id", "title", "query", "exclude", "feeds", "severity", "notify", "enabled", "muted_until")
_COMMENT_OR_BLANK = re.compile(r"^\s*(#.*)?$")


class RuleYamlError(ValueError):
    """The file is not YAML the console can edit (the message says why)."""


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """A rule as the editor shows it. Queries keep the line breaks written in the file."""

    id: str
    title: str = ""
    query: str = ""
    exclude: str = ""
    feeds: tuple[str, ...] = ()
    severity: str = "medium"
    notify: tuple[str, ...] = ()
    enabled: bool = True
    muted_until: str = ""  # YYYY-MM-DD or ""

    def as_dict(self) -> dict[str, Any]:
        return {field.name: _plain(getattr(self, field.name)) for field in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleDraft:
        known = {field.name for field in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("feeds", "notify"):
            if key in values:
                values[key] = _names(values[key])
        if "enabled" in values:
            values["enabled"] = bool(values["enabled"])
        for key in ("title", "query", "exclude", "severity", "muted_until", "id"):
            if key in values:
                values[key] = "" if values[key] is None else str(values[key])
        return cls(**values)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(str(part).strip() for part in value if str(part).strip())
    return ()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000  # never re-wrap a line the user wrote on one line
    return yaml


def _load(text: str) -> CommentedMap:
    try:
        document = _yaml().load(text)
    except YAMLError as exc:
        raise RuleYamlError(f"the file is not valid YAML ({exc.__class__.__name__}); fix it by hand first") from exc
    if document is None:
        return CommentedMap()
    if not isinstance(document, CommentedMap):
        raise RuleYamlError("the file's top level is not a mapping of aliases and rules")
    return document


def _rules(document: CommentedMap) -> CommentedSeq | None:
    rules = document.get("rules")
    if rules is None:
        return None
    if not isinstance(rules, CommentedSeq) or rules.fa.flow_style():
        raise RuleYamlError('the file\'s rules are not a block list ("- id: …" entries)')
    return rules


def _find(rules: CommentedSeq | None, rule_id: str) -> int | None:
    for index, rule in enumerate(rules or ()):
        if isinstance(rule, CommentedMap) and str(rule.get("id")) == rule_id:
            return index
    return None


def read_draft(text: str, rule_id: str) -> RuleDraft | None:
    """The rule as the editor shows it, or None when the file does not define it."""
    document = _load(text)
    rules = _rules(document)
    index = _find(rules, rule_id)
    if rules is None or index is None:
        return None
    rule = rules[index]
    lines = text.splitlines()
    return RuleDraft(
        id=rule_id,
        title=str(rule.get("title") or ""),
        query=_query_text(rule, "query", lines),
        exclude=_query_text(rule, "exclude", lines),
        feeds=_names(rule.get("feeds")),
        severity=str(rule.get("severity") or "medium"),
        notify=_names(rule.get("notify")),
        enabled=rule.get("enabled", True) is not False,
        muted_until=str(rule.get("muted_until") or ""),
    )


def _query_text(rule: CommentedMap, key: str, lines: list[str]) -> str:
    """A block scalar (> or |) as its lines were written; other scalars as their value."""
    value = rule.get(key)
    if value is None:
        return ""
    if getattr(value, "style", None) not in (">", "|") and type(value).__name__ not in (
        "FoldedScalarString",
        "LiteralScalarString",
    ):
        return str(value)
    start, end = _key_region(rule, key, lines, _rule_end(rule, lines))
    body = [line.rstrip() for line in lines[start + 1 : end] if line.strip()]
    return textwrap.dedent("\n".join(body)).strip()


def _rule_end(rule: CommentedMap, lines: list[str]) -> int:
    """The line after the rule's last line of content (trailing comments and blanks excluded)."""
    last_key = list(rule.keys())[-1]
    line = rule.lc.key(last_key)[0] + 1
    column = rule.lc.key(last_key)[1]
    while line < len(lines) and (_indent(lines[line]) > column or not lines[line].strip()):
        line += 1
    return _trim(lines, rule.lc.key(last_key)[0] + 1, line)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _trim(lines: list[str], start: int, end: int) -> int:
    """Move ``end`` back over blank and comment-only lines (they belong to what follows)."""
    while end > start and _COMMENT_OR_BLANK.match(lines[end - 1]):
        end -= 1
    return end


def _key_region(rule: CommentedMap, key: str, lines: list[str], rule_end: int) -> tuple[int, int]:
    keys = list(rule.keys())
    start = rule.lc.key(key)[0]
    position = keys.index(key)
    end = rule.lc.key(keys[position + 1])[0] if position + 1 < len(keys) else rule_end
    return start, _trim(lines, start + 1, end)


def render_file(text: str, draft: RuleDraft) -> str:
    """``text`` with ``draft`` written in place of the rule with its id (appended when new)."""
    document = _load(text)
    rules = _rules(document)
    index = _find(rules, draft.id)
    lines = text.splitlines()
    if rules is None or index is None:
        return _append(text, document, rules, draft)
    rule = rules[index]
    column = rule.lc.key("id")[1]
    rule_end = _rule_end(rule, lines)
    current = read_draft(text, draft.id)
    assert current is not None, "found above"
    wanted = _values(draft)
    edits: list[tuple[int, int, list[str]]] = []
    appended: list[str] = []  # keys the rule did not have, after its last line, in EDITED_KEYS order
    for key in EDITED_KEYS:
        if _values(current).get(key) == wanted.get(key):
            continue
        if key in rule:
            start, end = _key_region(rule, key, lines, rule_end)
            rendered = _render_key(key, wanted[key], column) if key in wanted else []
            edits.append((start, end, _keep_inline_comment(lines[start:end], rendered)))
        elif key in wanted:
            appended += _render_key(key, wanted[key], column)
    if appended:
        edits.append((rule_end, rule_end, appended))
    for start, end, new in sorted(edits, key=lambda edit: edit[0], reverse=True):
        lines[start:end] = new
    return "\n".join(lines) + ("\n" if text.endswith("\n") or not text else "")


def _keep_inline_comment(old: list[str], new: list[str]) -> list[str]:
    """A one-line value's trailing `# comment` stays on the replaced line."""
    if len(old) != 1 or len(new) != 1:
        return new
    comment = _inline_comment(old[0])
    return [f"{new[0]}  {comment}"] if comment else new


def _inline_comment(line: str) -> str:
    quote: str | None = None
    for position, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and position > 0 and line[position - 1] in " \t":
            return line[position:]
    return ""


def _values(draft: RuleDraft) -> dict[str, Any]:
    """What the file should hold per key; keys with default values are left out."""
    values: dict[str, Any] = {"id": draft.id, "title": draft.title, "query": draft.query}
    if draft.exclude.strip():
        values["exclude"] = draft.exclude
    if draft.feeds:
        values["feeds"] = list(draft.feeds)
    values["severity"] = draft.severity
    if draft.notify:
        values["notify"] = list(draft.notify)
    if not draft.enabled:
        values["enabled"] = False
    if draft.muted_until:
        values["muted_until"] = draft.muted_until
    if not draft.title:
        values.pop("title")
    return values


def _render_key(key: str, value: Any, column: int) -> list[str]:
    pad = " " * column
    if key in ("query", "exclude"):
        # The first line sets a block scalar's indentation: it must be the least indented.
        lines = textwrap.dedent(str(value).strip("\n")).strip().splitlines()
        lines = [line.rstrip() for line in lines if line.strip()]
        if len(lines) > 1:
            return [f"{pad}{key}: >-", *(f"{pad}  {line}" for line in lines)]
        return [f"{pad}{key}: {_scalar(' '.join(lines), quoted=True)}"]
    if isinstance(value, list):
        return [f"{pad}{key}: [{', '.join(_scalar(str(item)) for item in value)}]"]
    if isinstance(value, bool):
        return [f"{pad}{key}: {'true' if value else 'false'}"]
    return [f"{pad}{key}: {_scalar(str(value), quoted=key == 'title')}"]


def _scalar(value: str, *, quoted: bool = False) -> str:
    """``value`` as one YAML scalar that reads back as this exact string."""
    if quoted:
        return "'" + value.replace("'", "''") + "'"
    buffer = io.StringIO()
    _yaml().dump([value], buffer)
    dumped = buffer.getvalue().strip()
    return dumped[2:] if dumped.startswith("- ") and "\n" not in dumped else "'" + value.replace("'", "''") + "'"


def _append(text: str, document: CommentedMap, rules: CommentedSeq | None, draft: RuleDraft) -> str:
    block = _new_rule_block(draft, 4 if rules is None or not len(rules) else rules.lc.item(0)[1])
    if rules is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + "rules:\n" + "\n".join(block) + "\n"
    lines = text.splitlines()
    last = rules[len(rules) - 1]
    end = _rule_end(last, lines) if isinstance(last, CommentedMap) and len(last) else len(lines)
    lines[end:end] = ["", *block]
    return "\n".join(lines) + "\n"


def _new_rule_block(draft: RuleDraft, column: int) -> list[str]:
    values = _values(replace(draft, severity=draft.severity or "medium"))
    block: list[str] = []
    for key in EDITED_KEYS:
        if key in values:
            block.extend(_render_key(key, values[key], column))
    block[0] = " " * (column - 2) + "- " + block[0][column:]
    return block
