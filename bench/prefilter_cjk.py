"""Does the prefilter keep its speed on text written without spaces? CJK run next to the English one.

Two item sets: English (AG News, BBC, WSJ World and KCNA items of bench/match.py, every 3rd) and
CJK (the Chinese CCTV stories, Japanese and Korean items of the multilingual corpus). Two rule
sets for each: the shipped pack (rules/, which reads all eight languages) and 1,000 rules
generated from that item set's own vocabulary (words, phrases of adjacent words, prefixes,
NEAR, AND/OR/NOT), as bench/match.py does for English. Per item (CPU time, best of 3) it prints
the text set-up (words, including ICU's cuts), the prefilter, and the whole match, plus
candidates per item; and it checks the engine against the naive matcher on every item.

Run: ``.venv/bin/python bench/prefilter_cjk.py [--quick]``
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from match import load_items  # noqa: E402
from multilingual_corpus import load_multilingual  # noqa: E402
from prefilter import best_of  # noqa: E402

from monitor.rules import RuleSet, compile_text, load_rules  # noqa: E402
from monitor.rules.itemtext import ItemText  # noqa: E402
from monitor.rules.naive import NaiveRules  # noqa: E402
from monitor.rules.text import words  # noqa: E402

Item = dict[str, str]
SEED = 20261206
RULES = 1_000


def item_sets(quick: bool) -> dict[str, list[Item]]:
    english = [item for group in load_items().values() for item in group][::3]
    cjk = [
        {name: unicodedata.normalize("NFKC", text) for name, text in found.item.fields().items()}
        for found in load_multilingual()
        if found.lang in ("zh", "ja", "ko")
    ]
    step = 10 if quick else 1
    return {"English": english[::step], "CJK (zh, ja, ko)": cjk[::step]}


def generated_rules(items: Sequence[Item], count: int, seed: int) -> str:
    """``count`` rules from the items' words (the 150 most frequent left out), phrases of two
    adjacent words, prefixes of the longer words, and the operators of the language."""
    frequency: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for item in items:
        found = [w.lower() for w in words(" ".join(item.values())) if not w.isdigit()]
        frequency.update(found)
        bigrams.update(f"{a} {b}" for a, b in pairwise(found))
    common = {w for w, _ in frequency.most_common(150)}
    pool = [w for w, n in frequency.most_common(20_000) if w not in common and n > 1]
    phrases = [b for b, n in bigrams.most_common(5_000) if n > 1 and not set(b.split()) & common]
    rng = random.Random(seed)

    def term() -> str:
        roll = rng.random()
        if roll < 0.2 and phrases:
            return f'"{rng.choice(phrases)}"'
        word = rng.choice(pool)
        return word[:-1] + "*" if roll < 0.3 and len(word) >= 4 else word

    shapes: list[Callable[[], str]] = [
        lambda: f"{term()} AND ({term()} OR {term()})",
        lambda: f"{term()} NEAR/5 {term()}",
        lambda: f"({term()} OR {term()}) AND NOT {term()}",
        lambda: f"title:({term()}) AND {term()}",
    ]
    lines = ["rules:"]
    for number in range(count):
        query = rng.choice(shapes)().replace("'", "''")
        lines += [f"  - id: g{number}", f"    query: '{query}'"]
    return "\n".join(lines) + "\n"


def measure(ruleset: RuleSet, items: Sequence[Item], repeats: int) -> tuple[float, float, float, float]:
    """µs per item for set-up, prefilter and the whole match; candidates per item."""
    prefilter = ruleset._prefilter  # the benchmark looks inside on purpose
    setup = best_of(repeats, lambda: [ItemText(item) for item in items])
    texts = [ItemText(item) for item in items]
    inputs = [text.prefilter_input(prefilter.loose) for text in texts]
    candidates = [prefilter.candidates(set(keys), list(joined)) for keys, joined in inputs]
    seconds = best_of(repeats, lambda: [prefilter.candidates(set(k), list(j)) for k, j in inputs])
    whole = best_of(repeats, lambda: [ruleset.match(item) for item in items])
    per = 1e6 / len(items)
    return setup * per, seconds * per, whole * per, sum(map(len, candidates)) / len(items)


def check(ruleset: RuleSet, items: Sequence[Item]) -> int:
    """Items where the engine and the naive matcher differ (rule ids or spans)."""
    naive = NaiveRules(ruleset)
    return sum(
        [(m.rule_id, m.spans) for m in ruleset.match(item)] != [(m.rule_id, m.spans) for m in naive.match(item)]
        for item in items
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 10th item, one repeat")
    args = parser.parse_args()
    sets = item_sets(args.quick)
    repeats = 1 if args.quick else 3
    pack = load_rules([REPO / "rules"])
    print("| items | rules | items | chars/item | set-up µs/item | prefilter µs/item | prefilter µs/1,000 chars "
          "| match µs/item | candidates/item | mismatches |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, items in sets.items():
        chars = sum(len(text) for item in items for text in item.values()) / len(items)
        generated = compile_text(generated_rules(items, RULES, SEED), "generated.yaml")
        for label, ruleset in (("shipped pack", pack), (f"{RULES:,} generated", generated)):
            setup, prefilter, whole, candidates = measure(ruleset, items, repeats)
            differ = check(ruleset, items)
            print(f"| {name} | {label} | {len(items):,} | {chars:,.0f} | {setup:.1f} | {prefilter:.1f} | "
                  f"{prefilter / chars * 1000:.1f} | {whole:.1f} | {candidates:.3f} | {differ} |")  # fmt: skip


if __name__ == "__main__":
    main()
