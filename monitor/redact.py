"""Keep credentials out of logs, errors and the database."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """scheme://host[:port]/… — userinfo, path and query may all carry secrets (Slack tokens live
    in the path, SMTP passwords in userinfo or ?pass=), so only the endpoint is shown."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    if not parts.scheme:
        return "<not a URL>"
    tail = "/…" if (parts.path not in ("", "/") or parts.query or parts.username) else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def redact_text(text: str) -> str:
    """Redact every URL inside free text (for example an error message from a library)."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
