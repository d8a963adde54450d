"""Wiring: settings → store, rules, channels, pipeline. Shared by `monitor once` and the daemon."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.alerts.channels import ChannelSet
from monitor.alerts.console import CONSOLE, ConsoleChannel
from monitor.alerts.outbox import ChannelPlan, Outbox, OutboxReport, Sender
from monitor.config import Settings
from monitor.fetch import Fetcher
from monitor.fulltext import ArticlePages, FeedPolicy, FullText
from monitor.lists.refresh import ListOutcome, import_missing, refresh_due
from monitor.logs import RepeatedErrors
from monitor.pipeline import FeedReport, Pipeline, PipelineSettings
from monitor.rules import LoadedRules, RuleLoadError, RuleSet, read_rules
from monitor.rules.consistency import ConfiguredNames, check_rules
from monitor.rules.loader import ListProvider, load_failure, unexpected_failure
from monitor.schedule import parse_digest_schedule
from monitor.store import AsyncStore, Store
from monitor.types import ChannelSpec

log = logging.getLogger(__name__)
SWITCH_INTERVAL_SECONDS = 0.001
MAX_FEEDS_PER_TICK = 200
RULE_LOAD_DEADLINE_SECONDS = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start_loading(paths: Sequence[Path], lists: ListProvider | None = None) -> Future[LoadedRules]:
    """read_rules in a daemon thread of its own. Python cannot stop a thread, so a caller that
    stops waiting abandons the load: it runs on in the background, its result dropped, and
    cannot keep the process from exiting. The limits in docs/operations.md keep every load far
    below the deadline; the deadline is the last line for anything they miss."""
    outcome: Future[LoadedRules] = Future()
    outcome.set_running_or_notify_cancel()  # a waiter that gives up cannot cancel the result slot

    def load() -> None:
        try:
            outcome.set_result(read_rules(paths, lists))
        except BaseException as exc:  # whatever it is, the waiting caller gets it
            outcome.set_exception(exc)

    threading.Thread(target=load, name="rule-load", daemon=True).start()
    return outcome


def load_within(paths: Sequence[Path], deadline: float, lists: ListProvider | None = None) -> LoadedRules:
    """The rules, or RuleLoadError, within ``deadline`` seconds."""
    try:
        return start_loading(paths, lists).result(timeout=deadline)
    except TimeoutError:
        raise too_slow(paths, deadline) from None


async def load_off_loop(paths: Sequence[Path], deadline: float, lists: ListProvider | None = None) -> LoadedRules:
    """load_within for a coroutine: the event loop goes on, and no thread of its executor is
    held (asyncio.run waits for those at exit, so a slow load would delay shutdown)."""
    try:
        return await asyncio.wait_for(asyncio.wrap_future(start_loading(paths, lists)), deadline)
    except TimeoutError:
        raise too_slow(paths, deadline) from None


def too_slow(paths: Sequence[Path], deadline: float) -> RuleLoadError:
    return load_failure(paths, f"loading took longer than the {deadline:g} s deadline; nothing was loaded")


class RulesHolder:
    """The rules in force. Loads run in a thread of their own with a deadline; a failed reload,
    whatever the failure, keeps the last good set running and is returned for reporting.
    ``lists`` supplies the entity lists the rules name (``@list:NAME``), read at every load."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        deadline: float = RULE_LOAD_DEADLINE_SECONDS,
        lists: ListProvider | None = None,
    ) -> None:
        self._paths = tuple(paths)
        self._deadline = deadline
        self._lists = lists
        self.list_versions: Mapping[str, str] = {}  # the lists compiled into the rules in force
        self._current = self._accept(load_within(self._paths, deadline, lists))

    def get(self) -> RuleSet:
        return self._current

    async def reload(self) -> RuleLoadError | None:
        try:
            loaded = await load_off_loop(self._paths, self._deadline, self._lists)
        except RuleLoadError as exc:
            if exc.__cause__ is not None:
                log.error("unexpected error while loading rules", exc_info=exc.__cause__)
            return exc
        except Exception as exc:  # read_rules wraps every error; this is for the thread itself
            log.exception("rule reload failed")
            return unexpected_failure(self._paths, exc)
        self._current = self._accept(loaded)
        return None

    def _accept(self, loaded: LoadedRules) -> RuleSet:
        for warning in loaded.skipped:
            log.warning("rule files: %s", warning)
        self.list_versions = loaded.list_versions
        return loaded.rules


@dataclass(frozen=True, slots=True)
class CycleReport:
    feeds: tuple[FeedReport, ...]
    outbox: OutboxReport


