"""parse_feed on small hand-written feeds, plus fetch → parse through the local server."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gzip
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest
from support.feedserver import LOGIN_PAGE_HTML, FeedServer

from monitor.fetch import Fetcher, FetchSettings
from monitor.parse import FeedParseError, _neutralise_doctype, parse_feed
from monitor.parse_worker import parse_body
from monitor.stories import story_key
from monitor.types import ConditionalState, FetchErrorKind, ParsedFeed

FEED_URL = "https://feeds.example.org/world"
FINAL_URL = "https://news.example.org/world/rss.xml"
XML = {"content-type": "application/rss+xml; charset=utf-8"}
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Example &amp; World</title>
<item>
  <title>Tanker &lt;b&gt;seized&lt;/b&gt;</title>
  <link>/2024/04/tanker?utm_source=rss</link>
  <guid isPermaLink="false">item-1</guid>
  <description>&lt;p&gt;A tanker was &lt;em&gt;seized&lt;/em&gt;.&lt;/p&gt;</description>
  <pubDate>Tue, 30 Apr 2024 08:15:00 +0200</pubDate>
</item>
<item>
  <title>Second</title>
  <link>https://news.example.org/2024/04/second#top</link>
  <description>Plain</description>
</item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="text">Atom example</title>
  <entry>
    <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
    <title type="html">Ship-to-ship &lt;i&gt;transfer&lt;/i&gt;</title>
    <link href="https://news.example.org/a"/>
    <updated>2024-04-29T10:00:00Z</updated>
    <summary type="text">Short &lt;not a tag&gt;</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Long</p><p>text</p></div></content>
  </entry>
</feed>"""


def parse(body: bytes | str, headers: dict[str, str] | None = None, **kwargs: int) -> ParsedFeed:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return parse_feed(
        data,
        feed_url=FEED_URL,
        final_url=FINAL_URL,
        headers=XML if headers is None else headers,
        now=NOW,
        **kwargs,
    )


def test_rss_items_are_normalised() -> None:
    feed = parse(RSS)
    assert feed.title == "Example & World" and feed.warning is None
    first, second = feed.items
    assert first.key == "guid:item-1"
    assert first.title == "Tanker seized"
    assert first.summary == "A tanker was seized."
    assert first.link == "https://news.example.org/2024/04/tanker"
    assert first.published == datetime(2024, 4, 30, 6, 15, tzinfo=UTC)
    assert first.feed_url == FEED_URL
    assert second.key == "link:https://news.example.org/2024/04/second"
    assert second.published is None


def test_atom_text_types_are_respected() -> None:
    (entry,) = parse(ATOM, {"content-type": "application/atom+xml"}).items
    assert entry.title == "Ship-to-ship transfer"
    assert entry.summary == "Short <not a tag>"  # type="text": angle brackets are text
    assert entry.content == "Long\ntext"
    assert entry.key == "guid:urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6"
    assert entry.published == datetime(2024, 4, 29, 10, 0, tzinfo=UTC)


def test_max_items_caps_entries_in_document_order() -> None:
    items = "".join(f"<item><guid>g{n}</guid><title>n{n}</title></item>" for n in range(50))
    feed = parse(f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>", max_items=7)
    assert [item.title for item in feed.items] == [f"n{n}" for n in range(7)]


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError) as caught:
        parse(LOGIN_PAGE_HTML, {"content-type": "text/html; charset=utf-8"})
    assert str(caught.value) == "not a feed: HTML page (text/html)"
    assert caught.value.kind is FetchErrorKind.NOT_A_FEED


def test_html_page_without_content_type_is_recognised_by_its_start() -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed: HTML page \(no Content-Type\)$"):
        parse(b"\n  <!DOCTYPE html><html><body><p>Hello</p></body></html>", {})


def test_well_formed_xml_that_is_no_feed_is_rejected() -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed: no RSS, Atom or RDF feed found$"):
        parse(b"<?xml version='1.0'?><config><value>1</value></config>")


def test_valid_empty_feed_is_not_an_error() -> None:
    feed = parse(b"<rss version='2.0'><channel><title>Quiet</title></channel></rss>")
    assert feed.title == "Quiet" and feed.items == () and feed.warning is None


