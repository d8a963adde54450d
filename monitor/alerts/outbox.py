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
from typing import Protocol

from monitor.alerts.channels import SendOutcome
from monitor.alerts.formats import Digest
from monitor.policies import AlertPolicy
from monitor.schedule import DigestSchedule, digest_period_label, next_digest_at
from monitor.store import DeliveryJob, Store
from monitor.types import Severity, StoryAlert

log = logging.getLogger(__name__)
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


async def deliver_pending(
    store: Store,
    senders: Sequence[Sender],
    policy: AlertPolicy,
    clock: Callable[[], datetime],
    worker_id: str,
    plans: Mapping[str, ChannelPlan] | None = None,
    rng: random.Random | None = None,
) -> OutboxReport:
    """Send everything that is due, all channels in parallel, and wait for them."""
    chance = rng or random.Random()
    plan_of = plans or {}
    reports = await asyncio.gather(
        *(
            drain_channel(store, sender, policy, clock, worker_id, chance, plan_of.get(sender.name))
            for sender in senders
        )
    )
    total = OutboxReport()
    for report in reports:
        total += report
    return total


async def drain_channel(
    store: Store,
    sender: Sender,
    policy: AlertPolicy,
    clock: Callable[[], datetime],
    worker_id: str,
    rng: random.Random,
    plan: ChannelPlan | None = None,
) -> OutboxReport:
    """Send one channel's due deliveries in a worker thread (Apprise blocks, and throttles some
    services), batch after batch, so a slow channel never holds up the others or the polls."""
    if plan is None or plan.digest is None:
        return await _drain_singly(store, sender, policy, clock, worker_id, rng, None)
    report = OutboxReport()
    if plan.immediate_severity is not None:
        report += await _drain_singly(store, sender, policy, clock, worker_id, rng, plan.immediate_severity)
    if _digest_due(store, sender.name, plan.digest, clock()):
        report += await asyncio.to_thread(_send_digest, store, sender, plan.digest, policy, clock, worker_id, rng)
    return report


async def _drain_singly(
    store: Store,
    sender: Sender,
    policy: AlertPolicy,
    clock: Callable[[], datetime],
    worker_id: str,
    rng: random.Random,
    min_severity: Severity | None,
) -> OutboxReport:
    report = OutboxReport()
    for _ in range(MAX_BATCHES_PER_RUN):
        jobs = store.claim_deliveries(
            clock(),
            worker_id,
            LEASE_SECONDS,
            policy.batch,
            channels=(sender.name,),
            min_severity=min_severity,
        )
        if not jobs:
            break
        report += await asyncio.to_thread(_drain_channel, store, sender, jobs, policy, clock, worker_id, rng)
    return report


def _digest_due(store: Store, channel: str, schedule: DigestSchedule, now: datetime) -> bool:
    """Due at the first scheduled time after the later of the last send and the oldest wait."""
    oldest = store.oldest_pending_at(channel)
    if oldest is None:
        return False
    last = store.last_sent_at(channel)
    previous = max(last, oldest) if last is not None else oldest
    return next_digest_at(schedule, previous) <= now


def _send_digest(
    store: Store,
    sender: Sender,
    schedule: DigestSchedule,
    policy: AlertPolicy,
    clock: Callable[[], datetime],
    worker_id: str,
    rng: random.Random,
) -> OutboxReport:
    """One message for everything pending; it succeeds or fails (and is retried) as a whole."""
    now = clock()
    jobs = store.claim_deliveries(now, worker_id, LEASE_SECONDS, MAX_DIGEST_ITEMS, channels=(sender.name,))
    if not jobs:
        return OutboxReport()
    label = digest_period_label(schedule, now)
    outcome = sender.send_digest(Digest(sender.name, label, tuple(job.alert for job in jobs), schedule.timezone))
    ids = [job.delivery_id for job in jobs]
    if outcome.ok:
        store.mark_sent_many(ids, clock(), owner=worker_id)
        log.info("digest sent with %d messages", len(ids), extra={"channel": sender.name})
        return OutboxReport(sent=len(ids))
    attempts = max(job.attempts for job in jobs) + 1
    delay = retry_delay(attempts, policy, rng)
    retry_at = clock() + timedelta(seconds=delay) if delay is not None else None
    store.mark_failed_many(ids, outcome.error or "failed", clock(), retry_at, owner=worker_id)
    log.warning(
        "digest of %d alerts not delivered (attempt %d): %s",
        len(ids),
        attempts,
        outcome.error,
        extra={"channel": sender.name},
    )
    if retry_at is None:
        return OutboxReport(failed=len(ids))
    return OutboxReport(retrying=len(ids))


def _drain_channel(
    store: Store,
    sender: Sender,
    jobs: Sequence[DeliveryJob],
    policy: AlertPolicy,
    clock: Callable[[], datetime],
    worker_id: str,
    rng: random.Random,
) -> OutboxReport:
    report = OutboxReport()
    for job in jobs:
        if not store.renew_lease(job.delivery_id, worker_id, clock(), LEASE_SECONDS):
            log.info("alert skipped: another worker took it over", extra=_fields(job, sender))
            continue
        outcome = sender.send_story(job.alert)
        now = clock()
        if outcome.ok:
            if store.mark_sent(job.delivery_id, now, owner=worker_id):
                log.info("alert sent", extra=_fields(job, sender))
            else:  # the send outlived the renewed lease: the new holder may send it again
                log.warning("alert sent, but another worker had taken it over", extra=_fields(job, sender))
            report += OutboxReport(sent=1)
            continue
        attempts = job.attempts + 1
        delay = retry_delay(attempts, policy, rng)
        error = outcome.error or "failed"
        retry_at = now + timedelta(seconds=delay) if delay is not None else None
        store.mark_failed(job.delivery_id, error, now, retry_at, owner=worker_id)
        if retry_at is None:
            log.error("alert failed for good after %d attempts: %s", attempts, error, extra=_fields(job, sender))
            report += OutboxReport(failed=1)
        else:
            log.warning(
                "alert not delivered (attempt %d), retry in %.0fs: %s",
                attempts,
                delay or 0,
                error,
                extra=_fields(job, sender),
            )
            report += OutboxReport(retrying=1)
    return report


def _fields(job: DeliveryJob, sender: Sender) -> dict[str, object]:
    return {
        "channel": sender.name,
        "endpoint": sender.endpoint,
        "story_id": job.alert.story_id,
        "event": job.alert.event,
        "delivery_id": job.delivery_id,
    }
