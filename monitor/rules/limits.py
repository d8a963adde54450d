"""Limits on what one rule file may ask of the engine (documented in docs/operations.md, "Limits").

Rule files are edited by hand and reloaded while the daemon runs, so a mistake (or a hostile
file) must end in a clear error, never in a hang or a crash. The numbers are far above what
real rules use (the shipped pack: 6 levels, at most 48 operators and 278 expanded terms in a
query, aliases 2 levels deep, 1,935 terms in all) and low enough that every walk over a query
tree stays far from Python's recursion limit (tests/rules/test_rule_limits.py runs every walk
at the limits within 250 frames) and every load finishes in seconds:

* nesting: the parser and every tree walk recurse once per level, a few frames each;
* operators: a query's tree (and its prefilter groups) grows with them;
* alias levels and expanded terms: an alias is expanded once and shared, but matching,
  explaining and the reference matcher still visit each term it stands for; 12 levels of 9
  references each stand for 9^12 terms in 893 bytes.
"""

from __future__ import annotations

from typing import assert_never

from monitor.rules.syntax import AliasRef, And, FieldScope, LangIs, Literal, Near, Node, Not, Or

MAX_NESTING = 32  # operators inside one another (each NEAR of a chain counts), and open parentheses
MAX_OPERATORS = 1_000  # AND, OR, NOT, NEAR/ONEAR and field scopes in one query as written
MAX_ALIAS_DEPTH = 10  # an alias using an alias using an alias …
MAX_EXPANDED_TERMS = 10_000  # terms an alias or a query stands for once its aliases are expanded
MAX_TOTAL_TERMS = 1_000_000  # the same, summed over every query and exclude of the rule set


def expanded_terms(node: Node, alias_terms: dict[str, int]) -> int:
    """How many terms ``node`` stands for with each ``@alias`` counted as its expansion
    (``alias_terms``). Walks only the query as written, whose depth the parser bounds."""
    if isinstance(node, Literal | LangIs):
        return 1
    if isinstance(node, AliasRef):
        return alias_terms.get(node.name, 1)
    if isinstance(node, Not | FieldScope):
        return expanded_terms(node.child, alias_terms)
    if isinstance(node, And | Or):
        return sum(expanded_terms(child, alias_terms) for child in node.children)
    if isinstance(node, Near):
        return expanded_terms(node.left, alias_terms) + expanded_terms(node.right, alias_terms)
    assert_never(node)
