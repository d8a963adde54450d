"""Recursive-descent parser: query text → typed tree (syntax.py).

Precedence, tightest first: NOT, then NEAR/ONEAR (left-associative), then AND, then OR.
Adjacent terms without an operator are an error (never an implicit AND).

Bounded: more than MAX_NESTING levels is an error, counted twice over. While parsing, open
parentheses, NOTs and field scopes (this parser recurses into each); and in the tree built, the
operators inside one another (a NEAR chain loops here but builds a tree as deep as the chain).
So neither this parser nor any later walk of the tree can reach Python's recursion limit.
"""

from __future__ import annotations

from monitor.rules.lexer import Kind, QuerySyntaxError, Token, tokenize_query
from monitor.rules.limits import MAX_NESTING
from monitor.rules.segment import HANGUL_RE, NO_SPACES_RE, loose
from monitor.rules.syntax import (
    AliasRef,
    And,
    FieldScope,
    LangIs,
    Literal,
    Near,
    Node,
    Not,
    Or,
    WordPattern,
    children,
    is_positional,
    matches_empty,
)
from monitor.rules.text import fold, words

MIN_PREFIX = 3
MIN_PREFIX_CJK = 2  # a Han, kana or Hangul character carries about a syllable or a word
_OPERAND = "a term, phrase, @alias or '('"
_STARTS_OPERAND = {Kind.WORD, Kind.PHRASE, Kind.ALIAS, Kind.FIELD, Kind.LANG, Kind.LPAREN, Kind.NOT}
_TOO_DEEP = (
    f"query is nested too deeply (more than {MAX_NESTING} levels of parentheses and operators inside one "
    "another; each NEAR of a chain counts one)"
)


def parse_query(text: str, *, allow_negative: bool = False) -> Node:
    """Parse one query. Unless ``allow_negative``, a query that would match a text containing
    none of its words (only NOT terms) is rejected. Raises QuerySyntaxError."""
    node = _Parser(tokenize_query(text)).parse()
    if not allow_negative and matches_empty(node):
        raise QuerySyntaxError(
            "query would match items that contain none of its words (NOT without a required "
            "term); combine NOT with AND and a term that must occur",
            0,
        )
    return node


def make_literal(source: str, pos: int, *, case_sensitive: bool, quoted: bool, loose_fold: bool = False) -> Literal:
    """Build a literal from written text: several words make a phrase; a trailing * on a word
    makes it a prefix. ``pos`` is the offset of ``source`` in the query, for errors."""
    body_start = pos + (1 if case_sensitive or loose_fold else 0) + (1 if quoted else 0)
    body = source[body_start - pos : len(source) - (1 if quoted else 0)]
    patterns: list[WordPattern] = []
    offset = 0
    mode = "loose" if loose_fold else "exact" if case_sensitive else "folded"
    for piece in body.split():
        offset = body.index(piece, offset)
        patterns.extend(_piece_patterns(piece, body_start + offset, mode))
        offset += len(piece)
    if not patterns:
        raise QuerySyntaxError(f'"{source}" has no letters or digits to match', pos)
    shortest = _min_prefix(patterns[0].text)
    if len(patterns) == 1 and patterns[0].prefix and len(patterns[0].text) < shortest:
        # A lone short prefix (un*, eu*) matches a large share of all words.
        raise QuerySyntaxError(f"'*' needs at least {shortest} letters or digits before it", pos)
    return Literal(tuple(patterns), case_sensitive, source, pos, loose_fold)


def _min_prefix(text: str) -> int:
    cjk = NO_SPACES_RE.search(text) is not None or HANGUL_RE.search(text) is not None
    return MIN_PREFIX_CJK if cjk else MIN_PREFIX


def _piece_patterns(piece: str, pos: int, mode: str) -> list[WordPattern]:
    core = piece.rstrip("*")
    prefix = core != piece
    star = core.find("*")
    if star >= 0 or len(piece) - len(core) > 1:
        where = star if star >= 0 else len(core) + 1
        raise QuerySyntaxError("'*' is only allowed once, at the end of a word", pos + where)
    found = words(core)
    if not found:
        raise QuerySyntaxError(f'"{piece}" has no letters or digits to match', pos)
    texts = found if mode == "exact" else [loose(w) if mode == "loose" else fold(w) for w in found]
    patterns = [WordPattern(w) for w in texts]
    patterns[-1] = WordPattern(texts[-1], prefix)
    return patterns


