"""The prefilter engine must return exactly what the naive every-rule regex matcher returns."""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from rules_querygen import QueryGen, rules_yaml

from monitor.rules import RuleSet, compile_text
from monitor.rules.lexer import QuerySyntaxError
from monitor.rules.naive import NaiveRules
from monitor.rules.parser import parse_query

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
VOCAB = [
    "russia",
    "moscow",
    "korea",
    "north",
    "kim",
    "arms",
    "missile",
    "missiles",
    "un",
    "sanction",
    "sanctions",
    "ship",
    "oil",
    "iran",
    "a",
    "b",
    "s",
    "naïve",
    "déjà",
    "straße",
    "putin",
    "computing",
    "tank",
    "tanker",
    "évasion",
]
SEPARATORS = [" ", " ", " ", "-", ", ", "'s ", "\u2019s ", " — ", "\n", "/", " o'"]


def random_text(rng: random.Random, words: int) -> str:
    parts = []
    for _ in range(words):
        word = rng.choice(VOCAB)
        word = rng.choice([word, word, word.upper(), word.capitalize()])
        parts.append(word + rng.choice(SEPARATORS))
    return "".join(parts).strip()


def random_ruleset(rng: random.Random, size: int, vocab: list[str]) -> RuleSet:
    aliases = {
        "al1": [rng.choice(vocab), f"{rng.choice(vocab)} {rng.choice(vocab)}"],
        "al2": [rng.choice(vocab), "@al1", "=" + rng.choice(vocab).upper()],
    }
    gen = QueryGen(rng, vocab, list(aliases))
    queries: list[str] = []
    while len(queries) < size:
        query = gen.query()
        try:
            parse_query(query)
        except QuerySyntaxError:
            continue  # e.g. a purely negative query; the generator is not that careful
        queries.append(query)
    excludes = {i: gen.query(1) for i in range(size) if rng.random() < 0.15}
    excludes = {i: q for i, q in excludes.items() if _parses(q, negative=True)}
    return compile_text(rules_yaml(queries, aliases, excludes), "random.yaml")


def _parses(query: str, negative: bool) -> bool:
    try:
        parse_query(query, allow_negative=negative)
    except QuerySyntaxError:
        return False
    return True


def assert_same(ruleset: RuleSet, naive: NaiveRules, fields: dict[str, str]) -> int:
    engine = [(m.rule_id, m.spans) for m in ruleset.match(fields)]
    assert engine == [(m.rule_id, m.spans) for m in naive.match(fields)], fields
    assert ruleset.match_ids(fields) == tuple(rule_id for rule_id, _ in engine)
    return len(engine)


def test_engine_equals_naive_on_random_rules_and_texts() -> None:
    rng = random.Random(20260227)
    pairs = matched = 0
    for _ in range(60):
        ruleset = random_ruleset(rng, 25, VOCAB)
        naive = NaiveRules(ruleset)
        for _ in range(8):
            fields = {f: random_text(rng, rng.randint(0, 14)) for f in ("title", "summary", "content")}
            matched += assert_same(ruleset, naive, fields)
            pairs += 25
    assert pairs == 12_000
    assert matched > 500  # the comparison must exercise matches, not only misses


def _corpus_items(limit: int) -> list[dict[str, str]]:
    ag = CORPUS / "suuuch_TransformerClassification/data/ag_news_csv/test.csv"
    bbc = sorted((CORPUS / "michelpf_dataset-bbc-news-category/bbc").glob("*/*.txt"))
    if not ag.exists() or not bbc:
        pytest.skip("corpus absent")
    items = []
    with ag.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            items.append({"title": row[1], "summary": row[2].replace("\\", " ")})
            if len(items) >= limit:
                break
    for path in bbc[: limit // 4]:
        title, _, body = path.read_text(encoding="latin-1").partition("\n")
        items.append({"title": title, "content": body})
    wsj = CORPUS / "orx365_rss-arch/derived_from_git_history"
    with (wsj / "wsj_world_unique_items_2025-04_to_2026-02.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    items += [{"title": r["title"], "summary": r["description"]} for r in rows[: limit // 2]]
    kcna = CORPUS / "xmarquez_KCNA/derived_from_data_headlines.rda/kcna_headlines_date_title.csv"
    with kcna.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    items += [{"title": r["title"]} for r in rows[:: max(len(rows) // limit, 1)]]
    return items


@pytest.mark.corpus
def test_engine_equals_naive_on_corpus_items() -> None:
    items = _corpus_items(1200)
    counts: Counter[str] = Counter()
    for item in items:
        counts.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", " ".join(item.values())))
    vocab = [w for w, n in counts.most_common(1500)[100:]]  # skip the very common words
    rng = random.Random(7)
    ruleset = random_ruleset(rng, 300, vocab)
    naive = NaiveRules(ruleset)
    matched = sum(assert_same(ruleset, naive, item) for item in items)
    assert matched > 100


@pytest.mark.corpus
def test_default_pack_engine_equals_naive_on_corpus_items() -> None:
    pack = Path(__file__).resolve().parents[2] / "rules"
    if not any(pack.glob("*.yaml")):
        pytest.skip("no default rule pack yet")
    from monitor.rules import load_rules

    ruleset = load_rules([pack])
    naive = NaiveRules(ruleset)
    matched = sum(assert_same(ruleset, naive, item) for item in _corpus_items(1200))
    assert matched > 0


def test_one_ruleset_shared_by_threads_gives_sequential_results() -> None:
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(99)
    ruleset = random_ruleset(rng, 40, VOCAB)
    texts = [{f: random_text(rng, rng.randint(3, 30)) for f in ("title", "summary", "content")} for _ in range(400)]
    expected = [ruleset.match(fields) for fields in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(ruleset.match, texts))
    assert got == expected
    assert sum(len(m) for m in got) > 50
