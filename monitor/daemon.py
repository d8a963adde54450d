"""The daemon: a short APScheduler tick runs due feeds, then the outbox; rule files are watched.

Each feed's next poll time lives in the database (so several workers and restarts agree); the
scheduler only provides the heartbeat. SIGTERM/SIGINT let the running tick finish (bounded) and
exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.alerts.outbox import Sender
from monitor.alerts.render import Message
from monitor.fetch import Fetcher
from monitor.runtime import Runtime, parse_pool

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 8.0


class Daemon:
    def __init__(self, runtime: Runtime, *, watch_rules: bool = True) -> None:
        self._runtime = runtime
        self._watch_rules = watch_rules
        self._busy = asyncio.Lock()
        self._stop = asyncio.Event()
        self._fetcher: Fetcher | None = None
        self._executor = parse_pool()
        self._last_rule_error: str | None = None

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.request_stop)
        settings = self._runtime.settings
        scheduler = AsyncIOScheduler(timezone="UTC")
        try:
            async with Fetcher(settings.fetch) as fetcher:
                self._fetcher = fetcher
                scheduler.add_job(
                    self._tick, "interval", seconds=settings.tick_seconds, id="tick",
                    max_instances=1, coalesce=True, next_run_time=self._runtime.clock(),
                )
                scheduler.start()
                log.info("daemon started: %d feeds, %d rules, tick %.0fs",
                         len(settings.feeds), len(self._runtime.rules.get().rules),
                         settings.tick_seconds)
                watcher = asyncio.create_task(self._watch()) if self._watch_rules else None
                await self._stop.wait()
                log.info("stopping: letting the running cycle finish")
                scheduler.shutdown(wait=False)
                if watcher is not None:
                    watcher.cancel()
                await self._wait_idle()
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._runtime.close()
        log.info("stopped")
        return 0

    async def _wait_idle(self) -> None:
        try:
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                async with self._busy:
                    pass
        except TimeoutError:
            log.warning("cycle still running after %.0fs; leaving its feeds to lease expiry",
                        SHUTDOWN_GRACE_SECONDS)

    async def _tick(self) -> None:
        if self._stop.is_set() or self._fetcher is None:
            return
        async with self._busy:
            try:
                report = await self._runtime.cycle(self._fetcher, self._executor, due_only=True)
            except Exception:  # the heartbeat must survive a database hiccup
                log.exception("cycle failed; retrying on the next tick")
                return
            for feed in report.feeds:
                log.info(feed.summary(), extra={"feed": feed.feed_name})
            outbox = report.outbox
            if outbox.sent or outbox.retrying or outbox.failed:
                log.info("alerts: %d sent, %d retrying, %d failed",
                         outbox.sent, outbox.retrying, outbox.failed)

    async def _watch(self) -> None:
        from watchfiles import awatch

        paths = [p for p in self._runtime.settings.rule_paths if Path(p).exists()]
        if not paths:
            return
        async for _changes in awatch(*paths, stop_event=self._stop):
            await self.reload_rules()

    async def reload_rules(self) -> None:
        error = self._runtime.rules.reload()
        if error is None:
            self._last_rule_error = None
            log.info("rules reloaded: %d rules", len(self._runtime.rules.get().rules))
            return
        text = str(error)
        log.error("rule reload failed; keeping the last good rules:\n%s", text)
        if text != self._last_rule_error:
            self._last_rule_error = text
            await notify_admins(self._runtime.senders, self._runtime.routing_tags(),
                                Message("[monitor] rule files have errors", text))


async def notify_admins(
    senders: Sequence[Sender], tags: dict[str, tuple[str, ...]], message: Message
) -> None:
    """Operational notices go straight to channels tagged `admin`, outside the hit outbox."""
    admins = [sender for sender in senders if "admin" in tags.get(sender.name, ())]
    for sender in admins:
        outcome = await asyncio.to_thread(sender.send, message)
        if not outcome.ok:
            log.error("admin notice not delivered: %s", outcome.error, extra={"channel": sender.name})


def run_daemon(runtime: Runtime, *, watch_rules: bool = True) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(Daemon(runtime, watch_rules=watch_rules).run())
    return 0
