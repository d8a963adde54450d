"""A stop signal that arrives while the daemon is still starting ends in a clean exit, not a kill."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from monitor.config import load_settings
from monitor.daemon import StartupSignals, run_daemon
from monitor.runtime import open_runtime

RULES = """
rules:
  - id: arms
    title: Arms
    query: artillery
"""


def test_sigterm_during_start_up_is_remembered_and_ends_in_exit_0(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "main.yaml").write_text(RULES, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path / 'monitor.db'}\nrules: {tmp_path / 'rules'}\nfeeds: []\n",
        encoding="utf-8",
    )
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        startup = StartupSignals().install()
        os.kill(os.getpid(), signal.SIGTERM)  # arrives before the runtime exists
        assert startup.received
        runtime = open_runtime(load_settings(config, {}), exclusive=True)
        started = time.monotonic()
        code = run_daemon(runtime, watch_rules=False, startup=startup)
        elapsed = time.monotonic() - started
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert code == 0
    assert elapsed < 10, f"the daemon took {elapsed:.1f} s to honour the early stop"


def test_without_a_signal_nothing_is_recorded() -> None:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        assert StartupSignals().install().received is False
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
