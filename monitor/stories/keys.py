"""Group items that report the same story, across feeds (pure: no I/O, no clock, no database).

An item's :class:`StoryKey` is computed once and stored next to it. Two items belong to the same
story when they share a canonical link, or when their texts are near-duplicates: the similarity
(:func:`similarity`) reaches :data:`THRESHOLD`. Items that name different weekdays or ordinals
are different occurrences of a recurring event (the Tuesday and the Friday launch, the fifth and
the sixth tanker) and never merge by text. Otherwise the better of two roads counts, each with a
guard (:class:`MergeRule` has the reasons and numbers):

* the *title + lede* road: the Jaccard similarity of the word sets of the title and the first 15
  summary words, counted only when the titles share a word or the texts are near-copies (a
  boilerplate summary under unrelated headlines is no evidence);
* the *title* road: the titles' Jaccard similarity, weighed down (0.8) unless both headlines
  carry the same count, and counted only when the summaries corroborate it (a shared headline
  clause over summaries that share nothing hid unrelated news) and the headlines carry no
  different numbers.

Words are NFKC-normalized, case-folded, stop words dropped.

* ``signature`` holds the title's and the lede's word sets as sorted 32-bit BLAKE2b word hashes in
  hex, and the marker tokens of ``monitor.stories.markers``. A title and a 15-word lede are ~10-30
  words, so this is no longer than a 64-slot MinHash sketch, and it gives the exact similarity
  instead of an estimate (the estimate's noise cost recall, measured in docs/stories.md).
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

from monitor.stories import markers as mk
from monitor.stories import minhash as mh
from monitor.types import StoryKey

__all__ = ["RULE", "THRESHOLD", "MergeRule", "StoryKey", "best_text_match", "same_story", "similarity", "story_key"]

THRESHOLD: float = 0.45
"""Minimum similarity for two texts to be one story: the lowest value at which precision on the
hand-labelled pairs stays >= 0.9 (bench/stories.py, docs/stories.md)."""

MIN_WORDS = 6
"""A word set smaller than this never merges by text: short headlines such as "Your Monday
Briefing" are shared by unrelated items, so only a shared link may join them."""

# Bump when the stored sets change: a signature with another prefix compares as unrelated.
# w2 (issue 10): the lede part lists every lede word (w1 left out those also in the title, which
# the title road's corroboration needs) and a third part holds the marker tokens.
SIGNATURE_PREFIX = "w2:"
# LSH (part tag, bands, rows): bands over the title's MinHash and over the title+lede's, so
# that either road to a merge yields a candidate. P(shared key) = 1 - (1 - J**rows)**bands.
LSH_PARTS: tuple[tuple[str, int, int], ...] = (("t", 8, 1), ("f", 8, 2))
SHINGLES = mh.ShingleConfig()
Ref = TypeVar("Ref")
_HEX_RE = re.compile(r"(?:[0-9a-f]{8})*")


@dataclass(frozen=True, slots=True)
class MergeRule:
    """How the two roads to a merge are weighed and guarded (bench/stories.py measures others;
    docs/stories.md has the numbers). The defaults are production's; the w1 rule, which merged on
    a shared headline clause alone, is ``MergeRule(1.0, 1.0, 0, False, False)``."""

    # The title road scores the titles' Jaccard times this: at THRESHOLD 0.45 it needs 0.5625, more
    # than half of the title words. Recurring formats share half their headline ("Dollar Holds
    # Above Record Low Vs Euro" / "Dollar Dives to Record Low Vs. Euro").
    title_weight: float = 0.8
    # ...and times this instead when both headlines carry the same count ("dies at 84"): the
    # counterpart of recurring_veto, and a good sign of the same event.
    count_weight: float = 1.0
    # Title road: at least this many words of the two summaries must occur in the other item
    # (0: off). A summary that shares (almost) nothing with the other item outweighs the headline.
    corroboration: int = 2
    # Recurring events: items naming different weekdays or ordinals (the Tuesday and the Friday
    # launch, the fifth and the sixth tanker) never merge by text; different headline numbers
    # close the title road only, as outlets update counts ("kill 10" / "kill 11": one bombing).
    recurring_veto: bool = True
    # Title + lede road: the titles must share a word, unless the texts are near-copies (a wire
    # report under another outlet's headline). Below that, the same summary under unrelated
    # headlines was boilerplate ("This fourth priority's main focus has been..."; up to 0.64).
    headline_gate: bool = True
    copy_similarity: float = 0.75


