"""Queries and aliases that once crashed the loader (RecursionError) or ran for minutes are refused
with file:line:col errors at the documented limits, and everything within the limits compiles,
matches and explains without coming near Python's recursion limit (issue 12, defects 1 and 2)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bounded import LOAD_RULES, PEAK_MEMORY_MB, alias_bomb, run_bounded

from monitor.rules import RuleError, RuleLoadError, compile_text
from monitor.rules.limits import (
    MAX_ALIAS_DEPTH,
    MAX_EXPANDED_TERMS,
    MAX_NESTING,
    MAX_OPERATORS,
    MAX_TOTAL_TERMS,
)
from monitor.rules.naive import NaiveRules

START = len("    query: '") + 1  # column of a query's first character in rule_file()
TOO_DEEP = f"query is nested too deeply (more than {MAX_NESTING} levels"
# Every walk over a tree (parse, compile, prefilter, match, evidence, explain, the reference
# matcher) at the limits fits in this many frames; Python allows 1,000.
FRAMES = 250


def rule_file(query: str) -> str:
    return f"rules:\n  - id: r\n    query: '{query}'\n"


def only_error(text: str) -> RuleError:
    with pytest.raises(RuleLoadError) as caught:
        compile_text(text, "rules/x.yaml")
    (error,) = caught.value.errors
    return error


def nth(text: str, word: str, n: int) -> int:
    """Offset of the n-th (1-based) occurrence of ``word`` in ``text``."""
    offset = -1
    for _ in range(n):
        offset = text.index(word, offset + 1)
    return offset


CHAINS = {
    "1,000 NOTs": ("x AND " + "NOT " * 1000 + "y", "NOT", MAX_OPERATORS),
    "a 5,000-term NEAR chain": (" NEAR/3 ".join(f"w{i}" for i in range(5000)), "NEAR", MAX_OPERATORS + 1),
    "5,000 nested title:": ("title:" * 5000 + "x", "title:", MAX_OPERATORS + 1),
    "a 20,000-term AND": (" AND ".join(f"w{i}" for i in range(20_000)), "AND", MAX_OPERATORS + 1),
}


@pytest.mark.timeout(5)
@pytest.mark.parametrize("name", list(CHAINS))
def test_the_reported_queries_are_refused_at_the_first_operator_too_many(name: str) -> None:
    query, operator, n = CHAINS[name]
    error = only_error(rule_file(query))
    assert error.message.startswith(f"query has more than {MAX_OPERATORS:,} operators")
    assert (error.file, error.line, error.column) == ("rules/x.yaml", 3, START + nth(query, operator, n))


NESTED = {
    "NOTs": ("x AND " + "NOT " * 40 + "y", "NOT", MAX_NESTING + 1),
    "a NEAR chain": (" NEAR/3 ".join(f"w{i}" for i in range(40)), "NEAR", MAX_NESTING + 1),
    "field scopes": ("title:" * 40 + "x", "title:", MAX_NESTING + 1),
    "parentheses": ("(" * 40 + "x" + ")" * 40, "(", MAX_NESTING + 1),
    # the chain inside the parentheses and its continuation outside build one tree 40 deep
    "a chain continued outside its parentheses": (
        "(" + " NEAR ".join("a" * 21) + ")" + " NEAR x" * 20,
        "NEAR",
        MAX_NESTING + 1,
    ),
}


@pytest.mark.timeout(5)
@pytest.mark.parametrize("name", list(NESTED))
def test_nesting_beyond_the_limit_is_refused_where_it_goes_too_deep(name: str) -> None:
    query, token, n = NESTED[name]
    error = only_error(rule_file(query))
    assert error.message.startswith(TOO_DEEP)
    assert (error.line, error.column) == (3, START + nth(query, token, n))


def deepest_rules(extra_level: bool = False) -> str:
    """Aliases MAX_ALIAS_DEPTH levels deep under a query MAX_NESTING operators deep (one more
    with ``extra_level``), mixing NEAR, OR, a field scope, AND and NOT."""
    aliases = ["  a1: [w1, w1b]"] + [f"  a{k}: ['@a{k - 1}', w{k}]" for k in range(2, MAX_ALIAS_DEPTH + 1)]
    positional = f"@a{MAX_ALIAS_DEPTH}"
    for _ in range((MAX_NESTING - 2) // 2):
        positional = f"(({positional} NEAR/3 qq) OR zz)"
    scoped = f"title:({positional})"  # MAX_NESTING - 1 levels
    query = f"({scoped} OR zz) AND NOT yy" if extra_level else f"{scoped} AND NOT yy"
    lines = ["aliases:", *aliases, "rules:", "  - id: deep", f"    query: '{query}'"]
    return "\n".join([*lines, f"    exclude: '{scoped} AND nothing'"]) + "\n"


@contextmanager
def frames_left(count: int) -> Iterator[None]:
    """Python's recursion limit set to ``count`` frames above the caller's."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + count)
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


