"""Reference matcher: every rule, every time, each literal with its own regex over raw text.

Deliberately simple and independent of the engine's tokenizer, word index and prefilter; it
shares only the definitions of "word character" and possessive blanking (text.py) and the
parsed trees. Tests and bench/match.py check that RuleSet.match returns exactly the same
rules and spans on every item.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from monitor.rules.ruleset import RuleSet
from monitor.rules.syntax import (
    FIELDS,
    AliasRef,
    And,
    FieldScope,
    Literal,
    Near,
    Node,
    Not,
    Or,
    literals,
)
from monitor.rules.text import NON_WORD_CLASS, fold, mask_possessives
from monitor.types import Span

# A literal occurrence: (char start, char end) in the field's text.
CharSpan = tuple[int, int]
_NON_WORD_RE = re.compile(NON_WORD_CLASS)
# A positional occurrence: first word, end word (exclusive), the char spans of its literals.
_Hit = tuple[int, int, tuple[CharSpan, ...]]


@dataclass(frozen=True, slots=True)
class NaiveMatch:
    rule_id: str
    spans: tuple[Span, ...]


def literal_pattern(literal: Literal) -> re.Pattern[str]:
    """Whole-word regex for a word or phrase, run over ``_Text.plain``/``.lower``, where every
    non-word character is a space. It starts with a literal character (fast scanning) and
    checks the word boundary before it with a lookbehind."""
    words = [re.escape(w.text) + ("[^ ]*" if w.prefix else "") for w in literal.words]
    body = " +".join(words)
    first = re.escape(literal.words[0].text[0])
    rest = body[len(first) :]
    return re.compile(f"{first}(?<![^ ].){rest}(?![^ ])")


class _Text:
    """One field: its words' start offsets, and copies with non-word characters as spaces."""

    def __init__(self, text: str) -> None:
        self.text = text
        masked = mask_possessives(text)
        self.plain = _NON_WORD_RE.sub(" ", masked)  # one space per character: offsets kept
        lowered = self.plain.lower()
        # lower() can change the length for a few characters (e.g. "İ"); keep offsets valid.
        self.lower = lowered if len(lowered) == len(self.plain) else None
        self.word_starts = [m.start() for m in re.finditer("[^ ]+", self.plain)]

    def word_at(self, char: int) -> int:
        return bisect.bisect_left(self.word_starts, char)

    def spans(self, literal: Literal, pattern: re.Pattern[str]) -> list[CharSpan]:
        """Every (overlapping) occurrence."""
        if literal.case_sensitive:
            target, search = self.plain, pattern.search
        elif self.lower is not None:
            target, search = self.lower, pattern.search
        else:
            target = self.plain
            search = re.compile(pattern.pattern, re.IGNORECASE).search
        found = []
        match = search(target)
        while match is not None:
            found.append(match.span())
            match = search(target, match.start() + 1)
        return found


class NaiveRules:
    """Evaluates every enabled rule of a RuleSet with per-rule compiled regexes."""

    def __init__(self, ruleset: RuleSet) -> None:
        self._rules = []
        for rule in sorted((r for r in ruleset.rules if r.enabled), key=lambda r: r.id):
            query = ruleset.query_tree(rule.id)
            exclude = ruleset.exclude_tree(rule.id)
            patterns = {id(lit): literal_pattern(lit) for lit in _literals(query, exclude)}
            feeds = {fold(f) for f in rule.feeds}
            self._rules.append((rule.id, query, exclude, patterns, feeds))

    def match(
        self,
        fields: Mapping[str, str],
        *,
        feed_name: str | None = None,
        feed_tags: Sequence[str] = (),
    ) -> tuple[NaiveMatch, ...]:
        texts = {name: _Text(fields.get(name, "")) for name in FIELDS}
        offered = {fold(name) for name in ([feed_name] if feed_name else []) + list(feed_tags)}
        found = []
        for rule_id, query, exclude, patterns, feeds in self._rules:
            if feeds and not feeds & offered:
                continue
            evaluator = _Evaluator(texts, patterns)
            if not evaluator.holds(query, FIELDS):
                continue
            if exclude is not None and evaluator.holds(exclude, FIELDS):
                continue
            spans = evaluator.evidence(query, FIELDS)
            ordered = sorted(spans, key=lambda s: (FIELDS.index(s[0]), s[1], s[2]))
            found.append(NaiveMatch(rule_id, tuple(Span(f, s, e, fields[f][s:e]) for f, s, e in ordered)))
        return tuple(found)


