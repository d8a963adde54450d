"""Hostile and broken input: third-party corpora (read in place, never copied) and synthetic
attacks. Figures (times, peak memory) are printed for the report; the time and memory bounds
asserted here are deliberately generous ceilings against hangs and blow-ups, not benchmarks."""

from __future__ import annotations

import asyncio
import re
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import CORPUS_HEADER_LINE, PER_FILE_CEILING_SECONDS, corpus_path
from support.feedserver import FeedServer

from monitor.fetch import Fetcher, FetchSettings
from monitor.normalize import (
    FUTURE_TOLERANCE,
    MAX_CONTENT_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
)
from monitor.parse import MAX_ATTRIBUTES, MAX_DEPTH, FeedParseError, parse_feed
from monitor.types import ConditionalState, FetchErrorKind, FetchResult, Item, ParsedFeed

PEAK_MEMORY_CEILING = 64 * 1024 * 1024
XML = {"content-type": "application/xml"}
_SOURCES_ROW = re.compile(r"^\| `([^`]+)` \| [^|]* \| (\d+) \|", re.MULTILINE)

# Real outlet and project feeds, served from the local server (paths inside ../shared/corpus).
OUTLET_FEEDS = (
    "kagisearch_fastfeedparser/benchmark_data/1796df62c4a287cc",  # BBC News
    "kagisearch_fastfeedparser/benchmark_data/78f77fae2e1ffc14",  # NYT World
    "kagisearch_fastfeedparser/benchmark_data/ce5f942d1cd40fc0",  # Dawn World
    "kagisearch_fastfeedparser/benchmark_data/9f9555d69283aeda",  # TIME World, 1 MB
    "kagisearch_fastfeedparser/benchmark_data/cc314ce5dfbb3adc",  # 1,046 entries: capped
    "rbren_rss-parser/test/input/guardian.rss",
    "rbren_rss-parser/test/input/encoding.rss",  # ISO-8859-1
    "rbren_rss-parser/test/input/giantbomb-podcast.rss",  # 730 items
    "rbren_rss-parser/test/input/itunes-missing-image.rss",  # bozo but usable
    "jmanuelbr_chrome-extension/src/js/mocks/nytimes.mocks.js.extracted.xml",
    "jmanuelbr_chrome-extension/src/js/mocks/elpais.mocks.js.extracted.xml",  # bozo
    "Ranchero-Software_NetNewsWire/Modules/RSParser/Tests/RSParserTests/Resources/DaringFireball.atom",
    "Ranchero-Software_NetNewsWire/Modules/RSParser/Tests/RSParserTests/Resources/kc0011.rss",
    "Ranchero-Software_NetNewsWire/Modules/RSParser/Tests/RSParserTests/Resources/bio.rdf",
    "danmactough_node-feedparser/test/feeds/iconv.xml",  # windows-1251
    "bnjr_rn-rss-parser/src/test/samples/reuters.ts.extracted.xml",
    "koshkarik_react-tests-workshop/__fixtures__/feed.js.extracted.xml",
)


@dataclass
class Measured:
    seconds: float = 0.0
    peak_bytes: int = 0


@contextmanager
def measured() -> Iterator[Measured]:
    figures = Measured()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield figures
    finally:
        figures.seconds = time.perf_counter() - started
        figures.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n[figures] {line}")


def parse_or_reject(body: bytes, headers: dict[str, str]) -> ParsedFeed | FeedParseError:
    try:
        return parse_feed(body, feed_url="https://e.org/f", final_url="https://e.org/f", headers=headers)
    except FeedParseError as error:
        return error


def all_text(feed: ParsedFeed | FeedParseError) -> str:
    if isinstance(feed, FeedParseError):
        return feed.message
    return "\n".join([feed.title, *(f"{i.title}\n{i.summary}\n{i.content}" for i in feed.items)])


def assert_item_is_sane(item: Item, now: datetime) -> None:
    assert item.key.split(":", 1)[0] in ("guid", "link", "hash") and len(item.key) <= 300
    assert item.link is None or item.link.startswith(("http://", "https://"))
    assert item.published is None or item.published.tzinfo is UTC
    assert item.published is None or item.published <= now + FUTURE_TOLERANCE
    assert len(item.title) <= MAX_TITLE_CHARS and len(item.summary) <= MAX_SUMMARY_CHARS
    assert len(item.content) <= MAX_CONTENT_CHARS
    assert "\x00" not in item.title + item.summary + item.content


