"""Group items that report the same story, across feeds (pure: no I/O, no clock, no database).

An item's :class:`StoryKey` is computed once and stored next to it. Two items belong to the same
story when they share a canonical link, or when the MinHash estimate of the Jaccard similarity of
their word sets (normalized title + summary, stop words dropped) reaches :data:`THRESHOLD`.
The store finds candidate stories through :attr:`StoryKey.bands` (LSH band keys) with an indexed
lookup, then confirms each candidate with :func:`same_story`.

Why these settings: see docs/stories.md (threshold and shingling were measured on hand-labelled
pairs from real feeds, ``bench/stories.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor import stories_minhash as mh

__all__ = ["THRESHOLD", "StoryKey", "same_story", "similarity", "story_key"]

THRESHOLD: float = 0.5
"""Minimum estimated Jaccard similarity for two texts to be one story (see docs/stories.md)."""

MIN_WORDS = 6
"""Texts with fewer distinct content words never merge by text: a short headline such as
"Your Monday Briefing" is shared by unrelated items, so only a shared link may join them."""

SIGNATURE_VERSION = "m1"
LSH_BANDS = 16
LSH_ROWS = 2  # with 16 bands: P(candidate) ≈ 0.94 at J = 0.4, ≈ 0.99 at J = 0.5
SHINGLES = mh.ShingleConfig(size=1, drop_stop_words=True)


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What gets stored per item to find and confirm its story."""

    canonical_link: str | None
    signature: str  # "m1:<distinct words>:<hex MinHash>", or "" when the text has no words
    bands: tuple[str, ...]  # LSH band keys for indexed candidate lookup; () when text can't merge


@dataclass(frozen=True, slots=True)
class _Sketch:
    word_count: int
    slots: tuple[int, ...]


def story_key(title: str, summary: str, canonical_link: str | None) -> StoryKey:
    """Fingerprint one item. Deterministic across runs and machines."""
    link = canonical_link.strip() if canonical_link else None
    shingle_set = mh.shingles(f"{title}\n{summary}", SHINGLES)
    if not shingle_set:
        return StoryKey(canonical_link=link or None, signature="", bands=())
    slots = mh.minhash(shingle_set)
    signature = f"{SIGNATURE_VERSION}:{len(shingle_set)}:{mh.encode(slots)}"
    can_merge = len(shingle_set) >= MIN_WORDS
    bands = mh.band_keys(slots, LSH_BANDS, LSH_ROWS) if can_merge else ()
    return StoryKey(canonical_link=link or None, signature=signature, bands=bands)


def _sketch(signature: str) -> _Sketch | None:
    """Parse a stored signature; None for empty, foreign-version or malformed text."""
    version, _, rest = signature.partition(":")
    count_text, _, hex_slots = rest.partition(":")
    if version != SIGNATURE_VERSION or not count_text.isdigit():
        return None
    try:
        slots = mh.decode(hex_slots)
    except ValueError:
        return None
    if len(slots) != mh.NUM_HASHES:
        return None
    return _Sketch(word_count=int(count_text), slots=slots)


def similarity(a: StoryKey, b: StoryKey) -> float:
    """Estimated Jaccard similarity (0..1) of the two texts; links are not considered.

    0.0 when either side has no usable signature (empty text, or a malformed stored value).
    """
    sketch_a, sketch_b = _sketch(a.signature), _sketch(b.signature)
    if sketch_a is None or sketch_b is None:
        return 0.0
    return mh.estimated_jaccard(sketch_a.slots, sketch_b.slots)


def same_story(a: StoryKey, b: StoryKey) -> bool:
    """Same canonical link, or near-duplicate text at or above :data:`THRESHOLD`."""
    if a.canonical_link is not None and a.canonical_link == b.canonical_link:
        return True
    sketch_a, sketch_b = _sketch(a.signature), _sketch(b.signature)
    if sketch_a is None or sketch_b is None:
        return False
    if min(sketch_a.word_count, sketch_b.word_count) < MIN_WORDS:
        return False
    return mh.estimated_jaccard(sketch_a.slots, sketch_b.slots) >= THRESHOLD
