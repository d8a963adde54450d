"""The per-stage CPU tally: sums from many threads, exclusive nesting, worker figures kept apart."""

from __future__ import annotations

import itertools
import pickle
import threading

import pytest

from monitor import stages
from monitor.stages import Stage, StageFigures, StageTime, Tally, recording, stage

THREADS = 8
CALLS = 500


def spin(rounds: int = 2_000) -> int:
    return sum(i * i for i in range(rounds))


def test_threads_adding_at_once_lose_no_call() -> None:
    tally = Tally()
    start = threading.Barrier(THREADS)

    def work() -> None:
        start.wait()
        for _ in range(CALLS):
            tally.charge(Stage.MATCH, 0.001)
            tally.charge(Stage.SQL, 0.002, calls=2)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures = tally.figures()
    assert figures.get(Stage.MATCH).calls == THREADS * CALLS
    assert figures.get(Stage.SQL).calls == 2 * THREADS * CALLS
    assert round(figures.get(Stage.SQL).seconds, 6) == round(THREADS * CALLS * 0.002, 6)


def test_stages_in_threads_each_charge_their_own_thread() -> None:
    stages.reset()
    start = threading.Barrier(THREADS)

    def work() -> None:
        start.wait()
        for _ in range(20):
            with stage(Stage.GROUPING):
                spin()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grouping = stages.snapshot().own.get(Stage.GROUPING)
    assert grouping.calls == THREADS * 20
    assert grouping.seconds > 0


def test_a_nested_stage_pauses_the_outer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()  # every clock reading is one second after the last
    monkeypatch.setattr(stages, "_thread_cpu", lambda: float(next(ticks)))
    with recording() as tally, stage(Stage.COMMIT):  # 0
        with stage(Stage.SQL):  # 1
            pass  # 2
        with stage(Stage.SQL):  # 3
            pass  # 4
        # 5
    figures = tally.figures()
    assert figures.get(Stage.SQL) == StageTime(2.0, 2)
    assert figures.get(Stage.COMMIT) == StageTime(3.0, 1)  # 0→1, 2→3 and 4→5
    assert figures.seconds == 5.0  # nothing counted twice


def test_recording_keeps_the_process_tally_out_of_it() -> None:
    stages.reset()
    with recording() as tally, stage(Stage.PARSE):
        spin()
    assert tally.figures().get(Stage.PARSE).calls == 1
    assert stages.snapshot().own.by_stage == {}


def test_merged_figures_stay_apart_from_this_process_until_combined() -> None:
    stages.reset()
    with stage(Stage.MATCH):
        spin()
    worker = StageFigures({Stage.PARSE: StageTime(1.5, 3), Stage.MATCH: StageTime(0.5, 1)})
    stages.merge(pickle.loads(pickle.dumps(worker)))  # noqa: S301 - our own bytes, as from a parse worker
    stages.merge(worker)
    snap = stages.snapshot()
    assert snap.merged.get(Stage.PARSE) == StageTime(3.0, 6)
    assert snap.own.get(Stage.PARSE) == StageTime()
    assert snap.merged.seconds == 4.0
    assert snap.combined.get(Stage.MATCH).calls == 3
    assert list(snap.combined.by_stage) == [Stage.PARSE, Stage.MATCH]  # in pipeline order


def test_reset_empties_the_tally_and_a_snapshot_does_not_change_after() -> None:
    stages.reset()
    with stage(Stage.SQL):
        spin()
    before = stages.snapshot()
    stages.reset()
    assert before.own.get(Stage.SQL).calls == 1
    assert stages.snapshot().own.by_stage == {}
    assert stages.snapshot().merged.by_stage == {}


def test_a_stage_that_raises_is_still_charged() -> None:
    with recording() as tally, pytest.raises(ValueError, match="rolled back"), stage(Stage.COMMIT):
        raise ValueError("rolled back")
    assert tally.figures().get(Stage.COMMIT).calls == 1
