"""Storage for story alerting: read what the decisions need, write what they decided.

The decisions themselves are pure (monitor.stories.alerting); this module only reads the state
of the touched stories and writes routed hits and queued messages, inside the save's
transaction so hits and their messages are stored together or not at all.

Concurrency: every write is ON CONFLICT DO NOTHING on (channel, hit) and (story, channel,
event), so two workers deciding about the same story at once (PostgreSQL) queue one first
message per channel, never two.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.db import insert_ignoring_conflicts
from monitor.store.newest import distinct_feeds
from monitor.store.tables import DeliveryRow, HitRow, ItemRow, RoutedHitRow
from monitor.store.web_tables import TriageRow
from monitor.types import AlertDecisions, ChannelStory, DeliveryStatus, Severity

_CHUNK = 500


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def channel_states(session: Session, story_ids: Collection[int]) -> dict[tuple[int, str], ChannelStory]:
    """Per (story, channel) with anything routed or queued: its rules and messages' state."""
    rules: dict[tuple[int, str], dict[str, Severity]] = {}
    firsts: dict[tuple[int, str], str] = {}
    updates: set[tuple[int, str]] = set()
    for chunk in _chunks(story_ids):
        routed = (
            select(col(RoutedHitRow.story_id), col(RoutedHitRow.channel), col(HitRow.rule_id), col(HitRow.severity))
            .join(HitRow, col(HitRow.id) == col(RoutedHitRow.hit_id))
            .where(col(RoutedHitRow.story_id).in_(chunk))
        )
        for story_id, channel, rule_id, severity in session.exec(routed):
            rules.setdefault((story_id, channel), {})[rule_id] = Severity(severity)
        queued = select(
            col(DeliveryRow.story_id), col(DeliveryRow.channel), col(DeliveryRow.event), col(DeliveryRow.status)
        ).where(col(DeliveryRow.story_id).in_(chunk))
        for story_id, channel, event, status in session.exec(queued):
            if event == "first":
                firsts[(story_id, channel)] = status
            elif status == DeliveryStatus.PENDING:
                updates.add((story_id, channel))
    # Routed rules without a first message: retention pruned it long after it was sent.
    return {
        key: ChannelStory(
            rules.get(key, {}), firsts.get(key, DeliveryStatus.SENT if key in rules else None), key in updates
        )
        for key in {*rules, *firsts, *updates}
    }


def outlet_counts(
    session: Session, story_ids: Collection[int], feed_id: int, new_item_ids: Collection[int], at_most: int
) -> dict[int, tuple[int, int]]:
    """Distinct outlets (feeds) of each story before and after this save of one feed's items,
    each counted up to ``at_most`` (monitor.stories.alerting.outlets_that_matter): a story
    carried by thousands of feeds costs what ``at_most`` of them cost."""
    if at_most <= 0 or not story_ids:
        return {}
    after = distinct_feeds(session, sorted(set(story_ids)), at_most + 1)
    new = set(new_item_ids)
    newcomer: set[int] = set()  # stories this feed joins with this save
    reported_before: set[int] = set()
    for chunk in _chunks(story_ids):
        query = select(col(ItemRow.story_id), col(ItemRow.id)).where(
            col(ItemRow.feed_id) == feed_id, col(ItemRow.story_id).in_(chunk)
        )
        for story_id, item_id in session.exec(query):
            if story_id is not None:
                (newcomer if item_id in new else reported_before).add(story_id)
    counts: dict[int, tuple[int, int]] = {}
    for story_id, count in after.items():
        if count == 0:
            continue
        if count > at_most:  # at least at_most + 1 now, so at least at_most before
            counts[story_id] = (at_most, at_most)
        else:
            joined = story_id in newcomer and story_id not in reported_before
            counts[story_id] = (count - 1 if joined else count, count)
    return counts


def muted_stories(session: Session, story_ids: Collection[int]) -> set[int]:
    """Stories an analyst muted in the console: they queue no more messages."""
    muted: set[int] = set()
    for chunk in _chunks(story_ids):
        query = select(col(TriageRow.story_id)).where(col(TriageRow.story_id).in_(chunk), col(TriageRow.muted))
        muted.update(session.exec(query))
    return muted


def new_message_id(story_id: int) -> str:
    """Globally unique and fixed when queued, so every retry of a message carries the same id."""
    return f"<{uuid.uuid4().hex}.story{story_id}@sanctions-monitor>"


def write_decisions(session: Session, engine: Engine, decisions: AlertDecisions, now: datetime) -> int:
    """Store routed hits, queue new messages and raise pending ones; returns messages queued."""
    routed = [
        {"channel": r.channel, "hit_id": r.hit_id, "story_id": r.story_id, "created_at": now} for r in decisions.routes
    ]
    for start in range(0, len(routed), _CHUNK):
        session.connection().execute(insert_ignoring_conflicts(engine, RoutedHitRow), routed[start : start + _CHUNK])
    queued = [
        {
            "story_id": m.story_id,
            "channel": m.channel,
            "event": m.event,
            "severity": str(m.severity),
            "message_id": new_message_id(m.story_id),
            "status": str(DeliveryStatus.PENDING),
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for m in decisions.messages
    ]
    count = 0
    if queued:
        table = DeliveryRow.__table__  # type: ignore[attr-defined]
        statement = insert_ignoring_conflicts(engine, DeliveryRow).returning(table.c.id)
        for start in range(0, len(queued), _CHUNK):
            count += len(session.connection().execute(statement, queued[start : start + _CHUNK]).all())
    for (story_id, channel), severity in decisions.raised.items():
        session.execute(
            update(DeliveryRow)
            .where(
                col(DeliveryRow.story_id) == story_id,
                col(DeliveryRow.channel) == channel,
                col(DeliveryRow.status) == str(DeliveryStatus.PENDING),
            )
            .values(severity=str(severity))
            .execution_options(synchronize_session=False)
        )
    return count
