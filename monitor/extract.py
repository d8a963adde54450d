"""Main text of an article page with trafilatura, in a parse worker process.

Pages are hostile input like feeds: the body is already capped by the fetcher, the element tree
is capped here (``MAX_TREE_SIZE``: trafilatura gives up on bigger pages rather than walk them),
and the text is normalised and capped like a feed item's content. lxml's HTML parser does not
expand entities declared in a page's DOCTYPE, so an entity bomb stays inert.
"""

from __future__ import annotations

import logging

import trafilatura
from trafilatura.settings import use_config

from monitor.normalize import MAX_CONTENT_CHARS, TextValue, clean_text

MAX_TREE_ELEMENTS = 100_000  # a long news page has a few thousand
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_ELEMENTS))
_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")  # its SIGALRM timer only works in a main thread
# trafilatura logs every page it finds nothing in; the caller reports what matters.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def extract_text(body: bytes, url: str) -> str:
    """The page's main text as plain NFKC text ("" when none was found). Comments, tables,
    navigation and scripts are left out."""
    try:
        found = trafilatura.extract(
            body,
            url=url,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            config=_CONFIG,
        )
    except (ValueError, TypeError, RecursionError, MemoryError):  # markup no parser wants
        return ""
    return clean_text(TextValue(found, False), MAX_CONTENT_CHARS) if found else ""
