"""Measure story clustering on hand-labelled pairs of real news items and pick the threshold.

The pairs and the corpus texts they point to are read by ``bench/story_corpus.py``.

Prints, for the production rule, the w1 rule it replaced (issue 10) and the variants that were
considered: precision / recall / F1 per candidate threshold, the chosen threshold, per-kind and
per-source merges, LSH candidate recall, a shared headline clause over 100 AG News items, false
merges among all same-day outlet items, and fingerprint speed.

Run: ``.venv/bin/python bench/stories.py [--quiet]``
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.story_corpus import (  # noqa: E402
    AG_NEWS,
    CORPUS,
    SAME_DAY_DIR,
    WSJ_TSV,
    LabelledPair,
    Text,
    corpus_present,
    load_pairs,
    same_day_items,
    shared_clause_items,
)
from monitor import stories  # noqa: E402
from monitor.stories import minhash as mh  # noqa: E402

__all__ = ["CORPUS", "LabelledPair", "Text", "corpus_present", "load_pairs", "shared_clause_items"]

CANDIDATE_THRESHOLDS = tuple(round(0.15 + 0.05 * i, 2) for i in range(15))  # 0.15 .. 0.85
MIN_PRECISION = 0.9  # a false merge hides an alert; a missed merge only repeats one


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


# --- scoring ---------------------------------------------------------------------------------

Scorer = Callable[[Text, Text], tuple[float, bool]]  # (similarity, long enough to merge)


def production_scorer(rule: stories.MergeRule = stories.RULE) -> Scorer:
    """The shipped code path: story_key + similarity (under ``rule``), with the short-text guard."""

    def score(a: Text, b: Text) -> tuple[float, bool]:
        key_a = stories.story_key(a.title, a.summary, None)
        key_b = stories.story_key(b.title, b.summary, None)
        return stories.similarity(key_a, key_b, rule), bool(key_a.bands and key_b.bands)

    return score


def variant_scorer(config: mh.ShingleConfig, mode: str = "max", minhash_slots: int = 0) -> Scorer:
    """Another shingling, compared as the w1 rule did. ``mode``: "title" (title words only),
    "full" (title + lede) or "max" (the larger of both, no guards); ``minhash_slots`` > 0
    estimates each Jaccard."""

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


def _source(pair: LabelledPair) -> str:
    sources = {ref.split("#")[0] for ref in pair.refs.split(" | ")}
    names = {WSJ_TSV: "WSJ World 2025-26", AG_NEWS: "AG News 2004"}
    if all(source.startswith(SAME_DAY_DIR) for source in sources):
        return "24 outlets, same days"
    return names.get(next(iter(sources)), "other feeds") if len(sources) == 1 else "other feeds"


def _before_after(
    pairs: Sequence[LabelledPair], before: Sequence[tuple[float, bool]], after: Sequence[tuple[float, bool]]
) -> None:
    """Precision / recall at THRESHOLD per corpus source, w1 rule vs production."""
    print(f"  {'source':22s} pairs same   w1 P    R  |  now P    R")
    groups = [*sorted({_source(pair) for pair in pairs}), "all"]
    for group in groups:
        chosen = [i for i, pair in enumerate(pairs) if group in ("all", _source(pair))]
        subset = [pairs[i] for i in chosen]
        old = score_at(subset, [before[i] for i in chosen], stories.THRESHOLD)
        new = score_at(subset, [after[i] for i in chosen], stories.THRESHOLD)
        print(
            f"  {group:22s} {len(subset):5d} {sum(p.same for p in subset):4d}"
            f"  {old.precision:5.3f} {old.recall:5.3f} | {new.precision:5.3f} {new.recall:5.3f}"
        )


def _shared_clause(root: Path) -> None:
    """Issue 10's case: the same clause after 100 unrelated headlines."""
    keys = [stories.story_key(t.title, t.summary, None) for t in shared_clause_items(root)]
    for name, rule in (("w1 rule", W1_RULE), ("production", stories.RULE)):
        merged = [
            (i, j)
            for i, j in itertools.combinations(range(len(keys)), 2)
            if stories.similarity(keys[i], keys[j], rule) >= stories.THRESHOLD
        ]
        joined = {item for pair in merged for item in pair}
        print(f"  {name:10s}: {len(merged)} merging pairs, {len(joined)} of {len(keys)} items joined to another")


def _mistakes(pairs: Sequence[LabelledPair], sims: Sequence[tuple[float, bool]]) -> None:
    for (sim, ok), pair in zip(sims, pairs, strict=True):
        predicted = ok and sim >= stories.THRESHOLD
        if predicted != pair.same:
            what = "FALSE MERGE" if predicted else "missed"
            print(f"  {what:11s} {sim:.2f} {pair.kind:9s} {pair.refs}")


W1_RULE = stories.MergeRule(1.0, 1.0, corroboration=0, recurring_veto=False, headline_gate=False)
RULE_VARIANTS: tuple[tuple[str, stories.MergeRule], ...] = (
    ("w1 rule (before issue 10: no guards, weight 1)", W1_RULE),
    ("title weight 1.0", replace(stories.RULE, title_weight=1.0)),
    ("shared headline count not weighed up", replace(stories.RULE, count_weight=stories.RULE.title_weight)),
    ("no summary corroboration", replace(stories.RULE, corroboration=0)),
    ("corroboration by 1 word", replace(stories.RULE, corroboration=1)),
    ("no recurring-event veto", replace(stories.RULE, recurring_veto=False)),
    ("no headline gate on title + lede", replace(stories.RULE, headline_gate=False)),
)
_BASE = stories.SHINGLES
VARIANTS: tuple[tuple[str, Scorer], ...] = (
    *((name, production_scorer(rule)) for name, rule in RULE_VARIANTS),
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
    print("Production (w2: guarded title road x 0.8, title + lede road, stop words dropped, exact):")
    _table(pairs, sims)
    pick = choose_threshold(pairs, sims)
    print(
        f"\nRule (lowest threshold with precision >= {MIN_PRECISION}) picks {pick.threshold}:"
        f" P {pick.precision:.3f}, R {pick.recall:.3f}. Shipped THRESHOLD = {stories.THRESHOLD}"
    )
    _per_kind(pairs, sims)
    _lsh_recall(pairs)
    print(f"\nBefore / after at THRESHOLD {stories.THRESHOLD}, per source:")
    _before_after(pairs, similarities(pairs, production_scorer(W1_RULE)), sims)
    print("\nShared headline clause (100 AG News items):")
    _shared_clause(CORPUS)
    print("\nVariants (same labelled pairs; rule variants first, then shingling variants on the w1 rule):")
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
