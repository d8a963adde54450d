"""How often each term of the pack's language files (rules/10-*.yaml) occurs in real text.

Each alias member is matched on its own (as the engine matches it: ICU words, Korean particles,
prefixes) against the items of its language in ../shared/corpus/multilingual, and for Spanish
also against the Spanish outlet feeds of the main corpus. It prints, per language, how many
terms occur at all and the terms that never do, with the number of items each occurs in when
``--all`` is given. A term that never occurs is not wrong (the sets are small and mostly
off-topic), but it was checked by hand against the language's usage instead.

Run: ``.venv/bin/python bench/term_usage.py [--all]``
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from langdetect_compare import SPANISH  # noqa: E402
from multilingual_corpus import load_multilingual  # noqa: E402
from rules_quality import CORPUS, _feed_items  # noqa: E402

from monitor.rules import compile_text  # noqa: E402

LANGUAGES = ("ko", "ja", "zh", "ru", "uk", "de", "fr", "es")


def language_terms(language: str) -> list[str]:
    data = yaml.safe_load((REPO / "rules" / f"10-{language}.yaml").read_text(encoding="utf-8"))
    return sorted({str(m) for members in data["aliases"].values() for m in members if not str(m).startswith("@")})


def texts_by_language() -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {lang: [] for lang in LANGUAGES}
    for item in load_multilingual():
        if item.lang in found:
            found[item.lang].append({k: unicodedata.normalize("NFKC", v) for k, v in item.item.fields().items()})
    found["es"] += [dict(item.fields()) for source in SPANISH for item in _feed_items(CORPUS, source)]
    return found


def usage(terms: list[str], items: list[dict[str, str]]) -> Counter[str]:
    """Items each term occurs in (one rule per term, all matched in one pass)."""
    lines = ["aliases:"] + [f"  t{i}: [{json.dumps(term)}]" for i, term in enumerate(terms)] + ["rules:"]
    lines += [f"  - id: t{i}\n    query: '@t{i}'" for i in range(len(terms))]
    ruleset = compile_text("\n".join(lines) + "\n", "terms.yaml")
    counts: Counter[str] = Counter()
    for item in items:
        counts.update(terms[int(rule_id[1:])] for rule_id in ruleset.match_ids(item))
    return counts


def main(argv: list[str]) -> int:
    texts = texts_by_language()
    for language in LANGUAGES:
        terms = language_terms(language)
        counts = usage(terms, texts[language])
        unused = [term for term in terms if not counts[term]]
        print(f"{language}: {len(texts[language]):,} items, {len(terms) - len(unused)} of {len(terms)} terms occur")
        if "--all" in argv:
            print("  " + ", ".join(f"{term} {counts[term]}" for term in terms))
        print("  never: " + (", ".join(unused) or "-"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
