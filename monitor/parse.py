"""Parse a fetched body with feedparser, then normalise every entry (see monitor.normalize).

`parse_feed` is a plain top-level function over picklable values, so the pipeline can run it in
a ProcessPoolExecutor (feedparser is pure Python and would otherwise hold the event loop).

Safety, because the body is hostile:
* feedparser only ever sees an `io.BytesIO`: a str/bytes argument may be taken as a file name
  or URL and opened.
* feedparser never fetches anything: its SAX parser has external entities disabled, and the
  DOCTYPE is rewritten first (`_neutralise_doctype`) so that neither expat nor feedparser's
  fallback "loose" parser can expand amplifying entities. feedparser keeps entity declarations
  without `&` in them and its loose parser expands them without any limit: the defusedxml
  quadratic-blowup sample, wrapped in an RSS item, took 49 s and 2.5 GB before this.
  Only non-amplifying entities survive (a character reference, or a value no longer than the
  `&name;` that refers to it); all other declarations, external IDs and parameter entities go.
  The rewrite runs on the UTF-8 text produced by feedparser's own encoding detection, so UTF-16,
  UTF-32 and EBCDIC documents cannot hide a DOCTYPE from it.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser
from feedparser.encodings import convert_to_utf8

from monitor.normalize import MAX_TITLE_CHARS, RawEntry, TextValue, clean_text, normalize_entry
from monitor.stages import Stage, stage
from monitor.types import FetchErrorKind, ParsedFeed

_MAX_MESSAGE_CHARS = 300
# feedparser's cost grows with the square of nesting depth and of attributes per element
# (100,000 attributes on one element: about 6 minutes), so both are capped before it runs.
MAX_DEPTH = 256
MAX_ATTRIBUTES = 256
# ~50 µs of feedparser time each; the largest real feed in the test corpus has 11,000.
MAX_ELEMENTS = 100_000
_HTML_VOID = frozenset(
    b"area base br col embed hr img input link meta param source track wbr".split()
)  # elements that broken feeds leave unclosed in raw HTML; they never nest
_STRUCTURE_TOKEN = re.compile(
    rb"<(?:(?P<skip>!--|!\[CDATA\[|\?|!)|(?P<close>/)?(?P<name>[A-Za-z_][\w:.-]*)(?P<attrs>[^<>]*)>)"
)
_SKIP_END = {b"!--": b"-->", b"![CDATA[": b"]]>", b"?": b"?>", b"!": b">"}
_ATTRIBUTE = re.compile(rb"\s[^\s=/<>]+\s*=")
_MAX_KEPT_ENTITIES = 256
_UTF8_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>"  # what convert_to_utf8 writes
_DECLARATION_TOKEN = re.compile(rb"[\"'\[\]>]|<!--|<\?")
_ELEMENT_START = re.compile(rb"[A-Za-z0-9_:\x80-\xff]")
_ENTITY_DECLARATION = re.compile(
    rb"<!ENTITY\s+(\w{1,64})\s+"
    rb"(?:\"(&#\w{1,10};|[^\"'<>&%\[\]]*)\"|'(&#\w{1,10};|[^\"'<>&%\[\]]*)')\s*>"
)


def _keep_guids_as_written() -> None:
    """feedparser resolves <guid>/<id> against the feed URL as if it were a link, so an opaque
    GUID such as "12345" became "https://host/path/12345" and changed whenever the feed moved
    (http → https, a new path): every item would look new and alert again. GUIDs identify; links
    are resolved by normalize.canonical_link. Guarded: a feedparser without the table is left as is."""
    mixin = getattr(getattr(feedparser, "mixin", None), "_FeedParserMixin", None)
    relative = getattr(mixin, "can_be_relative_uri", None)
    if isinstance(relative, set) and "id" in relative:
        mixin.can_be_relative_uri = relative - {"id"}  # type: ignore[union-attr]


_keep_guids_as_written()


class FeedParseError(Exception):
    """The body is not a usable feed (HTML page, malformed XML without entries, empty, ...)."""

    kind = FetchErrorKind.NOT_A_FEED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_feed(
    body: bytes,
    *,
    feed_url: str,
    final_url: str,
    headers: Mapping[str, str],
    max_items: int = 500,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse and normalise at most `max_items` entries (document order).

    Raises FeedParseError only when there are no entries AND either feedparser flagged the
    document (bozo) and it has no title, or no feed format was recognised at all (an HTML page).
    Otherwise a usable-but-flawed feed comes back with `warning` set to the bozo message.
    """
    lower_headers = {name.lower(): value for name, value in headers.items()}
    prepared = _prepare(body, lower_headers)
    response_headers = {**lower_headers, **prepared.headers, "content-location": final_url}
    result = feedparser.parse(
        io.BytesIO(_limit_structure(prepared.data, max_items)),
        response_headers=response_headers,
        resolve_relative_uris=False,  # we keep text only; links are resolved in normalize
        sanitize_html=False,  # html_to_text drops scripts/styles and every tag anyway
    )
    problem = prepared.problem or _bozo_message(result)
    title = clean_text(_text_value(result.feed, "title"), MAX_TITLE_CHARS)
    entries = list(result.entries[:max_items]) if isinstance(result.entries, list) else []
    if not entries:
        _reject_if_unusable(body, lower_headers, result, title, problem)
    with stage(Stage.NORMALISE):
        items = tuple(
            normalize_entry(raw_entry(entry), feed_url=feed_url, final_url=final_url, now=now) for entry in entries
        )
    return ParsedFeed(title=title, items=items, warning=problem)


