"""The delivery outbox (one message per story, channel and event): leased claims, sent/failed
bookkeeping, requeue and inspection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.columns import MAX_ERROR_TEXT, free_of_lease
from monitor.store.db import _session
from monitor.store.records import DELIVERY_STATUSES, DeliveryJob, DeliveryView
from monitor.store.story_messages import story_alerts
from monitor.store.tables import DeliveryRow, StoryRow
from monitor.types import DeliveryStatus, Severity

NOTHING_LEFT = "nothing left to send: the story's hits were removed by retention"


def claim_deliveries(
    engine: Engine,
    now: datetime,
    worker_id: str,
    lease_seconds: float,
    limit: int,
    channels: Sequence[str] | None = None,
    min_severity: Severity | None = None,
) -> list[DeliveryJob]:
    """Lease due pending deliveries (oldest due first); same atomic pattern as claim_feeds.

    A leased row is invisible to every other claim until its lease ends, so one claim's rows
    (one digest) never overlap another's.
    """
    if limit <= 0 or (channels is not None and not channels):
        return []
    candidates = (
        select(col(DeliveryRow.id))
        .where(
            col(DeliveryRow.status) == DeliveryStatus.PENDING,
            col(DeliveryRow.next_attempt_at) <= now,
            free_of_lease(col(DeliveryRow.lease_until), now),
        )
        .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.id))
        .limit(limit)
    )
    if channels is not None:
        candidates = candidates.where(col(DeliveryRow.channel).in_(list(channels)))
    if min_severity is not None:
        severe = [str(s) for s in Severity if s.rank >= min_severity.rank]
        candidates = candidates.where(col(DeliveryRow.severity).in_(severe))
    if engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claim = (
        update(DeliveryRow)
        .where(col(DeliveryRow.id).in_(candidates.scalar_subquery()))
        .values(claimed_by=worker_id, lease_until=now + timedelta(seconds=lease_seconds))
        .returning(col(DeliveryRow.id))
        .execution_options(synchronize_session=False)
    )
    with _session(engine) as session:
        claimed = [_id(delivery_id) for delivery_id in session.scalars(claim)]
        if not claimed:
            return []
        return _jobs(session, claimed)


def _jobs(session: Session, delivery_ids: list[int]) -> list[DeliveryJob]:
    query = (
        select(DeliveryRow)
        .where(col(DeliveryRow.id).in_(delivery_ids))
        .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.id))
    )
    rows = list(session.exec(query))
    alerts = story_alerts(session, rows)
    _give_up_empty(session, [_id(row.id) for row in rows if _id(row.id) not in alerts])
    return [
        DeliveryJob(delivery_id=_id(row.id), channel=row.channel, attempts=row.attempts, alert=alerts[_id(row.id)])
        for row in rows
        if _id(row.id) in alerts
    ]


def _give_up_empty(session: Session, delivery_ids: list[int]) -> None:
    """A message whose story has no routed hit left (retention pruned them) has nothing to say:
    it fails for good instead of being claimed again at every lease."""
    if delivery_ids:
        session.execute(
            update(DeliveryRow)
            .where(col(DeliveryRow.id).in_(delivery_ids))
            .values(status=DeliveryStatus.FAILED, last_error=NOTHING_LEFT, claimed_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def _id(value: int | None) -> int:
    assert value is not None, "rows read back from the database always have an id"
    return value


def _finish(engine: Engine, delivery_ids: Sequence[int], values: dict[str, Any], owner: str | None) -> int:
    """Record one attempt's outcome for all the given deliveries in one transaction.

    Only pending rows change: a row another worker already sent or gave up on stays so, and a
    late failure report can never put a sent delivery back in the queue. With ``owner``, only
    rows still claimed by that worker change: a worker whose lease ran out and was taken over
    must not release the new holder's claim.
    """
    if not delivery_ids:
        return 0
    values.update(claimed_by=None, lease_until=None, attempts=col(DeliveryRow.attempts) + 1)
    statement = update(DeliveryRow).where(
        col(DeliveryRow.id).in_(list(delivery_ids)), col(DeliveryRow.status) == DeliveryStatus.PENDING
    )
    if owner is not None:
        statement = statement.where(col(DeliveryRow.claimed_by) == owner)
    with _session(engine) as session:
        finished = session.connection().execute(statement.values(**values).execution_options(synchronize_session=False))
        return int(finished.rowcount)


def renew_lease(engine: Engine, delivery_id: int, owner: str, now: datetime, lease_seconds: float) -> bool:
    """Extend ``owner``'s claim on a pending delivery; False when another worker holds it now
    (or it is no longer pending), in which case ``owner`` must not send it."""
    statement = (
        update(DeliveryRow)
        .where(
            col(DeliveryRow.id) == delivery_id,
            col(DeliveryRow.status) == DeliveryStatus.PENDING,
            col(DeliveryRow.claimed_by) == owner,
        )
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    with _session(engine) as session:
        return int(session.connection().execute(statement).rowcount) == 1


def mark_sent(engine: Engine, delivery_id: int, now: datetime, owner: str | None = None) -> bool:
    """False when the row was no longer pending (or no longer ``owner``'s) and stayed as it was."""
    return mark_sent_many(engine, [delivery_id], now, owner) == 1


def mark_sent_many(engine: Engine, delivery_ids: Sequence[int], now: datetime, owner: str | None = None) -> int:
    """A digest went out: every delivery in it is sent, together. Returns the rows changed."""
    return _finish(engine, delivery_ids, {"status": DeliveryStatus.SENT, "sent_at": now}, owner)


def mark_failed(
    engine: Engine,
    delivery_id: int,
    error: str,
    now: datetime,
    retry_at: datetime | None,
    owner: str | None = None,
) -> None:
    mark_failed_many(engine, [delivery_id], error, now, retry_at, owner)


def mark_failed_many(
    engine: Engine,
    delivery_ids: Sequence[int],
    error: str,
    now: datetime,
    retry_at: datetime | None,
    owner: str | None = None,
) -> None:
    """Counts the attempt; retry_at=None is a final failure, otherwise it retries then."""
    values: dict[str, Any] = {"last_error": error[:MAX_ERROR_TEXT]}
    if retry_at is None:
        values["status"] = DeliveryStatus.FAILED
    else:
        values.update(status=DeliveryStatus.PENDING, next_attempt_at=retry_at)
    _finish(engine, delivery_ids, values, owner)


def release(engine: Engine, delivery_ids: Sequence[int]) -> None:
    """Give claimed deliveries back untried: the lease ends, attempts stay as they were."""
    if not delivery_ids:
        return
    with _session(engine) as session:
        session.execute(
            update(DeliveryRow)
            .where(col(DeliveryRow.id).in_(list(delivery_ids)), col(DeliveryRow.status) == DeliveryStatus.PENDING)
            .values(claimed_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def last_sent_at(engine: Engine, channel: str) -> datetime | None:
    """When the channel last had a delivery sent (None if never)."""
    query = select(func.max(col(DeliveryRow.sent_at))).where(
        col(DeliveryRow.channel) == channel, col(DeliveryRow.status) == DeliveryStatus.SENT
    )
    with _session(engine, write=False) as session:
        return session.exec(query).one()  # MIN/MAX keep UTCDateTime: aware UTC


def oldest_pending_at(engine: Engine, channel: str) -> datetime | None:
    """When the channel's longest-waiting pending delivery was queued (leased ones included)."""
    query = select(func.min(col(DeliveryRow.created_at))).where(
        col(DeliveryRow.channel) == channel, col(DeliveryRow.status) == DeliveryStatus.PENDING
    )
    with _session(engine, write=False) as session:
        return session.exec(query).one()  # MIN/MAX keep UTCDateTime: aware UTC


def requeue(engine: Engine, delivery_ids: Sequence[int] | None, now: datetime) -> int:
    """Failed deliveries (all, or the given ids) go back to pending, due now, attempts reset.

    Attempts restart at 0 so the channel's retry policy gives a requeued delivery a full set of
    tries; last_error stays for the record. Pending and sent deliveries are left alone.
    """
    statement = (
        update(DeliveryRow)
        .where(col(DeliveryRow.status) == DeliveryStatus.FAILED)
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now, attempts=0, claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    if delivery_ids is not None:
        if not delivery_ids:
            return 0
        statement = statement.where(col(DeliveryRow.id).in_(list(delivery_ids)))
    with _session(engine) as session:
        return int(session.connection().execute(statement).rowcount)


def pending_count(engine: Engine) -> int:
    query = select(func.count()).select_from(DeliveryRow).where(col(DeliveryRow.status) == DeliveryStatus.PENDING)
    with _session(engine, write=False) as session:
        return int(session.exec(query).one())


def list_deliveries(engine: Engine, status: str | None = None, limit: int = 200) -> list[DeliveryView]:
    """Newest first."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValueError(f"unknown delivery status {status!r}")
    query = (
        select(DeliveryRow, StoryRow.title)
        .join(StoryRow, col(StoryRow.id) == col(DeliveryRow.story_id))
        .order_by(col(DeliveryRow.created_at).desc(), col(DeliveryRow.id).desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(col(DeliveryRow.status) == status)
    with _session(engine, write=False) as session:
        return [
            DeliveryView(
                delivery_id=_id(row.id),
                story_id=row.story_id,
                event=row.event,
                severity=row.severity,
                channel=row.channel,
                status=row.status,
                attempts=row.attempts,
                last_error=row.last_error,
                next_attempt_at=row.next_attempt_at,
                sent_at=row.sent_at,
                created_at=row.created_at,
                headline=headline,
            )
            for row, headline in session.exec(query)
        ]
