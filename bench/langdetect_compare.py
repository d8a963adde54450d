"""Which language detector: accuracy, speed and memory on real feed items.

Items: the multilingual corpus (ko, zh, ja, ru, uk, fr, de and the few English items of the Korean
feeds), 1,000 WSJ World items (en) and the Spanish outlet feeds (es) of ``../shared/corpus``. The
true language is the source's (see bench/multilingual_corpus.py). Each detector runs in its own
fresh process, so its load time and peak memory are its own. The text given is what the parse
worker gives: title and summary, at most ``monitor.langid.MAX_CHARS`` characters.

Run: ``.venv/bin/python bench/langdetect_compare.py`` (candidates other than the adopted one
need ``pip install lingua-language-detector langdetect py3langid``; missing ones are skipped).
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from multilingual_corpus import load_multilingual  # noqa: E402
from rules_quality import CORPUS, _feed_items, _wsj_items  # noqa: E402

from monitor.langid import MAX_CHARS  # noqa: E402

SPANISH = tuple(
    f"jmanuelbr_chrome-extension/src/js/mocks/{name}.mocks.js.extracted.xml"
    for name in ("20minutos", "elpais", "elmundo", "elconfidencial", "eldiario", "expansion", "as")
)
Detect = Callable[[str], str]


def _lingua() -> Detect:
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else "?"

    return detect


def _lingua_low() -> Detect:
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else "?"

    return detect


def _fasttext() -> Detect:
    from monitor.langid import detect_language

    return lambda text: detect_language(text) or "?"


def _langdetect() -> Detect:
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # otherwise results change from run to run

    def run(text: str) -> str:
        try:
            return str(detect(text)).split("-")[0]
        except LangDetectException:
            return "?"

    return run


def _py3langid() -> Detect:
    import py3langid

    return lambda text: str(py3langid.classify(text)[0])


CANDIDATES: dict[str, Callable[[], Detect]] = {
    "fasttext lid.176.ftz (monitor.langid)": _fasttext,
    "lingua (high accuracy)": _lingua,
    "lingua (low accuracy)": _lingua_low,
    "langdetect": _langdetect,
    "py3langid": _py3langid,
}


def _run(name: str, texts: Sequence[str], out: multiprocessing.Queue[object]) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        detect = CANDIDATES[name]()
        detect("warm up")
    except ImportError as exc:
        out.put(exc)
        return
    loaded = time.perf_counter()
    guesses = [detect(text) for text in texts]
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put((guesses, loaded - started, done - loaded, (peak - before) / 1024))


def _text(title: str, summary: str) -> str:
    """What the parse worker sees: NFKC text (monitor.normalize), title then summary."""
    return unicodedata.normalize("NFKC", f"{title}\n{summary}")[:MAX_CHARS]


def _items() -> tuple[list[str], list[str]]:
    texts, langs = [], []
    for found in load_multilingual():
        texts.append(_text(found.item.title, found.item.summary))
        langs.append(found.lang)
    for lang, items in (("en", list(_wsj_items(CORPUS))[:1000]),
                        ("es", [i for s in SPANISH for i in _feed_items(CORPUS, s)])):  # fmt: skip
        for item in items:
            texts.append(_text(item.title, item.summary))
            langs.append(lang)
    return texts, langs


def main() -> int:
    texts, langs = _items()
    if not texts:
        print(f"corpus not found at {CORPUS}; nothing to measure")
        return 0
    counts = Counter(langs)
    order = sorted(counts, key=lambda lang: -counts[lang])
    print("items: " + ", ".join(f"{lang} {counts[lang]:,}" for lang in order))
    header = f"{'detector':<40} {'load s':>6} {'items/s':>8} {'MB':>5} {'all':>6} {'macro':>6} "
    print(header + " ".join(f"{lang:>5}" for lang in order))
    context = multiprocessing.get_context("spawn")
    for name in CANDIDATES:
        queue: multiprocessing.Queue[object] = context.Queue()
        process = context.Process(target=_run, args=(name, texts, queue))
        process.start()
        result = queue.get()
        process.join()
        if isinstance(result, BaseException):
            print(f"{name:<40} skipped: {result}")
            continue
        guesses, load, run, memory = result  # type: ignore[misc]
        per_lang = {lang: sum(g == t for g, t in zip(guesses, langs, strict=True) if t == lang) / counts[lang]
                    for lang in order}  # fmt: skip
        overall = sum(g == t for g, t in zip(guesses, langs, strict=True)) / len(langs)
        macro = sum(per_lang.values()) / len(per_lang)
        line = f"{name:<40} {load:>6.2f} {len(texts) / run:>8,.0f} {memory:>5.0f} {overall:>6.3f} {macro:>6.3f} "
        print(line + " ".join(f"{per_lang[lang]:>5.3f}" for lang in order))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
