"""Rule-engine throughput: prefilter engine vs. the naive every-rule regex matcher.

Loads real items from ``<repo>/../shared/corpus`` (AG News test split, BBC dataset, WSJ World
items, KCNA headlines), generates 100 / 1,000 / 10,000 rules deterministically from the
vocabulary of those texts (words, real bigrams as phrases, prefixes, =Case, NEAR/ONEAR,
aliases, NOT, field scopes, excludes), checks that the engine returns exactly what the naive
matcher returns (rule ids and spans) on every checked item, and prints a table.

A last run matches the shipped pack plus two rules on a synthetic 50,000-entry list
(bench/listgen.py: ``@list:bench`` and ``@list:bench[Vessel] AND @vessels``) and checks it against
the naive matcher on a sample of items.

Run: ``.venv/bin/python bench/match.py [--quick] [--full-check] [--list-only]``
  --quick       fewer items (a quick smoke run)
  --full-check  run the (slow) baseline on every item at every size; by default it runs on
                every item at 100 and 1,000 rules and on every 10th item at 10,000 rules
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus"
sys.path.insert(0, str(REPO))

from listgen import synthetic_list  # noqa: E402

from monitor.rules import RuleSet, compile_rules, compile_text, parse_rule_text  # noqa: E402
from monitor.rules.naive import NaiveRules  # noqa: E402

Item = dict[str, str]
RULE_COUNTS = (100, 1_000, 10_000)
KCNA_ITEMS = 20_000
SEED = 20260227


def load_items() -> dict[str, list[Item]]:
    """Real items per source; raises SystemExit when the corpus is absent."""
    if not CORPUS.is_dir():
        raise SystemExit(f"corpus not found at {CORPUS}; nothing to measure")
    sources: dict[str, list[Item]] = {}
    ag = CORPUS / "suuuch_TransformerClassification/data/ag_news_csv/test.csv"
    with ag.open(encoding="utf-8") as handle:
        rows = csv.reader(handle)
        sources["ag_news"] = [{"title": r[1], "summary": r[2].replace("\\", " ")} for r in rows]
    bbc = []
    for path in sorted((CORPUS / "michelpf_dataset-bbc-news-category/bbc").glob("*/*.txt")):
        title, _, body = path.read_text(encoding="latin-1").partition("\n")
        bbc.append({"title": title.strip(), "content": body.strip()})
    sources["bbc"] = bbc
    wsj = CORPUS / "orx365_rss-arch/derived_from_git_history"
    with (wsj / "wsj_world_unique_items_2025-04_to_2026-02.tsv").open(encoding="utf-8") as handle:
        rows2 = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        sources["wsj"] = [{"title": r["title"], "summary": r["description"]} for r in rows2]
    kcna = CORPUS / "xmarquez_KCNA/derived_from_data_headlines.rda/kcna_headlines_date_title.csv"
    with kcna.open(encoding="utf-8") as handle:
        titles = [r["title"] for r in csv.DictReader(handle)]
    step = max(len(titles) // KCNA_ITEMS, 1)
    sources["kcna"] = [{"title": t} for t in titles[::step][:KCNA_ITEMS]]
    return sources


class Vocabulary:
    """Words and bigrams of the corpus, minus the most frequent (rule authors watch for
    names and specific terms, not "said")."""

    WORD_RE = re.compile(r"[A-Za-z][a-z]{2,}|[A-Z]{2,}")

    def __init__(self, items: Sequence[Item], skip_top: int = 150, specific_rank: int = 1_000) -> None:
        counts: Counter[str] = Counter()
        bigrams: Counter[tuple[str, str]] = Counter()
        capitalised: Counter[str] = Counter()
        for item in items:
            for text in item.values():
                words = self.WORD_RE.findall(text)
                counts.update(w.lower() for w in words)
                capitalised.update(w for w in words if w[0].isupper())
                lowered = [w.lower() for w in words]
                bigrams.update(itertools.pairwise(lowered))
        ranked = [w for w, _ in counts.most_common()]
        self.common = set(ranked[:skip_top])
        self.words = [w for w in ranked[skip_top:] if counts[w] >= 2]
        self.bigrams = [
            f"{a} {b}"
            for (a, b), n in bigrams.most_common(20_000)
            if n >= 3 and a not in self.common and b not in self.common
        ]
        self.proper = [w for w, n in capitalised.most_common(3_000) if n >= 5 and w.lower() not in self.common]
        # Watch rules name specific things (vessels, firms, people, weapons), so the words a
        # rule requires come from below the top `specific_rank` words; aliases stay broad.
        self.specific = set(self.words[specific_rank - skip_top :])

    def item_words(self, item: Item) -> list[str]:
        found = {w.lower() for t in item.values() for w in self.WORD_RE.findall(t)}
        return sorted(found & self.specific)


class RuleGenerator:
    """Deterministic rules; each draws most words from one real item so that rules match."""

    def __init__(self, vocab: Vocabulary, items: Sequence[Item], seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocab = vocab
        self.items = items
        self.aliases = self._aliases(200)

    def _aliases(self, count: int) -> dict[str, list[str]]:
        rng, aliases = self.rng, {}
        for index in range(count):
            members = [rng.choice(self.vocab.words[:5000]) for _ in range(rng.randint(2, 4))]
            members.append(rng.choice(self.vocab.bigrams))
            if index > 0 and rng.random() < 0.2:
                members.append(f"@a{rng.randrange(index):03d}")
            if rng.random() < 0.2:
                members.append("=" + rng.choice(self.vocab.proper))
            aliases[f"a{index:03d}"] = members
        return aliases

    def _pool(self) -> list[str]:
        words = self.vocab.item_words(self.rng.choice(self.items))
        if len(words) >= 6:
            return words
        return words + self.rng.sample(self.vocab.words[1_000:20_000], 6 - len(words))

    def rule(self) -> tuple[str, str | None]:
        rng = self.rng
        w = rng.sample(self._pool(), 6)
        bigram = json.dumps(rng.choice(self.vocab.bigrams))
        alias = "@" + rng.choice(list(self.aliases))
        prefix = next((x[:5] + "*" for x in w if len(x) >= 6), w[0])
        proper = "=" + rng.choice(self.vocab.proper)
        templates = [
            f"{w[0]} AND {w[1]}",
            f"{bigram} AND ({w[1]} OR {w[2]} OR {prefix})",
            f"{alias} AND ({w[1]} OR {w[2]}) AND NOT {w[3]}",
            f"{w[0]} NEAR/5 ({w[1]} OR {w[2]})",
            f"title:({w[0]} OR {w[1]}) AND {w[2]}",
            f"{bigram} ONEAR/3 {w[1]}",
            f"({w[0]} OR {w[1]}) AND ({w[2]} OR {w[3]}) AND NOT title:{w[4]}",
            f"{proper} AND ({w[1]} OR {w[2]})",
            f"{alias} NEAR/8 {prefix}",
            f"{w[0]} AND {w[1]} AND {prefix}",
        ]
        exclude = f"title:({w[4]} OR {w[5]})" if rng.random() < 0.1 else None
        return rng.choice(templates), exclude

    def yaml(self, count: int) -> str:
        lines = ["aliases:"] + [f"  {n}: {json.dumps(m)}" for n, m in self.aliases.items()]
        lines.append("rules:")
        for index in range(count):
            query, exclude = self.rule()
            lines += [f"  - id: g{index:05d}", f"    query: {json.dumps(query)}"]
            if exclude:
                lines.append(f"    exclude: {json.dumps(exclude)}")
        return "\n".join(lines) + "\n"


def run_engine(ruleset: RuleSet, items: Sequence[Item], repeats: int) -> tuple[float, list[list[tuple[str, object]]]]:
    """Best of ``repeats`` timed passes (the machine may be shared), and the results."""
    best, results = float("inf"), []
    for _ in range(repeats):
        start = time.perf_counter()
        results = [[(m.rule_id, m.spans) for m in ruleset.match(item)] for item in items]
        best = min(best, time.perf_counter() - start)
    return best, results


def run_decisions(ruleset: RuleSet, items: Sequence[Item], repeats: int) -> float:
    """Best time for match_ids: prefilter + evaluation, without evidence and snippets."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            ruleset.match_ids(item)
        best = min(best, time.perf_counter() - start)
    return best


