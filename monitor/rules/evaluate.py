"""Evaluates a query tree against one item's text, word by word.

Semantics (the naive matcher in naive.py implements the same, independently, with regexes):

* A literal occurs at word position i of a field when its words equal (or, for a prefix word,
  start) the field's words i, i+1, ... (case-folded unless case-sensitive; loose-folded for ``~``
  terms). A word ending in a Korean particle also equals its stem (itemtext.py).
* ``lang:ko`` holds when the item's detected language is ko.
* ``A NEAR/n B``: an occurrence of A and one of B in the same field, not overlapping, with at
  most n other words between them. ONEAR also needs A's occurrence to end before B's starts.
  The occurrence of a NEAR is the stretch from the first to the last of its words, so NEARs nest.
* Evidence ("spans"): every occurrence of every literal that contributed — all occurrences of
  a matched literal, of matched OR branches, of AND children, and of the pairs that satisfied a
  NEAR; nothing under NOT.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from typing import assert_never

from monitor.rules.itemtext import ItemText
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
)

_POSITIONAL = (Literal, AliasRef, Near)
# (first word, end word exclusive, the literal word stretches inside it)
Occurrence = tuple[int, int, tuple[tuple[int, int], ...]]
# (field, first word, end word exclusive)
WordSpan = tuple[str, int, int]


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
    if isinstance(node, LangIs):
        return item.lang == node.code
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
        if not (node.case_sensitive or node.loose or first.prefix or first.text in item.present):
            return set()  # absent: skips the lookups for most members of a large alias
        size = len(node.words)
        return {(f, s, s + size) for f in scope for s in item.starts(node, f)}
    if isinstance(node, AliasRef):
        assert node.expansion is not None, "aliases are resolved before evaluation"
        return evidence(node.expansion, item, scope)
    if isinstance(node, Not | LangIs):
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
