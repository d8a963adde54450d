"""Parsed rule files → one immutable RuleSet (pure). All-or-nothing: any error in any file
raises RuleLoadError carrying every error found."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import assert_never

from monitor.rules.errors import RuleError, RuleLoadError
from monitor.rules.limits import MAX_ALIAS_DEPTH, MAX_EXPANDED_TERMS, MAX_TOTAL_TERMS, expanded_terms
from monitor.rules.lists import WatchList, expand, list_refs
from monitor.rules.ruleset import CompiledRule, RuleSet
from monitor.rules.source import AliasDef, QueryText, RuleFile, parse_rule_text
from monitor.rules.syntax import AliasRef, And, FieldScope, LangIs, Literal, Near, Node, Not, Or

Report = Callable[[int, str], None]  # (query offset, message)


def compile_rules(files: Sequence[RuleFile], lists: Mapping[str, WatchList] | None = None) -> RuleSet:
    """Resolve aliases across all files (and ``@list:`` references against ``lists``), check
    ids, and build the RuleSet."""
    errors: list[RuleError] = [error for file in files for error in file.errors]
    by_name = {file.file: file for file in files}
    aliases = _alias_table(files, by_name, errors)
    resolver = _AliasResolver(aliases, by_name, errors)
    resolved, problems = _with_lists(resolver.resolve_all(), files, lists or {})
    queries = _QueryResolver(resolved, resolver.terms, errors, problems)
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
            query = queries.resolve(definition.query, file, rule.id)
            exclude = None
            if definition.exclude is not None:
                exclude = queries.resolve(definition.exclude, file, rule.id)
                if exclude is None:
                    continue
            if query is not None:
                exclude = sharer.share(exclude) if exclude is not None else None
                compiled.append(CompiledRule(rule, sharer.share(query), exclude))
    if errors:
        raise RuleLoadError(errors)
    return RuleSet(compiled)


def compile_text(text: str, filename: str = "<rules>", lists: Mapping[str, WatchList] | None = None) -> RuleSet:
    """Convenience for tests and tools: one YAML text → RuleSet (raises RuleLoadError)."""
    return compile_rules([parse_rule_text(text, filename)], lists)


def referenced_lists(files: Sequence[RuleFile]) -> frozenset[str]:
    """The list names the rules' queries use (``@list:NAME[…]``), for loading only those."""
    return frozenset(ref.split("[")[0].removeprefix("list:") for ref in _list_refs(files))


def _list_refs(files: Sequence[RuleFile]) -> set[str]:
    trees = [q.tree for f in files for d in f.rules for q in (d.query, d.exclude) if q is not None and q.tree]
    return {ref for tree in trees for ref in list_refs(tree)}


