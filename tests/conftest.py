"""Shared, generic fixtures. Helpers live in tests/support (import them as `support.*`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.feedserver import FeedServer
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver

from monitor.store import Store

# The package is not installed into the venv; make `import monitor` work under plain `pytest`.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh programmable HTTP server on 127.0.0.1:<ephemeral port> (see support.feedserver)."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A real HTTP receiver for Apprise's JSON and Slack payloads."""
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store in the test's directory (tests/store overrides it per backend)."""
    opened = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield opened
    opened.close()
