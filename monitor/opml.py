"""OPML import/export for feed lists, and merging imported feeds into the YAML config.

OPML files come from other people's readers and are hostile input: the parser refuses any
DOCTYPE, so no entity can expand (billion laughs) or pull in a file or URL (XXE).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # only to *write* XML; reading goes through expat below
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit
from xml.parsers import expat

import yaml

from monitor.redact import redact_url
from monitor.types import FeedSpec
from monitor.yamlsource import YamlSourceError, parse_yaml

# libyaml when present: merging thousands of imported feeds re-writes the whole config
_YamlDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_OPML_BYTES = 20_000_000
MAX_NAME_CHARS = 200
MAX_DEPTH = 64  # real exports nest two or three levels; deep nesting only costs us time
# characters XML 1.0 cannot carry at all, plus the C1 controls nobody means in a name
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    name: str | None
    tags: tuple[str, ...]  # from enclosing category outlines and the `category` attribute


class OpmlError(Exception):
    """The OPML cannot be used at all; the message names the source, line and problem."""


def read_opml(data: bytes, source: str) -> tuple[list[OpmlFeed], list[str]]:
    """Feeds in document order, plus warnings for outlines that were skipped."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"{source}: file is {len(data)} bytes; the limit is {MAX_OPML_BYTES}")
    reader = _OpmlReader(source)
    reader.parse(data)
    return reader.feeds, reader.warnings


@dataclass
class _Outline:
    is_feed: bool
    category: str | None


