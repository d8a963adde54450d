"""Queries compiled to closures for the hot path (is this rule true for this item?).

Same semantics as ``evaluate.holds`` (tests compare both with the naive matcher), but the
tree walk and field scopes are resolved once per rule, and the common cases become set
operations: a plain word anywhere is ``word in item.present``; an OR of plain words (most
aliases) is one ``isdisjoint`` call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

import ahocorasick

from monitor.rules.evaluate import holds, near_exists
from monitor.rules.itemtext import ItemText
from monitor.rules.syntax import FIELDS, AliasRef, And, FieldScope, LangIs, Literal, Near, Node, Not, Or

Test = Callable[[ItemText], bool]


def _plain_word(node: Node) -> str | None:
    """The folded word if ``node`` is one case-insensitive, non-prefix, non-loose word."""
    if isinstance(node, Literal) and len(node.words) == 1 and node.mode == "folded":
        word = node.words[0]
        return None if word.prefix else word.text
    return None


def _needle(node: Node) -> str | None:
    """What a case-insensitive, non-loose prefix or plain phrase looks like in the words joined
    by single spaces: " prefix" or " w1 w2 " (None for anything else)."""
    if not isinstance(node, Literal) or node.mode != "folded":
        return None
    if len(node.words) == 1:
        word = node.words[0]
        return " " + word.text if word.prefix else None
    if any(word.prefix for word in node.words):
        return None
    return " " + " ".join(word.text for word in node.words) + " "


def _flatten_or(node: Node) -> list[Node]:
    """Children of an OR, with nested ORs and alias expansions spliced in; an OR with a
    TermIndex (an entity list) stays whole, to be tested through its index."""
    if isinstance(node, AliasRef) and node.expansion is not None:
        return _flatten_or(node.expansion)
    if isinstance(node, Or) and node.index is None:
        return [leaf for child in node.children for leaf in _flatten_or(child)]
    return [node]


class ProgramCompiler:
    """Compiles trees to tests; alias expansions shared by many rules are compiled once."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, tuple[str, ...]], Test] = {}

    def compile(self, node: Node, scope: tuple[str, ...] = FIELDS) -> Test:
        key = (id(node), scope)
        test = self._memo.get(key)
        if test is None:
            test = self._build(node, scope)
            self._memo[key] = test
        return test

    def _build(self, node: Node, scope: tuple[str, ...]) -> Test:
        if isinstance(node, Literal):
            return _literal_test(node, scope)
        if isinstance(node, AliasRef) and node.expansion is not None:
            # every reference to an alias shares its expansion: compiled once per scope
            return self.compile(node.expansion, scope)
        if isinstance(node, Or) and node.index is not None:
            return self._indexed(node, scope)
        if isinstance(node, AliasRef | Or):
            return self._any(_flatten_or(node), scope)
        if isinstance(node, LangIs):
            code = node.code
            return lambda item: item.lang == code
        if isinstance(node, Not):
            child = self.compile(node.child, scope)
            return lambda item: not child(item)
        if isinstance(node, And):
            return _all([self.compile(child, scope) for child in node.children])
        if isinstance(node, Near):
            return self._near(node, scope)
        if isinstance(node, FieldScope):
            if node.field not in scope:
                return lambda item: False
            return self.compile(node.child, (node.field,))
        assert_never(node)

    def _near(self, node: Near, scope: tuple[str, ...]) -> Test:
        """Word positions are only worked out in fields where both sides occur at all: the
        compiled set and Aho–Corasick tests reject most fields for a fraction of the cost."""
        checks = [(f, self.compile(node.left, (f,)), self.compile(node.right, (f,))) for f in scope]
        return lambda item: any(left(item) and right(item) and near_exists(node, item, f) for f, left, right in checks)

    def _any(self, children: list[Node], scope: tuple[str, ...]) -> Test:
        words = frozenset(w for w in map(_plain_word, children) if w is not None)
        needles = {c: n for c in children if _plain_word(c) is None and (n := _needle(c)) is not None}
        rest = [self.compile(c, scope) for c in children if _plain_word(c) is None and c not in needles]
        if len(needles) > 1:
            # An alias of many languages holds dozens of prefixes and phrases: one Aho–Corasick
            # pass over the joined words instead of a lookup per member.
            phrases = [self.compile(c, scope) for c, needle in needles.items() if needle.endswith(" ")]
            rest.insert(0, _needles_test(frozenset(needles.values()), phrases, scope))
        else:
            rest += [self.compile(c, scope) for c in needles]
        if words:
            rest.insert(0, _words_test(words, scope))
        if len(rest) == 1:
            return rest[0]
        return lambda item: any(test(item) for test in rest)

    def _indexed(self, node: Or, scope: tuple[str, ...]) -> Test:
        """Only the members the item's words can reach are tested. Their tests are compiled on
        first use: a list has tens of thousands of members and most are never reached. (Two
        threads may compile one member twice; both results are the same pure test.)"""
        index, children = node.index, node.children
        assert index is not None
        tests: dict[int, Test] = {}

        def member(position: int) -> Test:
            test = tests.get(position)
            if test is None:
                test = tests[position] = self.compile(children[position], scope)
            return test

        return lambda item: any(member(i)(item) for i in index.members(item.present))


def _literal_test(literal: Literal, scope: tuple[str, ...]) -> Test:
    word = _plain_word(literal)
    if word is not None:
        return _words_test(frozenset({word}), scope)
    if not literal.loose and not any(w.prefix for w in literal.words):
        # Stems (Korean particles) are not in the joined words: such fields take the index.
        needle = " " + " ".join(w.text for w in literal.words) + " "
        exact = literal.case_sensitive
        return lambda item: any(
            bool(item.starts(literal, f)) if item.fields[f].has_stems else needle in item.fields[f].padded(exact)
            for f in scope
        )
    if len(scope) == 1:
        (field,) = scope
        return lambda item: bool(item.starts(literal, field))
    return lambda item: any(item.starts(literal, field) for field in scope)


def _words_test(words: frozenset[str], scope: tuple[str, ...]) -> Test:
    if scope == FIELDS:
        if len(words) == 1:
            (word,) = words
            return lambda item: word in item.present
        return lambda item: not words.isdisjoint(item.present)
    return lambda item: any(not words.isdisjoint(item.field_words(f)) for f in scope)


def _needles_test(needles: frozenset[str], phrases: list[Test], scope: tuple[str, ...]) -> Test:
    """Whether one of ``needles`` (see _needle) occurs in the scope's joined words. Korean stems
    are not in the joined words, so a field with stems also tries the phrases one by one."""
    automaton = ahocorasick.Automaton()
    for needle in needles:
        automaton.add_word(needle, needle)
    automaton.make_automaton()

    def stems(item: ItemText) -> bool:
        return any(item.fields[f].has_stems for f in scope) and any(test(item) for test in phrases)

    def texts(item: ItemText) -> list[str]:
        return [item.padded_all()] if scope == FIELDS else [item.fields[f].padded(False) for f in scope]

    return lambda item: any(next(automaton.iter(t), None) is not None for t in texts(item)) or stems(item)


def _all(tests: list[Test]) -> Test:
    if len(tests) == 2:
        first, second = tests
        return lambda item: first(item) and second(item)
    return lambda item: all(test(item) for test in tests)


def reference_test(node: Node) -> Test:
    """The tree-walking evaluator as a Test, for comparisons."""
    return lambda item: holds(node, item)