def _literals(query: Node, exclude: Node | None) -> list[Literal]:
    return literals(query) + (literals(exclude) if exclude is not None else [])


class _Evaluator:
    def __init__(self, texts: dict[str, _Text], patterns: dict[int, re.Pattern[str]]) -> None:
        self._texts = texts
        self._patterns = patterns

    def _spans(self, literal: Literal, field: str) -> list[CharSpan]:
        return self._texts[field].spans(literal, self._patterns[id(literal)])

    def holds(self, node: Node, scope: Sequence[str]) -> bool:
        if isinstance(node, Literal):
            return any(self._spans(node, f) for f in scope)
        if isinstance(node, AliasRef):
            assert node.expansion is not None
            return self.holds(node.expansion, scope)
        if isinstance(node, Not):
            return not self.holds(node.child, scope)
        if isinstance(node, And):
            return all(self.holds(c, scope) for c in node.children)
        if isinstance(node, Or):
            return any(self.holds(c, scope) for c in node.children)
        if isinstance(node, Near):
            return any(self._pairs(node, f) for f in scope)
        if isinstance(node, FieldScope):
            return node.field in scope and self.holds(node.child, [node.field])
        assert_never(node)

    def evidence(self, node: Node, scope: Sequence[str]) -> set[tuple[str, int, int]]:
        if isinstance(node, Literal):
            return {(f, s, e) for f in scope for s, e in self._spans(node, f)}
        if isinstance(node, AliasRef):
            assert node.expansion is not None
            return self.evidence(node.expansion, scope)
        if isinstance(node, Not):
            return set()
        if isinstance(node, And | Or):
            out: set[tuple[str, int, int]] = set()
            for child in node.children:
                if self.holds(child, scope):
                    out |= self.evidence(child, scope)
            return out
        if isinstance(node, Near):
            return {(f, s, e) for f in scope for hit in self._pairs(node, f) for s, e in hit[2]}
        if isinstance(node, FieldScope):
            return self.evidence(node.child, [node.field]) if node.field in scope else set()
        assert_never(node)

    def _hits(self, node: Node, field: str) -> list[_Hit]:
        text = self._texts[field]
        if isinstance(node, Literal):
            return [(text.word_at(s), text.word_at(e), ((s, e),)) for s, e in self._spans(node, field)]
        if isinstance(node, AliasRef):
            assert node.expansion is not None
            return self._hits(node.expansion, field)
        if isinstance(node, Or):
            return [hit for child in node.children for hit in self._hits(child, field)]
        if isinstance(node, FieldScope):
            return self._hits(node.child, field) if node.field == field else []
        if isinstance(node, Near):
            return self._pairs(node, field)
        raise TypeError(f"{type(node).__name__} is not positional")

    def _pairs(self, node: Near, field: str) -> list[_Hit]:
        pairs = []
        for a in self._hits(node.left, field):
            for b in self._hits(node.right, field):
                overlap = a[0] < b[1] and b[0] < a[1]
                if overlap or (node.ordered and a[0] > b[0]):
                    continue
                between = max(a[0], b[0]) - min(a[1], b[1])
                if between <= node.distance:
                    pairs.append((min(a[0], b[0]), max(a[1], b[1]), a[2] + b[2]))
        return pairs
