"""One entry point for every list format, with detection from the content itself."""

from __future__ import annotations

from collections.abc import Callable

from monitor.lists.entries import ListFormatError, ParsedList
from monitor.lists.ftm import read_ftm
from monitor.lists.ofac import ROOT as OFAC_ROOT
from monitor.lists.ofac import read_ofac
from monitor.lists.unsc import ROOT as UN_ROOT
from monitor.lists.unsc import read_unsc
from monitor.lists.xmlread import root_tag

READERS: dict[str, Callable[[bytes], ParsedList]] = {"ftm": read_ftm, "un": read_unsc, "ofac": read_ofac}
FORMATS = tuple(READERS)


def read_list(data: bytes, fmt: str | None = None) -> ParsedList:
    """The entries of a list file; ``fmt`` None: detected. Raises ListFormatError."""
    chosen = fmt or detect_format(data)
    if chosen not in READERS:
        raise ListFormatError(f"unknown list format {chosen!r} (formats: {', '.join(FORMATS)})")
    return READERS[chosen](data)


def detect_format(data: bytes) -> str:
    start = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"{"):
        return "ftm"
    if start.startswith(b"<"):
        root = root_tag(data)
        if root == UN_ROOT:
            return "un"
        if root == OFAC_ROOT:
            return "ofac"
        raise ListFormatError(f"unknown XML list (document element {root[:40]!r}; expected {UN_ROOT} or {OFAC_ROOT})")
    raise ListFormatError("neither FollowTheMoney JSON lines nor UN/OFAC XML")
