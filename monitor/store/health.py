"""Feed health: the state the daemon decided on, the feed's usual rhythm learned from history,
and which admin notices a worker has already sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.store.db import _session, insert_ignoring_conflicts
from monitor.store.records import HEALTH_STATES
from monitor.store.tables import FeedRow, ItemRow, NoticeRow

MIN_ITEMS_FOR_GAP = 4  # fewer items say nothing about a rhythm


def change_health_state(engine: Engine, feed_id: int, expected: str, state: str) -> bool:
    """Compare and set: move the feed from ``expected`` to ``state`` ("ok" | "failing" |
    "silent", ValueError otherwise). False when another worker changed it first, so exactly one
    worker announces each transition."""
    if state not in HEALTH_STATES:
        raise ValueError(f"unknown health state {state!r} (expected one of {sorted(HEALTH_STATES)})")
    statement = (
        update(FeedRow)
        .where(col(FeedRow.id) == feed_id, col(FeedRow.health_state) == expected)
        .values(health_state=state)
        .execution_options(synchronize_session=False)
    )
    with _session(engine) as session:
        return int(session.connection().execute(statement).rowcount) == 1


def typical_item_gap(engine: Engine, feed_id: int, sample: int = 20) -> float | None:
    """Median seconds between the distinct arrival times of the feed's last `sample` items.

    Items saved by one poll share a fetch time, so gaps are taken between polls that brought
    something new. None with fewer than MIN_ITEMS_FOR_GAP items, or when they all arrived at
    once (no gap to learn from yet).
    """
    query = (
        select(col(ItemRow.fetched_at))
        .where(col(ItemRow.feed_id) == feed_id)
        .order_by(col(ItemRow.fetched_at).desc(), col(ItemRow.id).desc())
        .limit(max(sample, 0))
    )
    with _session(engine, write=False) as session:
        fetched: list[datetime] = list(session.exec(query))
    if len(fetched) < MIN_ITEMS_FOR_GAP:
        return None
    times = sorted(set(fetched))
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(times)]
    return float(median(gaps)) if gaps else None


def claim_notice(engine: Engine, key: str, now: datetime, quiet_seconds: float) -> bool:
    """True for the one worker that should send the notice ``key``; False when some worker
    claimed the same notice within the last ``quiet_seconds``."""
    with _session(engine) as session:
        session.execute(
            delete(NoticeRow).where(
                col(NoticeRow.key) == key, col(NoticeRow.sent_at) < now - timedelta(seconds=quiet_seconds)
            )
        )
        claim = insert_ignoring_conflicts(engine, NoticeRow).returning(col(NoticeRow.key))
        return session.connection().execute(claim, {"key": key, "sent_at": now}).first() is not None


def release_notice(engine: Engine, key: str) -> None:
    """The notice could not be sent: let the next attempt (by any worker) claim it again."""
    with _session(engine) as session:
        session.execute(delete(NoticeRow).where(col(NoticeRow.key) == key))
