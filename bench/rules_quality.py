"""Measure the default watch-rule pack against hand-labelled real news.

Loads the third-party corpus in ``<repo>/../shared/corpus`` (never copied into the repo), joins it
with the labels in ``tests/data/labels/*.tsv`` and prints per-theme and overall precision / recall,
then the false positives and false negatives (titles go to the console only).

Run: ``.venv/bin/python bench/rules_quality.py [--rules rules] [--quiet]``
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Protocol

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus"
LABELS = REPO / "tests" / "data" / "labels"

# Feed files (relative to the corpus root) whose entries are measured: the 2026 outlet feeds plus
# every feed that TOPICAL_ITEMS.tsv lists. Left out: the WSJ re-publications under
# orx365_rss-arch/output (the de-duplicated TSV below holds them) and two copies of tpm.atom.
KAGI_DIR = "kagisearch_fastfeedparser/benchmark_data"  # the 27 feeds of 2026, all of them
FEED_FILES: tuple[str, ...] = (
    "bnjr_rn-rss-parser/src/test/samples/reuters.ts.extracted.xml",
    "koshkarik_react-tests-workshop/__fixtures__/feed.js.extracted.xml",
    *(
        f"jmanuelbr_chrome-extension/src/js/mocks/{name}.mocks.js.extracted.xml"
        for name in (
            "nytimes",
            "cnn",
            "theguardian",
            "huffpost",
            "bbc",
            "20minutos",
            "elpais",
            "elmundo",
            "elconfidencial",
            "eldiario",
            "expansion",
            "as",
        )
    ),
    *(
        f"rbren_rss-parser/test/input/{name}"
        for name in (
            "guardian.rss",
            "customfields.rss",
            "encoding.rss",
            "giantbomb-podcast.rss",
            "itunes-keywords-astext.rss",
            "itunes-missing-image.rss",
            "uolNoticias.rss",
        )
    ),
    *(
        f"danmactough_node-feedparser/test/feeds/{name}"
        for name in (
            "tpm.atom",
            "rss2sample.xml",
            "wapowellness.xml",
        )
    ),
    *(
        f"Ranchero-Software_NetNewsWire/Modules/RSParser/Tests/RSParserTests/Resources/{name}"
        for name in (
            "4fsodonline.atom",
            "DaringFireball.rss",
            "OneFootTsunami.atom",
            "atp.rss",
            "bio.rdf",
            "dcrainmaker.xml",
            "russcox.atom",
            "scriptingNews.rss",
        )
    ),
    "feedjira_feedjira/spec/sample_feeds/TechCrunch.xml",
    "miniflux_v2/internal/reader/parser/testdata/large_atom.xml",
    "miniflux_v2/internal/reader/parser/testdata/large_rss.xml",
)
WSJ_TSV = "orx365_rss-arch/derived_from_git_history/wsj_world_unique_items_2025-04_to_2026-02.tsv"
AG_NEWS = "suuuch_TransformerClassification/data/ag_news_csv/test.csv"
BBC_DIR = "michelpf_dataset-bbc-news-category/bbc"
KCNA_CSV = "xmarquez_KCNA/derived_from_data_headlines.rda/kcna_headlines_date_title.csv"
# Held out: labelled blind and never looked at while the pack was tuned (see docs/rules.md).
LEE_FILES = tuple(f"pypi_gensim-4.4.0/gensim/test/test_data/{n}" for n in ("lee_background.cor", "lee.cor"))


@dataclass(frozen=True, slots=True)
class CorpusItem:
    """One news item: where it lives in the corpus, a stable key, and its plain-text fields."""

    source: str  # path relative to the corpus root
    key: str  # first 12 hex digits of sha1(normalized title)
    title: str
    summary: str
    content: str

    def fields(self) -> Mapping[str, str]:
        return {"title": self.title, "summary": self.summary, "content": self.content}


def title_key(title: str) -> str:
    """Stable id for an item that survives re-ordering of the source: sha1 of the squashed title."""
    squashed = " ".join(title.split())
    return hashlib.sha1(squashed.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(markup: str) -> str:
    """Feed summaries carry HTML; rules must see the words only (the pipeline's normalizer does
    the same job in production, this keeps the benchmark independent of it)."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return " ".join(html.unescape(" ".join(extractor.parts)).split())


def _item(source: str, title: str, summary: str = "", content: str = "") -> CorpusItem:
    clean_title = plain_text(title)
    return CorpusItem(source, title_key(clean_title), clean_title, plain_text(summary), plain_text(content))


def _feed_items(root: Path, source: str) -> Iterator[CorpusItem]:
    import feedparser  # imported lazily: only the feed sources need it

    path = root / source
    if not path.is_file():
        return
    parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
    for entry in parsed.entries:
        content = " ".join(part.get("value", "") for part in entry.get("content", []))
        summary = entry.get("summary", "")
        if summary and summary == content:
            summary = ""  # feedparser mirrors content into summary; count the text once
        yield _item(source, entry.get("title", ""), summary, content)