def _with_lists(
    aliases: dict[str, Node | None], files: Sequence[RuleFile], lists: Mapping[str, WatchList]
) -> tuple[dict[str, Node | None], dict[str, str]]:
    """Aliases plus one expansion per list reference used (shared by every rule using it);
    references that cannot be resolved become messages, reported where they are written."""
    merged = dict(aliases)
    problems: dict[str, str] = {}
    built: dict[str, Literal | None] = {}  # one literal per name, whichever references use it
    for ref in _list_refs(files):
        found = expand(ref, lists, built)
        if isinstance(found, str):
            problems[ref] = found
        else:
            merged[ref] = found
    return merged, problems


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
    """Expands every alias once to an Or of its members (a reference shares the referenced
    alias's expansion), detecting cycles and enforcing the alias limits (limits.py)."""

    def __init__(self, aliases: dict[str, AliasDef], files: dict[str, RuleFile], errors: list[RuleError]) -> None:
        self._aliases = aliases
        self._files = files
        self._errors = errors
        self._done: dict[str, Node | None] = {}
        self.terms: dict[str, int] = {}  # resolved alias → terms it stands for
        self._levels: dict[str, int] = {}  # resolved alias → 1 + levels of the aliases it uses

    def resolve_all(self) -> dict[str, Node | None]:
        for name in self._aliases:
            if name not in self._done:
                self._walk(name)
        return self._done

    def _walk(self, root: str) -> None:
        """Depth first, each alias finished after the aliases it uses; an explicit stack, so a
        chain of thousands of aliases cannot reach Python's recursion limit."""
        path, on_path = [root], {root}
        pending = [iter(self._references(root))]
        while path:
            child = next(pending[-1], None)
            if child is None:
                pending.pop()
                on_path.discard(path[-1])
                self._finish(path.pop())
            elif child in on_path:
                self._cycle([*path[path.index(child) :], child])
            elif child in self._aliases and child not in self._done:
                path.append(child)
                on_path.add(child)
                pending.append(iter(self._references(child)))

    def _references(self, name: str) -> list[str]:
        return [m.tree.name for m in self._aliases[name].members if isinstance(m.tree, AliasRef)]

    def _cycle(self, cycle: list[str]) -> None:
        alias = self._aliases[cycle[0]]
        path = " -> ".join("@" + n for n in cycle)
        self._fail(alias, alias.line, alias.column, f"alias cycle: {path}")
        for looped in cycle:
            self._done[looped] = None

    def _finish(self, name: str) -> None:
        if name in self._done:  # marked while reporting a cycle through this alias
            return
        alias = self._aliases[name]
        children: list[Node] = []
        terms, levels, deepest = 0, 1, ""
        for member in alias.members:
            child = self._member(alias, member.tree, member.line, member.column)
            if child is None:
                continue
            children.append(child)
            used = child.name if isinstance(child, AliasRef) else None
            terms += self.terms[used] if used else 1
            if used and self._levels[used] >= levels:
                levels, deepest = self._levels[used] + 1, used
        self._done[name] = None
        if len(children) != len(alias.members) or not children:
            return  # the member's error is reported already
        if levels > MAX_ALIAS_DEPTH:
            message = f"aliases are nested more than {MAX_ALIAS_DEPTH} levels deep (@{name} -> @{deepest} -> …)"
            self._fail(alias, alias.line, alias.column, message)
        elif terms > MAX_EXPANDED_TERMS:
            message = (
                f"alias @{name} stands for {terms:,} terms once its aliases are expanded "
                f"(at most {MAX_EXPANDED_TERMS:,})"
            )
            self._fail(alias, alias.line, alias.column, message)
        else:
            self._done[name] = children[0] if len(children) == 1 else Or(tuple(children))
            self.terms[name], self._levels[name] = terms, levels

    def _member(self, alias: AliasDef, tree: Node | None, line: int, column: int) -> Node | None:
        if not isinstance(tree, AliasRef):
            return tree
        if tree.name not in self._aliases:
            self._fail(alias, line, column, f"alias @{alias.name}: unknown alias @{tree.name}")
            return None
        expansion = self._done.get(tree.name)
        return replace(tree, expansion=expansion) if expansion is not None else None

    def _fail(self, alias: AliasDef, line: int, column: int, message: str) -> None:
        self._errors.append(self._files[alias.file].error(line, column, None, message))


class _QueryResolver:
    """Fills in each query's alias expansions and enforces the budgets on expanded terms, per
    query and for the whole rule set (limits.py)."""

    def __init__(
        self,
        aliases: dict[str, Node | None],
        alias_terms: dict[str, int],
        errors: list[RuleError],
        problems: Mapping[str, str],
    ) -> None:
        self._aliases = aliases
        self._terms = alias_terms
        self._errors = errors
        self._problems = problems  # list references that cannot be resolved, and why
        self._total = 0

    def resolve(self, query: QueryText, file: RuleFile, rule_id: str) -> Node | None:
        if query.tree is None:
            return None
        failures = len(self._errors)

        def report(offset: int, message: str) -> None:
            self._errors.append(file.error(*query.locate(offset), rule_id, message))

        tree = resolve_tree(query.tree, self._aliases, report, self._problems)
        if len(self._errors) != failures or self._total > MAX_TOTAL_TERMS:
            return None
        terms = expanded_terms(query.tree, self._terms)
        self._total += terms
        if terms > MAX_EXPANDED_TERMS:
            limit = f"at most {MAX_EXPANDED_TERMS:,}"
            report(0, f"query stands for {terms:,} terms once its aliases are expanded ({limit})")
        elif self._total > MAX_TOTAL_TERMS:
            message = f"the rules together stand for more than {MAX_TOTAL_TERMS:,} terms once aliases are expanded"
            report(0, message + "; this rule is past the limit")
        return tree if len(self._errors) == failures else None


def resolve_tree(
    node: Node, aliases: dict[str, Node | None], report: Report, problems: Mapping[str, str] | None = None
) -> Node:
    """Copy of ``node`` with every AliasRef's expansion filled in; unknown names are reported
    (``problems``: why a name cannot be resolved, when there is more to say than "unknown")."""
    if isinstance(node, Literal | LangIs):
        return node
    if isinstance(node, AliasRef):
        if node.name not in aliases:
            report(node.pos, (problems or {}).get(node.name) or f"unknown alias @{node.name}")
            return node
        expansion = aliases[node.name]
        return replace(node, expansion=expansion) if expansion is not None else node
    if isinstance(node, Not | FieldScope):
        return replace(node, child=resolve_tree(node.child, aliases, report, problems))
    if isinstance(node, And | Or):
        children = tuple(resolve_tree(child, aliases, report, problems) for child in node.children)
        return replace(node, children=children)
    if isinstance(node, Near):
        left = resolve_tree(node.left, aliases, report, problems)
        return replace(node, left=left, right=resolve_tree(node.right, aliases, report, problems))
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
        if isinstance(node, LangIs):
            return node
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