def test_malformed_xml_without_entries_reports_the_line() -> None:
    body = "<?xml version='1.0'?>\n<rss version='2.0'>\n<channel><title>x</chanel></rss>"
    with pytest.raises(FeedParseError) as caught:
        parse(body)
    assert str(caught.value) == "not a feed: malformed XML at line 3: mismatched tag"


def test_line_numbers_are_kept_without_declaration_and_with_a_doctype() -> None:
    body = "<!DOCTYPE rss [\n<!ENTITY a 'aaaaaaaaaaaaaaaaaaaa'>\n]>\n<rss>\n<channel>\n</chanel>"
    with pytest.raises(FeedParseError, match=r"malformed XML at line 6: mismatched tag"):
        parse(body)


def test_broken_feed_with_entries_is_kept_with_a_warning() -> None:
    body = RSS.replace("<title>Second</title>", "<title>Second & broken</title>")
    feed = parse(body)
    assert len(feed.items) == 2
    assert feed.warning is not None and feed.warning.startswith("malformed XML at line")


def test_wrong_content_type_is_a_warning_not_a_failure() -> None:
    feed = parse(RSS, {"content-type": "text/html"})
    assert len(feed.items) == 2
    assert feed.warning == "text/html is not an XML media type"


def test_empty_body_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed: "):
        parse(b"")


def test_leading_whitespace_before_the_declaration_is_tolerated() -> None:
    feed = parse("\n\n  " + RSS)
    assert feed.warning is None and len(feed.items) == 2


def test_declared_latin1_is_decoded() -> None:
    body = RSS.replace('encoding="utf-8"', 'encoding="iso-8859-1"').replace("Plain", "Café")
    feed = parse(body.encode("iso-8859-1"), {"content-type": "application/xml"})
    assert feed.items[1].summary == "Café" and feed.warning is None


def test_utf16_with_bom_is_decoded() -> None:
    body = RSS.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
    feed = parse(body, {"content-type": "application/xml"})
    assert feed.title == "Example & World" and len(feed.items) == 2


def test_a_path_as_body_is_never_opened() -> None:
    # feedparser opens file names and URLs given as str/bytes; parse_feed must not.
    with pytest.raises(FeedParseError):
        parse(b"/etc/passwd", {})
    with pytest.raises(FeedParseError):
        parse(b"http://127.0.0.1:9/feed", {})


def test_feed_parse_error_survives_pickling() -> None:
    pickled = pickle.dumps(FeedParseError("not a feed: HTML page (text/html)"))
    error = pickle.loads(pickled)  # noqa: S301 - our own bytes, as a process pool does it
    assert isinstance(error, FeedParseError)
    assert error.message == "not a feed: HTML page (text/html)"
    assert error.kind is FetchErrorKind.NOT_A_FEED


def test_parse_body_runs_in_a_process_pool_and_fingerprints_every_item() -> None:
    """It also detects each item's language (the rest of the item is what parse_feed gives)."""
    call = functools.partial(parse_body, feed_url=FEED_URL, final_url=FINAL_URL, headers=XML, max_items=500)
    with ProcessPoolExecutor(max_workers=1) as pool:
        parsed = pool.submit(call, RSS.encode()).result(timeout=60)
        with pytest.raises(FeedParseError):
            pool.submit(call, LOGIN_PAGE_HTML).result(timeout=60)
    keys = ["guid:item-1", "link:https://news.example.org/2024/04/second"]
    assert [item.key for item in parsed.feed.items] == keys
    assert [item.lang for item in parsed.feed.items] == ["en", "en"]
    unlabelled = tuple(dataclasses.replace(item, lang=None) for item in parsed.feed.items)
    assert dataclasses.replace(parsed.feed, items=unlabelled) == parse_feed(
        RSS.encode(), feed_url=FEED_URL, final_url=FINAL_URL, headers=XML
    )
    assert list(parsed.story_keys) == keys
    for item in parsed.feed.items:
        assert parsed.story_keys[item.key] == story_key(item.title, item.summary, item.link)
    assert parsed.story_keys[keys[0]].canonical_link == "https://news.example.org/2024/04/tanker"


# --- DOCTYPE neutralisation --------------------------------------------------------------------


