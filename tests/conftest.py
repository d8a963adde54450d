"""Shared, generic fixtures. Helpers live in tests/support (import them as `support.*`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.feedserver import FeedServer

# The package is not installed into the venv; make `import monitor` work under plain `pytest`.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh programmable HTTP server on 127.0.0.1:<ephemeral port> (see support.feedserver)."""
    with FeedServer() as server:
        yield server
