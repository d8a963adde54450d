"""Words that tell a recurring event from the last one: weekdays, ordinals, headline numbers.

A missile launch on Tuesday and another on Friday, the fifth and the sixth tanker seized, the team
report of 13 November and of 20 November: the headlines share almost every word, so word overlap
alone calls them one story. What differs is a day, a count or a date. ``markers`` picks those words
out of an item's (already normalized) words as short canonical tokens; ``recurring`` and
``counts_differ`` tell whether two items name different ones. Pure: no I/O, no clock.

Tokens: ``d0``..``d6`` a weekday (Monday = 0) in the title or lede, ``o2``.. an ordinal in the title
or lede ("fifth", "5th"), ``n<digits>`` a number in the title. Numbers in the lede are left out:
outlets round and update counts ("kill 10" / "kill 11" was one car bombing), and a headline number
is what names the event of a recurring format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

MAX_MARKERS = 16  # per item: bounds the stored signature for hostile input
MAX_DIGITS = 9
MAX_COUNT = 999

# Weekdays in the languages the stop words cover (Portuguese names them "segunda-feira", whose
# first word is also "second", so it is left out).
_WEEKDAY_NAMES = (
    "monday lunes lundi montag",
    "tuesday martes mardi dienstag",
    "wednesday miércoles mercredi mittwoch",
    "thursday jueves jeudi donnerstag",
    "friday viernes vendredi freitag",
    "saturday sábado samedi samstag",
    "sunday domingo dimanche sonntag",
)
WEEKDAYS: dict[str, int] = {name: day for day, names in enumerate(_WEEKDAY_NAMES) for name in names.split()}

# "first" is left out: "for the first time" counts nothing, and a first event has no earlier
# one to be confused with.
_ORDINAL_WORDS = "second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
ORDINALS: dict[str, int] = {word: n for n, word in enumerate(_ORDINAL_WORDS.split(), start=2)}
_DIGIT_ORDINAL_RE = re.compile(r"(\d{1,4})(?:st|nd|rd|th)")
TOKEN_RE = re.compile(rf"[dno]\d{{1,{MAX_DIGITS}}}")


def _ordinal(word: str) -> int | None:
    if word in ORDINALS:
        return ORDINALS[word]
    found = _DIGIT_ORDINAL_RE.fullmatch(word)
    return int(found.group(1)) if found and word.isascii() else None


def markers(title_words: Sequence[str], lede_words: Sequence[str]) -> tuple[str, ...]:
    """The marker tokens of one item, sorted, at most MAX_MARKERS."""
    found: set[str] = set()
    for word in (*title_words, *lede_words):
        if word in WEEKDAYS:
            found.add(f"d{WEEKDAYS[word]}")
        ordinal = _ordinal(word)
        if ordinal is not None and ordinal > 1:
            found.add(f"o{ordinal}")
    for word in title_words:
        if word.isascii() and word.isdigit() and len(word) <= MAX_DIGITS:
            found.add(f"n{int(word)}")
    return tuple(sorted(found)[:MAX_MARKERS])


class Markers(NamedTuple):
    """An item's marker tokens by kind, as compared."""

    days: frozenset[str]
    ordinals: frozenset[str]
    numbers: frozenset[str]


NO_MARKERS = Markers(frozenset(), frozenset(), frozenset())


def parse(text: str) -> Markers | None:
    """The markers of a stored token list ("d1,n13,o5"); None if it is malformed."""
    if not text:
        return NO_MARKERS
    tokens = text.split(",")
    if len(tokens) > MAX_MARKERS or not all(TOKEN_RE.fullmatch(token) for token in tokens):
        return None
    return Markers(*(frozenset(t for t in tokens if t[0] == kind) for kind in "don"))


def _differ(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b and not a & b)


def recurring(a: Markers, b: Markers) -> bool:
    """Whether the items name different weekdays or different ordinals: another occurrence."""
    return _differ(a.days, b.days) or _differ(a.ordinals, b.ordinals)


def counts_differ(a: Markers, b: Markers) -> bool:
    """Whether both headlines carry numbers and none in common (13 November / 20 November)."""
    return _differ(a.numbers, b.numbers)


def share_count(a: Markers, b: Markers) -> bool:
    """Whether both headlines carry the same count (2..999): "nine arrested", "dies at 84". Zero
    and one say little, and four-digit numbers are mostly years, which recurring events share."""
    return any(2 <= int(token[1:]) <= MAX_COUNT for token in a.numbers & b.numbers)
