"""OPML import/export: real reader layouts, hostile XML from the corpus, and merging into YAML."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml

from monitor.config import load_settings
from monitor.opml import OpmlError, OpmlFeed, merge_into_config_yaml, read_opml, write_opml
from monitor.types import FeedSpec

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus"
ATTACKS = CORPUS / "tiran_defusedxml" / "xmltestdata"

# Layout of a typical reader export: categories as nested outlines, mixed attribute spellings.
NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="World" title="World">
      <outline type="rss" text="BBC World" title="BBC World"
               xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml" htmlUrl="https://www.bbc.co.uk/news"/>
      <outline text="Shipping">
        <outline type="rss" text="gCaptain" xmlurl="https://gcaptain.com/feed/"/>
      </outline>
    </outline>
    <outline type="rss" title="38 North" xmlUrl="https://www.38north.org/feed/"
             category="/Asia/Korea,nonproliferation"/>
    <outline type="rss" text="  Spaced\tname  " xmlUrl="http://example.org/a.rss"/>
    <outline type="link" text="just a page" url="https://example.org/"/>
  </body>
</opml>
"""

SKIPS = b"""<?xml version="1.0"?>
<opml version="2.0"><head/><body>
<outline text="ok" xmlUrl="https://example.org/feed"/>
<outline text="scripted" xmlUrl="javascript:alert(1)"/>
<outline text="local" xmlUrl="file:///etc/passwd"/>
<outline text="hostless" xmlUrl="https:///feed"/>
<outline text="again" xmlUrl="https://example.org/feed"/>
<outline text="secret" xmlUrl="ftp://user:hunter2@example.org/feed"/>
<outline text="private" xmlUrl="https://reader:hunter2@example.org/private.rss"/>
</body></opml>
"""


def test_nested_categories_become_tags() -> None:
    feeds, warnings = read_opml(NESTED, "subs.opml")
    assert warnings == []
    assert feeds == [
        OpmlFeed("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC World", ("World",)),
        OpmlFeed("https://gcaptain.com/feed/", "gCaptain", ("World", "Shipping")),
        OpmlFeed("https://www.38north.org/feed/", "38 North", ("Asia", "Korea", "nonproliferation")),
        OpmlFeed("http://example.org/a.rss", "Spaced name", ()),
    ]


def test_invalid_and_duplicate_outlines_are_skipped_with_line_numbers() -> None:
    feeds, warnings = read_opml(SKIPS, "skips.opml")
    assert [f.url for f in feeds] == ["https://example.org/feed"]
    assert len(warnings) == 6
    assert warnings[0].startswith("skips.opml:4: skipped outline: not an http(s) URL")
    assert warnings[1].startswith("skips.opml:5: skipped outline: not an http(s) URL")
    assert warnings[2].startswith("skips.opml:6: skipped outline: URL has no host")
    assert warnings[3].startswith("skips.opml:7: skipped duplicate feed")
    assert warnings[5].startswith("skips.opml:9: skipped outline: URL contains a user name or password")
    assert not any("hunter2" in warning for warning in warnings)


def test_empty_body_warns() -> None:
    feeds, warnings = read_opml(b"<opml version='2.0'><head/><body/></opml>", "empty.opml")
    assert feeds == []
    assert warnings == ["empty.opml: no feed outlines (with xmlUrl) found"]


def test_names_lose_control_characters_and_are_capped() -> None:
    long_name = "x" * 500
    data = (
        "<opml><body>"
        "<outline text='a&#x7f;b&#x85;c' xmlUrl='https://example.org/1'/>"
        f"<outline text='{long_name}' xmlUrl='https://example.org/2'/>"
        "</body></opml>"
    ).encode()
    feeds, _ = read_opml(data, "names.opml")
    assert feeds[0].name == "a b c"
    assert feeds[1].name is not None and len(feeds[1].name) == 200


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<opml><body><outline", "names.opml:1: not well-formed XML"),
        (b"", "names.opml:1: not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "names.opml:1: the root element is <rss>"),
        (b"<opml>\n<body>&nbsp;</body></opml>", "names.opml:2: not well-formed XML: undefined entity"),
    ],
)
def test_unusable_documents_raise_with_line(data: bytes, expected: str) -> None:
    with pytest.raises(OpmlError) as error:
        read_opml(data, "names.opml")
    assert str(error.value).startswith(expected)


def test_absurd_nesting_is_refused() -> None:
    data = b"<opml><body>" + b"<outline text='x'>" * 100 + b"</outline>" * 100 + b"</body></opml>"
    with pytest.raises(OpmlError, match=r"deep\.opml:1: elements nested deeper than 64 levels"):
        read_opml(data, "deep.opml")


def test_inline_doctype_entities_are_refused_before_expansion() -> None:
    lol = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<opml><body><outline text="&d;&d;&d;&d;" xmlUrl="https://example.org/feed"/></body></opml>
