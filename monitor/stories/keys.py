"""Group items that report the same story, across feeds (pure: no I/O, no clock, no database).

An item's :class:`StoryKey` is computed once and stored next to it. Two items belong to the same
story when they share a canonical link, or when their texts are near-duplicates: the Jaccard
similarity of the titles' word sets, or of the title + lede (first 15 summary words) word sets,
reaches :data:`THRESHOLD`. Words are NFKC-normalized, case-folded, stop words dropped.

* ``signature`` holds both word sets as sorted 32-bit BLAKE2b word hashes in hex. A title and a
  15-word lede are ~10-30 words, so this is no longer than a 64-slot MinHash sketch, and it
  gives the exact similarity instead of an estimate (the estimate's noise cost recall, measured
  in docs/stories.md).
* ``bands`` are MinHash LSH band keys (8 for the title, 8 for title + lede): the store finds
  candidates by these with an indexed query, then confirms each with :func:`same_story`.

The store should compare only against stories of the last few days: follow-ups weeks later
re-use the same words (measured in docs/stories.md); this module has no clock on purpose.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from monitor.stories import minhash as mh

__all__ = ["THRESHOLD", "StoryKey", "best_text_match", "same_story", "similarity", "story_key"]

THRESHOLD: float = 0.45
"""Minimum similarity for two texts to be one story: the lowest value at which precision on the
hand-labelled pairs stays >= 0.9 (bench/stories.py, docs/stories.md)."""

MIN_WORDS = 6
"""A word set smaller than this never merges by text: short headlines such as "Your Monday
Briefing" are shared by unrelated items, so only a shared link may join them."""

SIGNATURE_PREFIX = "w1:"  # bump when the shingling changes: old and new sets don't compare
# LSH (part tag, bands, rows): bands over the title's MinHash and over the title+lede's, so
# that either road to a merge yields a candidate. P(shared key) = 1 - (1 - J**rows)**bands.
LSH_PARTS: tuple[tuple[str, int, int], ...] = (("t", 8, 1), ("f", 8, 2))
SHINGLES = mh.ShingleConfig()
Ref = TypeVar("Ref")
_HEX_RE = re.compile(r"(?:[0-9a-f]{8})*")


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What gets stored per item to find and confirm its story."""

    canonical_link: str | None
    signature: str  # "w1:<title word hashes>|<lede word hashes>", 8 hex digits each; "" if no words
    bands: tuple[str, ...]  # LSH band keys for indexed lookup; () when the text cannot merge


@dataclass(frozen=True, slots=True)
class _WordSets:
    title: frozenset[int]
    full: frozenset[int]  # title + lede


def _hex_set(shingle_set: set[str]) -> list[str]:
    return sorted({f"{mh.shingle_hash(shingle):08x}" for shingle in shingle_set})


def _bands(title_set: set[str], full_set: set[str]) -> tuple[str, ...]:
    keys: list[str] = []
    for (part, bands, rows), shingle_set in zip(LSH_PARTS, (title_set, full_set), strict=True):
        if len(shingle_set) >= MIN_WORDS:
            sketch = mh.minhash(shingle_set, -(-bands * rows // 16) * 16)
            keys.extend(part + key for key in mh.band_keys(sketch, bands, rows))
    return tuple(keys)


def story_key(title: str, summary: str, canonical_link: str | None) -> StoryKey:
    """Fingerprint one item. Deterministic across runs, machines and Python versions."""
    link = (canonical_link or "").strip() or None
    full_set = mh.shingles(title, summary, SHINGLES)
    if not full_set:
        return StoryKey(canonical_link=link, signature="", bands=())
    title_set = mh.shingles(title, "", SHINGLES)
    title_hex = _hex_set(title_set)
    lede_hex = sorted(set(_hex_set(full_set)) - set(title_hex))
    signature = f"{SIGNATURE_PREFIX}{''.join(title_hex)}|{''.join(lede_hex)}"
    return StoryKey(canonical_link=link, signature=signature, bands=_bands(title_set, full_set))


def _hashes(hex_text: str) -> frozenset[int] | None:
    """Concatenated 8-hex-digit word hashes → their set; None when malformed (one C-level
    decode: this runs for every candidate of every new item)."""
    if len(hex_text) % 8:
        return None
    try:
        raw = bytes.fromhex(hex_text)
    except ValueError:
        return None
    return frozenset(struct.unpack(f">{len(raw) // 4}I", raw))


# Story grouping compares each new item with the recent stories sharing a band, so the same
# stored signatures are parsed batch after batch (16 times each on a 200-feed first poll).
# ~3 kB per entry: 4,096 entries bound this cache at ~12 MB.
@lru_cache(maxsize=4096)
def _word_sets(signature: str) -> _WordSets | None:
    """The hashed word sets of a stored signature; None if empty, foreign or malformed."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return None
    title_hex, bar, lede_hex = signature[len(SIGNATURE_PREFIX) :].partition("|")
    if not bar or _HEX_RE.fullmatch(title_hex) is None or _HEX_RE.fullmatch(lede_hex) is None:
        return None
    title, lede = _hashes(title_hex), _hashes(lede_hex)
    if title is None or lede is None:
        return None
    full = title | lede
    return _WordSets(title=title, full=full) if full else None


def _similarity(a: _WordSets, b: _WordSets) -> float:
    # Titles carry the event; other outlets' summaries drift after the first sentence, and a
    # re-edited headline over an unchanged lede is still the same story: take the better road.
    by_title = 0.0
    if min(len(a.title), len(b.title)) >= MIN_WORDS:
        by_title = mh.jaccard(a.title, b.title)
    return max(by_title, mh.jaccard(a.full, b.full))


def similarity(a: StoryKey, b: StoryKey) -> float:
    """Similarity (0..1) of the two texts; links are not considered.

    The larger of the Jaccard similarity of the titles' word sets (when both titles have at
    least MIN_WORDS words) and that of the title + lede word sets. 0.0 when either side has no
    usable signature (no words, or a malformed stored value).
    """
    sets_a, sets_b = _word_sets(a.signature), _word_sets(b.signature)
    if sets_a is None or sets_b is None:
        return 0.0
    return _similarity(sets_a, sets_b)


def same_story(a: StoryKey, b: StoryKey) -> bool:
    """Same canonical link, or near-duplicate text at or above :data:`THRESHOLD`."""
    if a.canonical_link is not None and a.canonical_link == b.canonical_link:
        return True
    sets_a, sets_b = _mergeable(_word_sets(a.signature)), _mergeable(_word_sets(b.signature))
    return sets_a is not None and sets_b is not None and _similarity(sets_a, sets_b) >= THRESHOLD


def _mergeable(sets: _WordSets | None) -> _WordSets | None:
    """The word sets when they are large enough to merge by text (see MIN_WORDS), else None."""
    return sets if sets is not None and len(sets.full) >= MIN_WORDS else None


def best_text_match(signature: str, candidates: Iterable[tuple[Ref, str]]) -> Ref | None:
    """The candidate whose stored signature is most similar to ``signature`` at or above
    :data:`THRESHOLD` (the first one on ties), else None; links are not considered.

    Same decision as :func:`same_story` + :func:`similarity` per candidate."""
    mine = _mergeable(_word_sets(signature))
    if mine is None:
        return None
    best: tuple[float, Ref] | None = None
    for ref, other_signature in candidates:
        other = _mergeable(_word_sets(other_signature))
        if other is None:
            continue
        score = _similarity(mine, other)
        if score >= THRESHOLD and (best is None or score > best[0]):
            best = (score, ref)
            if score == 1.0:  # nothing can beat it
                break
    return None if best is None else best[1]
