"""The one async boundary to the database: coroutines reach the store only through here.

Every call runs in a worker thread, so no query ever blocks the event loop (polls, deliveries and
the health endpoint stay live while SQLite or PostgreSQL is busy). Writes that a cycle makes in
bulk — a feed's save, its poll record — take turns under one lock: SQLite has a single writer,
and queueing writers in the database only adds lock waits and busy retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from monitor.store.store import Store

P = ParamSpec("P")
T = TypeVar("T")


class AsyncStore:
    """Awaitable calls on a :class:`Store`. ``store`` is for code already in a worker thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._turn: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def turn(self) -> asyncio.Lock:
        """The write lock of the running event loop (a runtime may serve several in turn, as
        `monitor once` and the benchmarks do; a lock belongs to one loop)."""
        loop = _running_loop()
        if self._turn is None or self._loop is not loop:
            self._turn, self._loop = asyncio.Lock(), loop
        return self._turn

    async def read(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A query, or a short atomic update that needs no turn (claims, lease renewals)."""
        return await asyncio.to_thread(call, *args, **kwargs)

    async def write(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A bulk write: one at a time."""
        async with self.turn:
            return await asyncio.to_thread(call, *args, **kwargs)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
