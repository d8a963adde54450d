"""Reference matcher: every rule, every time, each literal with its own regex over raw text.

Deliberately simple and independent of the engine's word index and prefilter; it shares only
the definitions of words (text.py: word characters, possessive blanking, ICU's cuts in scripts
without spaces), of Korean particles and loose folding (segment.py), and the parsed trees.
Tests and bench/match.py check that RuleSet.match returns exactly the same rules and spans on
every item.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from monitor.rules.ruleset import RuleSet
from monitor.rules.segment import HANGUL_RE, PARTICLES, loose
from monitor.rules.syntax import (
    FIELDS,
    AliasRef,
    And,
    FieldScope,
    LangIs,
    Literal,
    Near,
    Node,
    Not,
    Or,
    literals,
)
from monitor.rules.text import fold, mask_possessives, word_spans
from monitor.types import Span

# A literal occurrence: (char start, char end) in the field's text.
CharSpan = tuple[int, int]
# A positional occurrence: first word, end word (exclusive), the char spans of its literals.
_Hit = tuple[int, int, tuple[CharSpan, ...]]
_PARTICLE = "(?:" + "|".join(sorted(PARTICLES, key=len, reverse=True)) + ")?"
_FOLD = {"exact": lambda word: word, "folded": str.lower, "loose": loose}


@dataclass(frozen=True, slots=True)
class NaiveMatch:
    rule_id: str
    spans: tuple[Span, ...]


def literal_pattern(literal: Literal, particles: bool = False) -> re.Pattern[str]:
    """Whole-word regex for a word or phrase, run over a field's words joined by single spaces.
    It starts with a literal character (fast scanning) and checks the word boundary before it
    with a lookbehind. With ``particles``, a whole word may carry a Korean particle."""
    tail = _PARTICLE if particles else ""
    words = [re.escape(w.text) + ("[^ ]*" if w.prefix else tail) for w in literal.words]
    body = " ".join(words)
    first = re.escape(literal.words[0].text[0])
    rest = body[len(first) :]
    return re.compile(f"{first}(?<![^ ].){rest}(?![^ ])")


class _Text:
    """One field: its words (text.py's definition) and, per way of comparing, the words joined
    by single spaces, with each word's offset there."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.bounds = word_spans(mask_possessives(text))
        self.word_starts = [start for start, _ in self.bounds]
        self.korean = HANGUL_RE.search(text) is not None
        self._joined: dict[str, tuple[str, list[int]]] = {}

    def word_at(self, char: int) -> int:
        return bisect.bisect_left(self.word_starts, char)

    def _words(self, mode: str) -> tuple[str, list[int]]:
        found = self._joined.get(mode)
        if found is None:
            words = [_FOLD[mode](self.text[start:end]) for start, end in self.bounds]
            offsets, at = [], 0
            for word in words:
                offsets.append(at)
                at += len(word) + 1
            found = self._joined[mode] = (" ".join(words), offsets)
        return found

    def spans(self, literal: Literal, patterns: tuple[re.Pattern[str], re.Pattern[str]]) -> list[CharSpan]:
        """Every (overlapping) occurrence, as character offsets into the original text."""
        joined, offsets = self._words(literal.mode)
        search = patterns[self.korean].search
        found = []
        match = search(joined)
        while match is not None:
            first = bisect.bisect_right(offsets, match.start()) - 1
            last = bisect.bisect_right(offsets, match.end() - 1) - 1
            found.append((self.bounds[first][0], self.bounds[last][1]))
            match = search(joined, match.start() + 1)
        return found


class NaiveRules:
    """Evaluates every enabled rule of a RuleSet with per-rule compiled regexes."""

    def __init__(self, ruleset: RuleSet) -> None:
        self._rules = []
        for rule in sorted((r for r in ruleset.rules if r.enabled), key=lambda r: r.id):
            query = ruleset.query_tree(rule.id)
            exclude = ruleset.exclude_tree(rule.id)
            literals_ = _literals(query, exclude)
            patterns = {id(lit): (literal_pattern(lit), literal_pattern(lit, True)) for lit in literals_}
            feeds = {fold(f) for f in rule.feeds}
            self._rules.append((rule.id, query, exclude, patterns, feeds))

    def match(
        self,
        fields: Mapping[str, str],
        *,
        feed_name: str | None = None,
        feed_tags: Sequence[str] = (),
        lang: str | None = None,
    ) -> tuple[NaiveMatch, ...]:
        texts = {name: _Text(fields.get(name, "")) for name in FIELDS}
        offered = {fold(name) for name in ([feed_name] if feed_name else []) + list(feed_tags)}
        found = []
        for rule_id, query, exclude, patterns, feeds in self._rules:
            if feeds and not feeds & offered:
                continue
            evaluator = _Evaluator(texts, patterns, lang)
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
    def __init__(
        self,
        texts: dict[str, _Text],
        patterns: dict[int, tuple[re.Pattern[str], re.Pattern[str]]],
        lang: str | None,
    ) -> None:
        self._texts = texts
        self._patterns = patterns
        self._lang = lang

    def _spans(self, literal: Literal, field: str) -> list[CharSpan]:
        return self._texts[field].spans(literal, self._patterns[id(literal)])

    def holds(self, node: Node, scope: Sequence[str]) -> bool:
        if isinstance(node, Literal):
            return any(self._spans(node, f) for f in scope)
        if isinstance(node, AliasRef):
            assert node.expansion is not None
            return self.holds(node.expansion, scope)
        if isinstance(node, LangIs):
            return node.code == self._lang
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
        if isinstance(node, Not | LangIs):
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
