"""Query language: tokens, precedence, every operator, and exact error messages/positions."""

from __future__ import annotations

import pytest

from monitor.rules.lexer import QuerySyntaxError
from monitor.rules.parser import parse_query
from monitor.rules.syntax import AliasRef, And, FieldScope, Literal, Near, Not, Or, render


def canon(query: str) -> str:
    return render(parse_query(query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a OR b AND c", "(a OR (b AND c))"),
        ("a AND b OR c AND d", "((a AND b) OR (c AND d))"),
        ("NOT a AND b", "(NOT a AND b)"),
        ("a AND NOT b OR c", "((a AND NOT b) OR c)"),
        ("a NEAR b AND c", "((a NEAR/10 b) AND c)"),
        ("a OR b NEAR/3 c", "(a OR (b NEAR/3 c))"),
        ("(a OR b) NEAR/3 c", "((a OR b) NEAR/3 c)"),
        ("a NEAR/2 b ONEAR/4 c", "((a NEAR/2 b) ONEAR/4 c)"),
        ("x AND NOT NOT y", "(x AND NOT NOT y)"),
        ("((a))", "a"),
        ("a OR b OR c", "(a OR b OR c)"),
    ],
)
def test_precedence_not_then_proximity_then_and_then_or(query: str, expected: str) -> None:
    assert canon(query) == expected


def test_lower_case_operators_are_plain_words() -> None:
    assert canon('"rock and roll" AND not') == '("rock and roll" AND not)'
    with pytest.raises(QuerySyntaxError, match="between terms"):
        parse_query("rock and roll")


def test_literals_words_phrases_prefixes_and_case() -> None:
    lit = parse_query('"North Korean*"')
    assert isinstance(lit, Literal)
    assert [(w.text, w.prefix) for w in lit.words] == [("north", False), ("korean", True)]
    assert canon("=UN") == "=UN"
    assert canon('="Un Ami"') == '="Un Ami"'
    assert canon("Missile*") == "missile*"


def test_punctuation_inside_a_bare_word_makes_a_phrase() -> None:
    assert canon("S-400") == '"s 400"'
    assert canon("F-16*") == '"f 16*"'
    assert canon("Russia's") == "russia"
    assert canon("Russia\u2019s") == "russia"


def test_alias_field_scope_and_near_nodes() -> None:
    tree = parse_query('title:(@dprk OR "kim jong un") ONEAR/3 summary:missile*')
    assert isinstance(tree, Near) and tree.ordered and tree.distance == 3
    assert isinstance(tree.left, FieldScope) and tree.left.field == "title"
    assert isinstance(tree.left.child, Or)
    assert isinstance(tree.left.child.children[0], AliasRef)
    assert isinstance(tree.right, FieldScope) and tree.right.field == "summary"
    assert canon("title:=UN") == "title:(=UN)"
    assert canon('Title:"a b"') == 'title:("a b")'


def test_plain_near_means_ten_and_nesting_keeps_nodes() -> None:
    tree = parse_query("a NEAR b")
    assert isinstance(tree, Near) and tree.distance == 10 and not tree.ordered
    both = parse_query("NOT y AND x")
    assert isinstance(both, And) and isinstance(both.children[0], Not)


def test_error_positions_are_query_offsets() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("(a OR missile*")
    assert (caught.value.message, caught.value.pos) == ("expected ')' after \"missile*\"", 14)


@pytest.mark.parametrize(
    ("query", "pos", "message"),
    [
        ("", 0, "query is empty"),
        ("   ", 0, "query is empty"),
        ("a b", 2, 'expected AND or OR between terms; did you mean "a b" as a phrase?'),
        ("(a b)", 3, "expected AND, OR or ')' between terms; did you mean \"a b\" as a phrase?"),
        ("a (b)", 2, "expected AND or OR between terms"),
        ("a NOT b", 2, 'expected AND or OR before NOT; did you mean "AND NOT"?'),
        ("a AND (b", 8, "expected ')' after \"b\""),
        ("a AND", 5, "expected a term, phrase, @alias or '(' after \"AND\""),
        ("AND a", 0, "expected a term, phrase, @alias or '(' at the start, found \"AND\""),
        ("a OR OR b", 5, "expected a term, phrase, @alias or '(' after \"OR\""),
        ("a)", 1, "unexpected ')' (no matching '(')"),
        ("()", 1, "unexpected ')'"),
        ('"abc', 0, 'unterminated phrase: missing closing "'),
        ('a AND ""', 6, "empty phrase"),
        ("mis*le", 3, "'*' is only allowed once, at the end of a word"),
        ("ab*", 0, "'*' needs at least 3 letters or digits before it"),
        ("- AND x", 0, '"-" has no letters or digits to match'),
        ("foo:x", 0, 'unknown field "foo" (fields are title, summary, content)'),
        ("title: x", 6, "expected a term, phrase, @alias or '(' right after \"title:\""),
        ("title:NOT x", 6, "expected a term, phrase, @alias or '(' after \"title:\""),
        ("title:(summary:x)", 7, '"summary:" inside "title:" can never match'),
        ("NEAR/x", 0, 'invalid distance in "NEAR/x": expected NEAR/<number>, e.g. NEAR/5'),
        ("a ONEAR/-1 b", 2, 'invalid distance in "ONEAR/-1": expected ONEAR/<number>, e.g. ONEAR/5'),
        ("a NEAR/5000 b", 2, "NEAR distance 5000 is over 1000"),
        ("@ AND x", 0, 'invalid alias name "@" (use letters, digits, "_" and "-")'),
        ("= AND x", 0, "'=' must be followed by a word or phrase, without a space"),
        ("=@x", 0, "'=' (case-sensitive) applies to words and phrases, not aliases"),
    ],
)
def test_syntax_errors(query: str, pos: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert (caught.value.message, caught.value.pos) == (message, pos)


@pytest.mark.parametrize(
    ("query", "pos", "what"),
    [
        ("a NEAR (b AND c)", 8, "an AND group"),
        ("a NEAR NOT b", 7, "a NOT"),
        ("NOT a NEAR b", 0, "a NOT"),
        ("a ONEAR/3 (b OR title:(c AND d))", 11, "an AND group"),
    ],
)
def test_near_operands_must_be_positional(query: str, pos: int, what: str) -> None:
    with pytest.raises(QuerySyntaxError, match=f"NEAR cannot measure a distance to {what}") as caught:
        parse_query(query)
    assert caught.value.pos == pos
    assert "write (" in caught.value.message, "the error shows how to rewrite the query"


@pytest.mark.parametrize("query", ["NOT a", "NOT (a OR b)", "a OR NOT b", "NOT a AND NOT b"])
def test_queries_that_match_empty_text_are_rejected(query: str) -> None:
    with pytest.raises(QuerySyntaxError, match="contain none of its words"):
        parse_query(query)


def test_negative_queries_are_allowed_for_excludes() -> None:
    assert canon_negative("NOT a") == "NOT a"


def canon_negative(query: str) -> str:
    return render(parse_query(query, allow_negative=True))


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse_query("(" * 200 + "a" + ")" * 200)
