"""The daemon: a short tick runs due feeds, then the outbox; rule files are watched.

Each feed's next poll time lives in the database (so several workers and restarts agree); the
tick only provides the heartbeat, on the monotonic clock (monitor.clock), so setting the wall
clock back cannot stall it. SIGTERM/SIGINT let the running tick finish (bounded) and exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from monitor.alerts.isolation import ChannelClosedError
from monitor.alerts.outbox import OutboxReport, Sender
from monitor.clock import CLOCK_STEP_TOLERANCE_SECONDS, ClockWatch, run_every
from monitor.feedhealth import FeedHealthWatch
from monitor.fetch import Fetcher
from monitor.fulltext import ArticlePages
from monitor.logs import RepeatedErrors
from monitor.metrics import Metrics, MetricsServer
from monitor.observe import HealthCheck, record_deliveries, record_polls
from monitor.parse_pool import parse_pool
from monitor.retention import PRUNE_EVERY_SECONDS, Pruner
from monitor.runtime import MAX_FEEDS_PER_TICK, Runtime
from monitor.types import PollStatus

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 8.0
# Sends under way at SIGTERM get this long, then their processes are killed: well inside the
# 10 s promised for the exit, whatever a channel does.
SEND_GRACE_SECONDS = 5.0
# Workers sharing a database see a broken rule edit within seconds of each other; one of them
# sends the notice. The same error again after this long is news and is sent again.
NOTICE_QUIET_SECONDS = 600.0
GAUGE_REFRESH_SECONDS = 15.0  # how often the outbox backlog and overdue feeds are re-read
LIST_CHECK_SECONDS = 60.0  # how often due entity lists are refreshed and new versions looked for
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StartupSignals:
    """Remembers a SIGTERM/SIGINT that arrives while the daemon is still starting (config, database
    migrations), so a stop asked for then ends in a clean exit 0 rather than Python's default death."""

    def __init__(self) -> None:
        self.received = False

    def install(self) -> StartupSignals:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._note)
        return self

    def _note(self, signum: int, frame: object) -> None:
        self.received = True


