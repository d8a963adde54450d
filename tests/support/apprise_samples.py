"""Sample Apprise URLs for every URL template of every plugin, with a recognisable, random value
in each token, so a test can check that no token value survives redaction.

Values are built from each token's own pattern (Apprise gives many tokens a regex: Slack's
``^[A-Z0-9]+$``, ntfy's topic, Telegram's bot token), so Apprise accepts most samples. A small
walker over Python's regex parse tree generates them; it covers what Apprise's patterns use
(literals, classes, ranges, repeats, groups, alternation) and nothing more.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

# The regex parser is private API (public `sre_parse` is deprecated); acceptable in a test helper.
from re import _constants as _sre_constants  # type: ignore[attr-defined]
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any

from apprise.apprise import N_MGR

HOST = "notify.example.org"
_TEMPLATE_TOKEN = re.compile(r"\{([a-z0-9_]+)\}")
# What "." and \w produce: letters and digits only, so a sample never holds URL syntax by accident.
_WORD = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class Sample:
    plugin: str  # the plugin's class name, for failure messages
    template: str
    url: str
    secrets: tuple[str, ...]  # every token value except host, port, numbers and choices


def samples(seed: int = 20251202) -> Iterator[Sample]:
    """One sample per plugin, URL template and scheme, for every plugin Apprise knows, enabled or
    not; the same seed gives the same samples."""
    rng = random.Random(seed)
    for plugin in N_MGR.plugins():
        schemes = schemes_of(plugin)
        for template in plugin.templates:
            for scheme in schemes:
                yield _sample(plugin, template, scheme, rng)


def schemes() -> set[str]:
    return {scheme for plugin in N_MGR.plugins() for scheme in schemes_of(plugin)}


def schemes_of(plugin: Any) -> tuple[str, ...]:
    found: list[str] = []
    for attribute in ("protocol", "secure_protocol"):
        value = getattr(plugin, attribute, None)
        found.extend([value] if isinstance(value, str) else list(value or ()))
    return tuple(dict.fromkeys(found))


def _sample(plugin: Any, template: str, scheme: str, rng: random.Random) -> Sample:
    secrets: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "schema":
            return scheme
        value, secret = _value(name, _token(plugin, name), rng)
        if secret:
            secrets.append(value.partition("@")[0])  # an e-mail's domain is not the secret part
        return value

    url = _TEMPLATE_TOKEN.sub(fill, template)
    return Sample(plugin.__name__, template, url, tuple(secrets))


def _token(plugin: Any, name: str) -> dict[str, Any]:
    """A token's description; `targets` takes that of the plugin's first kind of target (a phone
    number, an e-mail address, a channel), which is what Apprise checks each target against."""
    tokens: dict[str, Any] = plugin.template_tokens
    if name == "targets":
        kinds = [token for key, token in tokens.items() if key.startswith("target_")]
        if kinds:
            return dict(kinds[0])
    return dict(tokens.get(name, {}))


def _value(name: str, token: dict[str, Any], rng: random.Random) -> tuple[str, bool]:
    kind = str(token.get("type", "string"))
    if name == "host":
        return HOST, False
    if name == "path":
        return f"/{_random_word(rng, 12)}/", True
    if kind == "int":
        low, high = int(token.get("min", 1)), int(token.get("max", 65535))
        return str(max(low, min(high, 8443))), False
    if kind.startswith("choice"):
        return str(next(iter(token.get("values", ("a",))))), False
    if kind.startswith("email"):
        return f"{_random_word(rng, 12)}@example.org", True
    regex = token.get("regex")
    if regex:
        return _from_regex(regex[0], rng), True
    return _random_word(rng, 16), True


def _random_word(rng: random.Random, length: int) -> str:
    # starts with a letter: a leading digit makes some plugins read a port or a phone number
    return rng.choice(string.ascii_letters) + "".join(rng.choice(_WORD) for _ in range(length - 1))


def _from_regex(pattern: str, rng: random.Random) -> str:
    return "".join(_emit(_sre_parse.parse(pattern), rng))


def _emit(tree: Any, rng: random.Random) -> Iterator[str]:
    for op, argument in tree:
        yield from _emit_one(op, argument, rng)


def _emit_one(op: Any, argument: Any, rng: random.Random) -> Iterator[str]:
    c = _sre_constants
    if op is c.LITERAL:
        yield chr(argument)
    elif op is c.ANY:
        yield rng.choice(_WORD)
    elif op is c.IN:
        yield _from_class(argument, rng)
    elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        low, high, body = argument
        # optional parts (`?`, `*`) are left out; `+` gives 11, a length phone numbers accept
        if high == c.MAXREPEAT:
            count = 0 if low == 0 else max(low, 11)
        else:
            count = 0 if (low, high) == (0, 1) else max(low, min(high, 16))
        for _ in range(count):
            yield from _emit(body, rng)
    elif op is c.SUBPATTERN:
        yield from _emit(argument[-1], rng)
    elif op is c.BRANCH:
        yield from _emit(argument[1][0], rng)  # the first alternative: deterministic enough
    elif op is c.CATEGORY:
        yield rng.choice(string.digits if argument is c.CATEGORY_DIGIT else _WORD)
    # AT (anchors), ASSERT and friends produce nothing


def _from_class(items: Any, rng: random.Random) -> str:
    negated = bool(items) and items[0][0] is _sre_constants.NEGATE
    members = items[1:] if negated else items
    choices = [ch for ch in _UNIVERSE if _in_class(ch, members) != negated]
    preferred = [ch for ch in choices if ch in _WORD]
    return rng.choice(preferred or choices)


def _in_class(ch: str, items: Any) -> bool:
    c = _sre_constants
    for op, argument in items:
        if op is c.LITERAL and ch == chr(argument):
            return True
        if op is c.RANGE and argument[0] <= ord(ch) <= argument[1]:
            return True
        if op is c.CATEGORY and _CATEGORIES.get(argument, lambda _: False)(ch):
            return True
    return False


_UNIVERSE = _WORD + "-_.+"
_CATEGORIES = {
    _sre_constants.CATEGORY_DIGIT: str.isdigit,
    _sre_constants.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdigit(),
    _sre_constants.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
    _sre_constants.CATEGORY_NOT_WORD: lambda ch: not (ch.isalnum() or ch == "_"),
    _sre_constants.CATEGORY_SPACE: str.isspace,
    _sre_constants.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
}
