"""Which word segmenter for scripts written without spaces: speed and what the pack's terms see.

Candidates (each optional; missing ones are skipped):

  icu4py       ICU 78 in a self-contained wheel (the one monitor/rules/segment.py uses)
  pyicu-wheels PyICU's API over ICU 77, also a self-contained wheel (``pip install pyicu-wheels``)
  jieba        a pure-Python Chinese segmenter with its own dictionary (``pip install jieba``);
               Chinese only

Text: the Chinese CCTV stories and the Japanese headlines of ../shared/corpus/multilingual.
For every Chinese and Japanese term of the shipped pack (rules/10-zh.yaml, rules/10-ja.yaml)
and every place it occurs in that text as a substring, it counts how often both ends of the
occurrence fall on the segmenter's word boundaries (the term can match there) and, for ICU, how
often the engine's phrase of the term's own segments matches there (what the rules do). A term
at boundaries everywhere would also match across words ("京都" in "東京都庁"), so the
occurrences it rejects were read by hand; see docs/rules.md, "Languages".

Run: ``.venv/bin/python bench/segmenters.py``
"""

from __future__ import annotations

import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from multilingual_corpus import load_multilingual  # noqa: E402

from monitor.rules.text import words  # noqa: E402

Boundaries = Callable[[str], set[int]]


def _icu4py() -> Boundaries:
    from icu4py.breakers import WordBreaker

    return lambda text: {0, *(end for _, end in WordBreaker(text, "root").segments())}


def _pyicu() -> Boundaries:
    import icu

    breaker = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())

    def boundaries(text: str) -> set[int]:
        # PyICU counts UTF-16 code units; the CJK text here is all in the BMP.
        breaker.setText(text)
        return {0, *breaker}

    return boundaries


def _jieba() -> Boundaries:
    import jieba

    jieba.setLogLevel(60)

    def boundaries(text: str) -> set[int]:
        found, at = {0}, 0
        for piece in jieba.cut(text):
            at += len(piece)
            found.add(at)
        return found

    return boundaries


CANDIDATES: dict[str, Callable[[], Boundaries]] = {"icu4py": _icu4py, "pyicu-wheels": _pyicu, "jieba": _jieba}


def pack_terms(language: str) -> list[str]:
    """The plain terms (no * prefix, no phrase) of a language file of the pack."""
    data = yaml.safe_load((REPO / "rules" / f"10-{language}.yaml").read_text(encoding="utf-8"))
    return sorted({m for members in data["aliases"].values() for m in members if "*" not in m and "@" not in m})


def occurrences(text: str, term: str) -> Iterator[tuple[int, int]]:
    for found in re.finditer(re.escape(term), text):
        yield found.start(), found.end()


def main() -> None:
    texts = {"zh": [], "ja": []}  # type: dict[str, list[str]]
    for found in load_multilingual():
        if found.lang in texts:
            texts[found.lang].append(unicodedata.normalize("NFKC", f"{found.item.title}\n{found.item.summary}"))
    print(f"text: zh {sum(map(len, texts['zh'])):,} characters, ja {sum(map(len, texts['ja'])):,}\n")
    print("| segmenter | language | chars/s | term occurrences | at word boundaries | engine matches |")
    print("|---|---|---:|---:|---:|---:|")
    for name, build in CANDIDATES.items():
        try:
            boundaries = build()
        except ImportError:
            print(f"| {name} | not installed | | | | |")
            continue
        for language, corpus in texts.items():
            if name == "jieba" and language != "zh":
                continue
            started = time.process_time()
            cuts = [boundaries(text) for text in corpus]
            rate = sum(map(len, corpus)) / (time.process_time() - started)
            total = aligned = engine = 0
            for term in pack_terms(language):
                phrase = words(term)
                for text, cut in zip(corpus, cuts, strict=True):
                    for start, end in occurrences(text, term):
                        total += 1
                        aligned += start in cut and end in cut
                        engine += name == "icu4py" and words(text[start:end]) == phrase and start in cut and end in cut
            engine_text = f"{engine:,}" if name == "icu4py" else "–"
            print(f"| {name} | {language} | {rate:,.0f} | {total:,} | {aligned:,} ({aligned / max(total, 1):.1%}) | "
                  f"{engine_text} |")  # fmt: skip


if __name__ == "__main__":
    main()
