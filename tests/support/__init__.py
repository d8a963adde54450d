"""Shared test helpers: the programmable feed server and the location of the third-party corpus.

The corpus holds other people's feeds; tests read it in place and never copy its text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# Simulated HTTP response headers at the top of feedparser's test files ("Header: Name: value").
CORPUS_HEADER_LINE = re.compile(rb"^Header:\s+([^:]+):(.*)$", re.MULTILINE)
PER_FILE_CEILING_SECONDS = 5.0  # parse (and match) time allowed for any one corpus file

CORPUS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def corpus_path(*parts: str) -> Path:
    """A path inside ../shared/corpus; skips the calling test when it is not there."""
    path = CORPUS_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus not available: {path}")
    return path