RULE = MergeRule()


@dataclass(frozen=True, slots=True)
class _WordSets:
    title: frozenset[int]
    lede: frozenset[int]  # the lede's own words, also those in the title
    full: frozenset[int]  # title + lede
    markers: mk.Markers


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
    title_words, lede_words = mh.title_and_lede(title, summary, SHINGLES)
    full_set = mh.ngrams(title_words + lede_words, SHINGLES.size)
    if not full_set:
        return StoryKey(canonical_link=link, signature="", bands=())
    title_set = mh.ngrams(title_words, SHINGLES.size)
    title_hex, lede_hex = _hex_set(title_set), _hex_set(mh.ngrams(lede_words, SHINGLES.size))
    tokens = ",".join(mk.markers(title_words, lede_words))
    signature = f"{SIGNATURE_PREFIX}{''.join(title_hex)}|{''.join(lede_hex)}|{tokens}"
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
    """The hashed word sets of a stored signature; None if empty, foreign or malformed (an older
    prefix included: its sets were made by other rules, so it merges by link only)."""
    if not signature.startswith(SIGNATURE_PREFIX):
        return None
    parts = signature[len(SIGNATURE_PREFIX) :].split("|")
    if len(parts) != 3 or not all(_HEX_RE.fullmatch(part) for part in parts[:2]):
        return None
    title, lede, markers = _hashes(parts[0]), _hashes(parts[1]), mk.parse(parts[2])
    if title is None or lede is None or markers is None:
        return None
    full = title | lede
    return _WordSets(title=title, lede=lede, full=full, markers=markers) if full else None


def _similarity(a: _WordSets, b: _WordSets, rule: MergeRule) -> float:
    # Titles carry the event, and other outlets' summaries drift after the first sentence, so a
    # title match counts on its own road; see MergeRule for what guards each road.
    if rule.recurring_veto and mk.recurring(a.markers, b.markers):
        return 0.0
    by_title = 0.0
    if _title_road_open(a, b, rule):
        weight = rule.count_weight if mk.share_count(a.markers, b.markers) else rule.title_weight
        by_title = weight * mh.jaccard(a.title, b.title)
    by_text = mh.jaccard(a.full, b.full)
    gated = rule.headline_gate and a.title and b.title and not a.title & b.title
    if gated and by_text < rule.copy_similarity:
        by_text = 0.0
    return max(by_title, by_text)


def _title_road_open(a: _WordSets, b: _WordSets, rule: MergeRule) -> bool:
    if min(len(a.title), len(b.title)) < MIN_WORDS:
        return False
    # An item without a summary has only its headline to go by.
    if a.lede and b.lede and len((a.lede & b.full) | (b.lede & a.full)) < rule.corroboration:
        return False
    return not (rule.recurring_veto and mk.counts_differ(a.markers, b.markers))


def similarity(a: StoryKey, b: StoryKey, rule: MergeRule = RULE) -> float:
    """Similarity (0..1) of the two texts, as the merge decision weighs it; links are not
    considered.

    0.0 for different occurrences of a recurring event, else the larger of the two roads (module
    docstring, ``rule``): the title + lede word sets' Jaccard similarity, and the titles' Jaccard
    times the title weight when both titles have at least MIN_WORDS words. 0.0 as well when either
    side has no usable signature (no words, a malformed or older stored value).
    """
    sets_a, sets_b = _word_sets(a.signature), _word_sets(b.signature)
    if sets_a is None or sets_b is None:
        return 0.0
    return _similarity(sets_a, sets_b, rule)


def same_story(a: StoryKey, b: StoryKey) -> bool:
    """Same canonical link, or near-duplicate text at or above :data:`THRESHOLD`."""
    if a.canonical_link is not None and a.canonical_link == b.canonical_link:
        return True
    sets_a, sets_b = _mergeable(_word_sets(a.signature)), _mergeable(_word_sets(b.signature))
    return sets_a is not None and sets_b is not None and _similarity(sets_a, sets_b, RULE) >= THRESHOLD


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
        score = _similarity(mine, other, RULE)
        if score >= THRESHOLD and (best is None or score > best[0]):
            best = (score, ref)
            if score == 1.0:  # nothing can beat it
                break
    return None if best is None else best[1]
