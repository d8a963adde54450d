"""The labelled story pairs and the corpus texts they point to (for bench/stories.py and tests).

Pairs live in ``tests/data/story_pairs.tsv`` as references only (corpus path + entry index);
the text is read from ``<repo>/../shared/corpus`` and never copied into the repo.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus"
PAIRS_TSV = REPO / "tests" / "data" / "story_pairs.tsv"
WSJ_TSV = "orx365_rss-arch/derived_from_git_history/wsj_world_unique_items_2025-04_to_2026-02.tsv"
AG_NEWS = "suuuch_TransformerClassification/data/ag_news_csv/test.csv"
SAME_DAY_DIR = "kagisearch_fastfeedparser/benchmark_data"
# News outlets of 2026-02-17/18 (the blogs and the anti-cheat list in that folder are left out).
_SAME_DAY_NAMES = """
    08f1ee71883dbcde 0c1cef22da7ddc10 14333881097406c7 14dda539770f94e3 16dc10cf98d1ee82
    1796df62c4a287cc 18138c717652f678 3f9eeff5039a008d 4179e7a13df0f120 4288464f77b21d15
    4bf53cb602417030 5357198db71ce075 6040d25e925318ed 660a52f7dc6a1948 72fea1ebfd02e90a
    78f77fae2e1ffc14 7be307059415227d 960551eca5b5db81 9f9555d69283aeda ce5f942d1cd40fc0
    d2a188f20637f7a4 d87c1681464979cc e8fa5b64a4b41322 f9c17f360c71def1
"""
SAME_DAY_OUTLETS: tuple[str, ...] = tuple(_SAME_DAY_NAMES.split())


@dataclass(frozen=True, slots=True)
class Text:
    """One corpus item as the monitor would see it: plain title and summary."""

    title: str
    summary: str


@dataclass(frozen=True, slots=True)
class LabelledPair:
    a: Text
    b: Text
    same: bool
    kind: str  # wire / rewrite / reedit / dup (same); lookalike / followup / feature / unrelated
    refs: str  # "path#index | path#index", for printing mistakes


# --- reading the corpus -----------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(markup: str) -> str:
    """Words only: the pipeline's normalizer strips markup in production; this keeps the
    benchmark independent of it."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return " ".join(html.unescape(" ".join(extractor.parts)).split())


def title_key(title: str) -> str:
    """Guard stored next to each reference: sha1 of the squashed plain title, 12 hex digits."""
    squashed = " ".join(title.split())
    return hashlib.sha1(squashed.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


@cache
def _feed_texts(root: Path, source: str) -> tuple[Text, ...]:
    import feedparser  # lazily: only feed sources need it

    parsed = feedparser.parse(io.BytesIO((root / source).read_bytes()))
    return tuple(
        Text(plain_text(entry.get("title", "")), plain_text(entry.get("summary", ""))) for entry in parsed.entries
    )


@cache
def _wsj_texts(root: Path) -> tuple[Text, ...]:
    with (root / WSJ_TSV).open(encoding="utf-8", newline="") as handle:
        return tuple(
            Text(plain_text(row["title"]), plain_text(row["description"]))
            for row in csv.DictReader(handle, delimiter="\t")
        )


_AG_ENTITY_RE = re.compile(r" (#\d+|quot|amp);")


@cache
def _ag_texts(root: Path) -> tuple[Text, ...]:
    def clean(text: str) -> str:
        # AG News writes line breaks as "\" and drops the "&" of entities ("&#39;" is " #39;",
        # "&quot;" is " quot;"); its markup stays escaped ("&lt;A HREF=...&gt;"). Undo both and
        # strip the markup, as a feed reader would: read as text, the Reuters ticker links made
        # ~150 pairs of unrelated company reports look alike.
        entities = _AG_ENTITY_RE.sub(r"&\1;", text.replace("\\", " "))
        return plain_text(html.unescape(entities))

    with (root / AG_NEWS).open(encoding="utf-8", newline="") as handle:
        return tuple(Text(clean(title), clean(body)) for _cls, title, body in csv.reader(handle))


def load_text(source: str, index: int, root: Path = CORPUS) -> Text:
    """The item at ``index`` (0-based entry or data row) of a corpus file."""
    if source == WSJ_TSV:
        return _wsj_texts(root)[index]
    if source == AG_NEWS:
        return _ag_texts(root)[index]
    return _feed_texts(root, source)[index]


def corpus_present(root: Path = CORPUS) -> bool:
    return (root / SAME_DAY_DIR).is_dir() and (root / WSJ_TSV).is_file()


def _data_rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        reader = csv.reader(lines, delimiter="\t")
        next(reader)  # header
        yield from reader


def load_pairs(root: Path = CORPUS, path: Path = PAIRS_TSV) -> list[LabelledPair]:
    """Resolve every labelled reference; raises if the corpus drifted under a reference."""
    pairs: list[LabelledPair] = []
    for a_src, a_idx, a_key, b_src, b_idx, b_key, label, kind in _data_rows(path):
        a, b = load_text(a_src, int(a_idx), root), load_text(b_src, int(b_idx), root)
        for ref, text, key in ((f"{a_src}#{a_idx}", a, a_key), (f"{b_src}#{b_idx}", b, b_key)):
            if title_key(text.title) != key:
                raise ValueError(f"{ref}: title key changed, corpus differs from the labels")
        pairs.append(LabelledPair(a, b, label == "same", kind, f"{a_src}#{a_idx} | {b_src}#{b_idx}"))
    return pairs


def same_day_items(root: Path = CORPUS) -> list[tuple[str, Text]]:
    """Every entry of the 2026-02-17/18 outlet feeds, with its reference."""
    found: list[tuple[str, Text]] = []
    for name in SAME_DAY_OUTLETS:
        source = f"{SAME_DAY_DIR}/{name}"
        found.extend((f"{source}#{i}", t) for i, t in enumerate(_feed_texts(root, source)))
    return found


# Issue 10: 100 real AG News items whose headlines all ended in the same six-word clause became
# a few big stories ("Paralympics Open in Athens: ..." with "Dance pair out with injury: ...").
SHARED_CLAUSE = "UN panel: North Korea shipped missiles"
CLAUSE_ROWS: tuple[int, ...] = (1969, 7085, *range(40, 7600, 77))[:100]


def shared_clause_items(root: Path = CORPUS) -> list[Text]:
    """100 unrelated AG News items, each headline followed by SHARED_CLAUSE."""
    texts = _ag_texts(root)
    return [Text(f"{texts[row].title}: {SHARED_CLAUSE}", texts[row].summary) for row in CLAUSE_ROWS]