@dataclass
class _OpmlReader:
    source: str
    feeds: list[OpmlFeed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _stack: list[str] = field(default_factory=list)
    _outlines: list[_Outline] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _root_seen: bool = False
    _parser: Any = None

    def parse(self, data: bytes) -> None:
        parser = expat.ParserCreate()
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._reject_doctype
        parser.EntityDeclHandler = self._reject_entity
        parser.ExternalEntityRefHandler = self._reject_external
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self._parser = parser
        try:
            parser.Parse(data, True)
        except expat.ExpatError as exc:
            reason = expat.ErrorString(exc.code)
            raise OpmlError(f"{self.source}:{exc.lineno}: not well-formed XML: {reason}") from None
        if not self._root_seen:
            raise OpmlError(f"{self.source}:1: no <opml> element")
        if not self.feeds:
            self.warnings.append(f"{self.source}: no feed outlines (with xmlUrl) found")

    def _line(self) -> int:
        return int(self._parser.CurrentLineNumber)

    def _fail(self, problem: str) -> OpmlError:
        return OpmlError(f"{self.source}:{self._line()}: {problem}")

    def _reject_doctype(self, *_args: object) -> None:
        raise self._fail("DOCTYPE is not allowed in OPML (it enables entity expansion attacks)")

    def _reject_entity(self, *_args: object) -> None:
        raise self._fail("entity declarations are not allowed in OPML")

    def _reject_external(self, *_args: object) -> int:
        raise self._fail("external entities are not allowed in OPML")

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        if not self._stack:
            if tag.lower() != "opml":
                raise self._fail(f"the root element is <{tag}>, not <opml>")
            self._root_seen = True
        self._stack.append(tag)
        if len(self._stack) > MAX_DEPTH:
            raise self._fail(f"elements nested deeper than {MAX_DEPTH} levels")
        if tag.lower() != "outline" or "body" not in (t.lower() for t in self._stack):
            return
        attrs = {name.lower(): value for name, value in attributes.items()}
        url = attrs.get("xmlurl", "").strip()
        title = _clean_text(attrs.get("title") or attrs.get("text") or "")
        self._outlines.append(_Outline(bool(url), None if url else (title or None)))
        if url:
            self._add_feed(url, title or None, attrs.get("category", ""))

    def _end(self, tag: str) -> None:
        self._stack.pop()
        if tag.lower() == "outline" and self._outlines and "body" in map(str.lower, self._stack):
            self._outlines.pop()

    def _add_feed(self, url: str, name: str | None, category: str) -> None:
        where = f"{self.source}:{self._line()}"
        problem = _url_problem(url)
        if problem:
            self.warnings.append(f"{where}: skipped outline: {problem}: {redact_url(url)!r}")
            return
        if url in self._seen:
            self.warnings.append(f"{where}: skipped duplicate feed {redact_url(url)!r}")
            return
        self._seen.add(url)
        enclosing = [o.category for o in self._outlines[:-1] if o.category and not o.is_feed]
        tags = _unique(enclosing + _category_tags(category))
        self.feeds.append(OpmlFeed(url=url, name=name, tags=tags))


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "unparsable URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "not an http(s) URL"
    if not parts.hostname:
        return "URL has no host"
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return "URL contains whitespace or control characters"
    if parts.username is not None or parts.password is not None:
        # the config file, logs and `feeds export` would carry the secret; add such a feed by hand
        return "URL contains a user name or password"
    return None


def _clean_text(text: str) -> str:
    text = " ".join(_NOT_XML_TEXT.sub(" ", text).split())
    return text[:MAX_NAME_CHARS]


def _category_tags(category: str) -> list[str]:
    # OPML 2.0: comma-separated, slash-delimited paths such as "/World/Sanctions,shipping"
    return [_clean_text(part) for path in category.split(",") for part in path.split("/")]


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def write_opml(feeds: Sequence[FeedSpec], title: str) -> bytes:
    """An OPML 2.0 document listing the feeds; tags go to the `category` attribute."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _clean_text(title)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        name = _clean_text(feed.name)
        outline = ET.SubElement(
            body, "outline", type="rss", text=name, title=name, xmlUrl=_NOT_XML_TEXT.sub("", feed.url)
        )
        tags = [_clean_text(tag).replace(",", " ").replace("/", " ") for tag in feed.tags]
        if any(tags):
            outline.set("category", ",".join(tag for tag in tags if tag))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


_FEEDS_KEY = re.compile(r"^feeds:[ \t]*(?P<value>[^#\r\n]*?)[ \t]*(?P<comment>#[^\r\n]*)?$")


def merge_into_config_yaml(config_text: str, feeds: Sequence[OpmlFeed]) -> str:
    """Append feeds whose URL is not configured yet to the top-level `feeds:` list.

    The edit is textual so comments and layout survive; the result is re-parsed and must hold
    the same other keys and the old feeds followed by the new ones.
    """
    before = _load_mapping(config_text)
    existing = before.get("feeds") or []
    if not isinstance(existing, list):
        raise ValueError("the config's `feeds:` is not a list")
    known = {entry.get("url") for entry in existing if isinstance(entry, dict)}
    names = {str(entry["name"]) for entry in existing if isinstance(entry, dict) and entry.get("name")}
    new = _distinct_names([feed for feed in _unique_feeds(feeds) if feed.url not in known], names)
    if not new:
        return config_text
    newline = "\r\n" if "\r\n" in config_text else "\n"
    merged = _insert_entries(config_text, new, newline, has_key="feeds" in before)
    _check_merge(before, _load_mapping(merged), new)
    return merged


def _load_mapping(text: str) -> dict[str, Any]:
    try:  # bounded like every configuration read: an anchor bomb would hang the comparison
        data = parse_yaml(text, "the configuration").data
    except YamlSourceError as exc:
        raise ValueError(str(exc)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("the config is not a mapping of keys")
    return data


def _unique_feeds(feeds: Sequence[OpmlFeed]) -> list[OpmlFeed]:
    return list({feed.url: feed for feed in reversed(feeds)}.values())[::-1]


def _distinct_names(feeds: Sequence[OpmlFeed], taken: set[str]) -> list[OpmlFeed]:
    """Feed names must be unique in the config: a clashing title gets its host (and path)."""
    renamed = []
    for feed in feeds:
        if feed.name is not None and feed.name in taken:
            parts = urlsplit(feed.url)
            options = [f"{feed.name} ({parts.hostname})", f"{feed.name} ({parts.hostname}{parts.path})"]
            options += [f"{feed.name} ({n})" for n in range(2, len(taken) + 3)]
            feed = replace(feed, name=next(name for name in options if name not in taken))
        if feed.name is not None:
            taken.add(feed.name)
        renamed.append(feed)
    return renamed


def _insert_entries(text: str, feeds: Sequence[OpmlFeed], newline: str, *, has_key: bool) -> str:
    lines = text.splitlines(keepends=True)
    key_index = next((i for i, line in enumerate(lines) if _FEEDS_KEY.match(line.rstrip("\r\n"))), None)
    if key_index is None and has_key:
        raise ValueError("cannot find the `feeds:` line at the start of a line; edit it by hand")
    if key_index is None:
        separator = "" if not text or text.endswith(("\n", "\r")) else newline
        return text + separator + "feeds:" + newline + _entries(feeds, "  ", newline)
    match = _FEEDS_KEY.match(lines[key_index].rstrip("\r\n"))
    assert match is not None
    value = match["value"]
    if value not in ("", "[]", "null", "~"):
        raise ValueError("the config's `feeds:` list is written inline; use one `- url:` per line")
    if value:
        comment = f"  {match['comment']}" if match["comment"] else ""
        lines[key_index] = "feeds:" + comment + newline
    last, indent = _block_end(lines, key_index)
    if not lines[last].endswith(("\n", "\r")):
        lines[last] += newline
    lines.insert(last + 1, _entries(feeds, indent, newline))
    return "".join(lines)


def _block_end(lines: list[str], key_index: int) -> tuple[int, str]:
    """Index of the last content line of the `feeds:` block, and the indent of its items."""
    last, indent = key_index, None
    for index in range(key_index + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank lines and comments may sit inside the block or after it
        if not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key or a document marker
        if indent is None and stripped.startswith("-"):
            indent = line[: len(line) - len(line.lstrip())]
        last = index
    return last, indent if indent is not None else "  "


def _entries(feeds: Sequence[OpmlFeed], indent: str, newline: str) -> str:
    out: list[str] = []
    for feed in feeds:
        out.append(f"{indent}- url: {_scalar(feed.url)}")
        if feed.name:
            out.append(f"{indent}  name: {_scalar(feed.name)}")
        if feed.tags:
            quoted = ", ".join(_scalar(tag, quoted=True) for tag in feed.tags)
            out.append(f"{indent}  tags: [{quoted}]")
    return newline.join(out) + newline


def _scalar(value: str, *, quoted: bool = False) -> str:
    """One-line YAML for a string: plain when PyYAML finds that safe, else double-quoted."""
    if not quoted:
        plain = _dump(value).removesuffix("...\n")
        plain = plain.rstrip("\n")
        if "\n" not in plain and not plain.startswith(("'", '"')):
            return plain
    return _dump(value, default_style='"').rstrip("\n")


def _dump(value: str, **style: Any) -> str:
    text: str = yaml.dump(value, Dumper=_YamlDumper, allow_unicode=True, width=1 << 30, **style)
    return text


def _check_merge(before: dict[str, Any], after: dict[str, Any], new: Sequence[OpmlFeed]) -> None:
    others_before = {k: v for k, v in before.items() if k != "feeds"}
    others_after = {k: v for k, v in after.items() if k != "feeds"}
    expected = [entry.get("url") for entry in before.get("feeds") or []]
    expected += [feed.url for feed in new]
    got = [entry.get("url") for entry in after.get("feeds") or [] if isinstance(entry, dict)]
    if others_before != others_after or got != expected:
        raise ValueError("merging the feeds would change the config unexpectedly; edit it by hand")
