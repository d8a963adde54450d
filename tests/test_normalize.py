"""Normalisation of single entries: text, links, keys and timestamps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from monitor.htmltext import collapse_whitespace, html_to_text
from monitor.normalize import (
    KEY_READABLE_CHARS,
    MAX_CONTENT_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    RawEntry,
    TextValue,
    canonical_link,
    clean_text,
    entry_time,
    item_key,
    normalize_entry,
    storable,
)

BASE = "https://news.example.org/world/feed.xml"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def html(value: str) -> TextValue:
    return TextValue(value, is_html=True)


def plain(value: str) -> TextValue:
    return TextValue(value, is_html=False)


def raw(**overrides: object) -> RawEntry:
    values: dict[str, object] = {
        "guid": None,
        "link": None,
        "title": plain("Title"),
        "summary": None,
        "contents": (),
        "published": None,
        "updated": None,
        "author": None,
    }
    values.update(overrides)
    return RawEntry(**values)  # type: ignore[arg-type]


# --- HTML → text -------------------------------------------------------------------------------


def test_html_to_text_drops_tags_scripts_and_styles() -> None:
    markup = (
        "<div><style>p {color: red}</style><p>Tanker <b>seized</b>\nin the Gulf</p>"
        "<script>track('sanctions')</script><ul><li>one</li><li>two</li></ul>a<br>b</div>"
    )
    assert html_to_text(markup) == "Tanker seized in the Gulf\none\ntwo\na\nb"


def test_html_to_text_decodes_entities_once() -> None:
    assert html_to_text("AT&amp;T &lt;b&gt; &eacute;t&eacute; &#8364;5 &amp;amp;") == ("AT&T <b> été €5 &amp;")


def test_html_to_text_survives_what_html_parser_rejects() -> None:
    text = html_to_text("<p>before</p><![bogus[ x ]]><p>after</p><script>hidden()</script>")
    assert "before" in text and "after" in text and "hidden" not in text


def test_html_to_text_keeps_cdata_and_unclosed_markup_as_text() -> None:
    assert html_to_text("<![CDATA[inside]]> <i>italic") == "inside italic"


def test_collapse_whitespace() -> None:
    assert collapse_whitespace("  a \t b\n\n\n  c  \r\n") == "a b\nc"


# --- text cleaning ---------------------------------------------------------------------------


def test_clean_text_applies_nfkc() -> None:
    # Full-width letters, a ligature and a non-breaking space fold to their plain forms.
    assert clean_text(plain("ＩＲＡＮ\u00a0oﬃcials"), 100) == "IRAN officials"


def test_clean_text_removes_invisible_word_splitters_but_keeps_zwnj() -> None:
    text = clean_text(plain("sanc\u200btions em\u00adbargo \u202eevil\u202c می\u200cخواهد"), 100)
    assert text == "sanctions embargo evil می\u200cخواهد"


def test_clean_text_makes_text_storable() -> None:
    text = clean_text(plain("nul\x00byte bell\x07 lone\ud800surrogate"), 100)
    assert "\x00" not in text and "\x07" not in text
    assert text == "nul byte bell lone\ufffdsurrogate"
    assert storable("a\tb\nc") == "a\tb\nc"


def test_clean_text_caps_length() -> None:
    assert len(clean_text(plain("word " * 10_000), MAX_TITLE_CHARS)) <= MAX_TITLE_CHARS
    huge = html("<p>" + "x" * 3_000_000 + "</p>")
    assert len(clean_text(huge, MAX_CONTENT_CHARS)) == MAX_CONTENT_CHARS


def test_clean_text_bounds_nfkc_expansion() -> None:
    # U+FDFA decomposes into 18 characters under NFKC.
    assert len(clean_text(plain("\ufdfa" * 50_000), MAX_TITLE_CHARS)) <= MAX_TITLE_CHARS


def test_plain_text_keeps_angle_brackets() -> None:
    assert clean_text(plain("a <b> c"), 100) == "a <b> c"


# --- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("HTTPS://News.Example.ORG/a/b?id=7#comments", "https://news.example.org/a/b?id=7"),
        (
            "/story/1?utm_source=rss&id=2&UTM_Medium=x&fbclid=abc",
            "https://news.example.org/story/1?id=2",
        ),
        ("story.html", "https://news.example.org/world/story.html"),
        ("//cdn.example.net/x", "https://cdn.example.net/x"),
        ("http://example.org:80/x", "http://example.org/x"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        ("https://user:secret@example.org/x", "https://example.org/x"),
        ("https://example.org", "https://example.org/"),
        ("https://[2001:db8::1]:8080/x", "https://[2001:db8::1]:8080/x"),
        (" https://example.org/a\n/b ", "https://example.org/a/b"),
        ("https://example.org/?a=1&b&utm_campaign=&c=%20", "https://example.org/?a=1&b&c=%20"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("mailto:desk@example.org", None),
        ("ftp://example.org/file", None),
        ("https://[::1", None),
        ("https://example.org:99999/", None),
        ("http:///nohost", None),
        ("", None),
        (None, None),
        ("https://example.org/" + "a" * 5000, None),
    ],
)
def test_canonical_link(link: str | None, expected: str | None) -> None:
    assert canonical_link(link, BASE) == expected


# --- keys ------------------------------------------------------------------------------------


def test_item_key_prefers_guid_then_link_then_hash() -> None:
    assert item_key("  urn:uuid:1 ", "https://e.org/a", "t", "s") == "guid:urn:uuid:1"
    assert item_key(None, "https://e.org/a", "t", "s") == "link:https://e.org/a"
    hashed = item_key(None, None, "t", "s")
    assert hashed.startswith("hash:") and len(hashed) == len("hash:") + 64
    assert hashed == item_key("   ", None, "t", "s")
    assert hashed != item_key(None, None, "t", "other")


def test_item_key_is_bounded_and_still_unique() -> None:
    first = item_key("x" * 10_000 + "1", None, "", "")
    second = item_key("x" * 10_000 + "2", None, "", "")
    assert first != second
    assert len(first) <= len("guid:") + KEY_READABLE_CHARS + 1 + 32
    assert first.startswith("guid:" + "x" * KEY_READABLE_CHARS + "#")


# --- time ------------------------------------------------------------------------------------


def test_entry_time_is_utc_aware() -> None:
    parsed = time.strptime("2024-04-30 08:15:00", "%Y-%m-%d %H:%M:%S")
    assert entry_time(parsed, now=NOW) == datetime(2024, 4, 30, 8, 15, tzinfo=UTC)


def test_entry_time_clamps_the_future_to_now() -> None:
    soon = (NOW + timedelta(minutes=2)).timetuple()
    far = (NOW + timedelta(days=400)).timetuple()
    assert entry_time(soon, now=NOW) == NOW + timedelta(minutes=2)
    assert entry_time(far, now=NOW) == NOW


def test_entry_time_absent_or_impossible_is_none() -> None:
    assert entry_time(None, now=NOW) is None
    impossible = time.struct_time((2024, 2, 31, 0, 0, 0, 0, 0, 0))
    assert entry_time(impossible, now=NOW) is None


# --- whole entries ---------------------------------------------------------------------------


def test_normalize_entry_builds_a_complete_item() -> None:
    published = time.strptime("2024-04-30 08:15:00", "%Y-%m-%d %H:%M:%S")
    item = normalize_entry(
        raw(
            guid="tag:example.org,2024:1",
            link="/a/1?utm_source=rss",
            title=html("Ship-to-ship <em>transfer</em> &amp; sanctions"),
            summary=html("<p>Summary</p>"),
            contents=(html("<p>Part one</p>"), plain("Part two")),
            updated=published,
            author="Desk  Reporter",
        ),
        feed_url="https://feeds.example.org/world",
        final_url=BASE,
        now=NOW,
    )
    assert item.key == "guid:tag:example.org,2024:1"
    assert item.feed_url == "https://feeds.example.org/world"
    assert item.title == "Ship-to-ship transfer & sanctions"
    assert item.summary == "Summary"
    assert item.content == "Part one\nPart two"
    assert item.link == "https://news.example.org/a/1"
    assert item.published == datetime(2024, 4, 30, 8, 15, tzinfo=UTC)  # updated as fallback
    assert item.author == "Desk Reporter"


def test_summary_equal_to_content_is_kept_in_both_fields() -> None:
    item = normalize_entry(
        raw(summary=html("<p>Same</p>"), contents=(html("<p>Same</p>"),)),
        feed_url=BASE,
        final_url=BASE,
        now=NOW,
    )
    assert item.summary == item.content == "Same"


def test_every_field_is_capped() -> None:
    long = "y" * 300_000
    item = normalize_entry(
        raw(title=plain(long), summary=plain(long), contents=(plain(long), plain(long))),
        feed_url=BASE,
        final_url=BASE,
        now=NOW,
    )
    assert len(item.title) == MAX_TITLE_CHARS
    assert len(item.summary) == MAX_SUMMARY_CHARS
    assert len(item.content) == MAX_CONTENT_CHARS


def test_entry_without_anything_still_gets_a_key() -> None:
    item = normalize_entry(raw(title=None), feed_url=BASE, final_url=BASE, now=NOW)
    assert item.title == "" and item.link is None and item.published is None
    assert item.key.startswith("hash:") and item.author is None
