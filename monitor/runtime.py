"""Wiring: settings → store, rules, channels, pipeline. Shared by `monitor once` and the daemon."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitor.alerts.channels import ChannelSet
from monitor.alerts.console import CONSOLE, ConsoleChannel
from monitor.alerts.outbox import ChannelPlan, OutboxReport, Sender, deliver_pending
from monitor.config import Settings
from monitor.fetch import Fetcher
from monitor.logs import RepeatedErrors
from monitor.pipeline import FeedReport, Pipeline, PipelineSettings
from monitor.rules import RuleLoadError, RuleSet, load_rules
from monitor.schedule import parse_digest_schedule
from monitor.store import Store
from monitor.types import ChannelSpec

log = logging.getLogger(__name__)
MAX_FEEDS_PER_TICK = 200


def utc_now() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RulesHolder:
    """The rules in force. A failed reload keeps the last good set running."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = tuple(paths)
        self._current = load_rules(self._paths)

    def get(self) -> RuleSet:
        return self._current

    def reload(self) -> RuleLoadError | None:
        try:
            self._current = load_rules(self._paths)
        except RuleLoadError as exc:
            return exc
        return None


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

    def close_channels(self, grace: float = 0.0) -> None:
        """Refuse new sends; cut off those still under way after ``grace`` seconds."""
        if self.channels is not None:
            self.channels.close(grace)

    def pipeline(self, fetcher: Fetcher, executor: Executor | None, errors: RepeatedErrors | None = None) -> Pipeline:
        settings = PipelineSettings(
            max_backoff_seconds=self.settings.max_backoff_seconds,
            max_retry_after_seconds=self.settings.max_retry_after_seconds,
            max_items_per_feed=self.settings.max_items_per_feed,
            lease_seconds=self.settings.fetch.deadline * 2 + 60,
        )
        return Pipeline(self.store, fetcher, self.rules.get, self.routing, settings, self.clock, executor, errors)

    async def cycle(self, fetcher: Fetcher, executor: Executor | None, *, due_only: bool) -> CycleReport:
        reports = await self.pipeline(fetcher, executor).poll_feeds(
            self.worker_id, due_only=due_only, limit=MAX_FEEDS_PER_TICK if due_only else 1_000_000
        )
        outbox = await self.deliver()
        return CycleReport(tuple(reports), outbox)

    async def deliver(self) -> OutboxReport:
        return await deliver_pending(
            self.store, self.senders, self.settings.alerts, self.clock, self.worker_id, self.plans
        )

    def routing_tags(self) -> dict[str, tuple[str, ...]]:
        return {spec.name: spec.tags for spec in self.routing}

    def close(self) -> None:
        self.close_channels()
        self.store.close()


def open_runtime(settings: Settings, *, exclusive: bool) -> Runtime:
    """Load rules first (cheap, and a broken rule file should not touch the database)."""
    rules = RulesHolder(settings.rule_paths)
    store = Store.open(settings.database_url, migrate=True, exclusive=exclusive)
    store.sync_feeds(settings.feeds, utc_now())
    channels = ChannelSet(settings.channels, settings.channel_min_intervals) if settings.channels else None
    senders, routing = build_senders(channels)
    return Runtime(settings, store, rules, senders, routing, channel_plans(routing), channels=channels)


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
