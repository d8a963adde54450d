"""Evaluates a query tree against one item's text, word by word.

Semantics (the naive matcher in naive.py implements the same, independently, with regexes):

* A literal occurs at word position i of a field when its words equal (or, for a prefix word,
  start) the field's words i, i+1, ... (case-folded unless case-sensitive).
* ``A NEAR/n B``: an occurrence of A and one of B in the same field, not overlapping, with at
  most n other words between them. ONEAR also needs A's occurrence to end before B's starts.
  The occurrence of a NEAR is the stretch from the first to the last of its words, so NEARs nest.
* Evidence ("spans"): every occurrence of every literal that contributed — all occurrences of
  a matched literal, of matched OR branches, of AND children, and of the pairs that satisfied a
  NEAR; nothing under NOT.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from typing import assert_never

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
    WordPattern,
)
from monitor.rules.text import mask_possessives, split_words, word_spans

_POSITIONAL = (Literal, AliasRef, Near)
# (first word, end word exclusive, the literal word stretches inside it)
Occurrence = tuple[int, int, tuple[tuple[int, int], ...]]
# (field, first word, end word exclusive)
WordSpan = tuple[str, int, int]


class FieldText:
    """One field's text split into words once, with lazily built lookup tables."""

    __slots__ = (
        "_char_spans",
        "_exact",
        "_folded_index",
        "_padded",
        "_sorted",
        "folded",
        "folded_text",
        "masked",
        "text",
        "words",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = mask_possessives(text)
        self.words: list[str] = split_words(self.masked)
        # Lower-casing the joined words equals lower-casing each word; one C call is faster.
        self.folded_text = " ".join(self.words).lower()
        self.folded: list[str] = self.folded_text.split()
        self._folded_index: dict[str, list[int]] | None = None
        self._exact: dict[str, list[int]] | None = None
        self._char_spans: list[tuple[int, int]] | None = None
        self._sorted: dict[bool, list[str]] = {}
        self._padded: dict[bool, str] = {}

    def starting_with(self, prefix: str, case_sensitive: bool) -> list[str]:
        """Distinct words that start with ``prefix`` (bisect over the sorted distinct words)."""
        ordered = self._sorted.get(case_sensitive)
        if ordered is None:
            ordered = self._sorted[case_sensitive] = sorted(self.index(case_sensitive))
        first = bisect_left(ordered, prefix)
        last = first
        while last < len(ordered) and ordered[last].startswith(prefix):
            last += 1
        return ordered[first:last]

    def padded(self, case_sensitive: bool) -> str:
        """The words joined by single spaces, with a space at both ends: a phrase of plain
        words occurs exactly when " w1 w2 " is a substring."""
        text = self._padded.get(case_sensitive)
        if text is None:
            joined = " ".join(self.words) if case_sensitive else self.folded_text
            text = self._padded[case_sensitive] = f" {joined} "
        return text

    def index(self, case_sensitive: bool) -> dict[str, list[int]]:
        """Word → positions, in original case or case-folded."""
        if case_sensitive:
            if self._exact is None:
                self._exact = _positions(self.words)
            return self._exact
        if self._folded_index is None:
            self._folded_index = _positions(self.folded)
        return self._folded_index

    def char_span(self, first: int, end: int) -> tuple[int, int]:
        """Character offsets in the original text of words first..end-1."""
        if self._char_spans is None:
            self._char_spans = word_spans(self.masked)
        return self._char_spans[first][0], self._char_spans[end - 1][1]


def _positions(words: list[str]) -> dict[str, list[int]]:
    table: dict[str, list[int]] = {}
    for position, word in enumerate(words):
        table.setdefault(word, []).append(position)
    return table


class ItemText:
    """The three text fields of one item, tokenized on demand.

    ``present`` holds every case-folded word of all fields (the prefilter adds its ``prefix*``
    keys to it; those cannot clash with words, which never contain "*")."""

    __slots__ = ("_cache", "_field_words", "fields", "present")

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields: dict[str, FieldText] = {name: FieldText(fields.get(name) or "") for name in FIELDS}
        self.present: set[str] = set().union(*(f.folded for f in self.fields.values()))
        # Keyed by id(): hashing a Literal walks its fields, and compile_rules makes equal
        # literals one shared object, so rules still share the results.
        self._cache: dict[str, dict[int, list[int]]] = {name: {} for name in FIELDS}
        self._field_words: dict[str, set[str]] = {}

    def field_words(self, field: str) -> set[str]:
        """The case-folded words of one field."""
        found = self._field_words.get(field)
        if found is None:
            found = self._field_words[field] = set(self.fields[field].folded)
        return found

    def starts(self, literal: Literal, field: str) -> list[int]:
        """Word positions in ``field`` where ``literal`` begins (cached per literal)."""
        cache = self._cache[field]
        found = cache.get(id(literal))
        if found is None:
            found = _find(literal, self.fields[field])
            cache[id(literal)] = found
        return found


def _find(literal: Literal, field: FieldText) -> list[int]:
    first = literal.words[0]
    index = field.index(literal.case_sensitive)
    if first.prefix:
        matching = field.starting_with(first.text, literal.case_sensitive)
        starts = sorted(p for word in matching for p in index[word])
    else:
        starts = index.get(first.text, [])
    if len(literal.words) == 1:
        return starts
    words = field.words if literal.case_sensitive else field.folded
    rest = literal.words[1:]
    return [s for s in starts if _continues(words, s + 1, rest)]


def _continues(words: list[str], at: int, rest: tuple[WordPattern, ...]) -> bool:
    if at + len(rest) > len(words):
        return False
    for offset, pattern in enumerate(rest):
        word = words[at + offset]
        if not (word.startswith(pattern.text) if pattern.prefix else word == pattern.text):
            return False
    return True


def members(node: Or, item: ItemText) -> Sequence[Node]:
    """The children of an OR that can occur in the item: all of them, unless the OR has a
    TermIndex (entity lists), which leaves out those whose first word the item lacks."""
    if node.index is None:
        return node.children
    children = node.children
    return [children[i] for i in node.index.members(item.present)]


def holds(node: Node, item: ItemText, scope: tuple[str, ...] = FIELDS) -> bool:
    """Whether ``node`` is true for the item, looking only at the ``scope`` fields."""
    if isinstance(node, Literal):
        return any(item.starts(node, field) for field in scope)
    if isinstance(node, AliasRef):
        assert node.expansion is not None, "aliases are resolved before evaluation"
        return holds(node.expansion, item, scope)
    if isinstance(node, Not):
        return not holds(node.child, item, scope)
    if isinstance(node, And):
        return all(holds(child, item, scope) for child in node.children)
    if isinstance(node, Or):
        return any(holds(child, item, scope) for child in members(node, item))
    if isinstance(node, Near):
        return any(near_exists(node, item, field) for field in scope)
    if isinstance(node, FieldScope):
        return node.field in scope and holds(node.child, item, (node.field,))
    assert_never(node)


def occurrences(node: Node, item: ItemText, field: str) -> list[Occurrence]:
    """Where a positional node (see syntax.is_positional) occurs in one field."""
    if isinstance(node, Literal):
        size = len(node.words)
        return [(s, s + size, ((s, s + size),)) for s in item.starts(node, field)]
    if isinstance(node, AliasRef):
        assert node.expansion is not None, "aliases are resolved before evaluation"
        return occurrences(node.expansion, item, field)
    if isinstance(node, Or):
        found: dict[Occurrence, None] = {}
        for child in members(node, item):
            found.update(dict.fromkeys(occurrences(child, item, field)))
        return list(found)
    if isinstance(node, FieldScope):
        return occurrences(node.child, item, field) if node.field == field else []
    if isinstance(node, Near):
        return near_pairs(node, item, field)
    raise TypeError(f"{type(node).__name__} has no word positions")


def near_pairs(node: Near, item: ItemText, field: str) -> list[Occurrence]:
    """Every qualifying (left, right) pair in ``field``, as one combined occurrence each."""
    return list(_pairs(node, item, field))


def near_exists(node: Near, item: ItemText, field: str) -> bool:
    """Whether ``field`` has at least one qualifying pair (stops at the first)."""
    return next(_pairs(node, item, field), None) is not None


def _pairs(node: Near, item: ItemText, field: str) -> Iterator[Occurrence]:
    """Only right occurrences starting inside the distance window of a left one are compared
    (bisect over sorted starts), so hostile texts with thousands of repeats of a word do
    not cost a full left × right product."""
    lefts = occurrences(node.left, item, field)
    if not lefts:
        return
    rights = sorted(occurrences(node.right, item, field))
    if not rights:
        return
    starts = [right[0] for right in rights]
    longest = max(right[1] - right[0] for right in rights)
    distance, ordered = node.distance, node.ordered
    for left in lefts:
        low = left[1] if ordered else left[0] - distance - longest
        high = left[1] + distance
        for right in rights[bisect_left(starts, low) : bisect_right(starts, high)]:
            if is_near(left[0], left[1], right[0], right[1], distance, ordered):
                yield (min(left[0], right[0]), max(left[1], right[1]), left[2] + right[2])


def is_near(a_start: int, a_end: int, b_start: int, b_end: int, distance: int, ordered: bool) -> bool:
    """At most ``distance`` words between [a_start, a_end) and [b_start, b_end), no overlap."""
    if a_end <= b_start:
        return b_start - a_end <= distance
    if ordered or b_end > a_start:
        return False
    return a_start - b_end <= distance


def evidence(node: Node, item: ItemText, scope: tuple[str, ...] = FIELDS) -> set[WordSpan]:
    """Word stretches of every literal occurrence that made a (true) node true."""
    if isinstance(node, Literal):
        first = node.words[0]
        if not (node.case_sensitive or first.prefix or first.text in item.present):
            return set()  # absent: skips the lookups for most members of a large alias
        size = len(node.words)
        return {(f, s, s + size) for f in scope for s in item.starts(node, f)}
    if isinstance(node, AliasRef):
        assert node.expansion is not None, "aliases are resolved before evaluation"
        return evidence(node.expansion, item, scope)
    if isinstance(node, Not):
        return set()
    if isinstance(node, And | Or):
        # Children of a true AND are all true; a word, alias or NEAR that is absent yields no
        # evidence anyway. Only other OR branches need the truth check.
        found: set[WordSpan] = set()
        for child in node.children if isinstance(node, And) else members(node, item):
            if isinstance(node, And) or isinstance(child, _POSITIONAL) or holds(child, item, scope):
                found |= evidence(child, item, scope)
        return found
    if isinstance(node, Near):
        return {(f, s, e) for f in scope for pair in near_pairs(node, item, f) for s, e in pair[2]}
    if isinstance(node, FieldScope):
        return evidence(node.child, item, (node.field,)) if node.field in scope else set()
    assert_never(node)
