"""Rule file text → checked, positioned definitions (pure: no file access).

YAML is composed to nodes (not loaded to dicts) so that every key, rule and query keeps its
line and column, duplicate keys are caught, and query errors can point into the file.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from monitor.rules.errors import RuleError
from monitor.rules.fields import rule_fields
from monitor.rules.lexer import CASE_AND_LOOSE, QuerySyntaxError
from monitor.rules.model import Rule
from monitor.rules.parser import make_literal, parse_query
from monitor.rules.syntax import AliasRef, Node
from monitor.yamlsource import YamlSourceError, compose_yaml

ALIAS_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_TOP_KEYS = ("aliases", "rules")
_STR_TAG = "tag:yaml.org,2002:str"
_SCAN_WINDOW = 256  # raw characters one value character may skip: escapes, indentation
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class SourceText:
    """A file's text and where its lines start, shared by every query read from it."""

    text: str
    line_starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> SourceText:
        return cls(text, (0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", text))))

    def line_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1


@dataclass(frozen=True, slots=True)
class QueryText:
    """A query with its tree and where its scalar lies in the file (``start``: where its
    characters begin, ``end``: the scalar's end), for errors that point into the query."""

    text: str
    tree: Node | None  # None when it did not parse (the error is in RuleFile.errors)
    source: SourceText
    start: int
    end: int

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) in the file of the query's character at ``offset`` (its length: one
        past the end). Exact for single-line scalars; for quoted escapes, folded and block
        scalars a best effort that aligns the value's characters with the raw file text in
        order. Worked out only when an error needs it, and each character looks at most
        _SCAN_WINDOW raw characters ahead, so a huge query costs nothing until it is wrong."""
        target = min(max(offset, 0), len(self.text))
        raw, cursor = self.source.text, self.start
        for index, char in enumerate(self.text[: target + 1]):
            found = _find_same(raw, char, cursor, min(self.end, cursor + _SCAN_WINDOW))
            if index == target:
                return self.source.line_column(cursor if found < 0 else found)
            if found >= 0:
                cursor = found + 1
        return self.source.line_column(cursor)


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
        self.source = SourceText.of(text)
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
            root = compose_yaml(self.text, self.filename)
        except YamlSourceError as exc:
            self.fail((exc.line, exc.column), None, exc.message)
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
        text = node.value
        tree: Node | None = None
        query = QueryText(text, None, self.source, self.value_start(node), node.end_mark.index)
        try:
            tree = _parse_member(text) if member else parse_query(text, allow_negative=allow_negative)
        except QuerySyntaxError as exc:
            self.fail(query.locate(exc.pos), rule_id, exc.message)
        return replace(query, tree=tree)

    def value_start(self, node: yaml.ScalarNode) -> int:
        """Where the scalar's characters begin: after a quote, or on the line after | or >."""
        start, end = node.start_mark.index, node.end_mark.index
        if node.style in ("|", ">"):
            return self.text.find("\n", start, end) + 1 or start
        return start + 1 if node.style in ("'", '"') else start


def _parse_member(text: str) -> Node:
    """An alias member is literal text (a word or phrase, * and = allowed) or an @alias."""
    if text.startswith("@"):
        name = text[1:]
        if ALIAS_NAME_RE.fullmatch(name) is None:
            raise QuerySyntaxError(f'invalid alias name "{text}"', 0)
        return AliasRef(name, 0)
    if text.startswith(("=~", "~=")):
        raise QuerySyntaxError(CASE_AND_LOOSE, 0)
    return make_literal(text, 0, case_sensitive=text.startswith("="), quoted=False, loose_fold=text.startswith("~"))


def _find_same(raw: str, char: str, start: int, end: int) -> int:
    """Where ``char`` is in raw[start:end] (any whitespace stands for whitespace), else -1."""
    if char.isspace():
        found = _SPACE.search(raw, start, end)
        return -1 if found is None else found.start()
    return raw.find(char, start, end)


def _start(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _find_key(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value_node
                return found
    return None
