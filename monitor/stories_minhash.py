"""Text → word shingles → MinHash signature → LSH band keys (the tunable machinery behind stories).

Kept apart from ``monitor.stories`` so that ``bench/stories.py`` can measure other settings
(shingle size, stop words) with exactly the code production uses.

Everything is deterministic across processes, machines and Python versions: hashes come from
BLAKE2b with fixed salts, never from Python's randomised ``hash()``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# 4 BLAKE2b calls x 16 little-endian 32-bit words = 64 independent hash values per shingle.
_WORDS_PER_DIGEST = 16
_DIGESTS = 4
NUM_HASHES = _WORDS_PER_DIGEST * _DIGESTS
_UNPACK = struct.Struct(f"<{_WORDS_PER_DIGEST}I").unpack
_SALTS = tuple(f"story-mh{i}".encode() for i in range(_DIGESTS))
_EMPTY_SLOT = 0xFFFFFFFF

# Possessive / contracted 's after a word ("Russia’s" → "Russia"), any apostrophe form.
_POSSESSIVE_RE = re.compile(r"(?<=\w)['\u2019\u2018\u02bc]s\b")
# A word: a run of Unicode letters/digits (underscore is punctuation here).
_WORD_RE = re.compile(r"[^\W_]+")

# Function words of the feed languages we see most (en, es, fr, de, pt). They carry no story
# identity, and without them two unrelated Spanish headlines sharing "de la ... en el" looked
# alike on the corpus (see docs/stories.md).
_STOP_WORDS_TEXT = """
    a an the of to in on at by for from with without into onto over under about after before
    and or but nor so yet as than that this these those it its is are was were be been being
    has have had do does did will would can could may might must shall should not no
    he she they we you i his her their our your them him us me who whom whose what which when
    where why how while amid says said say new more up out also just s
    el la los las un una unos unas de del al y o u en con por para sin sobre entre que se su sus
    es son lo le les como más pero ya fue ha han este esta estos estas ese esa
    le les des du et ou dans sur pour par avec sans au aux ce cette qui est sont une
    der die das den dem des ein eine einer und oder im mit für von zu auf ist sind nicht
    o os as um uma do da dos das em no na nos nas com por para é
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class ShingleConfig:
    """How text becomes the set that MinHash sketches."""

    size: int = 1  # words per shingle
    drop_stop_words: bool = True
    max_words: int = 120  # long summaries/full bodies are cut: the lede carries the story


def words(text: str, *, drop_stop_words: bool = True) -> list[str]:
    """Normalized words: NFKC, case-folded, possessive 's removed, punctuation as separator."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    found = _WORD_RE.findall(_POSSESSIVE_RE.sub(" ", folded))
    if not drop_stop_words:
        return found
    return [word for word in found if word not in STOP_WORDS]


def shingles(text: str, config: ShingleConfig) -> set[str]:
    """The distinct word n-grams of ``text`` (at most ``config.max_words`` words are read)."""
    tokens = words(text, drop_stop_words=config.drop_stop_words)[: config.max_words]
    if len(tokens) < config.size:
        return {" ".join(tokens)} if tokens else set()
    size = config.size
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def _shingle_hashes(shingle: str) -> list[int]:
    data = shingle.encode("utf-8")
    values: list[int] = []
    for salt in _SALTS:
        values.extend(_UNPACK(hashlib.blake2b(data, digest_size=64, salt=salt).digest()))
    return values


def minhash(items: Iterable[str]) -> tuple[int, ...]:
    """One minimum per hash function; all slots are ``_EMPTY_SLOT`` for an empty set."""
    rows = [_shingle_hashes(item) for item in items]
    if not rows:
        return (_EMPTY_SLOT,) * NUM_HASHES
    return tuple(map(min, zip(*rows, strict=True)))


def encode(slots: Sequence[int]) -> str:
    """Fixed-width lower-case hex, 8 characters per slot."""
    return "".join(f"{slot:08x}" for slot in slots)


def decode(text: str) -> tuple[int, ...]:
    """Inverse of :func:`encode`; raises ValueError on malformed input."""
    if len(text) % 8:
        raise ValueError("signature hex length is not a multiple of 8")
    return tuple(int(text[i : i + 8], 16) for i in range(0, len(text), 8))


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Share of slots where both sketches agree: an unbiased estimate of Jaccard similarity."""
    if not a or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def band_keys(slots: Sequence[int], bands: int, rows: int) -> tuple[str, ...]:
    """LSH band keys: band number + a short digest of that band's rows.

    Two sketches share at least one key with probability 1 - (1 - J**rows)**bands.
    """
    keys: list[str] = []
    for band in range(bands):
        chunk = slots[band * rows : (band + 1) * rows]
        digest = hashlib.blake2b(encode(chunk).encode("ascii"), digest_size=6).hexdigest()
        keys.append(f"{band:02d}{digest}")
    return tuple(keys)
