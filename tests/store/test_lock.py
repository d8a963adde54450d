"""The exclusive SQLite writer lock, held by a real second process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_factories import REPO_ROOT

from monitor.store import Store, StoreLockedError

HOLDER = """
import sys
from monitor.store import Store
store = Store.open(sys.argv[1], exclusive=True)
print("locked", flush=True)
sys.stdin.readline()
store.close()
"""


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"


@pytest.fixture
def holder(db_url: str) -> Iterator[subprocess.Popen[str]]:
    """A child process that opened the store exclusively and keeps it until told to stop."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # reaps the child and closes its pipes


def _open_exclusive_within(url: str, seconds: float) -> Store:
    """The lock is released when the holder exits; poll for that instead of sleeping blindly."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return Store.open(url, exclusive=True)
        except StoreLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def test_second_exclusive_open_names_the_holder(db_url: str, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(StoreLockedError) as raised:
        Store.open(db_url, exclusive=True)
    message = str(raised.value)
    assert f"(pid {holder.pid})" in message
    assert "monitor.db" in message
    assert "SQLite allows one writer — use PostgreSQL for several workers" in message


def test_readers_still_open_while_locked(db_url: str, holder: subprocess.Popen[str]) -> None:
    with Store.open(db_url) as reader:
        assert reader.list_feeds() == []


def test_lock_is_released_on_close(db_url: str, holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("done\n")
    holder.stdin.flush()
    assert holder.wait(timeout=30) == 0
    _open_exclusive_within(db_url, 10).close()


def test_lock_dies_with_a_killed_holder(db_url: str, holder: subprocess.Popen[str]) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    store = _open_exclusive_within(db_url, 10)
    try:
        with pytest.raises(StoreLockedError, match=f"pid {os.getpid()}"):
            Store.open(db_url, exclusive=True)  # now this process is the holder
    finally:
        store.close()
    Store.open(db_url, exclusive=True).close()


def test_exclusive_does_not_apply_to_in_memory_sqlite() -> None:
    with Store.open("sqlite://", exclusive=True) as first, Store.open("sqlite://", exclusive=True) as second:
        assert first.list_feeds() == second.list_feeds() == []
