"""Time the daemon can trust when the wall clock is stepped (NTP correction, VM resume, an admin).

Two things stalled for the size of a backward step (issue 12): APScheduler computes its next
wake-up from the wall clock, so the heartbeat itself slept through the step; and every feed's
next poll, stored as a wall-clock time, moved that far into the future. The heartbeat now runs on
the event loop's monotonic clock (`run_every`), and `ClockWatch` notices a step so the daemon can
re-plan the stored schedules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

log = logging.getLogger(__name__)

# Steps smaller than this are ignored: they delay polls by at most this long, and they also
# absorb the skew between workers' clocks (NTP keeps it to milliseconds).
CLOCK_STEP_TOLERANCE_SECONDS = 10.0


class ClockWatch:
    """Compares how far the wall clock moved with how far the monotonic clock moved.

    Both advance at the same rate (NTP slews them together), so their difference only changes
    when someone sets the wall clock."""

    def __init__(self, wall: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._offset = self._read()

    def _read(self) -> float:
        return self._wall().timestamp() - self._monotonic()

    def step(self) -> float:
        """Seconds the wall clock was set forward (positive) or back (negative) since the last call."""
        offset = self._read()
        step, self._offset = offset - self._offset, offset
        return step


async def run_every(
    seconds: float, job: Callable[[], Awaitable[None]], stop: asyncio.Event, *, first_delay: float = 0.0
) -> None:
    """Await `job` every `seconds` of monotonic time until `stop` is set.

    Runs never overlap and never queue up: a run longer than the period starts the next one at
    once, then the rhythm resumes (APScheduler's max_instances=1 with coalescing). A job that
    raises is logged and the rhythm goes on."""
    loop = asyncio.get_running_loop()
    due = loop.time() + first_delay
    while not await _stopped_within(stop, due - loop.time()):
        try:
            await job()
        except Exception:  # the heartbeat must outlive any one job's bug
            log.exception("periodic job %s failed", getattr(job, "__name__", job))
        due = max(due + seconds, loop.time())


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
