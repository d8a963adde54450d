"""One multi-pattern prefilter for all rules: which rules could possibly match this item?

For every rule we derive *requirement groups* from its query: sets of word keys such that the
rule can only match if at least one key of every group occurs in the item (a key is a
case-folded word, or ``prefix*``). Example: ``@dprk AND (missile* OR artillery)`` needs
{north, dprk, noko, pyongyang, kim} and {missile*, artillery}.

Per item: the folded words of all fields form a set (exact keys are one C-level set
intersection); prefix keys are found in one Aho–Corasick pass over the words joined by spaces.
A rule is a candidate when its cheapest ("anchor") group is hit; candidates then need every
other group hit before the real evaluation runs. This is a necessary condition only, so the
result is identical to evaluating every rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from operator import itemgetter
from typing import assert_never

import ahocorasick

from monitor.rules.syntax import AliasRef, And, FieldScope, LangIs, Literal, Near, Node, Not, Or, literals
from monitor.rules.text import fold

Group = frozenset[str]
_value = itemgetter(1)  # (end index, key) → key, for the automaton's hits
_MAX_CHECKED_GROUPS = 6

# Words so frequent in news text that they make poor anchors (selectivity heuristic only).
_COMMON_WORDS = """
a about after again against all also an and any are as at be because been before being between
both but by can could did do does down during each few for from further had has have he her here
him his how i if in into is it its just more most new no nor not now of off on once one only or
other our out over own said same says she should so some such than that the their them then there
these they this those through to too two under until up very was we were what when where which
while who whom why will with would year years you your people government state first last week
time told may world news report
"""
_COMMON = frozenset(_COMMON_WORDS.split())


def key_of(word: str, prefix: bool, case_sensitive: bool) -> str:
    folded = fold(word) if case_sensitive else word
    return folded + "*" if prefix else folded


def key_cost(key: str) -> float:
    """Rough expected frequency of a key: common words and short prefixes cost more."""
    word = key.rstrip("*")
    cost = 50.0 if word in _COMMON else 1.0 + 8.0 / max(len(word), 1)
    if key.endswith("*"):
        cost *= 2.0 + 8.0 / max(len(word), 1)
    return cost


def group_cost(group: AbstractSet[str]) -> float:
    return sum(key_cost(key) for key in group)


def requirements(node: Node) -> list[Group]:
    """Groups that must all be hit for ``node`` to be true ([] means: no requirement known)."""
    return GroupFinder().requirements(node)


def rule_groups(query: Node) -> list[Group]:
    """Requirement groups of a whole query, cheapest first, never empty."""
    return GroupFinder().rule_groups(query)


class GroupFinder:
    """Requirement groups of many queries. An alias's groups and a group's cost are worked out
    once, however many rules use the alias: a 10,000-term alias in 100 rules is not walked 100
    times."""

    def __init__(self) -> None:
        self._aliases: dict[int, list[Group]] = {}  # id(shared alias expansion) → its groups
        self._costs: dict[Group, float] = {}
        self.loose = False  # whether some key came from a loose (~) literal

    def cost(self, group: Group) -> float:
        found = self._costs.get(group)
        if found is None:
            found = self._costs[group] = group_cost(group)
        return found

    def requirements(self, node: Node) -> list[Group]:
        if isinstance(node, Literal):
            self.loose = self.loose or node.loose
            return [frozenset({key_of(w.text, w.prefix, node.case_sensitive)}) for w in node.words]
        if isinstance(node, AliasRef):
            if node.expansion is None:
                return []
            found = self._aliases.get(id(node.expansion))
            if found is None:
                found = self._aliases[id(node.expansion)] = self.requirements(node.expansion)
            return found
        if isinstance(node, Not | LangIs):
            return []
        if isinstance(node, And):
            return [group for child in node.children for group in self.requirements(child)]
        if isinstance(node, Near):
            return self.requirements(node.left) + self.requirements(node.right)
        if isinstance(node, FieldScope):
            return self.requirements(node.child)
        if isinstance(node, Or):
            union: set[str] = set()
            for child in node.children:
                groups = self.requirements(child)
                if not groups:
                    return []
                cheapest: Group = min(groups, key=self.cost)
                union |= cheapest
            return [frozenset(union)]
        assert_never(node)

    def rule_groups(self, query: Node) -> list[Group]:
        """Requirement groups of a whole query, cheapest first, never empty.

        Fallback when the structure gives none (e.g. ``NOT NOT x``): queries are checked not to
        match a text without any of their words, so "some word of some literal" is necessary."""
        groups = set(self.requirements(query))
        if not groups:
            self.loose = self.loose or any(lit.loose for lit in literals(query))
            groups = {
                frozenset(
                    min((key_of(w.text, w.prefix, lit.case_sensitive) for w in lit.words), key=key_cost)
                    for lit in literals(query)
                )
            }
        # A group that contains another group is implied by it. Most groups are single keys (a
        # 1,000-word phrase gives 1,000), so those are looked up instead of compared pairwise.
        singles = {key for group in groups if len(group) == 1 for key in group}
        wider = [g for g in groups if len(g) > 1 and singles.isdisjoint(g)]
        kept = [g for g in groups if len(g) == 1] + [g for g in wider if not any(other < g for other in wider)]
        return sorted(kept, key=lambda g: (self.cost(g), sorted(g)))


class Prefilter:
    """Candidate rule indexes for an item, from all rules' requirement groups.

    Each rule is indexed under the keys of its two cheapest groups (A and B). Per item, the
    rules reached through present A keys are intersected with those reached through present
    B keys (set operations in C), so a rule only becomes a candidate when both groups are
    hit; its remaining groups are then checked one by one."""

    def __init__(self, queries: Sequence[Node]) -> None:
        self._first: dict[str, list[int]] = {}
        self._second: dict[str, list[int]] = {}
        self._any: dict[str, list[int]] = {}  # every checked group's keys: which rules a word touches
        single: set[int] = set()
        self._checks: list[tuple[Group, ...]] = []
        prefixes: set[str] = set()
        finder = GroupFinder()
        for index, query in enumerate(queries):
            groups = finder.rule_groups(query)
            for key in groups[0]:
                self._first.setdefault(key, []).append(index)
            if len(groups) > 1:
                for key in groups[1]:
                    self._second.setdefault(key, []).append(index)
            else:
                single.add(index)
            self._checks.append(tuple(groups[2 : 2 + _MAX_CHECKED_GROUPS]))
            for key in {key for group in groups[: 2 + _MAX_CHECKED_GROUPS] for key in group}:
                self._any.setdefault(key, []).append(index)
            prefixes.update(key for group in groups for key in group if key.endswith("*"))
        self.loose = finder.loose  # the item's loose word forms must be looked at too
        self._single = frozenset(single)
        self._automaton = ahocorasick.Automaton() if prefixes else None
        if self._automaton is not None:
            for key in prefixes:
                self._automaton.add_word(" " + key[:-1], key)
            self._automaton.make_automaton()

    def touched(self, present: set[str], folded_texts: Iterable[str]) -> set[int]:
        """Rule indexes with at least one requirement group hit: a much weaker condition than
        ``candidates``, for texts too short to hit more (full text for teasers)."""
        self._add_prefixes(present, folded_texts)
        found = self._any
        return set().union(*[found[key] for key in present & found.keys()])

    def _add_prefixes(self, present: set[str], folded_texts: Iterable[str]) -> None:
        if present and self._automaton is not None:
            stream = " " + "  ".join(folded_texts) + " "
            present.update(map(_value, self._automaton.iter(stream)))

    def candidates(self, present: set[str], folded_texts: Iterable[str]) -> list[int]:
        """Rule indexes (ascending) that may match. ``present``: the item's case-folded words
        (prefix keys found are added to it); ``folded_texts``: each field's folded words
        joined by single spaces."""
        if not present:
            return []
        self._add_prefixes(present, folded_texts)
        first = self._first
        reached_first: set[int] = set().union(*[first[key] for key in present & first.keys()])
        if not reached_first:
            return []
        second = self._second
        reached_second: set[int] = set().union(*[second[key] for key in present & second.keys()])
        found = (reached_first & reached_second) | (reached_first & self._single)
        checks = self._checks
        return sorted(
            index for index in found if not checks[index] or all(not g.isdisjoint(present) for g in checks[index])
        )
