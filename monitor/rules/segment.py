"""Words in scripts that text.py's character classes cannot split, and the two per-language
allowances that matching makes: Korean particles and loose (accent- and width-insensitive) folding.

* Chinese, Japanese, Thai, Lao, Khmer and Burmese are written without spaces, so a run of word
  characters there is a clause, not a word. Such runs are cut at ICU's dictionary-based word
  boundaries (icu4py, which bundles ICU in its wheel; chosen by bench/segmenters.py, see
  docs/rules.md). Only the runs are cut: the rest of the text keeps text.py's definition,
  so English, Russian or Korean words are never affected.
* Korean writes particles onto the word (북한이, 북한은, 러시아에서는). A word that ends with one
  also counts as the word without it: its "stems". Terms are never stripped, so a term only
  matches a whole word, or a whole word plus a particle.
* Loose folding (the ``~`` term option) compares words after NFKC (full-width letters and digits,
  half-width katakana, ligatures), with the Latin, Greek and Cyrillic diacritics of U+0300–U+036F
  removed and a few letters without a decomposition mapped (ø, ł, đ, ß…): ``Pyŏngyang`` =
  ``Pyongyang`` and ``ＵＮ`` = ``UN``. It works per word, so word positions and spans stay those
  of the original text.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from itertools import pairwise

from icu4py.breakers import WordBreaker

# Thai, Lao, Myanmar, Khmer, kana, CJK ideographs (with extension A and compatibility ones),
# half-width katakana.
_NO_SPACES = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uff66-\uff9f"
)
NO_SPACES_RE = re.compile(f"[{_NO_SPACES}]")
HANGUL_RE = re.compile("[\uac00-\ud7a3]")

# Case and postpositional particles, longest first within each last syllable; combinations
# (에서는 = 에서 + 는) are listed whole. Suffixes that make a new noun (북한군, 북한산) are not
# particles: terms name those words themselves.
PARTICLES = (
    "이", "가", "은", "는", "을", "를", "의", "에", "와", "과", "도",
    "만", "로", "으로", "께", "서", "에서", "에게", "한테", "께서", "까지",
    "부터", "보다", "처럼", "마다", "이나", "나", "이며", "며", "이랑", "랑",
    "이란", "란", "이라는", "라는", "이라고", "라고", "이라며", "라며", "조차",
    "마저", "뿐", "밖에", "과의", "와의", "에서의", "에게서", "으로의", "로의",
    "에의", "에는", "에도", "에서는", "에서도", "으로는", "으로도", "로는", "로도",
    "와는", "과는", "와도", "과도", "에게는", "에게도", "만의", "까지는", "부터는",
    "보다는", "이라도", "라도", "이든", "든", "엔", "에선", "으론", "론",
    "이다", "였다", "이었다",
)  # fmt: skip
_BY_LAST: dict[str, tuple[str, ...]] = {}
for _particle in sorted(PARTICLES, key=len, reverse=True):
    _BY_LAST[_particle[-1]] = (*_BY_LAST.get(_particle[-1], ()), _particle)

_MARKS = re.compile("[\u0300-\u036f]")
_UNDECOMPOSED = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe"})


def particle_stems(word: str) -> tuple[str, ...]:
    """``word`` without each Korean particle it ends with (북한에서는 → 북한, 북한에서), shortest
    stem first; () for a word that does not end in a particle."""
    candidates = _BY_LAST.get(word[-1]) if word else None
    if not candidates:
        return ()
    return tuple(word[: -len(p)] for p in candidates if len(word) > len(p) and word.endswith(p))


def loose(word: str) -> str:
    """The word as loose (``~``) terms compare it: case-, accent- and width-insensitive."""
    if word.isascii():
        return word.lower()
    decomposed = _MARKS.sub("", unicodedata.normalize("NFKD", word))
    return unicodedata.normalize("NFC", decomposed).lower().translate(_UNDECOMPOSED)


def cut_runs(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The word runs ``spans`` of ``text``, each run holding a script written without spaces cut
    at ICU's word boundaries."""
    found: list[tuple[int, int]] = []
    boundaries: list[int] | None = None
    for start, end in spans:
        if NO_SPACES_RE.search(text, start, end) is None:
            found.append((start, end))
            continue
        if boundaries is None:
            boundaries = icu_boundaries(text)
        cuts = boundaries[bisect_right(boundaries, start) : bisect_left(boundaries, end)]
        edges = [start, *cuts, end]
        found.extend(pairwise(edges))
    return found


def icu_boundaries(text: str) -> list[int]:
    """Every word boundary ICU finds in ``text``, ascending."""
    # The dictionaries for Chinese, Japanese and Southeast Asian scripts apply in every locale.
    return [end for _, end in WordBreaker(text, "root").segments()]