@pytest.mark.timeout(5)
def test_every_walk_at_the_limits_stays_far_from_the_recursion_limit() -> None:
    text = deepest_rules()
    title = "w1 qq zz qq zz w1 qq"
    with frames_left(FRAMES):
        rules = compile_text(text)
        found = rules.match({"title": title})
        explanation = rules.explain("deep", {"title": title})
        reference = NaiveRules(rules).match({"title": title})
    assert [m.rule_id for m in found] == [m.rule_id for m in reference] == ["deep"]
    assert found[0].spans == reference[0].spans
    assert explanation.matched
    assert only_error(deepest_rules(extra_level=True)).message.startswith(TOO_DEEP)


@pytest.mark.timeout(5)
def test_the_alias_bomb_is_refused_at_the_first_alias_over_budget_in_little_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    run = run_bounded(LOAD_RULES, str(bomb))
    assert run.output.splitlines()[:2] == [
        "1 error in rule files:",
        f"{bomb}:6:3: alias @a4 stands for 13,122 terms once its aliases are expanded (at most {MAX_EXPANDED_TERMS:,})",
    ]
    assert run.peak_mb < PEAK_MEMORY_MB


@pytest.mark.timeout(5)
def test_a_chain_of_thousands_of_aliases_is_one_error() -> None:
    aliases = ["  a0: [x]"] + [f"  a{k}: ['@a{k - 1}']" for k in range(1, 5000)]
    text = "\n".join(["aliases:", *aliases, "rules:", "  - {id: r, query: '@a4999'}"]) + "\n"
    error = only_error(text)
    assert (error.line, error.column) == (2 + MAX_ALIAS_DEPTH, 3)
    assert error.message == (
        f"aliases are nested more than {MAX_ALIAS_DEPTH} levels deep "
        f"(@a{MAX_ALIAS_DEPTH} -> @a{MAX_ALIAS_DEPTH - 1} -> …)"
    )


def big_alias(terms: int) -> str:
    return "  big: [" + ", ".join(f"w{i}x" for i in range(terms)) + "]\n"


@pytest.mark.timeout(5)
def test_a_query_standing_for_too_many_terms_is_refused() -> None:
    text = "aliases:\n" + big_alias(6000) + rule_file("@big OR (@big AND x)")
    error = only_error(text)
    assert (error.line, error.column) == (5, START)
    assert error.message == (
        f"query stands for 12,001 terms once its aliases are expanded (at most {MAX_EXPANDED_TERMS:,})"
    )


@pytest.mark.timeout(5)
def test_the_rule_set_as_a_whole_has_a_budget() -> None:
    per_rule = MAX_EXPANDED_TERMS  # @big plus one word
    count = MAX_TOTAL_TERMS // per_rule + 1
    rules = "".join(f"  - {{id: r{i}, query: '@big AND k{i}'}}\n" for i in range(count))
    error = only_error("aliases:\n" + big_alias(per_rule - 1) + "rules:\n" + rules)
    assert error.rule_id == f"r{count - 1}"
    assert error.message.startswith(f"the rules together stand for more than {MAX_TOTAL_TERMS:,} terms")


@pytest.mark.timeout(5)
def test_large_queries_within_the_limits_compile_and_match() -> None:
    conjunction = " AND ".join(f"w{i}" for i in range(MAX_OPERATORS + 1))
    phrase = '"' + " ".join(f"p{i}" for i in range(5000)) + '"'
    rules = compile_text(rule_file(conjunction) + f"  - id: phrase\n    query: '{phrase}'\n")
    words = {"title": " ".join(f"w{i}" for i in range(MAX_OPERATORS + 1)), "summary": phrase.strip('"')}
    assert [m.rule_id for m in rules.match(words)] == ["phrase", "r"]


@pytest.mark.timeout(5)
def test_an_error_deep_in_a_huge_escaped_query_is_located_quickly() -> None:
    words = " ".join([r"\x41"] * 200_000)
    error = only_error(f'rules:\n  - id: r\n    query: "x AND \\"{words}\\" AND ("\n')
    assert error.line == 3
    assert error.message == "expected a term, phrase, @alias or '(' after \"(\""