def _reject_if_unusable(
    body: bytes,
    headers: Mapping[str, str],
    result: Mapping[str, Any],
    title: str,
    problem: str | None,
) -> None:
    """Called when there are no entries. A recognised feed format with a title is an empty but
    healthy feed; so is an unflagged one. No feed format at all (an HTML or other XML page) is
    rejected even when it parsed cleanly, because nothing in it will ever become an item."""
    if not result.get("version"):
        if _looks_like_html(body, headers):
            content_type = headers.get("content-type", "no Content-Type").split(";")[0].strip()
            raise FeedParseError(f"not a feed: HTML page ({content_type})")
        raise FeedParseError(f"not a feed: {problem or 'no RSS, Atom or RDF feed found'}")
    if problem and not title:
        raise FeedParseError(f"not a feed: {problem}")


def raw_entry(entry: Mapping[str, Any]) -> RawEntry:
    """Extract typed values from one feedparser entry, tolerating any shape it might have."""
    contents = entry.get("content")
    return RawEntry(
        guid=_string(entry.get("id")),
        link=_string(entry.get("link")),
        title=_text_value(entry, "title"),
        summary=_text_value(entry, "summary"),
        contents=tuple(
            TextValue(part["value"], _is_html(part.get("type")))
            for part in (contents if isinstance(contents, list) else [])
            if isinstance(part, Mapping) and isinstance(part.get("value"), str)
        ),
        published=_struct_time(entry.get("published_parsed")),
        updated=_struct_time(entry.get("updated_parsed")),
        author=_string(entry.get("author")),
    )


def _text_value(container: Mapping[str, Any], key: str) -> TextValue | None:
    value = container.get(key)
    if not isinstance(value, str):
        return None
    detail = container.get(f"{key}_detail")
    content_type = detail.get("type") if isinstance(detail, Mapping) else None
    return TextValue(value, _is_html(content_type))


def _is_html(content_type: object) -> bool:
    # feedparser reports text/plain, text/html or application/xhtml+xml; when unsure, treat the
    # value as HTML: stripping tags from text loses little, leaving tags in HTML leaks markup.
    return not (isinstance(content_type, str) and content_type.startswith("text/plain"))


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _struct_time(value: object) -> time.struct_time | None:
    return value if isinstance(value, time.struct_time) else None


