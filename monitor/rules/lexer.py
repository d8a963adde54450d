"""Splits a query into tokens. Operators are upper-case only; ``and``/``or``/``not`` are words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from monitor.rules.limits import MAX_OPERATORS
from monitor.rules.syntax import DEFAULT_NEAR, FIELDS


class QuerySyntaxError(Exception):
    """A mistake in one query; ``pos`` is the character offset in the query text."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


class Kind(Enum):
    WORD = "word"
    PHRASE = "phrase"
    ALIAS = "alias"
    FIELD = "field"
    LANG = "lang"
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    NEAR = "NEAR"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    pos: int
    source: str  # as written, for messages
    value: str = ""  # word text, phrase body, alias or field name
    case_sensitive: bool = False
    distance: int = DEFAULT_NEAR
    ordered: bool = False
    loose: bool = False


_SPECIAL = '()"'
_FIELD_RE = re.compile(r"([A-Za-z]+):")
_ALIAS_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
# @list:NAME or @list:NAME[Schema]: an imported entity list (rules/lists.py), an alias to the parser
LIST_REF_RE = re.compile(r"list:([A-Za-z0-9_][A-Za-z0-9_-]*)(?:\[([A-Za-z]+)\])?")
_PROXIMITY_RE = re.compile(r"(O?NEAR)(?:/(.*))?")
_MAX_DISTANCE = 1000
_OPERATORS = {"AND": Kind.AND, "OR": Kind.OR, "NOT": Kind.NOT}
_LANG_RE = re.compile(r"(lang):([^\s()\"]*)(\(?)", re.IGNORECASE)
_LANG_CODE_RE = re.compile(r"[a-z]{2,3}")
_COUNTED = frozenset({Kind.AND, Kind.OR, Kind.NOT, Kind.NEAR, Kind.FIELD})