def _missing_operand(token: Token, before: Token | None) -> QuerySyntaxError:
    if token.kind is Kind.RPAREN:
        return QuerySyntaxError("unexpected ')'", token.pos)
    if before is None:
        return QuerySyntaxError(f'expected {_OPERAND} at the start, found "{token.source}"', token.pos)
    return QuerySyntaxError(f'expected {_OPERAND} after "{before.source}"', token.pos)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0  # open parentheses
        self._open = 0  # open parentheses, NOTs and field scopes: this parser's recursion
        self._levels: dict[int, int] = {}  # id(operator node) → operators on its deepest path
        self._scope: str | None = None

    def parse(self) -> Node:
        if self._peek().kind is Kind.EOF:
            raise QuerySyntaxError("query is empty", 0)
        node = self._or()
        self._expect_end(self._peek())
        return node

    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _previous(self) -> Token | None:
        return self._tokens[self._index - 1] if self._index > 0 else None

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        if token.kind is not Kind.EOF:
            self._index += 1
        return token

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek().kind is Kind.OR:
            self._advance()
            children.append(self._and())
        return children[0] if len(children) == 1 else self._made(Or(tuple(children), children[0].pos))

    def _and(self) -> Node:
        children = [self._proximity()]
        while self._peek().kind is Kind.AND:
            self._advance()
            children.append(self._proximity())
        return children[0] if len(children) == 1 else self._made(And(tuple(children), children[0].pos))

    def _enter(self, token: Token) -> None:
        self._open += 1
        if self._open > MAX_NESTING:
            raise QuerySyntaxError(_TOO_DEEP, token.pos)

    def _made(self, node: Node, pos: int | None = None) -> Node:
        """Records how many operators deep ``node`` is; beyond MAX_NESTING is an error at
        ``pos`` (default: the node's own position)."""
        levels = 1 + max((self._levels.get(id(child), 0) for child in children(node)), default=0)
        if levels > MAX_NESTING:
            raise QuerySyntaxError(_TOO_DEEP, node.pos if pos is None else pos)
        self._levels[id(node)] = levels
        return node

    def _proximity(self) -> Node:
        left = self._unary()
        while self._peek().kind is Kind.NEAR:
            operator = self._advance()
            right = self._unary()
            for operand in (left, right):
                self._check_near_operand(operator, operand)
            left = self._made(Near(left, right, operator.distance, operator.ordered, left.pos), operator.pos)
        return left

    def _check_near_operand(self, operator: Token, operand: Node) -> None:
        if not is_positional(operand):
            name = "ONEAR" if operator.ordered else "NEAR"
            kind = _non_positional_kind(operand)
            if kind == "NOT":
                what, instead = "a NOT", f"instead of c {name}/5 (a OR NOT b) write (c {name}/5 a) OR NOT b"
            elif kind == "lang:":
                what, instead = "a lang: scope", f"instead of lang:ko {name}/5 b write lang:ko AND (a {name}/5 b)"
            else:
                what, instead = (
                    "an AND group",
                    f"instead of (a AND b) {name}/5 c write (a {name}/5 c) AND (b {name}/5 c)",
                )
            raise QuerySyntaxError(
                f"{name} cannot measure a distance to {what}, which has no word position of its own "
                f"({name} takes terms, phrases, @aliases, (x OR y) groups and other NEARs); {instead}",
                operand.pos,
            )

    def _unary(self) -> Node:
        if self._peek().kind is Kind.NOT:
            operator = self._advance()
            self._enter(operator)
            child = self._unary()
            self._open -= 1
            return self._made(Not(child, operator.pos))
        return self._primary()

    def _primary(self) -> Node:
        before = self._previous()
        token = self._advance()
        if token.kind is Kind.LPAREN:
            return self._group(token)
        if token.kind is Kind.FIELD:
            return self._field(token)
        if token.kind in (Kind.WORD, Kind.PHRASE):
            quoted = token.kind is Kind.PHRASE
            return make_literal(
                token.source, token.pos, case_sensitive=token.case_sensitive, quoted=quoted, loose_fold=token.loose
            )
        if token.kind is Kind.LANG:
            if self._scope is not None:
                message = f'"{token.source}" is about the whole item; it cannot be inside "{self._scope}:"'
                raise QuerySyntaxError(message, token.pos)
            return LangIs(token.value, token.pos)
        if token.kind is Kind.ALIAS:
            return AliasRef(token.value, token.pos)
        raise _missing_operand(token, before)

    def _group(self, opening: Token) -> Node:
        self._enter(opening)
        self._depth += 1
        node = self._or()
        closing = self._peek()
        if closing.kind is not Kind.RPAREN:
            self._expect_end(closing)
        self._advance()
        self._depth -= 1
        self._open -= 1
        return node

    def _field(self, token: Token) -> Node:
        if self._scope is not None and self._scope != token.value:
            raise QuerySyntaxError(f'"{token.source}" inside "{self._scope}:" can never match', token.pos)
        self._enter(token)
        outer, self._scope = self._scope, token.value
        child = self._primary()
        self._scope = outer
        self._open -= 1
        return self._made(FieldScope(token.value, child, token.pos))

    def _expect_end(self, token: Token) -> None:
        """After a complete expression: explain what should have come instead of ``token``."""
        closing = self._depth > 0
        if token.kind is Kind.EOF and not closing:
            return
        previous = self._previous()
        after = f'"{previous.source}"' if previous is not None else "the start"
        if token.kind is Kind.EOF:
            raise QuerySyntaxError(f"expected ')' after {after}", token.pos)
        if token.kind is Kind.RPAREN:
            raise QuerySyntaxError("unexpected ')' (no matching '(')", token.pos)
        expected = "AND, OR or ')'" if closing else "AND or OR"
        if token.kind is Kind.NOT:
            raise QuerySyntaxError(f'expected {expected} before NOT; did you mean "AND NOT"?', token.pos)
        if token.kind in _STARTS_OPERAND:
            hint = ""
            if previous is not None and previous.kind is Kind.WORD and token.kind is Kind.WORD:
                hint = f'; did you mean "{previous.source} {token.source}" as a phrase?'
            raise QuerySyntaxError(f"expected {expected} between terms{hint}", token.pos)
        raise QuerySyntaxError(f"expected {expected} after {after}", token.pos)


def _non_positional_kind(node: Node) -> str:
    """What makes an operand unusable for NEAR, as the user wrote it: "AND", "NOT" or "lang:"."""
    if isinstance(node, Not):
        return "NOT"
    if isinstance(node, LangIs):
        return "lang:"
    if isinstance(node, Or | FieldScope):
        children = node.children if isinstance(node, Or) else (node.child,)
        return next(_non_positional_kind(c) for c in children if not is_positional(c))
    return "AND"