@dataclass
class Runtime:
    settings: Settings
    store: Store
    rules: RulesHolder
    senders: tuple[Sender, ...]
    routing: tuple[ChannelSpec, ...]
    plans: Mapping[str, ChannelPlan] = field(default_factory=dict)
    worker_id: str = field(default_factory=worker_name)
    clock: Callable[[], datetime] = utc_now
    channels: ChannelSet | None = None  # owns the channels' sending processes
    db: AsyncStore = field(init=False)  # the store as coroutines reach it

    def __post_init__(self) -> None:
        self.db = AsyncStore(self.store)

    def close_channels(self, grace: float = 0.0) -> None:
        """Refuse new sends; cut off those still under way after ``grace`` seconds."""
        if self.channels is not None:
            self.channels.close(grace)

    def pipeline(
        self,
        fetcher: Fetcher,
        executor: Executor | None,
        errors: RepeatedErrors | None = None,
        pages: ArticlePages | None = None,
    ) -> Pipeline:
        settings = PipelineSettings(
            max_backoff_seconds=self.settings.max_backoff_seconds,
            max_retry_after_seconds=self.settings.max_retry_after_seconds,
            max_items_per_feed=self.settings.max_items_per_feed,
            lease_seconds=self.settings.fetch.deadline * 2 + 60,
            max_age_seconds=self.settings.max_age_seconds,
            feed_max_age_seconds={
                feed.name: feed.max_age_seconds for feed in self.settings.feeds if feed.max_age_seconds is not None
            },
        )
        fulltext = self.fulltext(pages, executor) if pages is not None else None
        return Pipeline(
            self.db, fetcher, self.rules.get, self.routing, settings, self.clock, executor, errors, fulltext
        )

    def fulltext(self, pages: ArticlePages, executor: Executor | None) -> FullText:
        default_age = self.settings.max_age_seconds
        policies = {
            feed.name: FeedPolicy(feed.fulltext, timedelta(seconds=feed.max_age_seconds or default_age))
            for feed in self.settings.feeds
        }
        return FullText(pages, policies, self.settings.fulltext_teaser_words, self.clock, executor)

    def article_pages(self) -> ArticlePages:
        """Article pages with the feeds' limits, except the size cap (``fulltext.max_bytes``)."""
        return ArticlePages(replace(self.settings.fetch, max_bytes=self.settings.fulltext_max_bytes))

    async def cycle(
        self, fetcher: Fetcher, executor: Executor | None, *, due_only: bool, pages: ArticlePages | None = None
    ) -> CycleReport:
        for outcome in await self.refresh_lists():
            log.log(logging.WARNING if outcome.status == "error" else logging.INFO, "%s", outcome.summary())
        reports = await self.pipeline(fetcher, executor, pages=pages).poll_feeds(
            self.worker_id, due_only=due_only, limit=MAX_FEEDS_PER_TICK if due_only else 1_000_000
        )
        outbox = await self.deliver()
        return CycleReport(tuple(reports), outbox)

    async def refresh_lists(self) -> list[ListOutcome]:
        """Check the configured lists that are due; reload the rules when a list they use has
        a new version (read here, by another worker or by `monitor lists import`)."""
        outcomes = await refresh_due(self.store, self.settings.lists, self.settings.fetch, self.clock(), self.worker_id)
        changed: bool = await asyncio.to_thread(self._lists_changed)
        if changed:
            error = await self.rules.reload()
            if error is not None:
                log.error("rules not reloaded after a list changed; keeping the last good rules:\n%s", error)
        return outcomes

    def _lists_changed(self) -> bool:
        if not self.rules.list_versions:
            return False
        stored = self.store.list_versions()
        return any(stored.get(name) != version for name, version in self.rules.list_versions.items())

    async def deliver(self) -> OutboxReport:
        return await self.outbox().deliver(self.senders)

    def outbox(self, rng: random.Random | None = None) -> Outbox:
        return Outbox(self.db, self.settings.alerts, self.clock, self.worker_id, self.plans, rng)

    def routing_tags(self) -> dict[str, tuple[str, ...]]:
        return {spec.name: spec.tags for spec in self.routing}

    def close(self) -> None:
        self.close_channels()
        self.store.close()


def open_runtime(settings: Settings, *, exclusive: bool) -> Runtime:
    """The store first: rules may name entity lists (``@list:``), which live in it."""
    # Matching and story grouping run in worker threads, holding the GIL for up to the switch
    # interval at a time; at Python's default 5 ms, a loop step that waits for the GIL a few
    # times (a connect, a read) took 0.1-0.2 s during a first poll. 1 ms keeps the loop live.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    store = Store.open(settings.database_url, migrate=True, exclusive=exclusive)
    try:
        for outcome in import_missing(store, settings.lists, settings.fetch, utc_now()):
            log.log(logging.WARNING if outcome.status == "error" else logging.INFO, "%s", outcome.summary())
        rules = RulesHolder(settings.rule_paths, lists=store.load_lists)
        consistency = check_rules(rules.get().rules, configured_names(settings), utc_now().date())
        if consistency.errors:
            raise RuleLoadError(consistency.errors)
    except BaseException:
        store.close()
        raise
    for warning in consistency.warnings:
        log.warning("%s", warning)
    store.sync_feeds(settings.feeds, utc_now())
    channels = ChannelSet(settings.channels, settings.channel_min_intervals) if settings.channels else None
    senders, routing = build_senders(channels)
    return Runtime(settings, store, rules, senders, routing, channel_plans(routing), channels=channels)


def configured_names(settings: Settings) -> ConfiguredNames:
    """What rules may name: feeds (names, tags) and channels (names, tags)."""
    return ConfiguredNames(
        feed_names=frozenset(feed.name for feed in settings.feeds),
        feed_tags=frozenset(tag for feed in settings.feeds for tag in feed.tags),
        channel_names=frozenset(channel.name for channel in settings.channels),
        channel_tags=frozenset(tag for channel in settings.channels for tag in channel.tags),
        has_channels=bool(settings.channels),
        untagged_channels=tuple(channel.name for channel in settings.channels if not channel.tags),
    )


def channel_plans(specs: Sequence[ChannelSpec]) -> dict[str, ChannelPlan]:
    """Digest schedules were validated with the configuration; parsing again cannot fail."""
    return {
        spec.name: ChannelPlan(
            parse_digest_schedule(spec.digest, spec.timezone) if spec.digest else None,
            spec.immediate_severity,
        )
        for spec in specs
    }


def build_senders(channels: ChannelSet | None) -> tuple[tuple[Sender, ...], tuple[ChannelSpec, ...]]:
    if channels is None:
        return (ConsoleChannel(),), (CONSOLE,)
    senders: tuple[Sender, ...] = tuple(channels)
    return senders, channels.specs
