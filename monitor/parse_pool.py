"""The parse workers' process pool, which survives the death of a worker.

A worker killed by the kernel (out of memory), a crash in a C extension or a stray ``kill``
leaves a ProcessPoolExecutor broken for good: every later task fails at once with
BrokenProcessPool. The daemon must keep serving feeds, so the pool is rebuilt on the next
submit, and a parse that was in flight when a worker died is retried once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import ParamSpec, TypeVar

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
PARENT_CHECK_SECONDS = 1.0  # how soon a worker notices that its daemon is gone


def _spawn_pool() -> ProcessPoolExecutor:
    """feedparser is pure Python and holds the GIL, so parsing runs in worker processes.
    'spawn' avoids forking a process that has threads (scheduler, Apprise senders)."""
    workers = max(1, min(os.cpu_count() or 1, 8))
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


PARSE_WORKER_NAME = "monitor-parse"


def _start_worker(parent: int) -> None:
    name_process(PARSE_WORKER_NAME)
    exit_with_parent(parent)


def name_process(name: str) -> None:
    """Show a worker as ``name`` in ps and top (Linux; elsewhere nothing changes): every worker
    is otherwise an anonymous ``python -c 'from multiprocessing…'``."""
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_text(name[:15], encoding="ascii")


def exit_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the daemon is gone. A SIGKILLed daemon (out of
    memory, `kill -9`) never tells its workers, and they hold the task queue open themselves,
    so without this they would wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class ParsePool(Executor):
    """A process pool that replaces itself when it is broken."""

    def __init__(self, factory: Callable[[], ProcessPoolExecutor] = _spawn_pool) -> None:
        self._factory = factory
        self._pool = factory()
        self._lock = threading.Lock()
        self._closed = False
        self.restarts = 0

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            if self._closed:  # a broken pool would otherwise start new workers after shutdown
                raise RuntimeError("cannot schedule new futures after shutdown")
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                log.warning("a parse worker died; starting new parse workers")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._factory()
                self.restarts += 1
                return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def worker_pids(self) -> list[int]:
        """The current workers' process ids (for tests and diagnostics)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)


def parse_pool() -> ParsePool:
    return ParsePool()


class ParseWorkerDiedError(RuntimeError):
    """Parsing one body killed the worker process, again after a retry."""


async def run_parse(executor: Executor | None, call: Callable[[], T], feed: str) -> T:
    """Run ``call`` in the parse workers without blocking the event loop, once more if a worker
    died meanwhile (maybe parsing another feed; the pool starts new ones). If this body kills
    that one too, ParseWorkerDiedError: the feed is marked with it and the next poll tries again.

    The submission itself runs in a thread: the first one, or the first after a worker died,
    starts worker processes, which takes a good fraction of a second."""
    if executor is None:
        return await asyncio.to_thread(call)
    try:
        return await asyncio.wrap_future(await asyncio.to_thread(executor.submit, call))
    except BrokenProcessPool:
        log.warning("parse worker died; parsing again", extra={"feed": feed})
    try:
        return await asyncio.wrap_future(await asyncio.to_thread(executor.submit, call))
    except BrokenProcessPool:
        raise ParseWorkerDiedError(
            "parse workers died twice while this feed's body was being parsed (out of memory?); "
            "the next poll tries again"
        ) from None
