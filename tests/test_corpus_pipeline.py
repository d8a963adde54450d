"""Every feed file of ../shared/corpus, served by a local HTTP server, goes through the real
fetch → parse → normalize → match path with the shipped rule pack: feedparser's own test corpus
(2,107 files) and every file of the real-feed collections (news outlets, parser projects' test
feeds, HTML and broken samples among them). Nothing may escape but a clean "not a feed", and no
file may take longer than the per-file ceiling. Figures are printed for the report."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import CORPUS_HEADER_LINE, PER_FILE_CEILING_SECONDS, corpus_path
from support.feedserver import FeedServer

from monitor.fetch import Fetcher, FetchSettings
from monitor.parse import FeedParseError, parse_feed
from monitor.rules import RuleSet, load_rules
from monitor.types import ConditionalState, FetchResult

REPO = Path(__file__).resolve().parents[1]
FEED_COLLECTIONS = (
    "kurtmckee_feedparser",
    "kagisearch_fastfeedparser",
    "bnjr_rn-rss-parser",
    "koshkarik_react-tests-workshop",
    "jmanuelbr_chrome-extension",
    "rbren_rss-parser",
    "Ranchero-Software_NetNewsWire",
    "danmactough_node-feedparser",
    "miniflux_v2",
    "feedjira_feedjira",
    "orx365_rss-arch",
)
NOT_FEEDS = (".tsv",)  # orx365's derived item table is data, not a feed document


@dataclass
class Tally:
    files: int = 0
    parsed: int = 0
    rejected: int = 0
    fetch_errors: list[str] = field(default_factory=list)
    escaped: list[str] = field(default_factory=list)
    items: int = 0
    hits: int = 0
    slowest: tuple[float, str] = (0.0, "")


def corpus_feed_files() -> list[Path]:
    files: list[Path] = []
    for collection in FEED_COLLECTIONS:
        root = corpus_path(collection)
        files += sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(NOT_FEEDS))
    return files


def served_headers(body: bytes) -> dict[str, str]:
    """The simulated response headers a feedparser corpus file declares (Content-Type, charset...)."""
    found = {k.decode().strip(): v.decode("latin-1").strip() for k, v in CORPUS_HEADER_LINE.findall(body)}
    return {k: v for k, v in found.items() if k.lower() not in ("content-length", "transfer-encoding")}


def fetch_all(server: FeedServer, count: int) -> list[FetchResult]:
    async def run() -> list[FetchResult]:
        async with Fetcher(FetchSettings(read_timeout=20, deadline=60)) as fetcher:
            urls = [server.url(f"/corpus/{index}") for index in range(count)]
            return await asyncio.gather(*(fetcher.fetch(url, ConditionalState()) for url in urls))

    return asyncio.run(run())


def parse_and_match(result: FetchResult, rules: RuleSet, label: str, tally: Tally) -> None:
    began = time.perf_counter()
    try:
        feed = parse_feed(
            result.body or b"", feed_url=result.url, final_url=result.final_url, headers=dict(result.headers)
        )
        for item in feed.items:
            tally.hits += len(rules.match(item.fields(), feed_name=label))
        tally.parsed += 1
        tally.items += len(feed.items)
    except FeedParseError:
        tally.rejected += 1
    except Exception as exc:  # the point of the test: nothing else may escape
        tally.escaped.append(f"{label}: {type(exc).__name__}: {exc}")
    tally.slowest = max(tally.slowest, (time.perf_counter() - began, label))


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_corpus_feed_goes_through_fetch_parse_normalize_and_match(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    files = corpus_feed_files()
    corpus = corpus_path()
    for index, path in enumerate(files):
        body = path.read_bytes()
        headers = served_headers(body)
        content_type = headers.pop("Content-Type", "application/xml")
        feed_server.route(f"/corpus/{index}", body, content_type=content_type, headers=headers)
    rules = load_rules([REPO / "rules"])
    started = time.perf_counter()
    results = fetch_all(feed_server, len(files))
    tally = Tally(files=len(files))
    for path, result in zip(files, results, strict=True):
        label = str(path.relative_to(corpus))
        if not result.ok:
            tally.fetch_errors.append(f"{label}: {result.error_kind}: {result.error}")
            continue
        parse_and_match(result, rules, label, tally)
    total = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\n[figures] corpus through fetch → parse → normalize → match: {tally.files} files, "
            f"{tally.parsed} parsed ({tally.items} items, {tally.hits} rule hits), {tally.rejected} rejected as "
            f"not a feed, {len(tally.fetch_errors)} fetch errors, total {total:.1f} s, "
            f"slowest {tally.slowest[0] * 1000:.0f} ms ({tally.slowest[1]})"
        )
    assert tally.escaped == []
    assert tally.fetch_errors == []
    assert tally.slowest[0] < PER_FILE_CEILING_SECONDS
    assert tally.files > 2300 and tally.parsed > 2200
