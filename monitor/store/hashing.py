"""Digests used as index keys for feed-controlled text of unbounded length."""

from __future__ import annotations

import hashlib

from monitor.types import Item


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_hash(item: Item) -> str:
    """Same words in the same fields → same hash, whichever feed carried them."""
    joined = "\x1f".join((item.title, item.summary, item.content))
    return sha256_text(joined)
