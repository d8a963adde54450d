"""An item's text as the engine reads it: each field split into words once, with lookup tables
built on demand for the three ways a literal compares words (``Literal.mode``):

* "exact": as written (``=UN``);
* "folded": lower-cased (the default);
* "loose": lower-cased, accents and width folded (``~Pyongyang``; segment.loose).

A word followed by a Korean particle (북한이) also stands for its stem (북한) at the same position:
the stems are extra keys of the position, so a term matches the whole word or the word minus a
particle, and spans still cover the word as written.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping

from monitor.rules.segment import HANGUL_RE, loose, particle_stems
from monitor.rules.syntax import FIELDS, Literal, WordPattern
from monitor.rules.text import mask_possessives, split_words, word_spans

Alternatives = dict[int, tuple[str, ...]]  # word position → the stems it also stands for


class FieldText:
    """One field's text split into words once, with lazily built lookup tables."""

    __slots__ = ("_char_spans", "_index", "_padded", "_sorted", "_stems", "folded", "folded_text", "masked", "text",
                 "words")  # fmt: skip

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = mask_possessives(text)
        self.words: list[str] = split_words(self.masked)
        # Lower-casing the joined words equals lower-casing each word; one C call is faster.
        self.folded_text = " ".join(self.words).lower()
        self.folded: list[str] = self.folded_text.split()
        self._stems: dict[str, Alternatives] | None = None
        if not self.folded_text.isascii() and HANGUL_RE.search(self.folded_text) is not None:
            found = {i: particle_stems(word) for i, word in enumerate(self.words)}
            self._stems = {"exact": {i: stems for i, stems in found.items() if stems}}
        self._index: dict[str, dict[str, list[int]]] = {}
        self._char_spans: list[tuple[int, int]] | None = None
        self._sorted: dict[str, list[str]] = {}
        self._padded: dict[bool, str] = {}

    @property
    def has_stems(self) -> bool:
        return self._stems is not None and bool(self._stems["exact"])

    def tokens(self, mode: str) -> list[str]:
        """The words as ``mode`` compares them, one per position."""
        if mode == "exact":
            return self.words
        if mode == "folded" or self.folded_text.isascii():  # ASCII words fold loosely to lower case
            return self.folded
        return [loose(word) for word in self.words]

    def stems(self, mode: str) -> Alternatives:
        """Position → the stems of its word without a Korean particle, compared as ``mode``."""
        if self._stems is None:
            return {}
        found = self._stems.get(mode)
        if found is None:
            change = str.lower if mode == "folded" else loose
            found = self._stems[mode] = {i: tuple(map(change, s)) for i, s in self._stems["exact"].items()}
        return found

    def index(self, mode: str) -> dict[str, list[int]]:
        """Word (or stem) → ascending positions, compared as ``mode``."""
        if mode == "loose" and self.folded_text.isascii():
            mode = "folded"
        table = self._index.get(mode)
        if table is None:
            table = {}
            for position, word in enumerate(self.tokens(mode)):
                table.setdefault(word, []).append(position)
            for position, stems in self.stems(mode).items():
                for stem in stems:
                    table.setdefault(stem, []).append(position)
            if self.has_stems:
                table = {word: sorted(set(found)) for word, found in table.items()}
            self._index[mode] = table
        return table

    def starting_with(self, prefix: str, mode: str) -> list[str]:
        """Distinct words that start with ``prefix`` (bisect over the sorted distinct words)."""
        ordered = self._sorted.get(mode)
        if ordered is None:
            ordered = self._sorted[mode] = sorted(self.index(mode))
        first = bisect_left(ordered, prefix)
        last = first
        while last < len(ordered) and ordered[last].startswith(prefix):
            last += 1
        return ordered[first:last]

    def padded(self, case_sensitive: bool) -> str:
        """The words joined by single spaces, with a space at both ends: a phrase of plain
        words occurs exactly when " w1 w2 " is a substring (unless the field has stems)."""
        text = self._padded.get(case_sensitive)
        if text is None:
            joined = " ".join(self.words) if case_sensitive else self.folded_text
            text = self._padded[case_sensitive] = f" {joined} "
        return text

    def char_span(self, first: int, end: int) -> tuple[int, int]:
        """Character offsets in the original text of words first..end-1."""
        if self._char_spans is None:
            self._char_spans = word_spans(self.masked)
        return self._char_spans[first][0], self._char_spans[end - 1][1]


