"""What a "word" is, for rules and for feed text alike.

One definition serves the query parser, the engine and the naive reference matcher, so that
they can never disagree about word boundaries:

* A word is a maximal run of Unicode letters, digits, underscore and combining marks (marks
  are included so that e.g. Devanagari or Arabic words with vowel signs stay whole). Only
  marks in the Basic Multilingual Plane count: with astral ranges in the class Python's
  regex engine falls back to a linear range scan, 3x slower for every item; marks of the
  historic scripts up there still split words.
  Everything else separates words: spaces, punctuation, hyphens, dashes, slashes, apostrophes.
* A possessive or contracted ``'s`` (straight, curly or modifier apostrophe) right after a
  word is blanked out before tokenizing, so "Russia’s" is the single word "Russia" and does
  not add a word position for NEAR.
* Blanking keeps the text length, so character offsets stay valid for spans.
* Runs of a script written without spaces (Chinese, Japanese, Thai…) are cut into words by
  ICU's dictionaries (segment.py), so 北朝鮮がロシアに is 北朝鮮 | が | ロシア | に.
* Case-insensitive comparison uses ``str.lower()``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from monitor.rules.segment import NO_SPACES_RE, cut_runs

APOSTROPHES = "'\u2019\u2018\u02bc"


@cache
def _mark_class() -> str:
    """Regex class body listing every BMP combining mark (Mn/Mc/Me) of this Python's Unicode."""
    ranges: list[list[int]] = []
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return "".join(f"{chr(lo)}-{chr(hi)}" if hi > lo else chr(lo) for lo, hi in ranges)


WORD_CLASS = rf"[\w{_mark_class()}]"
NON_WORD_CLASS = rf"[^\w{_mark_class()}]"
WORD_RE = re.compile(rf"{WORD_CLASS}+")
# For pure-ASCII text \w is the same class and much faster (no mark ranges to test).
_ASCII_WORD_RE = re.compile(r"\w+")
# Starts with the apostrophe (a fast first-character scan), then looks back at the word.
_POSSESSIVE_RE = re.compile(rf"[{APOSTROPHES}](?<={WORD_CLASS}.)[sS](?!{WORD_CLASS})")
_ASCII_POSSESSIVE_RE = re.compile(r"'(?<=\w.)[sS](?!\w)")
_HAS_APOSTROPHE_RE = re.compile(rf"[{APOSTROPHES}]")


def mask_possessives(text: str) -> str:
    """Blank out possessive/contracted 's after a word, keeping every other offset unchanged."""
    if _HAS_APOSTROPHE_RE.search(text) is None:
        return text
    pattern = _ASCII_POSSESSIVE_RE if text.isascii() else _POSSESSIVE_RE
    return pattern.sub("  ", text)


def split_words(masked: str) -> list[str]:
    """The words of an already masked text, in order, original case."""
    if masked.isascii():
        return _ASCII_WORD_RE.findall(masked)
    if NO_SPACES_RE.search(masked) is None:
        return WORD_RE.findall(masked)
    return [masked[start:end] for start, end in word_spans(masked)]


def words(text: str) -> list[str]:
    """The words of ``text`` in order, original case."""
    return split_words(mask_possessives(text))


def word_spans(masked: str) -> list[tuple[int, int]]:
    """Character (start, end) of each word of an already masked text."""
    if masked.isascii():
        return [m.span() for m in _ASCII_WORD_RE.finditer(masked)]
    return cut_runs(masked, [m.span() for m in WORD_RE.finditer(masked)])


def fold(word: str) -> str:
    """Case folding used for case-insensitive matching."""
    return word.lower()
