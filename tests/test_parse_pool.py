"""The parse pool outlives its workers: after one is killed, new work runs on new workers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

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
