"""A quick, conservative test of whether a rule could match a text, for the editor's preview.

A match needs its literals' words in the text (as words; here only as substrings of the
lower-cased text, which every real occurrence also is), under the query's AND / OR structure.
NOT and field scopes only narrow a match, so they are passed over. The test therefore never
rejects an item the rule matches; it spares the rule engine's full text analysis for the many
window items that cannot match, which is most of the preview's cost.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.rules.syntax import AliasRef, And, FieldScope, Literal, Near, Node, Not, Or

Check = Callable[[str], bool]


def _always(text: str) -> bool:
    return True


def may_match(node: Node) -> Check:
    """A test over the item's lower-cased text (title, summary and content joined)."""
    if isinstance(node, Literal):
        words = tuple(word.text.lower() for word in node.words if word.text)
        return lambda text: all(word in text for word in words)
    if isinstance(node, AliasRef):
        return may_match(node.expansion) if node.expansion is not None else _always
    if isinstance(node, Not):
        return _always
    if isinstance(node, FieldScope):
        return may_match(node.child)
    if isinstance(node, Near):
        left, right = may_match(node.left), may_match(node.right)
        return lambda text: left(text) and right(text)
    checks = tuple(may_match(child) for child in node.children)
    if isinstance(node, And):
        return lambda text: all(check(text) for check in checks)
    assert isinstance(node, Or)
    return lambda text: any(check(text) for check in checks)


def folded(title: str, summary: str, content: str) -> str:
    return f"{title}\n{summary}\n{content}".lower()
