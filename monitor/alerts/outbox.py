"""Deliver pending story messages from the outbox.

Guarantee: at-least-once per channel. A delivery is marked sent only after its channel accepted
it, so a crash between a successful send and `mark_sent` is the one window in which a message can
be sent twice (after the claim's lease expires). A worker renews its lease on each delivery right
before sending it and skips the delivery if another worker has taken it over: a slow batch (Apprise
throttles some services to one message every few seconds) cannot outlive its lease and be sent
twice. Failures retry with exponential backoff and jitter until `max_attempts`, then stay as
`failed` with the last error until requeued.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from monitor.alerts.channels import SendOutcome
from monitor.alerts.formats import Digest
from monitor.alerts.isolation import ChannelClosedError
from monitor.policies import AlertPolicy
from monitor.schedule import DigestSchedule, digest_period_label, next_digest_at
from monitor.store import AsyncStore, DeliveryJob, Store
from monitor.types import Severity, StoryAlert

log = logging.getLogger(__name__)
T = TypeVar("T")
LEASE_SECONDS = 300.0
MAX_BATCHES_PER_RUN = 20


MAX_DIGEST_ITEMS = 1000


class Sender(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    def send_story(self, alert: StoryAlert) -> SendOutcome: ...

    def send_digest(self, digest: Digest) -> SendOutcome: ...

    def send_notice(self, title: str, body: str) -> SendOutcome: ...


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """How a channel takes its alerts: one by one, or collected into digests."""

    digest: DigestSchedule | None = None
    immediate_severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class OutboxReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __add__(self, other: OutboxReport) -> OutboxReport:
        return OutboxReport(self.sent + other.sent, self.retrying + other.retrying, self.failed + other.failed)


def retry_delay(attempts: int, policy: AlertPolicy, rng: random.Random) -> float | None:
    """Seconds until the next try after `attempts` failed tries, or None when out of tries."""
    if attempts >= policy.max_attempts:
        return None
    base = min(policy.retry_base_seconds * 2.0 ** (attempts - 1), policy.retry_max_seconds)
    return base * rng.uniform(0.8, 1.2)


class Outbox:
    """Delivers one worker's due messages. Holds what every send needs: the store, the retry
    policy, the clock, the worker's name (its claims) and the channels' plans."""

    def __init__(
        self,
        db: AsyncStore,
        policy: AlertPolicy,
        clock: Callable[[], datetime],
        worker_id: str,
        plans: Mapping[str, ChannelPlan] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._store: Store = db.store  # for the sends, which run in worker threads
        self._policy = policy
        self._clock = clock
        self._worker = worker_id
        self._plans = plans or {}
        self._rng = rng or random.Random()

    async def deliver(self, senders: Sequence[Sender]) -> OutboxReport:
        """Send everything that is due, all channels in parallel, and wait for them."""
        total = OutboxReport()
        for report in await asyncio.gather(*(self.drain(sender) for sender in senders)):
            total += report
        return total

    async def drain(self, sender: Sender) -> OutboxReport:
        """Send one channel's due messages in a worker thread (Apprise blocks, and throttles some
        services), batch after batch, so a slow channel never holds up the others or the polls."""
        plan = self._plans.get(sender.name)
        if plan is None or plan.digest is None:
            return await self._drain_singly(sender, None)
        report = OutboxReport()
        if plan.immediate_severity is not None:
            report += await self._drain_singly(sender, plan.immediate_severity)
        if await self._db.read(self._digest_due, sender.name, plan.digest, self._clock()):
            report += await asyncio.to_thread(self._send_digest, sender, plan.digest)
        return report

    async def _drain_singly(self, sender: Sender, min_severity: Severity | None) -> OutboxReport:
        report = OutboxReport()
        for _ in range(MAX_BATCHES_PER_RUN):
            jobs = await self._db.read(
                self._store.claim_deliveries,
                self._clock(),
                self._worker,
                LEASE_SECONDS,
                self._policy.batch,
                channels=(sender.name,),
                min_severity=min_severity,
            )
            if not jobs:
                break
            report += await asyncio.to_thread(self._send_each, sender, jobs)
        return report

    def _digest_due(self, channel: str, schedule: DigestSchedule, now: datetime) -> bool:
        """Due at the first scheduled time after the later of the last send and the oldest wait."""
        oldest = self._store.oldest_pending_at(channel)
        if oldest is None:
            return False
        last = self._store.last_sent_at(channel)
        previous = max(last, oldest) if last is not None else oldest
        return next_digest_at(schedule, previous) <= now

    def _send_digest(self, sender: Sender, schedule: DigestSchedule) -> OutboxReport:
        """One message for everything pending; it succeeds or fails (and is retried) as a whole."""
        store, now = self._store, self._clock()
        jobs = store.claim_deliveries(now, self._worker, LEASE_SECONDS, MAX_DIGEST_ITEMS, channels=(sender.name,))
        if not jobs:
            return OutboxReport()
        label = digest_period_label(schedule, now)
        digest = Digest(sender.name, label, tuple(job.alert for job in jobs), schedule.timezone)
        ids = [job.delivery_id for job in jobs]
        outcome = self._sending(sender.send_digest, digest, ids)
        if outcome.ok:
            store.mark_sent_many(ids, self._clock(), owner=self._worker)
            log.info("digest sent with %d messages", len(ids), extra={"channel": sender.name})
            return OutboxReport(sent=len(ids))
        attempts = max(job.attempts for job in jobs) + 1
        retry_at = self._retry_at(attempts)
        store.mark_failed_many(ids, outcome.error or "failed", self._clock(), retry_at, owner=self._worker)
        log.warning(
            "digest of %d messages not delivered (attempt %d): %s",
            len(ids),
            attempts,
            outcome.error,
            extra={"channel": sender.name},
        )
        return OutboxReport(failed=len(ids)) if retry_at is None else OutboxReport(retrying=len(ids))

    def _send_each(self, sender: Sender, jobs: Sequence[DeliveryJob]) -> OutboxReport:
        report = OutboxReport()
        for index, job in enumerate(jobs):
            if not self._store.renew_lease(job.delivery_id, self._worker, self._clock(), LEASE_SECONDS):
                log.info("message skipped: another worker took it over", extra=_fields(job, sender))
                continue
            outcome = self._sending(sender.send_story, job.alert, [j.delivery_id for j in jobs[index:]])
            report += self._record(job, sender, outcome)
        return report

    def _sending(self, send: Callable[[T], SendOutcome], message: T, unsent: list[int]) -> SendOutcome:
        """A stop (ChannelClosedError) gives the claims back, so the next start sends them at
        once instead of after their lease."""
        try:
            return send(message)
        except ChannelClosedError:
            self._store.release(unsent)
            raise

    def _record(self, job: DeliveryJob, sender: Sender, outcome: SendOutcome) -> OutboxReport:
        now = self._clock()
        if outcome.ok:
            if self._store.mark_sent(job.delivery_id, now, owner=self._worker):
                log.info("message sent", extra=_fields(job, sender))
            else:  # the send outlived the renewed lease: the new holder may send it again
                log.warning("message sent, but another worker had taken it over", extra=_fields(job, sender))
            return OutboxReport(sent=1)
        attempts = job.attempts + 1
        error = outcome.error or "failed"
        retry_at = self._retry_at(attempts)
        self._store.mark_failed(job.delivery_id, error, now, retry_at, owner=self._worker)
        if retry_at is None:
            log.error("message failed for good after %d attempts: %s", attempts, error, extra=_fields(job, sender))
            return OutboxReport(failed=1)
        wait = (retry_at - now).total_seconds()
        log.warning(
            "message not delivered (attempt %d), retry in %.0fs: %s", attempts, wait, error, extra=_fields(job, sender)
        )
        return OutboxReport(retrying=1)

    def _retry_at(self, attempts: int) -> datetime | None:
        delay = retry_delay(attempts, self._policy, self._rng)
        return None if delay is None else self._clock() + timedelta(seconds=delay)


def _fields(job: DeliveryJob, sender: Sender) -> dict[str, object]:
    return {
        "channel": sender.name,
        "endpoint": sender.endpoint,
        "story_id": job.alert.story_id,
        "event": job.alert.event,
        "delivery_id": job.delivery_id,
    }