def run_baseline(naive: NaiveRules, items: Sequence[Item]) -> tuple[float, list[list[tuple[str, object]]]]:
    results = []
    start = time.perf_counter()
    for item in items:
        results.append([(m.rule_id, m.spans) for m in naive.match(item)])
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full-check", action="store_true")
    parser.add_argument("--list-only", action="store_true", help="only the 50,000-name list run")
    args = parser.parse_args()
    sources = load_items()
    if args.quick:
        sources = {name: items[:: max(len(items) // 500, 1)][:500] for name, items in sources.items()}
    items = [item for group in sources.values() for item in group]
    print("items: " + ", ".join(f"{n} {len(v):,}" for n, v in sources.items()) + f"; total {len(items):,}")
    vocab = Vocabulary(items)
    generator = RuleGenerator(vocab, items, SEED)
    print(f"vocabulary: {len(vocab.words):,} words, {len(vocab.bigrams):,} bigrams; {len(generator.aliases)} aliases")
    if args.list_only:
        run_list(items, repeats=1 if args.quick else 3)
        return
    rows, engine_100, decide_100 = [], 0.0, 0.0
    for count in RULE_COUNTS:
        rng_state = generator.rng.getstate()
        generator.rng = random.Random(SEED + count)
        text = generator.yaml(count)
        generator.rng.setstate(rng_state)
        started = time.perf_counter()
        ruleset = compile_text(text, f"generated-{count}.yaml")
        compile_seconds = time.perf_counter() - started
        repeats = 1 if args.quick else 3
        engine_seconds, engine_results = run_engine(ruleset, items, repeats)
        decide_seconds = run_decisions(ruleset, items, repeats)
        engine_100 = engine_100 or engine_seconds
        decide_100 = decide_100 or decide_seconds
        step = 1 if args.full_check or count <= 1_000 else 10
        checked = list(range(0, len(items), step))
        naive = NaiveRules(ruleset)
        base_seconds, base_results = run_baseline(naive, [items[i] for i in checked])
        mismatches = [i for i, r in zip(checked, base_results, strict=True) if engine_results[i] != r]
        matches = sum(len(r) for r in engine_results)
        print(
            f"{count:>6} rules: compile {compile_seconds:.2f}s, {matches:,} matches, "
            f"baseline checked on {len(checked):,} items, mismatches {len(mismatches)}"
        )
        if mismatches:
            first = mismatches[0]
            raise SystemExit(
                f"MISMATCH on item {first}: engine {engine_results[first]} "
                f"baseline {base_results[checked.index(first)]}"
            )
        engine_rate = len(items) / engine_seconds
        base_rate = len(checked) / base_seconds
        rows.append(
            (
                count,
                len(items),
                engine_rate,
                base_rate,
                engine_rate / base_rate,
                engine_seconds / engine_100,
                matches / len(items),
                len(items) / decide_seconds,
                decide_seconds / decide_100,
            )
        )
    print()
    print(
        "| rules | items | engine items/s | baseline items/s | speed-up | time vs 100 rules "
        "| matches/item | decide-only items/s | decide-only vs 100 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count, n, rate, base, speedup, ratio, per_item, decide, decide_ratio in rows:
        print(
            f"| {count:,} | {n:,} | {rate:,.0f} | {base:,.1f} | {speedup:,.0f}× | "
            f"{ratio:.2f}× | {per_item:.3f} | {decide:,.0f} | {decide_ratio:.2f}× |"
        )
    print("\n(decide-only = RuleSet.match_ids: prefilter + evaluation, no evidence/snippets)")
    run_list(items, repeats=1 if args.quick else 3)


LIST_RULES = """rules:
  - id: bench-list
    query: '@list:bench'
  - id: bench-vessels
    query: '@list:bench[Vessel] AND @vessels'
"""


def run_list(items: Sequence[Item], repeats: int, sample: int = 20) -> None:
    """The shipped pack alone, then with two rules on a 50,000-entry list. The naive matcher
    tries all 284,272 literals on every item (about a second each), so it checks a sample."""
    pack = [parse_rule_text(p.read_text(encoding="utf-8"), str(p)) for p in sorted((REPO / "rules").glob("*.yaml"))]
    started = time.perf_counter()
    watch = synthetic_list()
    names = sum(len(e.names) for e in watch.entries)
    with_list = compile_rules([*pack, parse_rule_text(LIST_RULES, "list.yaml")], {"bench": watch})
    print(f"\nlist: {len(watch.entries):,} entries, {names:,} names; compile {time.perf_counter() - started:.2f}s")
    rates = {}
    for label, ruleset in (("pack", compile_rules(pack)), ("pack + list", with_list)):
        seconds, results = run_engine(ruleset, items, repeats)
        rates[label] = len(items) / seconds
        hits = sum(1 for r in results for rule_id, _ in r if rule_id.startswith("bench"))
        print(f"{label:>12}: {rates[label]:,.0f} items/s, {seconds:.2f}s for {len(items):,} items, list hits {hits:,}")
    matched = [i for i, r in enumerate(results) if any(rule_id.startswith("bench") for rule_id, _ in r)]
    checked = sorted(set(matched[: sample // 2]) | set(range(0, len(items), max(len(items) // (sample // 2), 1))))
    naive = NaiveRules(with_list)
    _, base = run_baseline(naive, [items[i] for i in checked])
    mismatches = [i for i, r in zip(checked, base, strict=True) if results[i] != r]
    with_hits = len(matched[: sample // 2])
    print(f"naive check on {len(checked)} items ({with_hits} with list hits): mismatches {len(mismatches)}")
    slower = rates["pack"] / rates["pack + list"]
    print("| rules | items | items/s | vs pack alone |\n|---|---:|---:|---:|")
    print(f"| pack | {len(items):,} | {rates['pack']:,.0f} | 1.00× |")
    print(f"| pack + 50,000-entry list | {len(items):,} | {rates['pack + list']:,.0f} | {slower:.2f}× the time |")


if __name__ == "__main__":
    main()
