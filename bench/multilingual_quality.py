"""Measure the default pack on the non-English feeds of ``../shared/corpus/multilingual``.

Korean: precision and recall against the hand labels in ``tests/data/labels/ko_*.tsv`` (as
bench/rules_quality.py does for English). The other languages (Chinese CCTV transcripts, Japanese,
Russian, Ukrainian, French and German headlines) have no alert in the corpus's sample periods
except those labelled in ``tests/data/labels/multilingual_*.tsv``: every other item a rule
raises there is a false alarm, reported per 1,000 items. Items are matched as the daemon matches
them: NFKC text, and the language monitor.langid detects (for ``lang:`` scopes).

Run: ``.venv/bin/python bench/multilingual_quality.py [--quiet]``
"""

from __future__ import annotations

import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from multilingual_corpus import LangItem, load_multilingual  # noqa: E402
from rules_quality import CORPUS, CorpusItem, Evaluation, Outcome, _listing, _table, load_labels  # noqa: E402

from monitor.langid import item_language  # noqa: E402
from monitor.rules import RuleSet, load_rules  # noqa: E402


def _nfkc(item: CorpusItem) -> CorpusItem:
    """What monitor.normalize hands the rules: NFKC text (half-width katakana → full-width)."""
    title, summary, content = (unicodedata.normalize("NFKC", text) for text in (item.title, item.summary, item.content))
    return CorpusItem(item.source, item.key, title, summary, content)


def evaluate(rules: RuleSet, items: Sequence[LangItem]) -> tuple[dict[str, list[Outcome]], Counter[str]]:
    """Outcomes per language (the source's), and how often the detector agreed with it."""
    labels = load_labels()
    outcomes: dict[str, list[Outcome]] = {}
    agreed: Counter[str] = Counter()
    for found in items:
        item = _nfkc(found.item)
        lang = item_language(item.title, item.summary, item.content)
        agreed[found.lang] += lang == found.lang
        matches = rules.match(item.fields(), lang=lang)
        rule_ids = tuple(sorted(m.rule_id for m in matches))
        outcomes.setdefault(found.lang, []).append(Outcome(item, rule_ids, labels.get((item.source, item.key))))
    return outcomes, agreed


def report(outcomes: dict[str, list[Outcome]], agreed: Counter[str], *, verbose: bool) -> str:
    korean = Evaluation(tuple(outcomes.get("ko", ())))
    lines = [f"Korean: {len(korean.outcomes):,} items, {len(korean.labelled):,} labelled"]
    lines += _table("per theme", korean.by_theme())
    lines += _table("", [korean.overall()])
    lines.append("per language: items, detected as that language, raised, labelled alerts raised, false alarms /1,000")
    for lang, found in sorted(outcomes.items(), key=lambda pair: -len(pair[1])):
        raised = [o for o in found if o.rule_ids]
        alerts = [o for o in raised if o.label is not None and o.label.alert]
        false = len(raised) - len(alerts)
        lines.append(
            f"  {lang:<3} {len(found):>7,} {agreed[lang] / len(found):>7.1%} {len(raised):>6} {len(alerts):>6} "
            f"{1000 * false / len(found):>8.2f}"
        )
    if verbose:
        lines += _listing("Korean false positives", korean.false_positives)
        lines += _listing("Korean false negatives", korean.false_negatives)
        lines += _listing("Korean unlabelled hits (label them!)", korean.unlabelled_hits)
        for lang, found in outcomes.items():
            if lang != "ko":
                lines += _listing(f"{lang} raised", [o for o in found if o.rule_ids])
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if not (CORPUS / "multilingual").is_dir():
        print(f"corpus not found at {CORPUS / 'multilingual'}; nothing to measure")
        return 0
    started = time.perf_counter()
    items = load_multilingual()
    loaded = time.perf_counter()
    outcomes, agreed = evaluate(load_rules([REPO / "rules"]), items)
    matched = time.perf_counter()
    print(report(outcomes, agreed, verbose="--quiet" not in argv))
    rate = len(items) / max(matched - loaded, 1e-9)
    print(f"corpus load {loaded - started:.1f}s, detection and matching {matched - loaded:.1f}s ({rate:,.0f} items/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