def _bozo_message(result: Mapping[str, Any]) -> str | None:
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    if isinstance(exc, SAXParseException):
        message = f"malformed XML at line {exc.getLineNumber()}: {exc.getMessage()}"
    elif exc is not None:
        message = str(exc) or type(exc).__name__
    else:
        message = "malformed feed"
    return message[:_MAX_MESSAGE_CHARS]


def _looks_like_html(body: bytes, headers: Mapping[str, str]) -> bool:
    content_type = headers.get("content-type", "").lower()
    if "html" in content_type and "xhtml" not in content_type:
        return True
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


# --- making the document safe for feedparser ------------------------------------------------


def _limit_structure(data: bytes, max_items: int) -> bytes:
    """Reject absurd nesting or attribute counts, and cut the document after the `max_items`-th
    item/entry, or after the last whole item once MAX_ELEMENTS elements have been seen (closing
    the elements still open), so feedparser never spends time on entries that would be thrown
    away. A tolerant tag scan, so it also works on malformed XML."""
    stack: list[bytes] = []
    items = elements = position = 0
    last_item_end: tuple[int, tuple[bytes, ...]] | None = None  # where and what is still open
    while match := _STRUCTURE_TOKEN.search(data, position):
        position = match.end()
        if skip := match.group("skip"):  # comment, CDATA, processing instruction, declaration
            end = data.find(_SKIP_END[skip], position)
            if end < 0:
                break
            position = end + len(_SKIP_END[skip])
            continue
        name, attributes = match.group("name"), match.group("attrs")
        if match.group("close"):
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name) :]
            if name.rsplit(b":", 1)[-1] in (b"item", b"entry") and stack:
                items += 1
                last_item_end = (position, tuple(stack))
                if items >= max_items:
                    return _cut(data, *last_item_end)
            continue
        elements += 1
        if elements > MAX_ELEMENTS:
            if last_item_end is None:
                raise FeedParseError(f"not a feed: more than {MAX_ELEMENTS:,} elements")
            return _cut(data, *last_item_end)
        if len(_ATTRIBUTE.findall(attributes)) > MAX_ATTRIBUTES:
            raise FeedParseError(f"not a feed: an element has more than {MAX_ATTRIBUTES} attributes")
        if not attributes.endswith(b"/") and name.lower() not in _HTML_VOID:
            stack.append(name)
            if len(stack) > MAX_DEPTH:
                raise FeedParseError(f"not a feed: elements nested more than {MAX_DEPTH} deep")
    return data


def _cut(data: bytes, position: int, still_open: tuple[bytes, ...]) -> bytes:
    return data[:position] + b"".join(b"</%s>" % name for name in reversed(still_open))


@dataclass(frozen=True, slots=True)
class _Prepared:
    data: bytes  # UTF-8 (when the encoding was recognised) with a neutralised DOCTYPE
    headers: dict[str, str]  # response-header overrides telling feedparser it is now UTF-8
    problem: str | None  # encoding/content-type complaint from the conversion, if any


def _prepare(body: bytes, headers: dict[str, str]) -> _Prepared:
    body = _strip_leading_whitespace(body)
    report: dict[str, Any] = {}
    data = convert_to_utf8(headers, body, report)
    problem = str(report["bozo_exception"]) if report.get("bozo") else None
    overrides: dict[str, str] = {}
    if isinstance(data, str):  # defensive: feedparser returns bytes in every known version
        data = data.encode("utf-8", "surrogatepass")
    if report.get("encoding"):
        overrides["content-type"] = "application/xml; charset=utf-8"
        if not _has_xml_declaration(body) and data.startswith(_UTF8_DECLARATION + b"\n"):
            # convert_to_utf8 added a declaration line; join it to line 1 so the line numbers
            # in "malformed XML at line N" match what the publisher sees.
            data = _UTF8_DECLARATION + data[len(_UTF8_DECLARATION) + 1 :]
    return _Prepared(_neutralise_doctype(data), overrides, problem)