def tokenize_query(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an EOF token; raises QuerySyntaxError, also for a
    query with more than MAX_OPERATORS operators (counted here, so such a query costs no more
    than reading it up to the first one too many)."""
    tokens: list[Token] = []
    pos = 0
    operators = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            # Errors "at the end" point just after the last character, not at trailing newlines.
            tokens.append(Token(Kind.EOF, len(text.rstrip()), "end of query"))
            return tokens
        token = _next_token(text, pos)
        if token.kind in _COUNTED:
            operators += 1
            if operators > MAX_OPERATORS:
                raise QuerySyntaxError(
                    f"query has more than {MAX_OPERATORS:,} operators (AND, OR, NOT, NEAR, field scopes); "
                    "split it into several rules or move lists of alternatives into an @alias",
                    token.pos,
                )
        tokens.append(token)
        pos = token.pos + len(token.source)


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char == "(":
        return Token(Kind.LPAREN, pos, "(")
    if char == ")":
        return Token(Kind.RPAREN, pos, ")")
    if char == '"' or text.startswith(('="', '~"'), pos):
        return _phrase(text, pos)
    lang = _LANG_RE.match(text, pos)
    if lang is not None:
        return _lang(pos, lang)
    field = _FIELD_RE.match(text, pos)
    if field is not None:
        return _field(text, pos, field.group(1))
    end = pos
    while end < len(text) and not text[end].isspace() and text[end] not in _SPECIAL:
        end += 1
    return _bare(text[pos:end], pos)


def _phrase(text: str, pos: int) -> Token:
    case_sensitive, loose = text[pos] == "=", text[pos] == "~"
    open_quote = pos + 1 if case_sensitive or loose else pos
    close = text.find('"', open_quote + 1)
    if close < 0:
        raise QuerySyntaxError('unterminated phrase: missing closing "', open_quote)
    body = text[open_quote + 1 : close]
    if not body.strip():
        raise QuerySyntaxError("empty phrase", open_quote)
    return Token(Kind.PHRASE, pos, text[pos : close + 1], body, case_sensitive=case_sensitive, loose=loose)


def _lang(pos: int, found: re.Match[str]) -> Token:
    """``lang:ko``: one ISO 639-1 (or 639-3) code. Several are written (lang:ru OR lang:uk)."""
    name, code = found.group(1), found.group(2)
    if _LANG_CODE_RE.fullmatch(code.lower()) is None:
        hint = "; for several languages write (lang:ru OR lang:uk)" if found.group(3) else ""
        raise QuerySyntaxError(f'expected a language code such as ko, ru or zh right after "{name}:"{hint}', pos)
    return Token(Kind.LANG, pos, f"{name}:{code}", code.lower())


def _field(text: str, pos: int, name: str) -> Token:
    source = name + ":"
    after = pos + len(source)
    if name.lower() not in FIELDS:
        raise QuerySyntaxError(f'unknown field "{name}" (fields are title, summary, content)', pos)
    if after >= len(text) or text[after].isspace():
        raise QuerySyntaxError(f"expected a term, phrase, @alias or '(' right after \"{source}\"", after)
    return Token(Kind.FIELD, pos, source, name.lower())


def _alias(chunk: str, pos: int) -> Token:
    name = chunk[1:]
    if name.startswith("list:"):
        if LIST_REF_RE.fullmatch(name) is None:
            message = f'invalid list reference "{chunk}" (write @list:NAME or @list:NAME[Schema])'
            raise QuerySyntaxError(message, pos)
    elif _ALIAS_NAME_RE.fullmatch(name) is None:
        raise QuerySyntaxError(f'invalid alias name "{chunk}" (use letters, digits, "_" and "-")', pos)
    return Token(Kind.ALIAS, pos, chunk, name)


def _bare(chunk: str, pos: int) -> Token:
    if chunk in _OPERATORS:
        return Token(_OPERATORS[chunk], pos, chunk)
    proximity = _PROXIMITY_RE.fullmatch(chunk)
    if proximity is not None:
        return _proximity(chunk, pos, proximity)
    if chunk.startswith("@"):
        return _alias(chunk, pos)
    if chunk.startswith("="):
        if len(chunk) == 1:
            raise QuerySyntaxError("'=' must be followed by a word or phrase, without a space", pos)
        if chunk.startswith("=@"):
            raise QuerySyntaxError("'=' (case-sensitive) applies to words and phrases, not aliases", pos)
        if chunk.startswith("=~"):
            raise QuerySyntaxError(CASE_AND_LOOSE, pos)
        return Token(Kind.WORD, pos, chunk, chunk[1:], case_sensitive=True)
    if chunk.startswith("~"):
        if len(chunk) == 1 or chunk.startswith("~@"):
            raise QuerySyntaxError("'~' (accent- and width-insensitive) must be followed by a word or phrase", pos)
        if chunk.startswith("~="):
            raise QuerySyntaxError(CASE_AND_LOOSE, pos)
        return Token(Kind.WORD, pos, chunk, chunk[1:], loose=True)
    return Token(Kind.WORD, pos, chunk, chunk)


CASE_AND_LOOSE = "'~' already ignores case, accents and width; it cannot be combined with '=' (case-sensitive)"


def _proximity(chunk: str, pos: int, found: re.Match[str]) -> Token:
    ordered = found.group(1) == "ONEAR"
    digits = found.group(2)
    if digits is None:
        return Token(Kind.NEAR, pos, chunk, distance=DEFAULT_NEAR, ordered=ordered)
    if not digits.isascii() or not digits.isdigit():
        raise QuerySyntaxError(
            f'invalid distance in "{chunk}": expected {found.group(1)}/<number>, e.g. {found.group(1)}/5',
            pos,
        )
    distance = int(digits)
    if distance > _MAX_DISTANCE:
        raise QuerySyntaxError(f"{found.group(1)} distance {distance} is over {_MAX_DISTANCE}", pos)
    return Token(Kind.NEAR, pos, chunk, distance=distance, ordered=ordered)
