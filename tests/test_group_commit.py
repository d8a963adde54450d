"""GroupCommit: writes queued while the store is busy share one call; failures reach every waiter."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from monitor.group_commit import GroupCommit


class Recorder:
    def __init__(self, fail_first: int = 0) -> None:
        self.batches: list[list[int]] = []
        self._fail_first = fail_first

    def __call__(self, values: Sequence[int]) -> None:
        if self._fail_first:
            self._fail_first -= 1
            raise RuntimeError("database went away")
        self.batches.append(list(values))


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_writes_queued_while_the_store_is_busy_share_one_batch() -> None:
    async def scenario() -> list[list[int]]:
        turn, recorder = asyncio.Lock(), Recorder()
        group = GroupCommit(turn, recorder)
        async with turn:  # the store is busy with another feed's items
            writers = [asyncio.create_task(group.write(n)) for n in range(5)]
            await _settle()
            assert not any(writer.done() for writer in writers)  # not committed, not reported
        await asyncio.gather(*writers)
        await group.write(5)  # a later write starts a new batch
        return recorder.batches

    assert asyncio.run(scenario()) == [[0, 1, 2, 3, 4], [5]]


def test_a_failed_flush_fails_every_write_of_its_batch_and_the_next_batch_works() -> None:
    async def scenario() -> tuple[list[BaseException | None], list[list[int]]]:
        turn, recorder = asyncio.Lock(), Recorder(fail_first=1)
        group = GroupCommit(turn, recorder)
        async with turn:
            writers = [asyncio.create_task(group.write(n)) for n in range(3)]
            await _settle()
        outcomes = await asyncio.gather(*writers, return_exceptions=True)
        await group.write(9)
        return [o if isinstance(o, BaseException) else None for o in outcomes], recorder.batches

    outcomes, batches = asyncio.run(scenario())
    assert all(isinstance(o, RuntimeError) and "went away" in str(o) for o in outcomes)
    assert batches == [[9]]


def test_a_cancelled_waiter_does_not_stop_the_others() -> None:
    async def scenario() -> list[list[int]]:
        turn, recorder = asyncio.Lock(), Recorder()
        group = GroupCommit(turn, recorder)
        async with turn:
            writers = [asyncio.create_task(group.write(n)) for n in range(3)]
            await _settle()
            writers[1].cancel()
        with pytest.raises(asyncio.CancelledError):
            await writers[1]
        await asyncio.gather(writers[0], writers[2])
        return recorder.batches

    # The cancelled caller's value was queued before it gave up; writing it is harmless (a poll
    # outcome), and the others must still be told that their writes are done.
    assert asyncio.run(scenario()) == [[0, 1, 2]]
