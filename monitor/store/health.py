"""Feed health: the state the daemon decided on, and the feed's usual rhythm learned from history."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from statistics import median

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.store.db import _session
from monitor.store.records import HEALTH_STATES
from monitor.store.tables import FeedRow, ItemRow

MIN_ITEMS_FOR_GAP = 4  # fewer items say nothing about a rhythm


def set_health_state(engine: Engine, feed_id: int, state: str) -> None:
    if state not in HEALTH_STATES:
        raise ValueError(f"unknown health state {state!r} (expected one of {sorted(HEALTH_STATES)})")
    with _session(engine) as session:
        session.execute(
            update(FeedRow)
            .where(col(FeedRow.id) == feed_id)
            .values(health_state=state)
            .execution_options(synchronize_session=False)
        )


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