# --- the feedparser project's own test corpus --------------------------------------------------


@pytest.mark.corpus
def test_every_feedparser_corpus_file_parses_or_is_rejected_cleanly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = corpus_path("kurtmckee_feedparser")
    files = sorted(path for path in root.rglob("*") if path.is_file())
    assert len(files) == 2107
    escaped: list[str] = []
    outcome = {"feeds": 0, "rejected": 0}
    slowest = (0.0, "")
    started = time.perf_counter()
    for path in files:
        body = path.read_bytes()
        headers = {k.decode().strip().lower(): v.decode().strip() for k, v in CORPUS_HEADER_LINE.findall(body)}
        began = time.perf_counter()
        try:
            feed = parse_or_reject(body, headers)
        except Exception as exc:  # the point of the test: nothing else may escape
            escaped.append(f"{path.relative_to(root)}: {type(exc).__name__}: {exc}")
            continue
        slowest = max(slowest, (time.perf_counter() - began, str(path.relative_to(root))))
        outcome["rejected" if isinstance(feed, FeedParseError) else "feeds"] += 1
    total = time.perf_counter() - started
    report(
        capsys,
        f"feedparser corpus: {len(files)} files, {outcome['feeds']} parsed, "
        f"{outcome['rejected']} rejected as not a feed, total {total:.1f} s, "
        f"slowest {slowest[0] * 1000:.0f} ms ({slowest[1]})",
    )
    assert escaped == []
    assert slowest[0] < PER_FILE_CEILING_SECONDS
    assert outcome["feeds"] > 2000


# --- real outlet feeds through the whole fetch → parse → normalize path -----------------------


def expected_entry_counts() -> dict[str, int]:
    """Entry counts that SOURCES.md records for each feed file (feedparser 6.0.14)."""
    sources = corpus_path("SOURCES.md").read_text(encoding="utf-8")
    return {path: int(count) for path, count in _SOURCES_ROW.findall(sources)}


@pytest.mark.corpus
def test_outlet_feeds_fetch_parse_and_normalize(feed_server: FeedServer, capsys: pytest.CaptureFixture[str]) -> None:
    expected = expected_entry_counts()
    for index, relative in enumerate(OUTLET_FEEDS):
        feed_server.route(f"/feed/{index}", corpus_path(relative).read_bytes(), content_type="application/xml")

    async def fetch_all() -> list[FetchResult]:
        async with Fetcher(FetchSettings(read_timeout=10, deadline=30)) as fetcher:
            urls = [feed_server.url(f"/feed/{index}") for index in range(len(OUTLET_FEEDS))]
            return await asyncio.gather(*(fetcher.fetch(url, ConditionalState()) for url in urls))

    results = asyncio.run(fetch_all())
    now = datetime.now(UTC)
    slowest = (0.0, "")
    total_items = 0
    for relative, result in zip(OUTLET_FEEDS, results, strict=True):
        assert result.ok and result.body is not None, (relative, result.error)
        began = time.perf_counter()
        feed = parse_feed(result.body, feed_url=result.url, final_url=result.final_url, headers=result.headers)
        slowest = max(slowest, (time.perf_counter() - began, relative))
        assert len(feed.items) == min(expected[relative], 500), relative
        assert feed.title, relative
        for item in feed.items:
            assert_item_is_sane(item, now)
        total_items += len(feed.items)
    report(
        capsys,
        f"outlet feeds: {len(OUTLET_FEEDS)} feeds, {total_items} items via HTTP, "
        f"slowest parse {slowest[0] * 1000:.0f} ms ({slowest[1]})",
    )


# --- XML attacks (defusedxml's samples, raw and wrapped into a feed) ----------------------------


def defused(name: str) -> str:
    return corpus_path("tiran_defusedxml", "xmltestdata", name).read_text(encoding="utf-8")


def as_feed(sample: str, reference: str) -> bytes:
    """The sample's DOCTYPE in front of a small RSS feed that uses its entity everywhere."""
    prolog = sample[: sample.index("]>") + 2]
    return (
        f"{prolog}\n<rss version='2.0'><channel><title>T {reference}</title><item>"
        f"<title>I {reference}</title><description>D {reference}</description>"
        f"<guid>g</guid></item></channel></rss>"
    ).encode()


