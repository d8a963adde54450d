"""Rule file text → checked, positioned definitions (pure: no file access).

YAML is composed to nodes (not loaded to dicts) so that every key, rule and query keeps its
line and column, duplicate keys are caught, and query errors can point into the file.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from monitor.rules.errors import RuleError
from monitor.rules.fields import rule_fields
from monitor.rules.lexer import QuerySyntaxError
from monitor.rules.model import Rule
from monitor.rules.parser import make_literal, parse_query
from monitor.rules.syntax import AliasRef, Node

ALIAS_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_TOP_KEYS = ("aliases", "rules")
_STR_TAG = "tag:yaml.org,2002:str"
# libyaml composes ~10x faster and reports the same character-based marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class QueryText:
    """A query with its tree and, for each character offset, its (line, column) in the file."""

    text: str
    tree: Node | None  # None when it did not parse (the error is in RuleFile.errors)
    positions: tuple[tuple[int, int], ...]

    def locate(self, offset: int) -> tuple[int, int]:
        return self.positions[min(max(offset, 0), len(self.positions) - 1)]


@dataclass(frozen=True, slots=True)
class AliasMember:
    text: str
    tree: Node | None  # a Literal or an AliasRef
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class AliasDef:
    name: str
    members: tuple[AliasMember, ...]
    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class RuleDef:
    rule: Rule
    query: QueryText
    exclude: QueryText | None
    column: int = 1  # of the rule's first key, for errors about the rule as a whole


@dataclass(frozen=True, slots=True)
class RuleFile:
    """Everything one file defines, plus every error found in it."""

    file: str
    lines: tuple[str, ...]
    aliases: tuple[AliasDef, ...]
    rules: tuple[RuleDef, ...]
    errors: tuple[RuleError, ...]

    def error(self, line: int, column: int, rule_id: str | None, message: str) -> RuleError:
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return RuleError(self.file, line, column, rule_id, message, source)


def parse_rule_text(text: str, filename: str) -> RuleFile:
    """Parse one rule file's text. Never raises for bad content: errors are collected in the
    result (compile_rules raises them, together with every other file's)."""
    reader = _FileReader(text, filename)
    reader.read()
    return RuleFile(filename, reader.lines, tuple(reader.aliases), tuple(reader.rules), tuple(reader.errors))


class _FileReader:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.lines = tuple(text.splitlines())
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        self.aliases: list[AliasDef] = []
        self.rules: list[RuleDef] = []
        self.errors: list[RuleError] = []
        self._constructor = SafeConstructor()

    def fail(self, node_or_pos: yaml.Node | tuple[int, int], rule_id: str | None, msg: str) -> None:
        line, column = node_or_pos if isinstance(node_or_pos, tuple) else _start(node_or_pos)
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        self.errors.append(RuleError(self.filename, line, column, rule_id, msg, source))

    def read(self) -> None:
        try:
            root = yaml.compose(self.text, Loader=_LOADER)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            self.fail(where, None, f"invalid YAML: {exc.problem or exc.context}")
            return
        except yaml.YAMLError as exc:
            self.fail((1, 1), None, f"invalid YAML: {exc}")
            return
        if root is None or (isinstance(root, yaml.ScalarNode) and root.value == ""):
            return
        top = self.mapping(root, None, "the file")
        for key, key_node, value in top:
            if key == "aliases":
                self.read_aliases(value)
            elif key == "rules":
                self.read_rules(value)
            else:
                self.fail(key_node, None, f'unknown key "{key}" (expected aliases, rules)')

    def mapping(self, node: yaml.Node, rule_id: str | None, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping node; reports non-mappings and duplicates."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, rule_id, f"{what} must be a mapping (key: value)")
            return []
        seen: set[str] = set()
        entries: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                self.fail(key_node, rule_id, f"keys in {what} must be plain names")
                continue
            if key_node.value in seen:
                self.fail(key_node, rule_id, f'duplicate key "{key_node.value}"')
                continue
            seen.add(key_node.value)
            entries.append((key_node.value, key_node, value_node))
        return entries

    def value(self, node: yaml.Node) -> object:
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ConstructorError, ValueError):
            return node.value if isinstance(node, yaml.ScalarNode) else None

    def read_aliases(self, node: yaml.Node) -> None:
        for name, key_node, members_node in self.mapping(node, None, "aliases"):
            if ALIAS_NAME_RE.fullmatch(name) is None:
                self.fail(key_node, None, f'invalid alias name "{name}" (letters, digits, _ and -)')
                continue
            members = self.alias_members(name, members_node)
            line, column = _start(key_node)
            self.aliases.append(AliasDef(name, members, self.filename, line, column))

    def alias_members(self, name: str, node: yaml.Node) -> tuple[AliasMember, ...]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        members = []
        for item in items:
            if not isinstance(item, yaml.ScalarNode) or item.tag != _STR_TAG or not item.value:
                self.fail(item, None, f"alias @{name}: members must be non-empty text")
                continue
            query = self.query_text(item, None, member=True)
            members.append(AliasMember(item.value, query.tree, *_start(item)))
        if not members and isinstance(node, yaml.SequenceNode):
            self.fail(node, None, f"alias @{name} has no members")
        return tuple(members)

    def read_rules(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, None, 'rules must be a list ("- id: ..." entries)')
            return
        for rule_node in node.value:
            self.read_rule(rule_node)

    def read_rule(self, node: yaml.Node) -> None:
        id_node = _find_key(node, "id")
        is_text = isinstance(id_node, yaml.ScalarNode) and id_node.tag == _STR_TAG
        rule_id = id_node.value if is_text and id_node is not None else None
        entries = self.mapping(node, rule_id, "a rule")
        if not entries:
            return
        line, column = _start(node)
        fields = rule_fields(self, entries, rule_id, node, self.filename, line)
        if fields.rule is None or fields.query_node is None:
            return
        rule = fields.rule
        query = self.query_text(fields.query_node, rule.id)
        exclude = None
        if fields.exclude_node is not None:
            exclude = self.query_text(fields.exclude_node, rule.id, allow_negative=True)
        self.rules.append(RuleDef(rule, query, exclude, column))

    def query_text(
        self,
        node: yaml.ScalarNode,
        rule_id: str | None,
        *,
        member: bool = False,
        allow_negative: bool = False,
    ) -> QueryText:
        positions = self.positions(node)
        text = node.value
        tree: Node | None = None
        try:
            tree = _parse_member(text) if member else parse_query(text, allow_negative=allow_negative)
        except QuerySyntaxError as exc:
            where = positions[min(exc.pos, len(positions) - 1)]
            self.fail(where, rule_id, exc.message)
        return QueryText(text, tree, positions)

    def positions(self, node: yaml.ScalarNode) -> tuple[tuple[int, int], ...]:
        """(line, column) of every character of a scalar's value, plus one past the end.

        Exact for single-line scalars; for quoted escapes, folded and block scalars this is a
        best effort that aligns the value's characters with the raw file text in order."""
        raw_start, raw_end = node.start_mark.index, node.end_mark.index
        cursor = raw_start
        if node.style in ("|", ">"):
            cursor = self.text.find("\n", raw_start, raw_end) + 1 or raw_start
        elif node.style in ("'", '"'):
            cursor += 1
        offsets = []
        for char in node.value:
            found = cursor
            while found < raw_end and not _same(self.text[found], char):
                found += 1
            if found < raw_end:
                cursor = found + 1
            offsets.append(min(found, raw_end))
        offsets.append(cursor)
        return tuple(self.line_column(offset) for offset in offsets)

    def line_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1


def _parse_member(text: str) -> Node:
    """An alias member is literal text (a word or phrase, * and = allowed) or an @alias."""
    if text.startswith("@"):
        name = text[1:]
        if ALIAS_NAME_RE.fullmatch(name) is None:
            raise QuerySyntaxError(f'invalid alias name "{text}"', 0)
        return AliasRef(name, 0)
    return make_literal(text, 0, case_sensitive=text.startswith("="), quoted=False)


def _same(raw: str, char: str) -> bool:
    return raw == char or (char.isspace() and raw.isspace())


def _start(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _find_key(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value_node
                return found
    return None