def test_doctype_keeps_only_non_amplifying_entities() -> None:
    prolog = (
        b"<?xml version='1.0'?>\n<!DOCTYPE rss [\n<!ENTITY nbsp \"&#160;\">\n<!ENTITY x 'ab'>\n"
        b'<!ENTITY big "0123456789">\n<!ENTITY nest "&x;&x;">\n<!ENTITY ext SYSTEM "file:///etc/passwd">\n'
        b'<!ENTITY % pe "x">\n]>\n<rss/>'
    )
    out = _neutralise_doctype(prolog)
    assert b'<!ENTITY nbsp "&#160;">' in out and b'<!ENTITY x "ab">' in out
    for gone in (b"big", b"nest", b"SYSTEM", b"%"):
        assert gone not in out
    assert out.count(b"\n") >= prolog.count(b"\n")
    assert out.endswith(b"<rss/>")


def test_stray_entity_declarations_outside_the_doctype_are_removed() -> None:
    data = b'<!DOCTYPE rss>\n<!ENTITY a "' + b"B" * 100 + b'">\n<rss>&a;</rss>'
    out = _neutralise_doctype(data)
    assert b"ENTITY" not in out and b"DOCTYPE" not in out
    assert out.endswith(b"<rss>&a;</rss>")


def test_doctype_with_tricky_quoting_is_removed_whole() -> None:
    data = b'<!DOCTYPE r [<!-- ]> --><!ENTITY a "]>"><?pi ]> ?>]><rss/>'
    assert _neutralise_doctype(data) == b"<rss/>"


def test_unterminated_doctype_swallows_the_rest() -> None:
    assert _neutralise_doctype(b"<!DOCTYPE r [ <!ENTITY a 'x'> <rss>&a;</rss>") == b""


def test_entities_after_the_root_are_left_alone() -> None:
    data = b"<rss><![CDATA[<!DOCTYPE x>]]></rss>"
    assert _neutralise_doctype(data) == data


# --- through the local HTTP server ---------------------------------------------------------------


async def _fetch_and_parse(url: str) -> ParsedFeed:
    async with Fetcher(FetchSettings(read_timeout=5, deadline=10)) as fetcher:
        result = await fetcher.fetch(url, ConditionalState())
    assert result.ok and result.body is not None
    return parse_feed(result.body, feed_url=url, final_url=result.final_url, headers=result.headers)


def test_fetch_then_parse_resolves_links_against_the_final_url(feed_server: FeedServer) -> None:
    feed_server.redirect("/old.xml", "/news/rss.xml", status=301)
    feed_server.route("/news/rss.xml", RSS.replace("/2024/04/tanker", "tanker.html"))
    feed = asyncio.run(_fetch_and_parse(feed_server.url("/old.xml")))
    assert feed.items[0].link == feed_server.url("/news/tanker.html")
    assert feed.items[0].feed_url == feed_server.url("/old.xml")


def test_login_page_from_the_server_is_not_a_feed(feed_server: FeedServer) -> None:
    feed_server.route("/feed", LOGIN_PAGE_HTML, content_type="text/html; charset=utf-8")
    with pytest.raises(FeedParseError, match=r"HTML page \(text/html\)"):
        asyncio.run(_fetch_and_parse(feed_server.url("/feed")))


def test_gzip_encoded_feed_is_decoded(feed_server: FeedServer) -> None:
    feed_server.route("/gz", gzip.compress(RSS.encode()), headers={"Content-Encoding": "gzip"})
    feed = asyncio.run(_fetch_and_parse(feed_server.url("/gz")))
    assert len(feed.items) == 2


def test_opaque_guids_stay_as_written_whatever_the_feed_url() -> None:
    body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><item><title>A</title>"
        b"<guid isPermaLink='false'>12345</guid><link>story/1</link></item></channel></rss>"
    )
    keys = set()
    for url in ("http://example.org/feeds/world.xml", "https://www.example.org/rss/world"):
        (item,) = parse_feed(body, feed_url=url, final_url=url, headers={}).items
        keys.add(item.key)
        assert item.link is not None and item.link.endswith("/story/1"), "links are still resolved"
    assert keys == {"guid:12345"}
