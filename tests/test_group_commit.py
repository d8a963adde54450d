"""GroupCommit: writes queued while the store is busy share one call; failures reach every waiter."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from monitor.group_commit import GroupCommit


class Recorder:
    """Commits batches; fails the first ``fail_first`` calls, and any batch holding ``poison``."""

    def __init__(self, fail_first: int = 0, poison: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self._fail_first = fail_first
        self._poison = poison

    def __call__(self, values: Sequence[int]) -> None:
        if self._fail_first:
            self._fail_first -= 1
            raise RuntimeError("database is locked")
        if self._poison in values:
            raise ValueError(f"bad row {self._poison}")
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


async def _three_writes_while_busy(group: GroupCommit[int], turn: asyncio.Lock) -> list[BaseException | None]:
    async with turn:
        writers = [asyncio.create_task(group.write(n)) for n in range(3)]
        await _settle()
    outcomes = await asyncio.gather(*writers, return_exceptions=True)
    return [o if isinstance(o, BaseException) else None for o in outcomes]


def test_a_failed_batch_is_retried_write_by_write() -> None:
    async def scenario() -> tuple[list[BaseException | None], list[list[int]]]:
        turn, recorder = asyncio.Lock(), Recorder(fail_first=1)
        outcomes = await _three_writes_while_busy(GroupCommit(turn, recorder), turn)
        return outcomes, recorder.batches

    assert asyncio.run(scenario()) == ([None, None, None], [[0], [1], [2]])


def test_only_the_write_that_keeps_failing_gets_the_error() -> None:
    async def scenario() -> tuple[list[BaseException | None], list[list[int]]]:
        turn, recorder = asyncio.Lock(), Recorder(poison=1)
        group = GroupCommit(turn, recorder)
        outcomes = await _three_writes_while_busy(group, turn)
        await group.write(9)
        return outcomes, recorder.batches

    outcomes, batches = asyncio.run(scenario())
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], ValueError) and "bad row 1" in str(outcomes[1])
    assert batches == [[0], [2], [9]]


def test_a_flush_cancelled_before_its_turn_fails_its_writes_and_the_next_write_still_flushes() -> None:
    async def scenario() -> tuple[BaseException | None, list[list[int]]]:
        turn, recorder = asyncio.Lock(), Recorder()
        group = GroupCommit(turn, recorder)
        async with turn:
            writer = asyncio.create_task(group.write(1))
            await _settle()
            for flush in list(group._flushes):
                flush.cancel()
            await _settle()
        outcome = (await asyncio.gather(writer, return_exceptions=True))[0]
        await asyncio.wait_for(group.write(2), timeout=5)  # would hang if the batch were stuck
        return outcome if isinstance(outcome, BaseException) else None, recorder.batches

    outcome, batches = asyncio.run(scenario())
    assert isinstance(outcome, RuntimeError) and "cancelled" in str(outcome)
    assert batches == [[2]]


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
