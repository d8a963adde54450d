"""Which multi-pattern engine should drive the rule prefilter? Aho–Corasick or Hyperscan.

Issue 3 asks for the choice to be made by measurement. This runs the same real items and the
same generated rules as ``bench/match.py`` (100, 1,000 and 10,000 rules) through three
prefilters and prints microseconds per item:

  current          monitor.rules.prefilter.Prefilter: the item's word set answers exact
                   words, one pyahocorasick pass finds ``prefix*`` keys, and set operations
                   over the rules' two cheapest requirement groups pick candidates.
  hs-prefixes      the same, with the prefix pass done by a Hyperscan literal database
                   (one report per prefix found) instead of Aho–Corasick.
  hs-combination   one Hyperscan scan decides everything: every key is a quiet literal and
                   every rule is a logical combination (AND of its groups, OR inside one),
                   so Hyperscan itself reports the candidate rules.

Every variant must give the candidates the current prefilter gives (hs-combination checks
all groups, not only the first eight, so its candidates may be a subset); the run stops on
any other difference. Needs ``pip install hyperscan`` (or ``pip install -e '.[bench]'``).

Run: ``.venv/bin/python bench/prefilter.py [--quick]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from match import SEED, RuleGenerator, Vocabulary, load_items  # noqa: E402

from monitor.rules import compile_text  # noqa: E402
from monitor.rules.itemtext import ItemText  # noqa: E402
from monitor.rules.prefilter import Prefilter, rule_groups  # noqa: E402
from monitor.rules.syntax import Node  # noqa: E402

try:
    import hyperscan
except ImportError:  # the benchmark's only optional dependency
    hyperscan = None

RULE_COUNTS = (100, 1_000, 10_000)
Candidates = Callable[[ItemText], list[int]]


def literal_pattern(text: str) -> bytes:
    """A Hyperscan expression matching ``text``'s UTF-8 bytes literally."""
    return b"".join(b"\\x%02x" % byte for byte in text.encode())


def item_stream(item: ItemText) -> str:
    """The text the prefilter scans: each field's folded words, fields two spaces apart."""
    return " " + "  ".join(field.folded_text for field in item.fields.values()) + " "


def current(queries: Sequence[Node]) -> Candidates:
    prefilter = Prefilter(queries)
    return lambda item: prefilter.candidates(set(item.present), [f.folded_text for f in item.fields.values()])


def hs_prefixes(queries: Sequence[Node]) -> Candidates:
    """The current set logic, with the prefix keys found by Hyperscan."""
    assert hyperscan is not None
    prefilter = Prefilter(queries)
    prefilter._automaton = None  # the set logic stays; only the prefix pass is replaced
    prefixes = sorted({key for q in queries for group in rule_groups(q) for key in group if key.endswith("*")})
    database = hyperscan.Database()
    database.compile(
        expressions=[literal_pattern(" " + key[:-1]) for key in prefixes],
        ids=list(range(len(prefixes))),
        elements=len(prefixes),
        flags=hyperscan.HS_FLAG_SINGLEMATCH,
    )

    def candidates(item: ItemText) -> list[int]:
        present = set(item.present)
        database.scan(
            item_stream(item).encode(), match_event_handler=lambda key, _s, _e, _f, _c: present.add(prefixes[key])
        )
        return prefilter.candidates(present, [f.folded_text for f in item.fields.values()])

    return candidates


def hs_combination(queries: Sequence[Node]) -> Candidates:
    """Every rule a Hyperscan logical combination of its requirement groups."""
    assert hyperscan is not None
    key_ids: dict[str, int] = {}
    combinations = []
    for query in queries:
        groups = [sorted(group) for group in rule_groups(query)]
        for key in (key for group in groups for key in group):
            key_ids.setdefault(key, len(key_ids))
        combinations.append(" & ".join("(" + " | ".join(str(key_ids[k]) for k in group) + ")" for group in groups))
    first_rule = len(key_ids)
    expressions = [literal_pattern(" " + k[:-1] if k.endswith("*") else f" {k} ") for k in key_ids]
    flags = [hyperscan.HS_FLAG_QUIET | hyperscan.HS_FLAG_SINGLEMATCH] * len(key_ids)
    expressions += [combination.encode() for combination in combinations]
    flags += [hyperscan.HS_FLAG_COMBINATION | hyperscan.HS_FLAG_SINGLEMATCH] * len(combinations)
    database = hyperscan.Database()
    database.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions), flags=flags)

    def candidates(item: ItemText) -> list[int]:
        found: list[int] = []
        database.scan(
            item_stream(item).encode(), match_event_handler=lambda rule, _s, _e, _f, _c: found.append(rule - first_rule)
        )
        return sorted(found)

    return candidates


VARIANTS: dict[str, Callable[[Sequence[Node]], Candidates]] = {
    "current": current,
    "hs-prefixes": hs_prefixes,
    "hs-combination": hs_combination,
}


def _agrees(variant: str, got: list[int], want: list[int]) -> bool:
    """hs-combination checks every requirement group, so it may rule out more; the others
    must give exactly the current candidates."""
    return set(got) <= set(want) if variant == "hs-combination" else got == want


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Lowest CPU time of ``repeats`` runs (the machine is shared; CPU time hides steal)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 10th item, one repeat")
    args = parser.parse_args()
    if hyperscan is None:
        raise SystemExit("hyperscan is not installed (pip install hyperscan); nothing to compare")
    sources = load_items()
    items = [item for group in sources.values() for item in group]
    generator = RuleGenerator(Vocabulary(items), items, SEED)
    measured = items[:: 10 if args.quick else 1]
    texts = [ItemText(item) for item in measured]
    print(f"{len(measured):,} items; µs per item (CPU time, best of {1 if args.quick else 3})\n")
    print("| rules | variant | build s | µs/item | vs current | candidates/item |")
    print("|---:|---|---:|---:|---:|---:|")
    for count in RULE_COUNTS:
        generator.rng = random.Random(SEED + count)  # the same rules as bench/match.py
        ruleset = compile_text(generator.yaml(count), f"generated-{count}.yaml")
        queries = [ruleset.query_tree(rule.id) for rule in sorted(ruleset.rules, key=lambda r: r.id)]
        reference: list[list[int]] = []
        baseline = 0.0
        for name, build in VARIANTS.items():
            started = time.perf_counter()
            candidates = build(queries)
            build_seconds = time.perf_counter() - started
            results = [candidates(text) for text in texts]
            if not reference:
                reference = results
            elif any(not _agrees(name, got, want) for got, want in zip(results, reference, strict=True)):
                raise SystemExit(f"{name} disagrees with the current prefilter at {count} rules")
            seconds = best_of(1 if args.quick else 3, lambda c=candidates: [c(text) for text in texts])
            baseline = baseline or seconds
            per_item = sum(map(len, results)) / len(texts)
            print(
                f"| {count:,} | {name} | {build_seconds:.2f} | {seconds / len(texts) * 1e6:.1f} | "
                f"{seconds / baseline:.2f}× | {per_item:.3f} |"
            )


if __name__ == "__main__":
    main()
