"""Measure story clustering on hand-labelled pairs of real news items and pick the threshold.

Pairs live in ``tests/data/story_pairs.tsv`` as references only (corpus path + entry index);
the text is read from ``<repo>/../shared/corpus`` and never copied into the repo.

Prints, for the production settings and for the shingling variants that were considered:
precision / recall / F1 per candidate threshold, the chosen threshold, per-kind recall, LSH
candidate recall, false merges among all same-day outlet items, and fingerprint speed.

Run: ``.venv/bin/python bench/stories.py [--quiet]``
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import itertools
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from monitor import stories  # noqa: E402
from monitor.stories import minhash as mh  # noqa: E402

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
CANDIDATE_THRESHOLDS = tuple(round(0.15 + 0.05 * i, 2) for i in range(15))  # 0.15 .. 0.85
MIN_PRECISION = 0.9  # a false merge hides an alert; a missed merge only repeats one


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


@dataclass(frozen=True, slots=True)
class Score:
    threshold: float
    precision: float
    recall: float
    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


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


# --- scoring ---------------------------------------------------------------------------------

Scorer = Callable[[Text, Text], tuple[float, bool]]  # (similarity, long enough to merge)


def production_scorer() -> Scorer:
    """The shipped code path: story_key + similarity, with the short-text guard."""

    def score(a: Text, b: Text) -> tuple[float, bool]:
        key_a = stories.story_key(a.title, a.summary, None)
        key_b = stories.story_key(b.title, b.summary, None)
        return stories.similarity(key_a, key_b), bool(key_a.bands and key_b.bands)

    return score


def variant_scorer(config: mh.ShingleConfig, mode: str = "max", minhash_slots: int = 0) -> Scorer:
    """Another setting. ``mode``: "title" (title words only), "full" (title + lede) or "max"
    (the larger of both, as production); ``minhash_slots`` > 0 estimates each Jaccard."""

    def jaccard(set_a: set[str], set_b: set[str]) -> float:
        if min(len(set_a), len(set_b)) < stories.MIN_WORDS:
            return 0.0
        if not minhash_slots:
            return mh.jaccard(set_a, set_b)
        return mh.estimated_jaccard(mh.minhash(set_a, minhash_slots), mh.minhash(set_b, minhash_slots))

    def score(a: Text, b: Text) -> tuple[float, bool]:
        full_a, full_b = (
            mh.shingles(a.title, a.summary, config),
            mh.shingles(b.title, b.summary, config),
        )
        title_a, title_b = mh.shingles(a.title, "", config), mh.shingles(b.title, "", config)
        by_title = jaccard(title_a, title_b) if mode != "full" else 0.0
        by_full = jaccard(full_a, full_b) if mode != "title" else 0.0
        return max(by_title, by_full), min(len(full_a), len(full_b)) >= stories.MIN_WORDS

    return score


def similarities(pairs: Sequence[LabelledPair], scorer: Scorer) -> list[tuple[float, bool]]:
    return [scorer(pair.a, pair.b) for pair in pairs]


def score_at(pairs: Sequence[LabelledPair], sims: Sequence[tuple[float, bool]], threshold: float) -> Score:
    predicted = [ok and sim >= threshold for sim, ok in sims]
    tp = sum(1 for p, pair in zip(predicted, pairs, strict=True) if p and pair.same)
    fp = sum(1 for p, pair in zip(predicted, pairs, strict=True) if p and not pair.same)
    fn = sum(1 for p, pair in zip(predicted, pairs, strict=True) if not p and pair.same)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Score(threshold, precision, recall, tp, fp, fn)


def choose_threshold(pairs: Sequence[LabelledPair], sims: Sequence[tuple[float, bool]]) -> Score:
    """The rule used to pick THRESHOLD: the lowest candidate whose precision >= MIN_PRECISION
    (lowest = most recall), falling back to the most precise candidate."""
    scores = [score_at(pairs, sims, t) for t in CANDIDATE_THRESHOLDS]
    good = [s for s in scores if s.precision >= MIN_PRECISION and s.true_pos]
    if good:
        return good[0]
    return max(scores, key=lambda s: (s.precision, s.recall))


# --- report ----------------------------------------------------------------------------------


def _table(pairs: Sequence[LabelledPair], sims: Sequence[tuple[float, bool]]) -> None:
    print("  threshold  precision  recall    F1    TP  FP  FN")
    for threshold in CANDIDATE_THRESHOLDS:
        s = score_at(pairs, sims, threshold)
        mark = "  <- THRESHOLD" if threshold == stories.THRESHOLD else ""
        print(
            f"  {threshold:9.2f}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}"
            f"  {s.true_pos:3d} {s.false_pos:3d} {s.false_neg:3d}{mark}"
        )


def _per_kind(pairs: Sequence[LabelledPair], sims: Sequence[tuple[float, bool]]) -> None:
    kinds = sorted({pair.kind for pair in pairs})
    print("  kind        pairs  merged at THRESHOLD  median similarity")
    for kind in kinds:
        chosen = [(s, ok) for (s, ok), p in zip(sims, pairs, strict=True) if p.kind == kind]
        merged = sum(1 for s, ok in chosen if ok and s >= stories.THRESHOLD)
        median = sorted(s for s, _ in chosen)[len(chosen) // 2]
        print(f"  {kind:10s}  {len(chosen):5d}  {merged:19d}  {median:17.2f}")


def _lsh_recall(pairs: Sequence[LabelledPair]) -> None:
    hits = found = 0
    for pair in pairs:
        key_a = stories.story_key(pair.a.title, pair.a.summary, None)
        key_b = stories.story_key(pair.b.title, pair.b.summary, None)
        if pair.same and stories.same_story(key_a, key_b):
            hits += 1
            found += bool(set(key_a.bands) & set(key_b.bands))
    print(f"  true merges found through a shared band key: {found}/{hits}")


def _all_pairs_merges(root: Path, quiet: bool) -> None:
    """Find merges the way the store will: candidates sharing a band key, then same_story."""
    items = same_day_items(root)
    keys = [stories.story_key(t.title, t.summary, None) for _, t in items]
    by_band: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        for band in key.bands:
            by_band.setdefault(band, []).append(index)
    candidates = {pair for members in by_band.values() for pair in itertools.combinations(members, 2)}
    merged = sorted(pair for pair in candidates if stories.same_story(keys[pair[0]], keys[pair[1]]))
    total = len(items) * (len(items) - 1) // 2
    print(f"  {len(items)} items, {total} pairs; {len(candidates)} share a band key; {len(merged)} merged at THRESHOLD")
    if not quiet:
        for i, j in merged:  # titles go to the console only, for a human to judge
            print(f"    {items[i][0]}  ~  {items[j][0]}")
            print(f"      {items[i][1].title[:90]}\n      {items[j][1].title[:90]}")


def _speed(root: Path) -> None:
    texts = [t for _, t in same_day_items(root)]
    mh.clear_caches()
    started = time.perf_counter()
    for text in texts:
        stories.story_key(text.title, text.summary, None)
    cold = len(texts) / (time.perf_counter() - started)
    rounds, started = 0, time.perf_counter()
    while time.perf_counter() - started < 2.0:
        for text in texts:
            stories.story_key(text.title, text.summary, None)
        rounds += 1
    warm = rounds * len(texts) / (time.perf_counter() - started)
    print(f"  story_key over {len(texts)} real items: {cold:,.0f} items/s cold word-hash cache,")
    print(f"  {warm:,.0f} items/s warm (same items again)")
    keys = [stories.story_key(t.title, t.summary, None) for t in texts]
    started, compared = time.perf_counter(), 0
    for a, b in itertools.islice(itertools.combinations(keys, 2), 200_000):
        stories.same_story(a, b)
        compared += 1
    rate = compared / (time.perf_counter() - started)
    print(f"  same_story: {rate:,.0f} comparisons/s")


def _mistakes(pairs: Sequence[LabelledPair], sims: Sequence[tuple[float, bool]]) -> None:
    for (sim, ok), pair in zip(sims, pairs, strict=True):
        predicted = ok and sim >= stories.THRESHOLD
        if predicted != pair.same:
            what = "FALSE MERGE" if predicted else "missed"
            print(f"  {what:11s} {sim:.2f} {pair.kind:9s} {pair.refs}")


_BASE = stories.SHINGLES
VARIANTS: tuple[tuple[str, Scorer], ...] = (
    ("MinHash 64-slot estimates instead of exact sets", variant_scorer(_BASE, minhash_slots=64)),
    ("MinHash 128-slot estimates instead of exact sets", variant_scorer(_BASE, minhash_slots=128)),
    ("title + lede only (no title road)", variant_scorer(_BASE, "full")),
    ("title only", variant_scorer(_BASE, "title")),
    ("stop words kept", variant_scorer(replace(_BASE, drop_stop_words=False))),
    ("word pairs (2-shingles)", variant_scorer(replace(_BASE, size=2))),
    ("word pairs, stop words kept", variant_scorer(replace(_BASE, size=2, drop_stop_words=False))),
    ("lede of 30 words", variant_scorer(replace(_BASE, lede_words=30))),
    ("whole summary", variant_scorer(replace(_BASE, lede_words=10_000, max_words=10_000))),
    (
        "whole summary, no title road",
        variant_scorer(replace(_BASE, lede_words=10_000, max_words=10_000), "full"),
    ),
)


def main(argv: Sequence[str]) -> int:
    quiet = "--quiet" in argv
    if not corpus_present():
        print(f"corpus not found at {CORPUS.resolve()}; nothing to measure")
        return 0
    pairs = load_pairs()
    n_same = sum(p.same for p in pairs)
    print(f"{len(pairs)} labelled pairs: {n_same} same story, {len(pairs) - n_same} different\n")
    sims = similarities(pairs, production_scorer())
    print("Production (max of title / title+lede word-set Jaccard, stop words dropped, exact):")
    _table(pairs, sims)
    pick = choose_threshold(pairs, sims)
    print(
        f"\nRule (lowest threshold with precision >= {MIN_PRECISION}) picks {pick.threshold}:"
        f" P {pick.precision:.3f}, R {pick.recall:.3f}. Shipped THRESHOLD = {stories.THRESHOLD}"
    )
    _per_kind(pairs, sims)
    _lsh_recall(pairs)
    print("\nVariants (same labelled pairs):")
    print(f"  {'variant':48s} {'best F1 (P, R) at t':26s} recall at P>={MIN_PRECISION} (t)")
    for name, scorer in (("PRODUCTION", production_scorer()), *VARIANTS):
        variant_sims = similarities(pairs, scorer)
        scores = [score_at(pairs, variant_sims, t) for t in CANDIDATE_THRESHOLDS]
        best = max(scores, key=lambda s: s.f1)
        pick = choose_threshold(pairs, variant_sims)
        print(
            f"  {name:48s} {best.f1:.3f} ({best.precision:.2f}, {best.recall:.2f}) at {best.threshold:.2f}"
            f"     {pick.recall:.3f} ({pick.threshold:.2f})"
        )
    print("\nAll pairs of the same-day outlet feeds (unlabelled look for false merges):")
    _all_pairs_merges(CORPUS, quiet)
    print("\nSpeed:")
    _speed(CORPUS)
    if not quiet:
        print("\nMistakes at THRESHOLD:")
        _mistakes(pairs, sims)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
