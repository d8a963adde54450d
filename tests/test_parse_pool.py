"""The parse pool outlives its workers: after one is killed, new work runs on new workers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from monitor.parse_pool import ParsePool


def one_worker() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def test_pool_starts_new_workers_after_one_is_killed() -> None:
    pool = ParsePool(one_worker)
    try:
        first = pool.submit(os.getpid).result(timeout=60)
        os.kill(first, signal.SIGKILL)
        outcomes: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                pid = pool.submit(os.getpid).result(timeout=60)
            except BrokenProcessPool:  # submitted before the pool noticed the death
                outcomes.append("broken")
                continue
            outcomes.append("ok")
            break
        assert outcomes[-1] == "ok", outcomes
        assert pid != first
        assert pool.restarts == 1
        assert pool.submit(sum, [1, 2, 3]).result(timeout=60) == 6
    finally:
        pool.shutdown()


def test_a_shut_down_pool_never_starts_new_workers() -> None:
    pool = ParsePool(one_worker)
    first = pool.submit(os.getpid).result(timeout=60)
    os.kill(first, signal.SIGKILL)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(os.getpid)
    assert pool.restarts == 0


ORPHAN_SCRIPT = """
import os, sys, time
from monitor.parse_pool import parse_pool
pool = parse_pool()
pool.submit(os.getpid).result(timeout=60)
print(" ".join(map(str, pool.worker_pids())), flush=True)
time.sleep(600)
"""


def test_workers_exit_when_the_daemon_is_killed() -> None:
    owner = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        workers = [int(pid) for pid in owner.stdout.readline().split()]
        assert workers, "the pool started workers"
    finally:
        owner.kill()  # SIGKILL: no shutdown, as when the kernel's OOM killer strikes
        owner.communicate()  # reaps the owner and closes its pipe
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "orphaned parse workers kept running"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent (init) has not reaped it yet