def _wsj_items(root: Path) -> Iterator[CorpusItem]:
    path = root / WSJ_TSV
    if not path.is_file():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            yield _item(WSJ_TSV, row["title"], row["description"])


def _ag_items(root: Path) -> Iterator[CorpusItem]:
    path = root / AG_NEWS
    if not path.is_file():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for _label, title, description in csv.reader(handle):
            # AG News writes line breaks as a backslash and "$" as " #36;".
            text = description.replace("\\", " ").replace(" #36;", " $")
            yield _item(AG_NEWS, title.replace(" #36;", " $"), text)


def _bbc_items(root: Path) -> Iterator[CorpusItem]:
    base = root / BBC_DIR
    if not base.is_dir():
        return
    for path in sorted(base.glob("*/*.txt")):
        text = path.read_text(encoding="latin-1")
        title, _, body = text.partition("\n")
        title = title.strip()
        source = path.relative_to(root).as_posix()
        yield CorpusItem(source, title_key(title), title, "", " ".join(body.split()))


def _kcna_items(root: Path) -> Iterator[CorpusItem]:
    path = root / KCNA_CSV
    if not path.is_file():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["english"] == "True":
                yield _item(KCNA_CSV, row["title"])


def _lee_items(root: Path) -> Iterator[CorpusItem]:
    """One article per line and no headline: the first sentence stands in for the title."""
    for source in LEE_FILES:
        path = root / source
        if path.is_file():
            for line in path.read_text(encoding="latin-1").splitlines():
                first, _, rest = line.strip().partition(". ")
                yield _item(source, first, "", rest)


def load_corpus(root: Path = CORPUS) -> list[CorpusItem]:
    """Every measured item, in a fixed order. Empty when the corpus is absent."""
    items: list[CorpusItem] = []
    kagi = sorted(f"{KAGI_DIR}/{p.name}" for p in (root / KAGI_DIR).glob("*") if p.is_file())
    for source in (*kagi, *FEED_FILES):
        items.extend(_feed_items(root, source))
    for loader in (_wsj_items, _ag_items, _bbc_items, _kcna_items, _lee_items):
        items.extend(loader(root))
    return [item for item in items if item.title or item.summary or item.content]


# --- labels -----------------------------------------------------------------------------------

# Theme of each rule in the default pack, for the per-theme table. Themes are the mission's
# parts, the same words the label files use.
RULE_THEMES: Mapping[str, str] = {
    "dprk-russia-arms": "dprk-russia",
    "dprk-troops-russia": "dprk-russia",
    "dprk-illicit-finance": "dprk-finance",
    "dprk-sanctions-evasion": "dprk-finance",
    "iran-drones-russia": "iran-weapons",
    "iran-arms-proxies": "iran-weapons",
    "shadow-fleet": "shadow-fleet",
    "sanctioned-tanker-seizure": "shadow-fleet",
    "sanctioned-oil-trade": "shadow-fleet",
    "sanctions-evasion": "evasion",
    "dual-use-supply": "evasion",
    "third-party-military-aid": "evasion",
    "illicit-finance-networks": "evasion",
    "un-panel-findings": "un-sanctions",
    "un-arms-embargo": "arms-embargo",
    "embargoed-conflict-arms": "arms-embargo",
    "transfer-denials": "denials",
    "dprk-state-media-rebuttals": "denials",
}


@dataclass(frozen=True, slots=True)
class Label:
    """A human judgement on one item: should an analyst be alerted, and for which theme."""

    alert: bool
    theme: str  # "-" when alert is False


def load_labels(directory: Path = LABELS) -> dict[tuple[str, str], Label]:
    """(source, key) -> label from every ``*.tsv`` in ``directory`` (``#`` lines are comments)."""
    labels: dict[tuple[str, str], Label] = {}
    for path in sorted(directory.glob("*.tsv")):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
        for row in csv.DictReader(lines, delimiter="\t"):
            if row["label"] not in ("alert", "none"):
                raise ValueError(f"{path.name}: bad label {row['label']!r} for {row['key']}")
            labels[(row["source"], row["key"])] = Label(row["label"] == "alert", row["theme"])
    return labels


# --- scoring ----------------------------------------------------------------------------------


