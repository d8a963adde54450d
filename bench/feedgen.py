"""Benchmark feeds built in memory from the third-party corpus in <repo>/../shared/corpus.

The corpus text never lands in the repository: RSS documents are built at run time from
AG News (test.csv), the WSJ World item history (tsv) and the BBC News dataset (first line and
first paragraph of each article), all located by path.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

_RECENT = datetime.now(UTC).replace(second=0, microsecond=0)

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
AG_NEWS = "suuuch_TransformerClassification/data/ag_news_csv/test.csv"
WSJ = "orx365_rss-arch/derived_from_git_history/wsj_world_unique_items_2025-04_to_2026-02.tsv"
BBC = "michelpf_dataset-bbc-news-category/bbc"


@dataclass(frozen=True, slots=True)
class CorpusItem:
    source: str  # file path inside the corpus plus row or article, for reference
    title: str
    description: str


def load_corpus(corpus: Path = CORPUS) -> list[CorpusItem]:
    """Every usable item, in a fixed order. Raises FileNotFoundError when the corpus is absent."""
    items = _ag_news(corpus / AG_NEWS) + _wsj(corpus / WSJ) + _bbc(corpus / BBC)
    if not items:
        raise FileNotFoundError(f"no corpus items under {corpus}")
    return items


def _ag_news(path: Path) -> list[CorpusItem]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            CorpusItem(f"{AG_NEWS}#{row_number}", row[1], row[2].replace("\\", " "))
            for row_number, row in enumerate(csv.reader(handle))
            if len(row) >= 3
        ]


def _wsj(path: Path) -> list[CorpusItem]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            CorpusItem(f"{WSJ}#{row.get('guid')}", row.get("title") or "", row.get("description") or "")
            for row in rows
            if row.get("title")
        ]


def _bbc(folder: Path) -> list[CorpusItem]:
    items = []
    for path in sorted(folder.glob("*/*.txt")):
        text = path.read_text(encoding="latin-1").strip()
        title, _, rest = text.partition("\n")
        first_paragraph = rest.strip().split("\n\n", 1)[0]
        items.append(CorpusItem(f"{BBC}/{path.parent.name}/{path.name}", title.strip(), first_paragraph))
    return items


def rss_item(guid: str, title: str, description: str, link: str, minute: int) -> str:
    # Recent, so the items alert as fresh news would (older ones are stored but stay quiet).
    stamp = format_datetime(_RECENT - timedelta(minutes=minute % 1440), usegmt=True)
    return (
        f'<item><guid isPermaLink="false">{escape(guid)}</guid><title>{escape(title)}</title>'
        f"<link>{escape(link)}</link><description>{escape(description)}</description>"
        f"<pubDate>{stamp}</pubDate></item>"
    )


def rss_document(title: str, items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://bench.invalid/</link>"
        f"<description>benchmark feed</description>{''.join(items)}</channel></rss>"
    ).encode()


class FeedSet:
    """`feeds` feeds of `per_feed` items each, cycling through the corpus; items can be added."""

    def __init__(
        self, corpus: list[CorpusItem], feeds: int, per_feed: int, reserved: frozenset[int] = frozenset()
    ) -> None:
        self._corpus = corpus
        self._pool = [i for i in range(len(corpus)) if i not in reserved]
        self._per_feed = per_feed
        self._items: list[list[str]] = [
            [self._item(n, self._pool[(n * per_feed + k) % len(self._pool)], k) for k in range(per_feed)]
            for n in range(feeds)
        ]
        self._added = 0

    def _item(self, feed: int, index: int, serial: int, suffix: str = "") -> str:
        entry = self._corpus[index]
        title = f"{entry.title} {suffix}".strip()
        return rss_item(
            f"bench-{feed}-{index}-{serial}",
            title,
            entry.description,
            f"https://bench.invalid/{feed}/{index}/{serial}",
            serial,
        )

    def __len__(self) -> int:
        return len(self._items)

    def body(self, feed: int) -> bytes:
        return rss_document(f"Bench feed {feed}", self._items[feed])

    def add(self, feed: int, index: int, suffix: str = "") -> None:
        """A new item on top (the oldest drops off, as on a real feed)."""
        self._added += 1
        serial = self._per_feed + self._added
        self._items[feed] = [self._item(feed, index, serial, suffix), *self._items[feed][:-1]]

    def refresh(self, feed: int) -> None:
        """An ordinary new item from the corpus on top of `feed`."""
        self.add(feed, self._pool[(feed * 7919 + self._added) % len(self._pool)])