@pytest.mark.corpus
def test_xml_attack_samples_are_neutralised(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("XXE-MARKER-5d1c", encoding="utf-8")
    remote = feed_server.url("/entity")
    external_file = defused("external_file.xml").replace("file:///PATH/TO/xmltestdata/simple.xml", secret.as_uri())
    cases: dict[str, tuple[bytes, Callable[[str], bool]]] = {
        "xmlbomb": (as_feed(defused("xmlbomb.xml"), "&d;"), lambda text: "1234567890" not in text),
        "xmlbomb2": (defused("xmlbomb2.xml").encode(), lambda text: "1234567890" not in text),
        "quadratic": (
            as_feed(defused("quadratic.xml"), "&a;" * 2000),
            lambda text: "B" * 100 not in text,
        ),
        "cyclic": (as_feed(defused("cyclic.xml"), "&a;"), lambda text: "123" not in text),
        "external_url": (
            as_feed(defused("external.xml").replace("http://www.w3schools.com/xml/note.xml", remote), "&ee;"),
            lambda text: "XXE" not in text,
        ),
        "external_file": (as_feed(external_file, "&ee;"), lambda text: "XXE-MARKER" not in text),
        "external_passwd": (
            as_feed(external_file.replace(secret.as_uri(), "file:///etc/passwd"), "&ee;"),
            lambda text: "root:" not in text,
        ),
        "external_dtd": (
            defused("dtd.xml").replace("http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd", remote).encode(),
            lambda text: True,
        ),
    }
    feed_server.route("/entity", "XXE fetched", content_type="application/xml")
    lines = []
    for name, (body, is_clean) in cases.items():
        with measured() as figures:
            outcome = parse_or_reject(body, XML)
        text = all_text(outcome)
        assert is_clean(text), name
        assert len(text) <= 4 * len(body) + 200, name  # no expansion beyond the input itself
        assert figures.seconds < PER_FILE_CEILING_SECONDS, name
        assert figures.peak_bytes < PEAK_MEMORY_CEILING, name
        kind = "rejected" if isinstance(outcome, FeedParseError) else "parsed"
        lines.append(f"{name} {kind} {figures.seconds * 1000:.0f} ms {figures.peak_bytes / 1e6:.1f} MB")
    assert feed_server.hits("/entity") == 0  # no external entity or DTD was ever fetched
    report(capsys, "XML attacks: " + "; ".join(lines))


@pytest.mark.corpus
def test_raw_defusedxml_samples_never_escape(capsys: pytest.CaptureFixture[str]) -> None:
    directory = corpus_path("tiran_defusedxml", "xmltestdata")
    worst = Measured()
    for path in sorted(directory.iterdir()):
        with measured() as figures:
            outcome = parse_or_reject(path.read_bytes(), XML)
        assert isinstance(outcome, FeedParseError | ParsedFeed)
        worst = Measured(max(worst.seconds, figures.seconds), max(worst.peak_bytes, figures.peak_bytes))
    assert worst.peak_bytes < PEAK_MEMORY_CEILING
    report(capsys, f"raw defusedxml samples: worst {worst.seconds * 1000:.0f} ms, peak {worst.peak_bytes / 1e6:.1f} MB")


# --- synthetic attacks (no corpus needed) -------------------------------------------------------

_AUDIT: dict[str, list[object] | None] = {"opened": None}  # a list while a test is listening


def _record_opens(event: str, args: tuple[object, ...]) -> None:
    opened = _AUDIT["opened"]
    if opened is not None and event in ("open", "urllib.Request", "socket.connect"):
        opened.append(args[0])


def test_parsing_opens_no_file_and_no_connection(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY x "from the DTD">', encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("XXE-MARKER-9b2e", encoding="utf-8")
    body = (
        f'<!DOCTYPE rss SYSTEM "{dtd.as_uri()}" [\n<!ENTITY s SYSTEM "{secret.as_uri()}">\n'
        f'<!ENTITY r SYSTEM "http://127.0.0.1:9/r">\n<!ENTITY % p SYSTEM "{dtd}">\n%p;\n]>\n'
        "<rss version='2.0'><channel><title>&x;</title><item><title>&s; &r;</title>"
        "<guid>g</guid></item></channel></rss>"
    ).encode()
    sys.addaudithook(_record_opens)
    opened: list[object] = []
    _AUDIT["opened"] = opened
    try:
        outcome = parse_or_reject(body, XML)
    finally:
        _AUDIT["opened"] = None
    assert not [target for target in opened if str(tmp_path) in str(target) or "127.0.0.1" in str(target)]
    assert "XXE-MARKER" not in all_text(outcome) and "from the DTD" not in all_text(outcome)


_HEAD = b"<rss version='2.0'><channel><title>t</title>"
_TAIL = b"</channel></rss>"


def test_deep_nesting_is_rejected_before_feedparser_sees_it() -> None:
    body = _HEAD + b"<item><title>x</title><description>" + b"<x>" * 200_000 + b"</description></item>" + _TAIL
    with measured() as figures:
        outcome = parse_or_reject(body, XML)
    assert isinstance(outcome, FeedParseError)
    assert outcome.message == f"not a feed: elements nested more than {MAX_DEPTH} deep"
    assert figures.seconds < PER_FILE_CEILING_SECONDS


def test_attribute_flood_is_rejected() -> None:
    attributes = b" ".join(b"a%d='x'" % n for n in range(100_000))
    outcome = parse_or_reject(_HEAD + b"<item " + attributes + b"><title>x</title></item>" + _TAIL, XML)
    assert isinstance(outcome, FeedParseError)
    assert outcome.message == f"not a feed: an element has more than {MAX_ATTRIBUTES} attributes"


def test_item_flood_is_cut_at_max_items(capsys: pytest.CaptureFixture[str]) -> None:
    items = b"".join(
        b"<item><title>n%d</title><guid isPermaLink='false'>g%d</guid></item>" % (n, n) for n in range(200_000)
    )
    body = _HEAD + items + _TAIL
    with measured() as figures:
        outcome = parse_or_reject(body, XML)
    assert isinstance(outcome, ParsedFeed)
    assert [item.key for item in outcome.items[:2]] == ["guid:g0", "guid:g1"]
    assert len(outcome.items) == 500
    report(
        capsys,
        f"200,000-item feed ({len(body) / 1e6:.1f} MB): {figures.seconds:.2f} s, "
        f"peak {figures.peak_bytes / 1e6:.0f} MB",
    )


def test_element_flood_inside_one_item_is_rejected() -> None:
    body = _HEAD + b"<item><title>x</title>" + b"<x></x>" * 1_000_000 + b"</item>" + _TAIL
    outcome = parse_or_reject(body, XML)
    assert isinstance(outcome, FeedParseError) and "elements" in outcome.message


def test_lying_dates_control_characters_and_scripts() -> None:
    body = (
        _HEAD + b"<item><title>a\x00b\x07c</title><pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>"
        b"<link>javascript:alert(1)</link><description>&lt;script&gt;steal()&lt;/script&gt;ok"
        b"</description></item>" + _TAIL
    )
    before = datetime.now(UTC)
    outcome = parse_or_reject(body, XML)
    assert isinstance(outcome, ParsedFeed)
    (item,) = outcome.items
    assert item.link is None and item.summary == "ok"
    assert item.published is not None and before <= item.published <= datetime.now(UTC)
    assert_item_is_sane(item, datetime.now(UTC))


def test_gzip_bomb_memory_stays_bounded(feed_server: FeedServer, capsys: pytest.CaptureFixture[str]) -> None:
    feed_server.gzip_bomb("/bomb", inflated_bytes=256 * 1024 * 1024)

    async def fetch() -> FetchResult:
        async with Fetcher(FetchSettings(read_timeout=10, deadline=30)) as fetcher:
            return await fetcher.fetch(feed_server.url("/bomb"), ConditionalState())

    with measured() as figures:
        result = asyncio.run(fetch())
    assert result.error_kind is FetchErrorKind.TOO_LARGE
    assert figures.peak_bytes < 128 * 1024 * 1024
    report(
        capsys,
        f"gzip bomb (256 MB inflated, 10 MB cap): stopped after {figures.seconds:.2f} s, "
        f"peak {figures.peak_bytes / 1e6:.0f} MB",
    )
