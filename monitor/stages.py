"""CPU seconds and calls per pipeline stage, always on, for bench/cycle.py's breakdown.

A stage's time is the CPU of the thread that runs it (time.thread_time), not wall time: the
store runs in worker threads beside the event loop and the other feeds' matching, so wall time
would charge one stage for another's work, and waiting on a lock, the disk or PostgreSQL would
look like work. Nested stages are exclusive: entering one pauses the stage around it, so the
figures add up to the CPU that was measured.

A stage must never span an ``await``: another coroutine would run on the same thread inside it.

Parse workers record into their own tally (``recording``) and send the figures back with the
parsed body; the main process adds them with ``merge``, kept apart from its own CPU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum


class Stage(StrEnum):
    PARSE = "parse"  # encoding, structure limits and feedparser
    NORMALISE = "normalise"  # entries → items: HTML to text, links, dates, keys
    LANGUAGE = "language"
    STORY_KEYS = "story keys"
    MATCH = "match"
    STORY_LOOKUP = "story lookup"  # reading the stored stories a batch may join
    GROUPING = "grouping"  # the pure decisions: stories, routing, what to queue
    SQL = "sql"  # the save transaction's other statements, and the known-keys read
    COMMIT = "commit"  # opening and committing the save transaction


@dataclass(frozen=True, slots=True)
class StageTime:
    seconds: float = 0.0
    calls: int = 0


@dataclass(frozen=True, slots=True)
class StageFigures:
    """Per-stage CPU; picklable, so a parse worker can return its own with its result."""

    by_stage: Mapping[Stage, StageTime] = field(default_factory=dict)

    def get(self, name: Stage) -> StageTime:
        return self.by_stage.get(name, StageTime())

    @property
    def seconds(self) -> float:
        return sum(figure.seconds for figure in self.by_stage.values())

    def plus(self, other: StageFigures) -> StageFigures:
        names = [name for name in Stage if name in self.by_stage or name in other.by_stage]
        return StageFigures({name: _add(self.get(name), other.get(name)) for name in names})


@dataclass(frozen=True, slots=True)
class StageSnapshot:
    own: StageFigures  # measured in this process
    merged: StageFigures  # measured in other processes (parse workers) and added here

    @property
    def combined(self) -> StageFigures:
        return self.own.plus(self.merged)


def _add(a: StageTime, b: StageTime) -> StageTime:
    return StageTime(a.seconds + b.seconds, a.calls + b.calls)


class Tally:
    """Thread-safe sums; a stage ends with one dictionary update under the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._own: dict[Stage, StageTime] = {}
        self._merged: dict[Stage, StageTime] = {}

    def charge(self, name: Stage, seconds: float, calls: int = 1) -> None:
        with self._lock:
            self._own[name] = _add(self._own.get(name, StageTime()), StageTime(seconds, calls))

    def merge(self, figures: StageFigures) -> None:
        with self._lock:
            for name, figure in figures.by_stage.items():
                self._merged[name] = _add(self._merged.get(name, StageTime()), figure)

    def figures(self) -> StageFigures:
        with self._lock:
            return StageFigures(dict(self._own))

    def snapshot(self) -> StageSnapshot:
        with self._lock:
            return StageSnapshot(StageFigures(dict(self._own)), StageFigures(dict(self._merged)))

    def reset(self) -> None:
        with self._lock:
            self._own.clear()
            self._merged.clear()


TALLY = Tally()
_thread_cpu = time.thread_time  # a module name, so a test can give it a clock of its own
_current: ContextVar[Tally] = ContextVar("monitor_stage_tally", default=TALLY)
_threads = threading.local()


class _Frame:
    __slots__ = ("name", "spent", "started", "tally")

    def __init__(self, name: Stage, tally: Tally, started: float) -> None:
        self.name = name
        self.tally = tally
        self.started = started
        self.spent = 0.0


def _frames() -> list[_Frame]:
    frames: list[_Frame] | None = getattr(_threads, "frames", None)
    if frames is None:
        frames = _threads.frames = []
    return frames


@contextmanager
def stage(name: Stage) -> Iterator[None]:
    """Charge this thread's CPU inside the block to ``name`` (minus any stage nested in it)."""
    frames = _frames()
    now = _thread_cpu()
    if frames:
        outer = frames[-1]
        outer.spent += now - outer.started
    frame = _Frame(name, _current.get(), now)
    frames.append(frame)
    try:
        yield
    finally:
        now = _thread_cpu()
        frames.pop()
        frame.tally.charge(name, frame.spent + now - frame.started)
        if frames:
            frames[-1].started = now


@contextmanager
def recording() -> Iterator[Tally]:
    """Stages in this block (this context: this thread, or a task) go to a fresh tally."""
    tally = Tally()
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)


def merge(figures: StageFigures) -> None:
    TALLY.merge(figures)


def snapshot() -> StageSnapshot:
    return TALLY.snapshot()


def reset() -> None:
    TALLY.reset()