class Daemon:
    def __init__(
        self,
        runtime: Runtime,
        *,
        watch_rules: bool = True,
        startup: StartupSignals | None = None,
        metrics_port: int | None = None,
        metrics_host: str = "127.0.0.1",
    ) -> None:
        self._runtime = runtime
        self._metrics = Metrics()
        self._health = HealthCheck(runtime.store, self._metrics, runtime.settings.tick_seconds, runtime.clock)
        tags = runtime.routing_tags()
        self._admins = tuple(sender for sender in runtime.senders if "admin" in tags.get(sender.name, ()))
        self._health_watch = FeedHealthWatch(runtime.db, self._admins, runtime.settings.health, runtime.clock)
        self._metrics_server = (
            MetricsServer(self._metrics, self._health, metrics_host, metrics_port) if metrics_port is not None else None
        )
        self._watch_rules = watch_rules
        self._busy = asyncio.Lock()
        self._stop = asyncio.Event()
        self._fetcher: Fetcher | None = None
        self._pages: ArticlePages | None = None
        self._executor = parse_pool()
        self._last_rule_error: str | None = None
        self._drains: dict[str, asyncio.Task[OutboxReport]] = {}
        self._cycle: asyncio.Task[None] | None = None
        self._gauges_read_at = float("-inf")
        self._outbox = runtime.outbox()
        self._startup = startup
        self._errors = RepeatedErrors()  # a failure that recurs every tick is logged once, then counted
        self._clock_watch = ClockWatch(runtime.clock)
        self._replan_due = True  # at start too: the clock may have been set back while we were down
        self._pruner = Pruner(runtime.db, runtime.settings.retention, runtime.clock, self._metrics)

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self.request_stop)
        if self._startup is not None and self._startup.received:
            log.info("stop requested during start-up")
            self.request_stop()
        settings = self._runtime.settings
        try:
            if self._metrics_server is not None:  # inside the try: a taken port still shuts the pool
                self._metrics_server.start()
                log.info("metrics and health on port %d", self._metrics_server.port)
            async with Fetcher(settings.fetch) as fetcher, self._runtime.article_pages() as pages:
                self._fetcher, self._pages = fetcher, pages
                rhythm = self._start_rhythm()
                log.info(
                    "daemon started: %d feeds, %d rules, tick %.0fs",
                    len(settings.feeds),
                    len(self._runtime.rules.get().rules),
                    settings.tick_seconds,
                )
                watcher = asyncio.create_task(self._watch()) if self._watch_rules else None
                await self._stop.wait()
                log.info("stopping: letting the running cycle finish")
                for task in rhythm:
                    task.cancel()
                if watcher is not None:
                    watcher.cancel()
                await self._wind_down()
        finally:
            if self._metrics_server is not None:
                self._metrics_server.stop()
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._runtime.close()
        log.info("stopped")
        return 0

    def _start_rhythm(self) -> list[asyncio.Task[None]]:
        """The periodic jobs, each on its own monotonic rhythm (never overlapping itself)."""
        settings = self._runtime.settings
        check_every = settings.health_check_seconds
        return [
            asyncio.create_task(run_every(settings.tick_seconds, self._tick, self._stop)),
            asyncio.create_task(run_every(settings.tick_seconds, self._start_drains, self._stop)),
            asyncio.create_task(run_every(check_every, self._check_health, self._stop, first_delay=check_every)),
            asyncio.create_task(
                run_every(PRUNE_EVERY_SECONDS, self._prune, self._stop, first_delay=settings.tick_seconds)
            ),
            asyncio.create_task(run_every(LIST_CHECK_SECONDS, self.check_lists, self._stop)),
        ]

    async def _wind_down(self) -> None:
        """Channels refuse new sends at once and cut off those still under way after the send
        grace; an interrupted delivery stays pending for the next start. Meanwhile the running
        cycle may finish."""
        closing = asyncio.create_task(asyncio.to_thread(self._runtime.close_channels, SEND_GRACE_SECONDS))
        await self._wait_idle()
        await closing

    async def _wait_idle(self) -> None:
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                async with self._busy:
                    pass
                await asyncio.gather(*self._drains.values(), return_exceptions=True)
                if self._cycle is not None:
                    await asyncio.gather(self._cycle, return_exceptions=True)
        except TimeoutError:
            log.warning("work still running after %.0fs; leases will hand it to the next start", SHUTDOWN_GRACE_SECONDS)

    async def _tick(self) -> None:
        """The heartbeat: it starts a cycle and returns at once, so a cycle longer than the tick
        does not stop the heartbeat (/healthz stays alive)."""
        if self._stop.is_set() or self._fetcher is None:
            return
        self._health.ticked()
        self._errors.flush()
        await self._follow_clock()
        if self._cycle is None or self._cycle.done():
            self._cycle = asyncio.create_task(self._poll())
            self._cycle.add_done_callback(self._cycle_done)
        if time.monotonic() - self._gauges_read_at >= GAUGE_REFRESH_SECONDS:
            self._gauges_read_at = time.monotonic()
            try:
                await self._runtime.db.read(self._health.refresh_gauges)
            except Exception as exc:  # the database is down: /healthz says so; keep ticking
                self._errors.log(log, logging.WARNING, f"could not read the outbox backlog: {type(exc).__name__}")

    async def _follow_clock(self) -> None:
        """Replan the stored schedules after the wall clock was set back (and once at start)."""
        step = self._clock_watch.step()
        if step < -CLOCK_STEP_TOLERANCE_SECONDS:
            log.warning("the wall clock was set back by %.0f s; replanning the feeds' polls", -step)
            self._replan_due = True
        if not self._replan_due:
            return
        try:
            db = self._runtime.db
            moved = await db.write(db.store.replan_feeds, self._runtime.clock(), CLOCK_STEP_TOLERANCE_SECONDS)
        except Exception as exc:  # tried again next tick
            self._errors.log(log, logging.WARNING, "could not replan the feeds' polls", exc)
            return
        self._replan_due = False
        if moved:
            log.warning("%d feeds were last polled 'in the future'; their next polls now count from now", moved)

    def _cycle_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._errors.log(log, logging.ERROR, "poll cycle failed", task.exception())

    async def _poll(self) -> None:
        async with self._busy:
            if self._stop.is_set():  # SIGTERM arrived while this cycle waited for the last one
                return
            runtime = self._runtime
            started = time.monotonic()
            assert self._fetcher is not None, "cycles start only while the fetcher is open"
            try:
                pipeline = runtime.pipeline(self._fetcher, self._executor, self._errors, self._pages)
                reports = await pipeline.poll_feeds(runtime.worker_id, due_only=True, limit=MAX_FEEDS_PER_TICK)
            except Exception as exc:  # the heartbeat must survive a database hiccup (or a full disk)
                self._errors.log(log, logging.ERROR, "poll cycle failed; retrying on the next tick", exc)
                return
            record_polls(self._metrics, reports, time.monotonic() - started)
            self._health.last_cycle_at = runtime.clock()
            for feed in reports:
                level = logging.WARNING if feed.status == PollStatus.ERROR else logging.INFO
                log.log(level, "%s", feed.summary(), extra={"feed": feed.feed_name})
        if any(report.new_hits for report in reports):
            await self._start_drains()

    async def _check_health(self) -> None:
        if self._stop.is_set():
            return
        try:
            await self._health_watch.check()
        except Exception as exc:  # a database hiccup: the next check tries again
            self._errors.log(log, logging.ERROR, "feed health check failed", exc)

    async def _prune(self) -> None:
        try:
            await self._pruner.run(self._stop)
        except Exception as exc:  # the next pass, an hour later, picks up where this one stopped
            self._errors.log(log, logging.WARNING, "deleting old rows failed; trying again in an hour", exc)

    async def check_lists(self) -> None:
        """Refresh due entity lists. A failed refresh keeps the last good list; the first
        failure of a run is reported once to the admin channels (whichever worker saw it)."""
        if self._stop.is_set():
            return
        try:
            outcomes = await self._runtime.refresh_lists()
        except Exception as exc:  # a database hiccup: the next check tries again
            self._errors.log(log, logging.WARNING, "entity list check failed", exc)
            return
        for outcome in outcomes:
            log.log(logging.WARNING if outcome.status == "error" else logging.INFO, "%s", outcome.summary())
            if outcome.notify:
                body = f"{outcome.error}\nThe last good version of list {outcome.name} stays in force."
                await self._notice_once(f"[monitor] list {outcome.name}: refresh failed", body)

    async def _start_drains(self) -> None:
        """One drain task per channel at a time; a slow or throttled channel delays only itself."""
        if self._stop.is_set():
            return
        runtime = self._runtime
        for sender in runtime.senders:
            running = self._drains.get(sender.name)
            if running is not None and not running.done():
                continue
            self._drains[sender.name] = asyncio.create_task(self._outbox.drain(sender))
            self._drains[sender.name].add_done_callback(functools.partial(self._drain_done, sender.name))

    def _drain_done(self, channel: str, task: asyncio.Task[OutboxReport]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, ChannelClosedError):
            log.info("alert delivery stopped by shutdown; unsent alerts stay pending", extra={"channel": channel})
            return
        if error is not None:
            self._errors.log(log, logging.ERROR, "alert delivery failed", error, extra={"channel": channel})
            return
        report = task.result()
        record_deliveries(self._metrics, channel, report)
        if report.sent or report.retrying or report.failed:
            log.info(
                "alerts: %d sent, %d retrying, %d failed",
                report.sent,
                report.retrying,
                report.failed,
                extra={"channel": channel},
            )

    async def _watch(self) -> None:
        from watchfiles import awatch

        paths = [p for p in self._runtime.settings.rule_paths if Path(p).exists()]
        if not paths:
            return
        async for _changes in awatch(*paths, stop_event=self._stop):
            try:
                await self.reload_rules()
            except Exception:  # e.g. the notice could not be sent: the next edit must still load
                log.exception("rule reload failed")

    async def reload_rules(self) -> None:
        error = await self._runtime.rules.reload()  # in a thread: polling and delivery go on
        if error is None:
            self._last_rule_error = None
            log.info("rules reloaded: %d rules", len(self._runtime.rules.get().rules))
            return
        text = str(error)
        log.error("rule reload failed; keeping the last good rules:\n%s", text)
        if text != self._last_rule_error:
            self._last_rule_error = text
            if not await self._notice_once("[monitor] rule files have errors", text):
                self._last_rule_error = None  # not delivered: the next reload with this error tries again

    async def _notice_once(self, title: str, body: str) -> bool:
        """Send an admin notice unless another worker sharing the database just sent it; False
        when it was not delivered. The database only deduplicates: if it cannot be reached,
        the notice goes out anyway."""
        if not self._admins:
            return True  # no admin channel: the log line is the notice
        db, now = self._runtime.db, self._runtime.clock()
        key = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
        try:
            claimed = await db.read(db.store.claim_notice, key, now, NOTICE_QUIET_SECONDS)
        except Exception as exc:
            log.warning("cannot check whether another worker sent this notice (%s); sending it", type(exc).__name__)
            claimed = True
        if not claimed:
            log.info("admin notice already sent by another worker: %s", title)
            return True
        if await notify_admins(self._admins, title, body):
            return True
        try:
            await db.read(db.store.release_notice, key)
        except Exception as exc:
            log.warning("could not release the unsent notice (%s)", type(exc).__name__)
        return False


async def notify_admins(admins: Sequence[Sender], title: str, body: str) -> bool:
    """Operational notices go straight to the channels tagged `admin`, outside the hit outbox.
    True when at least one of them took the notice."""
    delivered = False
    for sender in admins:
        outcome = await asyncio.to_thread(sender.send_notice, title, body)
        if outcome.ok:
            delivered = True
        else:
            log.error("admin notice not delivered: %s", outcome.error, extra={"channel": sender.name})
    return delivered


def run_daemon(
    runtime: Runtime,
    *,
    watch_rules: bool = True,
    startup: StartupSignals | None = None,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> int:
    async def main() -> int:
        # the daemon's asyncio primitives must be created inside the running loop
        daemon = Daemon(
            runtime, watch_rules=watch_rules, startup=startup, metrics_port=metrics_port, metrics_host=metrics_host
        )
        return await daemon.run()

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main())
    return 0
