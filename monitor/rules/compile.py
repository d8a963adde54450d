"""Parsed rule files → one immutable RuleSet (pure). All-or-nothing: any error in any file
raises RuleLoadError carrying every error found."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import assert_never

from monitor.rules.errors import RuleError, RuleLoadError
from monitor.rules.ruleset import CompiledRule, RuleSet
from monitor.rules.source import AliasDef, QueryText, RuleFile, parse_rule_text
from monitor.rules.syntax import AliasRef, And, FieldScope, Literal, Near, Node, Not, Or

Report = Callable[[int, str], None]  # (query offset, message)


def compile_rules(files: Sequence[RuleFile]) -> RuleSet:
    """Resolve aliases across all files, check ids, and build the RuleSet."""
    errors: list[RuleError] = [error for file in files for error in file.errors]
    by_name = {file.file: file for file in files}
    aliases = _alias_table(files, by_name, errors)
    resolved = _AliasResolver(aliases, by_name, errors).resolve_all()
    compiled: list[CompiledRule] = []
    sharer = LiteralSharer()
    first_seen: dict[str, tuple[str, int]] = {}
    for file in files:
        for definition in file.rules:
            rule = definition.rule
            if rule.id in first_seen:
                where = "{}:{}".format(*first_seen[rule.id])
                message = f"duplicate rule id (first at {where})"
                errors.append(file.error(rule.line, definition.column, rule.id, message))
                continue
            first_seen[rule.id] = (file.file, rule.line)
            query = _resolve_query(definition.query, resolved, file, rule.id, errors)
            exclude = None
            if definition.exclude is not None:
                exclude = _resolve_query(definition.exclude, resolved, file, rule.id, errors)
                if exclude is None:
                    continue
            if query is not None:
                exclude = sharer.share(exclude) if exclude is not None else None
                compiled.append(CompiledRule(rule, sharer.share(query), exclude))
    if errors:
        raise RuleLoadError(errors)
    return RuleSet(compiled)


def compile_text(text: str, filename: str = "<rules>") -> RuleSet:
    """Convenience for tests and tools: one YAML text → RuleSet (raises RuleLoadError)."""
    return compile_rules([parse_rule_text(text, filename)])


def _alias_table(
    files: Sequence[RuleFile], by_name: dict[str, RuleFile], errors: list[RuleError]
) -> dict[str, AliasDef]:
    table: dict[str, AliasDef] = {}
    for file in files:
        for alias in file.aliases:
            first = table.get(alias.name)
            if first is not None:
                message = f"duplicate alias @{alias.name} (first at {first.file}:{first.line})"
                errors.append(file.error(alias.line, alias.column, None, message))
                continue
            table[alias.name] = alias
    return table


class _AliasResolver:
    """Expands every alias to an Or of its members, following references, detecting cycles."""

    def __init__(self, aliases: dict[str, AliasDef], files: dict[str, RuleFile], errors: list[RuleError]) -> None:
        self._aliases = aliases
        self._files = files
        self._errors = errors
        self._done: dict[str, Node | None] = {}

    def resolve_all(self) -> dict[str, Node | None]:
        for name in self._aliases:
            self._expand(name, [])
        return self._done

    def _expand(self, name: str, stack: list[str]) -> Node | None:
        if name in self._done:
            return self._done[name]
        if name in stack:
            cycle = [*stack[stack.index(name) :], name]
            alias = self._aliases[name]
            path = " -> ".join("@" + n for n in cycle)
            self._fail(alias, alias.line, alias.column, f"alias cycle: {path}")
            for looped in cycle:
                self._done[looped] = None
            return None
        alias = self._aliases[name]
        children: list[Node] = []
        complete = True
        for member in alias.members:
            child = self._member(alias, member.tree, member.line, member.column, [*stack, name])
            if child is None:
                complete = False
            else:
                children.append(child)
        if name in self._done:  # marked while reporting a cycle through this alias
            return None
        expansion: Node | None = None
        if complete and children:
            expansion = children[0] if len(children) == 1 else Or(tuple(children))
        self._done[name] = expansion
        return expansion

    def _member(self, alias: AliasDef, tree: Node | None, line: int, column: int, stack: list[str]) -> Node | None:
        if not isinstance(tree, AliasRef):
            return tree
        if tree.name not in self._aliases:
            self._fail(alias, line, column, f"alias @{alias.name}: unknown alias @{tree.name}")
            return None
        expansion = self._expand(tree.name, stack)
        return replace(tree, expansion=expansion) if expansion is not None else None

    def _fail(self, alias: AliasDef, line: int, column: int, message: str) -> None:
        self._errors.append(self._files[alias.file].error(line, column, None, message))


def _resolve_query(
    query: QueryText,
    aliases: dict[str, Node | None],
    file: RuleFile,
    rule_id: str,
    errors: list[RuleError],
) -> Node | None:
    if query.tree is None:
        return None
    failures = len(errors)

    def report(offset: int, message: str) -> None:
        errors.append(file.error(*query.locate(offset), rule_id, message))

    tree = resolve_tree(query.tree, aliases, report)
    return tree if len(errors) == failures else None


def resolve_tree(node: Node, aliases: dict[str, Node | None], report: Report) -> Node:
    """Copy of ``node`` with every AliasRef's expansion filled in; unknown names are reported."""
    if isinstance(node, Literal):
        return node
    if isinstance(node, AliasRef):
        if node.name not in aliases:
            report(node.pos, f"unknown alias @{node.name}")
            return node
        expansion = aliases[node.name]
        return replace(node, expansion=expansion) if expansion is not None else node
    if isinstance(node, Not | FieldScope):
        return replace(node, child=resolve_tree(node.child, aliases, report))
    if isinstance(node, And | Or):
        children = tuple(resolve_tree(child, aliases, report) for child in node.children)
        return replace(node, children=children)
    if isinstance(node, Near):
        left = resolve_tree(node.left, aliases, report)
        return replace(node, left=left, right=resolve_tree(node.right, aliases, report))
    assert_never(node)


class LiteralSharer:
    """Rebuilds trees so that equal literals are one object: per-item caches keyed by identity
    then serve every rule using the literal. Each alias expansion is rebuilt once."""

    def __init__(self) -> None:
        self._literals: dict[object, Literal] = {}
        self._expansions: dict[int, Node] = {}

    def share(self, node: Node) -> Node:
        if isinstance(node, Literal):
            return self._literals.setdefault((node.key(), node.source), node)
        if isinstance(node, AliasRef):
            if node.expansion is None:
                return node
            expansion = self._expansions.get(id(node.expansion))
            if expansion is None:
                expansion = self.share(node.expansion)
                self._expansions[id(node.expansion)] = expansion
            return replace(node, expansion=expansion)
        if isinstance(node, Not | FieldScope):
            return replace(node, child=self.share(node.child))
        if isinstance(node, And | Or):
            return replace(node, children=tuple(self.share(c) for c in node.children))
        if isinstance(node, Near):
            return replace(node, left=self.share(node.left), right=self.share(node.right))
        assert_never(node)
