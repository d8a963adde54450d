"""Feed health: a feed that keeps failing, or falls silent for longer than usual, is worth one
notice to the admins — and one more when it recovers. Never one notice per failed poll.

`assess` is pure; `FeedHealthWatch` persists the state so each transition is announced once:
the worker whose compare-and-set moves the feed's state announces it (several workers share one
PostgreSQL database), and if no admin channel took the notice the state goes back, so it is
tried again next time. A worker killed between its change and the send loses that one notice
(the state shows in `monitor feeds`); sending first would instead let two workers both send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts.outbox import Sender
from monitor.durations import format_duration
from monitor.policies import HealthPolicy
from monitor.store import AsyncStore, FeedView
from monitor.types import HealthState

log = logging.getLogger(__name__)
OK, FAILING, SILENT = HealthState.OK, HealthState.FAILING, HealthState.SILENT
MIN_SILENCE_SECONDS = 3600.0  # feeds that post every few minutes should not page anyone at night


@dataclass(frozen=True, slots=True)
class Assessment:
    state: str
    reason: str


def assess(feed: FeedView, typical_gap: float | None, now: datetime, policy: HealthPolicy) -> Assessment:
    if feed.consecutive_failures >= policy.failures:
        error = f"{feed.last_error_kind}: {feed.last_error}" if feed.last_error else "unknown error"
        return Assessment(FAILING, f"{feed.consecutive_failures} failed polls in a row; last: {error}")
    if typical_gap is not None and feed.last_new_item_at is not None:
        quiet = (now - feed.last_new_item_at).total_seconds()
        limit = max(typical_gap * policy.silence_factor, MIN_SILENCE_SECONDS)
        if quiet > limit:
            return Assessment(
                SILENT, f"no new item for {format_duration(quiet)} (usually one every {format_duration(typical_gap)})"
            )
    return Assessment(OK, "working again")


def notice_text(feed: FeedView, assessment: Assessment) -> tuple[str, str]:
    headline = {
        FAILING: f"[monitor] feed failing: {feed.name}",
        SILENT: f"[monitor] feed silent: {feed.name}",
        OK: f"[monitor] feed recovered: {feed.name}",
    }[HealthState(assessment.state)]
    return headline, f"{feed.name}\n{feed.url}\n\n{assessment.reason}"


class FeedHealthWatch:
    def __init__(
        self, db: AsyncStore, admins: Sequence[Sender], policy: HealthPolicy, clock: Callable[[], datetime]
    ) -> None:
        self._db = db
        self._admins = tuple(admins)
        self._policy = policy
        self._clock = clock

    async def check(self) -> int:
        """Announce every state change; returns how many were announced."""
        announced = 0
        change = self._db.store.change_health_state
        for feed, assessment in await self._db.read(self._changes, self._clock()):
            if not await self._db.read(change, feed.id, feed.health_state, assessment.state):
                continue  # another worker got there first and announces it
            if await self._announce(feed, assessment):
                announced += 1
            else:
                await self._db.read(change, feed.id, assessment.state, feed.health_state)
        return announced

    def _changes(self, now: datetime) -> list[tuple[FeedView, Assessment]]:
        """Active feeds whose state changed (one query per feed: in a worker thread)."""
        store = self._db.store
        found: list[tuple[FeedView, Assessment]] = []
        for feed in store.list_feeds():
            if feed.active:
                assessment = assess(feed, store.typical_item_gap(feed.id), now, self._policy)
                if assessment.state != feed.health_state:
                    found.append((feed, assessment))
        return found

    async def _announce(self, feed: FeedView, assessment: Assessment) -> bool:
        title, body = notice_text(feed, assessment)
        log.warning("%s — %s", title, assessment.reason, extra={"feed": feed.name})
        if not self._admins:
            return True
        delivered = False
        for sender in self._admins:
            outcome = await asyncio.to_thread(sender.send_notice, title, body)
            if outcome.ok:
                delivered = True
            else:
                log.error("health notice not delivered: %s", outcome.error, extra={"channel": sender.name})
        return delivered
