"""What the daemon tells the outside world about itself: Prometheus metrics and /healthz."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from monitor.alerts.outbox import OutboxReport
from monitor.clock import CLOCK_STEP_TOLERANCE_SECONDS
from monitor.metrics import HealthStatus, Metrics
from monitor.pipeline import FeedReport
from monitor.store import FeedView, Store

CLOCK_STEP_TOLERANCE = timedelta(seconds=CLOCK_STEP_TOLERANCE_SECONDS)


def record_polls(metrics: Metrics, reports: Sequence[FeedReport], seconds: float) -> None:
    metrics.cycle_seconds.observe(seconds)
    for report in reports:
        metrics.polls.labels(status=report.status).inc()
        if report.error_kind:
            metrics.fetch_failures.labels(kind=report.error_kind).inc()
        if report.fetch_seconds is not None:
            metrics.fetch_seconds.observe(report.fetch_seconds)
        if report.new_hits:
            metrics.hits.inc(report.new_hits)


def record_deliveries(metrics: Metrics, channel: str, report: OutboxReport) -> None:
    if report.sent:
        metrics.alerts_sent.labels(channel=channel).inc(report.sent)
    if report.retrying or report.failed:
        metrics.alerts_failed.labels(channel=channel).inc(report.retrying + report.failed)


class HealthCheck:
    """Healthy = the scheduler ticked recently, the database answers, no feed is far overdue.

    "Ticked" is the scheduler's heartbeat, not the end of a cycle: a first cycle over thousands
    of feeds may take minutes, and the daemon is alive all that time. The heartbeat is timed on
    the monotonic clock: a wall clock set back must not make a stalled tick look recent."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        tick_seconds: float,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._tick = tick_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._last_tick: float | None = None
        self.last_cycle_at: datetime | None = None  # end of the last completed poll cycle

    def ticked(self) -> None:
        self._last_tick = self._monotonic()

    def __call__(self) -> HealthStatus:
        grace = self._grace()
        alive = self._last_tick is not None and self._monotonic() - self._last_tick <= grace.total_seconds()
        try:
            overdue = self.refresh_gauges()
        except Exception as exc:  # any database failure is the answer, not a crash
            return HealthStatus(
                False, alive, False, 0, self.last_cycle_at, f"database unreachable: {type(exc).__name__}"
            )
        problems = [
            text
            for bad, text in (
                (not alive, "scheduler has not ticked recently"),
                (overdue > 0, f"{overdue} feeds overdue"),
            )
            if bad
        ]
        return HealthStatus(not problems, alive, True, overdue, self.last_cycle_at, "; ".join(problems) or "ok")

    def refresh_gauges(self) -> int:
        """Read the outbox backlog and the overdue feeds into the gauges; returns the overdue
        count. The daemon calls this every few ticks so /metrics stays current without
        /healthz being polled (and without a scrape ever waiting on the database)."""
        now = self._clock()
        feeds = self._store.list_feeds()
        pending = self._store.pending_count()
        overdue = sum(1 for f in feeds if f.active and _overdue(f, now, self._grace()))
        self._metrics.feeds_overdue.set(overdue)
        self._metrics.pending_alerts.set(pending)
        return overdue

    def _grace(self) -> timedelta:
        return timedelta(seconds=self._tick * 3 + 60)


def _overdue(feed: FeedView, now: datetime, grace: timedelta) -> bool:
    """Past due by the wall clock, or last polled "in the future": the clock was set back, and
    until the daemon replans it (next tick) the feed waits for the size of the step."""
    polled_ahead = feed.last_fetch_at is not None and feed.last_fetch_at > now + CLOCK_STEP_TOLERANCE
    return polled_ahead or feed.next_poll_at < now - grace
