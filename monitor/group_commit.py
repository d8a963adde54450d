"""Group commit: many coroutines' small writes, done in one call per batch.

A steady poll of 1,000 feeds is mostly 304s, and each one only updates its feed's row. Written
one transaction at a time, they queue behind each other (and behind a feed whose items are
being stored). Here the first write of a batch schedules one flush; the flush waits for the
store's turn and then takes everything queued by then, so writes that arrive while the store
is busy share one transaction. A caller returns only once its write is committed, and sees
the flush's exception if it failed: nothing is reported done that was not written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(self, turn: asyncio.Lock, write: Callable[[Sequence[T]], None]) -> None:
        """``turn``: held while writing (the caller's store lock); ``write``: a blocking call,
        run in a worker thread, that commits a batch or raises."""
        self._turn = turn
        self._write = write
        self._queued: list[tuple[T, asyncio.Future[None]]] = []
        self._flushes: set[asyncio.Task[None]] = set()  # referenced until done, or they may vanish

    async def write(self, value: T) -> None:
        """Queue ``value`` and wait until the batch holding it is committed."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((value, committed))
        if len(self._queued) == 1:  # the first of a new batch: someone must flush it
            flush = asyncio.create_task(self._flush())
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        await committed

    async def _flush(self) -> None:
        async with self._turn:
            batch, self._queued = self._queued, []
            try:
                await asyncio.to_thread(self._write, [value for value, _ in batch])
            except Exception as error:  # every waiter gets it: their writes are not done
                _settle(batch, error)
                return
        _settle(batch, None)


def _settle(batch: Sequence[tuple[object, asyncio.Future[None]]], error: Exception | None) -> None:
    for _, committed in batch:
        if committed.done():  # its waiter was cancelled (shutdown)
            continue
        if error is None:
            committed.set_result(None)
        else:
            committed.set_exception(error)
