"""Feed text is hostile: clean it, cap it, split out match markers, and escape it per dialect.

Every function here takes text that came from a feed and returns text that is safe to place in
one message format. Nothing here trusts a marker or a character it did not produce itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

MAX_TITLE = 300
MAX_SNIPPET = 600
MAX_MATCHED = 30
MAX_WORD = 100
MAX_FEED_NAME = 120
MAX_URL = 2000

ZWSP = "\u200b"
ELLIPSIS = "…"

# C0/C1 controls (whitespace controls are handled by collapsing), plus bidirectional overrides and
# isolates that can make a headline read differently from what it says ("Trojan source").
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_MARKED = re.compile("«([^«»]+)»")
# Mentions: Slack/Mattermost @here/@channel/@user, Discord @everyone, Matrix @room, Mastodon @a@b.
_MENTION = re.compile(r"@(?=\w)")
# Slack specials like <!channel> also exist without brackets in some Apprise code paths.
_BANG_WORD = re.compile(r"!(?=\w)")
# Slack mrkdwn has no escape character; formatting characters become look-alikes instead.
_SLACK_LOOKALIKES = (("*", "∗"), ("_", "ˍ"), ("~", "∼"), ("`", "ˋ"), ("|", "∣"), ("](", "]\u200b("))
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\](){}<>|~&#!])")
_URL_UNSAFE = re.compile(r"[\s<>|\"'`(){}\\^]")


def clean_line(text: str | None, limit: int) -> str:
    """One line of printable text, at most ``limit`` characters (an ellipsis marks a cut)."""
    without_controls = _CONTROLS.sub("", text or "")
    return truncate(" ".join(without_controls.split()), limit)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def clean_words(words: Iterable[str], limit: int = MAX_MATCHED) -> tuple[str, ...]:
    """Distinct, cleaned words in first-seen order, at most ``limit`` of them."""
    seen: dict[str, None] = {}
    for word in words:
        cleaned = clean_line(word, MAX_WORD)
        if cleaned:
            seen.setdefault(cleaned, None)
        if len(seen) >= limit:
            break
    return tuple(seen)


def safe_http_url(link: str | None) -> str | None:
    """The link if it is an absolute http(s) URL, with characters that could end a markup link
    percent-encoded; otherwise None (javascript:, data:, relative and mangled links)."""
    if not link:
        return None
    candidate = _CONTROLS.sub("", link).strip()
    if len(candidate) > MAX_URL:
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    rebuilt = urlunsplit(parts._replace(scheme=parts.scheme.lower()))
    return _URL_UNSAFE.sub(lambda found: quote(found.group(0), safe=""), rebuilt)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of snippet text; ``matched`` when the rule engine marked it as evidence."""

    text: str
    matched: bool


def split_marked(snippet: str, known: Sequence[str]) -> tuple[Segment, ...]:
    """Split a «marked» snippet into segments.

    The rule engine marks evidence with «», but feed text can contain the same guillemets (French
    quotes). A pair counts as a match only when every word inside it is one of the matched words
    or span texts in ``known``; other guillemets stay as literal characters. When nothing is known
    every balanced pair is trusted: either way the result is only ever text, never markup.
    """
    known_words = {word for entry in known for word in entry.casefold().split()}
    segments: list[Segment] = []
    cursor = 0
    for found in _MARKED.finditer(snippet):
        inner = found.group(1)
        if known_words and not set(inner.casefold().split()) <= known_words:
            continue
        if found.start() > cursor:
            segments.append(Segment(snippet[cursor : found.start()], False))
        segments.append(Segment(inner, True))
        cursor = found.end()
    if cursor < len(snippet):
        segments.append(Segment(snippet[cursor:], False))
    return tuple(segments)


def neutralise_mentions(text: str) -> str:
    """A zero-width space after every @ so no chat service turns feed text into a mention."""
    return _MENTION.sub("@" + ZWSP, text)


def slack_escape(text: str) -> str:
    """Slack mrkdwn text that shows exactly as written: &, <, > escaped (no <!channel>, <@U1>
    or <url|text> can form), formatting characters and | replaced by look-alikes, and mentions,
    !specials and Markdown links (for Mattermost) broken by a zero-width space."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Look-alikes because mrkdwn has no escape character; "](" is broken because Mattermost
    # renders Markdown, where [text](url) in feed text would make a link of its own.
    for character, replacement in _SLACK_LOOKALIKES:
        escaped = escaped.replace(character, replacement)
    return _BANG_WORD.sub("!" + ZWSP, neutralise_mentions(escaped))


def slack_link(url: str | None, title: str) -> str:
    """Our own link, <url|title>; the title is escaped and can neither close nor split it."""
    label = slack_escape(title)
    return f"<{url}|{label}>" if url else label


def markdown_escape(text: str) -> str:
    """CommonMark text with every inline special backslash-escaped (no links, images, raw HTML,
    entities or emphasis from feed text) and mentions broken by a zero-width space."""
    return neutralise_mentions(_MARKDOWN_SPECIALS.sub(r"\\\1", text))


def markdown_link(url: str | None, title: str) -> str:
    return f"[{markdown_escape(title)}]({url})" if url else markdown_escape(title)
