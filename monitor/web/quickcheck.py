"""A quick, conservative test of whether a rule could match a text, for the editor's preview.

A match needs its literals' words in the text (as words; here only as substrings of the
lower-cased text, which every real occurrence also is: a phrase's longest word, a prefix's
stem), under the query's AND / OR structure.
NOT, field and language scopes only narrow a match (and a loose ``~`` term passes anything),
so they are passed over. The test therefore never rejects an item the rule matches; it
spares the rule engine's full text analysis for the many window items that cannot match,
which is most of the preview's cost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from monitor.rules.syntax import AliasRef, And, FieldScope, LangIs, Literal, Near, Node, Not, Or

Check = Callable[[str], bool]


def _always(text: str) -> bool:
    return True


def may_match(node: Node) -> Check:
    """A test over the item's lower-cased text (title, summary and content joined). Each literal
    stands for its longest word; an OR of literals (an alias, say) becomes one regular
    expression, so the test runs in C rather than through a Python call per word."""
    alternatives = _alternatives(node)
    if alternatives is not None:
        if not alternatives:
            return _always
        ordered = sorted(set(alternatives), key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(word) for word in ordered))
        return lambda text: pattern.search(text) is not None
    if isinstance(node, Not | LangIs):  # a language scope only narrows, like NOT
        return _always
    if isinstance(node, FieldScope):
        return may_match(node.child)
    if isinstance(node, AliasRef):
        return may_match(node.expansion) if node.expansion is not None else _always
    if isinstance(node, Near):
        left, right = may_match(node.left), may_match(node.right)
        return lambda text: left(text) and right(text)
    assert isinstance(node, And | Or), "literals are alternatives"
    checks = tuple(may_match(child) for child in node.children)
    if isinstance(node, And):
        return lambda text: all(check(text) for check in checks)
    return lambda text: any(check(text) for check in checks)


def _alternatives(node: Node) -> list[str] | None:
    """The words of which one must occur, when ``node`` is literals under ORs (else None)."""
    if isinstance(node, Literal):
        if node.loose:  # accents and width are folded: its words need not be in the text as written
            return []
        longest = max((word.text.lower() for word in node.words), key=len, default="")
        return [longest] if longest else []
    if isinstance(node, AliasRef):
        return _alternatives(node.expansion) if node.expansion is not None else None
    if isinstance(node, FieldScope):
        return _alternatives(node.child)
    if isinstance(node, Or):
        found: list[str] = []
        for child in node.children:
            words = _alternatives(child)
            if not words:  # None: not literals; []: a literal without text, which passes anything
                return None
            found += words
        return found
    return None


def folded(title: str, summary: str, content: str) -> str:
    return f"{title}\n{summary}\n{content}".lower()
