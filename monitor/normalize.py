"""Turn one raw feed entry into a `monitor.types.Item`: plain NFKC text, UTC time, canonical link,
stable key. Nothing here knows feedparser; `monitor.parse` hands over `RawEntry` values.

Everything in an entry is attacker-controlled, so every field is bounded and every value is made
storable (no NUL, no lone surrogates) before it leaves this module.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit, urlunsplit

from monitor.htmltext import collapse_whitespace, html_to_text
from monitor.types import Item

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 20_000
MAX_CONTENT_CHARS = 100_000
MAX_AUTHOR_CHARS = 300
MAX_MARKUP_CHARS = 1_000_000  # raw HTML looked at per field; bounds html.parser time
MAX_LINK_CHARS = 4_096
KEY_READABLE_CHARS = 200  # longer key values keep this prefix plus a digest
# Feeds with a timezone bug routinely run minutes or hours ahead; anything later than this is
# clamped to the fetch time, so a lying date cannot pin an item to the top of "latest" lists or
# dodge age-based retention.
FUTURE_TOLERANCE = timedelta(minutes=5)

# Query parameters that only track the reader; dropping them makes one story one link.
_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
     "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
     "vero_id", "wt.mc_id", "ncid", "smid", "cmpid", "ito", "at_medium", "at_campaign"}
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Invisible characters used to split words past a matcher (zero-width space, soft hyphen, word
# joiner, BOM, bidi overrides). ZWJ/ZWNJ stay: they are orthography in Persian and Indic scripts.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_URL_WHITESPACE = re.compile(r"[\t\n\r]")


@dataclass(frozen=True, slots=True)
class TextValue:
    """A piece of entry text and whether it is HTML (as opposed to plain text)."""

    value: str
    is_html: bool


@dataclass(frozen=True, slots=True)
class RawEntry:
    """What `monitor.parse` extracts from one feed entry, before any cleaning."""

    guid: str | None
    link: str | None
    title: TextValue | None
    summary: TextValue | None
    contents: tuple[TextValue, ...]
    published: time.struct_time | None  # UTC, as feedparser reports it
    updated: time.struct_time | None
    author: str | None


def normalize_entry(entry: RawEntry, *, feed_url: str, final_url: str, now: datetime | None = None) -> Item:
    """Build the Item for `entry`; `final_url` (after redirects) resolves relative links."""
    title = clean_text(entry.title, MAX_TITLE_CHARS)
    summary = clean_text(entry.summary, MAX_SUMMARY_CHARS)
    content = "\n".join(text for text in (clean_text(part, MAX_CONTENT_CHARS) for part in entry.contents) if text)[
        :MAX_CONTENT_CHARS
    ]
    link = canonical_link(entry.link, final_url)
    author = clean_text(TextValue(entry.author, False), MAX_AUTHOR_CHARS) if entry.author else ""
    return Item(
        key=item_key(entry.guid, link, title, summary),
        feed_url=feed_url,
        title=title,
        summary=summary,
        content=content,
        link=link,
        published=entry_time(entry.published or entry.updated, now=now),
        author=author or None,
    )


def clean_text(text: TextValue | None, limit: int) -> str:
    """Plain, NFKC-normalised, whitespace-collapsed text of at most `limit` characters."""
    if text is None or not text.value:
        return ""
    raw = text.value[:MAX_MARKUP_CHARS]
    plain = html_to_text(raw) if text.is_html else raw
    # Cut before NFKC too: a few characters expand ~18x under compatibility decomposition.
    plain = unicodedata.normalize("NFKC", plain[: limit * 2])
    return collapse_whitespace(_INVISIBLE.sub("", storable(plain)))[:limit].rstrip()


def storable(text: str) -> str:
    """Replace what databases refuse or terminals misrender: control characters (NUL included)
    become spaces, lone surrogates become U+FFFD. Tabs and line breaks are kept."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))


def canonical_link(link: str | None, base_url: str) -> str | None:
    """Absolute http(s) URL, lower-case scheme and host, no userinfo/default port/fragment/
    tracking parameters; None for anything else (javascript:, data:, mailto:, garbage)."""
    if not link:
        return None
    link = _URL_WHITESPACE.sub("", link).strip()
    if not link or len(link) > MAX_LINK_CHARS:
        return None
    try:
        parts = urlsplit(urljoin(base_url, link))
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:  # bad IPv6 literal, port out of range, ...
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = _drop_tracking(parts.query)
    result = urlunsplit((scheme, host, parts.path or "/", query, ""))
    return storable(result) if len(result) <= MAX_LINK_CHARS else None


def _drop_tracking(query: str) -> str:
    # Split by hand rather than parse_qsl/urlencode so kept parameters stay byte-identical.
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair.split("=", 1)[0].lower())]
    return "&".join(kept)


def _is_tracking(name: str) -> bool:
    return name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def item_key(guid: str | None, link: str | None, title: str, summary: str) -> str:
    """Stable identity: "guid:<id>", else "link:<canonical link>", else "hash:<sha256>".

    Long values keep a readable prefix plus a digest of the whole, so keys stay short and unique.
    """
    guid = storable(guid).strip() if guid else ""
    if guid:
        return "guid:" + _bounded(guid)
    if link:
        return "link:" + _bounded(link)
    digest = hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()
    return "hash:" + digest


def _bounded(value: str) -> str:
    if len(value) <= KEY_READABLE_CHARS:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{value[:KEY_READABLE_CHARS]}#{digest}"


def entry_time(parsed: time.struct_time | None, *, now: datetime | None = None) -> datetime | None:
    """UTC-aware datetime from feedparser's UTC struct_time; None if absent or impossible;
    clamped to `now` when it lies further than FUTURE_TOLERANCE in the future."""
    if parsed is None:
        return None
    try:
        when = datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    now = now or datetime.now(UTC)
    return now if when > now + FUTURE_TOLERANCE else when