def _strip_leading_whitespace(body: bytes) -> bytes:
    """Whitespace before `<?xml` is a common publisher bug that makes expat reject the whole
    feed; drop it, but only when the bytes are ASCII-compatible (not UTF-16/32 text)."""
    stripped = body.lstrip(b" \t\r\n")
    if stripped is not body and stripped[:1] == b"<" and stripped[1:2] not in (b"", b"\x00"):
        return stripped
    return body


def _has_xml_declaration(body: bytes) -> bool:
    return b"<?xml" in body[:24].replace(b"\x00", b"")  # also spots UTF-16/32 declarations


def _neutralise_doctype(data: bytes) -> bytes:
    """Rewrite every `<!...>` declaration in the prolog: a DOCTYPE keeps only its harmless
    entities, anything else (stray <!ENTITY ...> and the like) is removed. Line breaks are
    preserved so parser line numbers stay true."""
    pieces: list[bytes] = []
    copied = position = 0
    while (start := data.find(b"<", position)) >= 0:
        if data.startswith(b"<?", start) or data.startswith(b"<!--", start):
            closer = b"?>" if data[start + 1] == ord("?") else b"-->"
            end = data.find(closer, start + 2)
            if end < 0:
                break
            position = end + len(closer)
        elif data.startswith(b"<!", start):
            end = _declaration_end(data, start)
            closed = end >= 0  # an unclosed declaration swallows the rest: nothing to keep
            end = end if closed else len(data)
            declaration = data[start:end]
            is_doctype = closed and declaration[2:9].upper() == b"DOCTYPE"
            replacement = _safe_doctype(declaration) if is_doctype else b""
            newlines = declaration.count(b"\n") - replacement.count(b"\n")
            pieces += [data[copied:start], replacement, b"\n" * max(newlines, 0)]
            copied = position = end
        elif _ELEMENT_START.match(data, start + 1):
            break  # the root element: the prolog is over
        else:
            position = start + 1  # a stray "<" in junk before the root
    pieces.append(data[copied:])
    return b"".join(pieces)


def _declaration_end(data: bytes, start: int) -> int:
    """Index just past the `>` closing the declaration at `start`, skipping quoted literals,
    comments, processing instructions and the `[...]` internal subset; -1 if unclosed."""
    position, depth = start + 2, 0
    while match := _DECLARATION_TOKEN.search(data, position):
        token, at = match.group(), match.start()
        if token in (b'"', b"'", b"<!--", b"<?"):
            closer = {b'"': b'"', b"'": b"'", b"<!--": b"-->", b"<?": b"?>"}[token]
            end = data.find(closer, at + len(token))
            if end < 0:
                return -1
            position = end + len(closer)
            continue
        if token == b">" and depth == 0:
            return at + 1
        depth += {b"[": 1, b"]": -1}.get(token, 0)
        depth = max(depth, 0)
        position = at + 1
    return -1


def _safe_doctype(declaration: bytes) -> bytes:
    kept: dict[bytes, bytes] = {}
    for match in _ENTITY_DECLARATION.finditer(declaration):
        name, value = (
            match.group(1),
            match.group(2) if match.group(2) is not None else match.group(3),
        )
        # Non-amplifying only: never longer than the "&name;" that refers to it.
        if value.startswith(b"&#") or len(value) <= len(name) + 2:
            kept.setdefault(name, value)
        if len(kept) >= _MAX_KEPT_ENTITIES:
            break
    if not kept:
        return b""
    lines = b"".join(b'<!ENTITY %s "%s">\n' % (name, value) for name, value in kept.items())
    # feedparser re-reads this with line-anchored regexes: DOCTYPE and each ENTITY on own lines.
    return b"\n<!DOCTYPE feed [\n" + lines + b"]>"
