"""Keep credentials out of logs, errors and the database.

Web and database URLs (feeds, webhooks, PostgreSQL) are reduced to ``scheme://host[:port]/…``:
their secrets live in user-info, path and query, never in the host. Apprise URLs are different: for many services the
host position *is* the secret (``pbul://ACCESSTOKEN``, ``join://APIKEY/…``, a Slack token, an
ntfy topic). For those, Apprise itself parses the URL and renders its privacy-mode form, which
masks every field the service declares private (``o...6``, ``****``); of that form we keep only
the host position, and only when Apprise masked it or it names a real host. Whatever Apprise
cannot parse is reduced to ``scheme://…``.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from urllib.parse import urlsplit

_URL_IN_TEXT = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# Apprise has schemes that start with a digit (46elks://), which urlsplit does not accept.
_SCHEME = re.compile(r"([a-zA-Z0-9][a-zA-Z0-9+.-]*)://")
# schemes whose host is never a secret ("postgresql+psycopg" counts as "postgresql")
_PLAIN_HOST_SCHEMES = frozenset({"http", "https", "webhook", "webhooks", "postgresql", "postgres", "sqlite"})
# A network host: a name with a dot, an IP literal, or localhost, with an optional port.
_HOST_LIKE = re.compile(
    r"(?:localhost|\[[0-9a-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*)(?::[0-9]{1,5})?",
    re.IGNORECASE,
)
# What Apprise's pprint() puts in place of a private value: "o...6", "...abcd" or "****".
_APPRISE_MASK = re.compile(r"(?:.?\.\.\..{0,4}|\*{4})")
_APPRISE_CACHE_SIZE = 512  # channel URLs repeat in every log line about a channel


def redact_url(url: str) -> str:
    """A form of `url` safe to show: never a password, token, key, topic or path."""
    scheme_match = _SCHEME.match(url)
    if scheme_match is None:
        return "<not a URL>"
    scheme = scheme_match.group(1).lower()
    try:
        parts = urlsplit("//" + url[scheme_match.end() :])
        tail = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment or parts.username) else ""
        if scheme.partition("+")[0] in _PLAIN_HOST_SCHEMES:
            port = f":{parts.port}" if parts.port else ""
            return f"{scheme}://{parts.hostname or ''}{port}{tail}"
    except ValueError:
        return "<unparsable URL>"
    shown = _apprise_host(url)
    if shown is None:  # Apprise does not accept it, or shows no host worth keeping
        return f"{scheme}://…"
    return f"{scheme}://{shown}{tail}"


def redact_text(text: str) -> str:
    """Redact every URL inside free text (for example an error message from a library)."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


@functools.lru_cache(maxsize=_APPRISE_CACHE_SIZE)
def _apprise_host(url: str) -> str | None:
    """The host position of Apprise's privacy-mode URL when it is safe to show; None when it is
    not, or when Apprise does not accept the URL."""
    privacy = _privacy_url(url)
    if privacy is None:
        return None
    try:
        netloc = urlsplit(privacy).netloc
    except ValueError:
        return None
    host = netloc.rpartition("@")[2]  # user-info is dropped even when Apprise masked it
    if _APPRISE_MASK.fullmatch(host) or _HOST_LIKE.fullmatch(host):
        return host
    return None


def _privacy_url(url: str) -> str | None:
    import apprise  # imported here: Apprise loads its plugins on import, only needed for its URLs

    _quiet.active = True
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        return str(plugin.url(privacy=True)) if plugin is not None else None  # type: ignore[no-untyped-call]
    except Exception:  # a plugin's bug must not break logging; the caller falls back to the scheme
        return None
    finally:
        _quiet.active = False


class _QuietWhileRedacting(logging.Filter):
    """Drops Apprise's own log records while this thread is parsing a URL for redaction: they
    would be redacted in turn (recursing) and are noise ("invalid token") about a URL nobody
    asked Apprise to use."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_quiet, "active", False)


_quiet = threading.local()
logging.getLogger("apprise").addFilter(_QuietWhileRedacting())