class Matcher(Protocol):
    """What the benchmark needs from a rule set (``monitor.rules.RuleSet`` fits)."""

    def match(self, fields: Mapping[str, str]) -> Sequence[object]: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    item: CorpusItem
    rule_ids: tuple[str, ...]
    label: Label | None  # None: not in the labelled sample


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        hits = self.true_positives + self.false_positives
        return self.true_positives / hits if hits else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    outcomes: tuple[Outcome, ...]

    @property
    def labelled(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.label is not None)

    @property
    def false_positives(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.labelled if o.rule_ids and not _alert(o))

    @property
    def false_negatives(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.labelled if _alert(o) and not o.rule_ids)

    @property
    def unlabelled_hits(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.label is None and o.rule_ids)

    def overall(self) -> Score:
        return _score("overall", self.labelled, lambda o: bool(o.rule_ids), lambda o: _alert(o))

    def by_theme(self) -> list[Score]:
        """Recall: share of items labelled with the theme that any rule caught (an alert is an
        alert, whichever rule raised it). Precision: share of the theme's rules' hits that were
        worth an alert (for any theme)."""
        themes = sorted(
            {*RULE_THEMES.values(), *(o.label.theme for o in self.labelled if o.label is not None and o.label.alert)}
        )
        scores = []
        for theme in themes:
            fired = [o for o in self.labelled if _theme_fired(o, theme)]
            wanted = [o for o in self.labelled if o.label is not None and o.label.theme == theme]
            scores.append(
                Score(
                    theme,
                    sum(_alert(o) for o in fired),
                    sum(not _alert(o) for o in fired),
                    sum(not o.rule_ids for o in wanted if _alert(o)),
                )
            )
        return scores

    def by_source(self) -> list[Score]:
        groups = sorted({_source_group(o.item.source) for o in self.labelled})
        return [
            _score(
                group,
                [o for o in self.labelled if _source_group(o.item.source) == group],
                lambda o: bool(o.rule_ids),
                lambda o: _alert(o),
            )
            for group in groups
        ]


def _alert(outcome: Outcome) -> bool:
    return outcome.label is not None and outcome.label.alert


def _theme_fired(outcome: Outcome, theme: str) -> bool:
    return any(RULE_THEMES.get(rule_id, "other") == theme for rule_id in outcome.rule_ids)


def _source_group(source: str) -> str:
    return source.split("/", 1)[0]


def _score(name: str, outcomes: Iterable[Outcome], predicted: _Predicate, actual: _Predicate) -> Score:
    tp = fp = fn = 0
    for outcome in outcomes:
        hit, wanted = predicted(outcome), actual(outcome)
        tp += hit and wanted
        fp += hit and not wanted
        fn += wanted and not hit
    return Score(name, tp, fp, fn)


_Predicate = Callable[[Outcome], bool]


def evaluate(rules: Matcher, items: Iterable[CorpusItem], labels: Mapping[tuple[str, str], Label]) -> Evaluation:
    outcomes = []
    for item in items:
        matches = rules.match(item.fields())
        rule_ids = tuple(sorted({str(getattr(m, "rule_id", "")) for m in matches}))
        outcomes.append(Outcome(item, rule_ids, labels.get((item.source, item.key))))
    return Evaluation(tuple(outcomes))


# --- report -----------------------------------------------------------------------------------


def _table(title: str, scores: Sequence[Score]) -> list[str]:
    lines = [title, f"  {'':<36} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}"]
    for s in scores:
        lines.append(
            f"  {s.name:<36} {s.true_positives:>4} {s.false_positives:>4} "
            f"{s.false_negatives:>4} {s.precision:>9.3f} {s.recall:>7.3f}"
        )
    return lines


def _listing(title: str, outcomes: Sequence[Outcome]) -> list[str]:
    lines = [f"{title} ({len(outcomes)})"]
    for o in outcomes:
        rules = ",".join(o.rule_ids) or "-"
        theme = o.label.theme if o.label is not None else "?"
        lines.append(f"  [{rules}] [{theme}] {o.item.source} {o.item.key} | {o.item.title[:110]}")
    return lines


def report(evaluation: Evaluation, *, verbose: bool = True) -> str:
    lines = [
        f"items: {len(evaluation.outcomes)}, labelled: {len(evaluation.labelled)}, "
        f"alerts raised: {sum(bool(o.rule_ids) for o in evaluation.outcomes)}"
    ]
    lines += _table("per theme", evaluation.by_theme())
    lines += _table("per source", evaluation.by_source())
    lines += _table("", [evaluation.overall()])
    if verbose:
        lines += _listing("false positives", evaluation.false_positives)
        lines += _listing("false negatives", evaluation.false_negatives)
        lines += _listing("unlabelled hits (label them!)", evaluation.unlabelled_hits)
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    from monitor.rules import load_rules

    rules_dir = Path(argv[argv.index("--rules") + 1]) if "--rules" in argv else REPO / "rules"
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}; nothing to measure")
        return 0
    started = time.perf_counter()
    items = load_corpus()
    loaded = time.perf_counter()
    evaluation = evaluate(load_rules([rules_dir]), items, load_labels())
    matched = time.perf_counter()
    print(report(evaluation, verbose="--quiet" not in argv))
    print(
        f"corpus load {loaded - started:.1f}s, matching {matched - loaded:.1f}s "
        f"({len(items) / max(matched - loaded, 1e-9):,.0f} items/s)"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main(sys.argv[1:]))
