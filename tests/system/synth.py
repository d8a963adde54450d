"""Synthetic feeds for the system tests: our own made-up words, so no third-party text is needed
and every matching item is told apart by a unique reference word (`ref_word`)."""

from __future__ import annotations

import random

from tests.e2e.feeds import Entry, rss

MATCH_WORD = "zorblat"  # the rule below matches MATCH_WORD AND embargo
RULES_YAML = """
rules:
  - id: zorblat-embargo
    title: Zorblat embargo breaches
    query: 'zorblat AND embargo'
    severity: high
"""
_SYLLABLES = ("ka", "lo", "mer", "tin", "vu", "sa", "dor", "pel", "qi", "ran", "bo", "nex")


def _vocabulary(size: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class FeedWriter:
    """Deterministic feeds: feed `n` has `quiet` ordinary entries plus any matching ones added.

    Varied random words keep the matching items from looking like one story told many times
    (near-duplicate clustering must not be what decides whether an alert goes out)."""

    def __init__(self, seed: int, quiet: int = 3) -> None:
        self._rng = random.Random(seed)
        self._words = _vocabulary(600, self._rng)
        self._quiet = quiet
        self._entries: dict[int, list[Entry]] = {}

    def _text(self, count: int) -> str:
        return " ".join(self._rng.choice(self._words) for _ in range(count))

    def _entries_of(self, feed: int) -> list[Entry]:
        if feed not in self._entries:
            self._entries[feed] = [
                Entry(f"q-{feed}-{k}", self._text(7).capitalize(), self._text(20), f"https://example.org/{feed}/q{k}")
                for k in range(self._quiet)
            ]
        return self._entries[feed]

    def add_match(self, feed: int, serial: int) -> str:
        """Adds a matching entry to the top of feed `feed`; returns its reference word."""
        ref = ref_word(feed, serial)
        title = f"{self._text(3).capitalize()} {MATCH_WORD} {self._text(2)} {ref}"
        summary = f"{self._text(8)} embargo {self._text(8)}"
        entry = Entry(f"m-{feed}-{serial}", title, summary, f"https://example.org/{feed}/m{serial}")
        self._entries_of(feed).insert(0, entry)
        return ref

    def body(self, feed: int) -> bytes:
        return rss(f"Feed {feed}", self._entries_of(feed))

    def item_count(self, feed: int) -> int:
        return len(self._entries_of(feed))


def ref_word(feed: int, serial: int) -> str:
    return f"zq{feed:03d}x{serial:02d}"


def feed_path(feed: int) -> str:
    return f"/feed/{feed}.xml"