"""
    tracemalloc.start()
    try:
        with pytest.raises(OpmlError, match=r"lol\.opml:2: DOCTYPE is not allowed"):
            read_opml(lol, "lol.opml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # nothing was expanded (full expansion would be ~1 GB)


def test_external_entity_cannot_read_local_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<opml><body><outline text="&x;" xmlUrl="https://example.org/f"/></body></opml>'
    ).encode()
    with pytest.raises(OpmlError, match="DOCTYPE is not allowed") as error:
        read_opml(data, "xxe.opml")
    assert "TOP-SECRET-TOKEN" not in str(error.value)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "xmlbomb.xml",
        "xmlbomb2.xml",
        "quadratic.xml",
        "cyclic.xml",
        "external.xml",
        "external_file.xml",
        "dtd.xml",
        "dtd_element.xml",
    ],
)
def test_defusedxml_attack_samples_are_rejected(name: str) -> None:
    path = ATTACKS / name
    if not path.is_file():
        pytest.skip(f"corpus sample {path} is absent")
    with pytest.raises(OpmlError, match=rf"^{name}:\d+: DOCTYPE is not allowed"):
        read_opml(path.read_bytes(), name)


@pytest.mark.corpus
def test_a_real_rss_feed_is_not_mistaken_for_opml() -> None:
    path = CORPUS / "rbren_rss-parser" / "test" / "input" / "reddit.rss"
    if not path.is_file():
        pytest.skip(f"corpus file {path} is absent")
    with pytest.raises(OpmlError, match=r"^reddit\.rss:\d+: the root element is <\w+>, not <opml>"):
        read_opml(path.read_bytes(), path.name)


def test_write_then_read_round_trips() -> None:
    specs = [
        FeedSpec("https://example.org/a?x=1&y=2", "A & B <news>", 900, ("world", "sanctions")),
        FeedSpec("https://example.org/b", 'Émission "spéciale"', 60, ()),
        FeedSpec("https://example.org/c", "Tagged", 60, ("a,b", "c/d")),
    ]
    document = write_opml(specs, "Monitor feeds")
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")

    feeds, warnings = read_opml(document, "export.opml")

    assert warnings == []
    assert feeds == [
        OpmlFeed("https://example.org/a?x=1&y=2", "A & B <news>", ("world", "sanctions")),
        OpmlFeed("https://example.org/b", 'Émission "spéciale"', ()),
        # commas and slashes separate OPML categories, so inside a tag they become spaces
        OpmlFeed("https://example.org/c", "Tagged", ("a b", "c d")),
    ]


def test_write_strips_characters_xml_cannot_carry() -> None:
    document = write_opml([FeedSpec("https://example.org/a", "bad\x00\x1bname", 60)], "t\x01")
    feeds, _ = read_opml(document, "export.opml")
    assert feeds[0].name == "bad name"


def _shipped_config() -> str:
    return (REPO / "config" / "monitor.yaml").read_text(encoding="utf-8")


def test_merge_appends_new_feeds_and_keeps_comments(tmp_path: Path) -> None:
    original = _shipped_config()
    imported = [
        OpmlFeed("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC again", ()),  # already there
        OpmlFeed("https://example.org/new.rss", "Name: with colon # and hash", ("arms", "yes")),
        OpmlFeed("https://example.org/plain.rss", None, ()),
    ]

    merged = merge_into_config_yaml(original, imported)

    assert merged.startswith(original.split("feeds:")[0])  # header comments untouched
    assert "# With no channel configured, alerts are printed to the console." in merged
    assert merged.count("https://feeds.bbci.co.uk/news/world/rss.xml") == 1
    path = tmp_path / "monitor.yaml"
    path.write_text(merged, encoding="utf-8")
    settings = load_settings(path, {})
    old = yaml.safe_load(original)
    assert len(settings.feeds) == len(old["feeds"]) + 2
    new, plain = settings.feeds[-2:]
    assert (new.url, new.name, new.tags) == (
        "https://example.org/new.rss",
        "Name: with colon # and hash",
        ("arms", "yes"),
    )
    assert (plain.url, plain.name) == ("https://example.org/plain.rss", "example.org")


def test_merge_gives_clashing_titles_distinct_names(tmp_path: Path) -> None:
    config = "feeds:\n  - url: https://example.org/world.rss\n    name: World\n"
    imported = [
        OpmlFeed("https://wire.example/world.rss", "World", ()),
        OpmlFeed("https://wire.example/world2.rss", "World", ()),
        OpmlFeed("https://other.example/rss", "World", ()),
    ]
    path = tmp_path / "monitor.yaml"
    path.write_text(merge_into_config_yaml(config, imported), encoding="utf-8")
    assert [feed.name for feed in load_settings(path, {}).feeds] == [
        "World",
        "World (wire.example)",
        "World (wire.example/world2.rss)",
        "World (other.example)",
    ]


def test_merge_with_nothing_new_returns_the_text_unchanged() -> None:
    original = _shipped_config()
    existing = OpmlFeed("https://gcaptain.com/feed/", "gCaptain", ())
    assert merge_into_config_yaml(original, [existing]) == original


@pytest.mark.parametrize(
    "config",
    [
        "database: sqlite:///x.db\n",
        "database: sqlite:///x.db",
        "feeds: []   # none yet\ninterval: 5m\n",
        "feeds:\ninterval: 5m\n",
        "feeds:\n- url: https://example.org/old\n  name: Old\n# trailing comment\ntick: 2s\n",
        "",
        "feeds:\r\n    - url: https://example.org/old\r\ninterval: 5m\r\n",
    ],
)
def test_merge_handles_config_layouts(config: str) -> None:
    merged = merge_into_config_yaml(config, [OpmlFeed("https://example.org/n", "N", ("t",))])
    data = yaml.safe_load(merged)
    assert data["feeds"][-1] == {"url": "https://example.org/n", "name": "N", "tags": ["t"]}
    before = yaml.safe_load(config) or {}
    assert {k: v for k, v in data.items() if k != "feeds"} == {k: v for k, v in before.items() if k != "feeds"}
    if "# " in config:
        assert "#" in merged


def test_merge_refuses_inline_feed_lists() -> None:
    with pytest.raises(ValueError, match="inline"):
        merge_into_config_yaml(
            "feeds: [{url: 'https://example.org/a'}]\n",
            [OpmlFeed("https://example.org/b", None, ())],
        )
