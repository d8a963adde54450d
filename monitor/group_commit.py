"""Group commit: many coroutines' small writes, done in one call per batch.

A steady poll of 1,000 feeds is mostly 304s, and each one only updates its feed's row. Written
one transaction at a time, they queue behind each other (and behind a feed whose items are
being stored). Here the first write of a batch schedules one flush; the flush waits for the
store's turn and then takes everything queued by then, so writes that arrive while the store
is busy share one transaction. A caller returns only once its write is committed. When a batch
fails, its writes are retried one by one, so each caller gets its own outcome: one bad row or
a busy moment does not fail the whole batch, and nothing is reported done that was not.
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
        self._flush_pending = False
        self._flushes: set[asyncio.Task[None]] = set()  # referenced until done, or they may vanish

    async def write(self, value: T) -> None:
        """Queue ``value`` and wait until the batch holding it is committed."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((value, committed))
        if not self._flush_pending:  # the first of a new batch: someone must flush it
            self._flush_pending = True
            flush = asyncio.create_task(self._flush())
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        await committed

    def _take(self) -> list[tuple[T, asyncio.Future[None]]]:
        batch, self._queued = self._queued, []
        self._flush_pending = False  # writes from now on start the next batch
        return batch

    async def _flush(self) -> None:
        batch: list[tuple[T, asyncio.Future[None]]] = []
        try:
            async with self._turn:
                batch = self._take()
                await self._commit(batch)
        except BaseException:  # only cancellation gets here: _commit settles every failure
            # Cancelled (shutdown) before or while writing: nobody may wait forever, and nobody
            # may be told a write is done that was not seen through.
            _fail(batch or self._take(), RuntimeError("the write was cancelled before it was confirmed"))
            raise

    async def _commit(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await asyncio.to_thread(self._write, [value for value, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _fail(batch, error)
                return
            # One bad row or a busy moment must not fail every feed of the batch: each gets
            # its own attempt and its own outcome.
            for value, committed in batch:
                await self._commit([(value, committed)])
            return
        for _, committed in batch:
            _succeed(committed)


def _succeed(committed: asyncio.Future[None]) -> None:
    if not committed.done():  # its waiter may have been cancelled
        committed.set_result(None)


def _fail(batch: Sequence[tuple[object, asyncio.Future[None]]], error: BaseException) -> None:
    for _, committed in batch:
        if not committed.done():
            committed.set_exception(error)