class ItemText:
    """The three text fields of one item, tokenized on demand, and its detected language.

    ``present`` holds every case-folded word and stem of all fields (the prefilter adds its
    ``prefix*`` keys to it; those cannot clash with words, which never contain "*")."""

    __slots__ = ("_cache", "_field_words", "_padded_all", "fields", "lang", "present")

    def __init__(self, fields: Mapping[str, str], lang: str | None = None) -> None:
        self.fields: dict[str, FieldText] = {name: FieldText(fields.get(name) or "") for name in FIELDS}
        self.lang = lang
        self.present: set[str] = set().union(*(f.folded for f in self.fields.values()))
        for field in self.fields.values():
            for stems in field.stems("folded").values():
                self.present.update(stems)
        # Keyed by id(): hashing a Literal walks its fields, and compile_rules makes equal
        # literals one shared object, so rules still share the results.
        self._cache: dict[str, dict[int, list[int]]] = {name: {} for name in FIELDS}
        self._field_words: dict[str, set[str]] = {}
        self._padded_all: str | None = None

    def padded_all(self) -> str:
        """Every field's folded words joined by single spaces, fields apart by two, with a space
        at both ends: " prefix" occurs in it exactly where a word starts with prefix."""
        if self._padded_all is None:
            self._padded_all = " " + "  ".join(f.folded_text for f in self.fields.values()) + " "
        return self._padded_all

    def field_words(self, field: str) -> set[str]:
        """The case-folded words (and stems) of one field."""
        found = self._field_words.get(field)
        if found is None:
            text = self.fields[field]
            found = self._field_words[field] = set(text.folded)
            for stems in text.stems("folded").values():
                found.update(stems)
        return found

    def prefilter_input(self, loose_keys: bool) -> tuple[set[str], list[str]]:
        """The keys and texts the prefilter looks at: the folded words and, when some rule has
        loose (``~``) terms, also the loose forms of the words that have one of their own."""
        texts = [f.folded_text for f in self.fields.values()]
        if not loose_keys or all(text.isascii() for text in texts):
            return self.present, texts
        extra = [" ".join(f.tokens("loose")) for f in self.fields.values() if not f.folded_text.isascii()]
        keys = self.present.union(*(text.split() for text in extra))
        for field in self.fields.values():
            for stems in field.stems("loose").values():
                keys.update(stems)
        return keys, texts + extra

    def starts(self, literal: Literal, field: str) -> list[int]:
        """Word positions in ``field`` where ``literal`` begins (cached per literal)."""
        cache = self._cache[field]
        found = cache.get(id(literal))
        if found is None:
            found = [] if self._absent(literal) else _find(literal, self.fields[field])
            cache[id(literal)] = found
        return found

    def _absent(self, literal: Literal) -> bool:
        """A cheap proof that the literal's first word is in no field (most members of a large
        alias are absent from any one item: this skips their word-index lookups)."""
        if literal.loose and not all(f.folded_text.isascii() for f in self.fields.values()):
            return False  # loose forms of non-ASCII words differ from their folded forms
        first = literal.words[0]
        text = first.text.lower() if literal.case_sensitive else first.text
        if first.prefix:
            return " " + text not in self.padded_all()
        return text not in self.present


def _find(literal: Literal, field: FieldText) -> list[int]:
    first, mode = literal.words[0], literal.mode
    index = field.index(mode)
    if first.prefix:
        matching = field.starting_with(first.text, mode)
        starts = sorted({p for word in matching for p in index[word]})
    else:
        starts = index.get(first.text, [])
    if len(literal.words) == 1:
        return starts
    words, stems, rest = field.tokens(mode), field.stems(mode), literal.words[1:]
    return [s for s in starts if _continues(words, stems, s + 1, rest)]


def _continues(words: list[str], stems: Alternatives, at: int, rest: tuple[WordPattern, ...]) -> bool:
    if at + len(rest) > len(words):
        return False
    for offset, pattern in enumerate(rest):
        word = words[at + offset]
        if pattern.prefix:  # a stem is a prefix of its word: the word alone decides
            if not word.startswith(pattern.text):
                return False
        elif word != pattern.text and pattern.text not in stems.get(at + offset, ()):
            return False
    return True
