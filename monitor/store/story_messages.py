"""Read a queued message's story as it is now: lead report, routed rules, outlets, thread.

A message is rendered when it is sent, not when it is queued, so a rule or an outlet that joined
the story while the message waited (a throttled channel, a digest) is in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.store.columns import load_spans, load_words
from monitor.store.evidence import load_evidence
from monitor.store.tables import DeliveryRow, FeedRow, HitRow, ItemRow, RoutedHitRow, StoryRow
from monitor.types import RuleEvidence, Severity, StoryAlert

MAX_OUTLETS = 50
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class _Routed:
    hit: HitRow
    item: ItemRow
    feed_name: str


def story_alerts(session: Session, deliveries: Sequence[DeliveryRow]) -> dict[int, StoryAlert]:
    """The message of each delivery, by delivery id (deliveries whose story lost its routed
    hits, which cannot happen through the outbox's own writes, are left out)."""
    pairs = {(row.story_id, row.channel) for row in deliveries}
    story_ids = sorted({story_id for story_id, _ in pairs})
    routed = _routed_hits(session, story_ids)
    outlets = _outlets(session, story_ids)
    stories = {row.id: row for row in _rows(session, StoryRow, story_ids)}
    threads = _first_message_ids(session, story_ids)
    alerts: dict[int, StoryAlert] = {}
    for row in deliveries:
        members = routed.get((row.story_id, row.channel), [])
        story = stories.get(row.story_id)
        if not members or story is None or row.id is None:
            continue
        thread = None if row.event == "first" else threads.get((row.story_id, row.channel))
        alerts[row.id] = _alert(row, row.id, story.first_seen_at, members, outlets.get(row.story_id, ()), thread)
    return alerts


def _alert(
    row: DeliveryRow,
    delivery_id: int,
    first_seen: datetime,
    members: list[_Routed],
    story_outlets: Sequence[str],
    thread: str | None,
) -> StoryAlert:
    lead = members[0]
    lead_outlets = dict.fromkeys([lead.feed_name, *story_outlets])
    return StoryAlert(
        delivery_id=delivery_id,
        story_id=row.story_id,
        event=row.event,
        headline=lead.item.title,
        link=lead.item.link,
        feed_name=lead.feed_name,
        published=lead.item.published_at,
        summary=lead.item.summary,
        summary_spans=tuple(
            span
            for member in members
            if member.item.id == lead.item.id
            for span in load_spans(member.hit.spans)
            if span.field == "summary"
        ),
        rules=_rules(members),
        outlets=tuple(lead_outlets)[:MAX_OUTLETS],
        first_seen=first_seen,
        message_id=row.message_id,
        thread_id=thread,
    )


def _rules(members: Iterable[_Routed]) -> tuple[RuleEvidence, ...]:
    """One entry per rule (its first routed hit), highest severity first, then by arrival."""
    first: dict[str, RuleEvidence] = {}
    for member in members:
        hit = member.hit
        if hit.rule_id in first:
            continue
        evidence = load_evidence(hit.evidence)
        first.setdefault(
            hit.rule_id,
            RuleEvidence(
                rule_id=hit.rule_id,
                rule_title=hit.rule_title,
                severity=Severity(hit.severity),
                matched=load_words(hit.matched),
                snippet=hit.snippet,
                feed_name=member.feed_name,
                item_title=member.item.title,
                entities=evidence.entities,
                article=evidence.article,
            ),
        )
    order = list(first)
    return tuple(sorted(first.values(), key=lambda rule: (-rule.severity.rank, order.index(rule.rule_id))))


def _routed_hits(session: Session, story_ids: list[int]) -> dict[tuple[int, str], list[_Routed]]:
    """Routed hits per (story, channel), oldest hit first."""
    found: dict[tuple[int, str], list[_Routed]] = {}
    for start in range(0, len(story_ids), _CHUNK):
        query = (
            select(RoutedHitRow, HitRow, ItemRow, FeedRow.name)
            .join(HitRow, col(HitRow.id) == col(RoutedHitRow.hit_id))
            .join(ItemRow, col(ItemRow.id) == col(HitRow.item_id))
            .join(FeedRow, col(FeedRow.id) == col(ItemRow.feed_id))
            .where(col(RoutedHitRow.story_id).in_(story_ids[start : start + _CHUNK]))
            .order_by(col(HitRow.id))
        )
        for routed, hit, item, feed_name in session.exec(query):
            found.setdefault((routed.story_id, routed.channel), []).append(_Routed(hit, item, feed_name))
    return found


def _outlets(session: Session, story_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Distinct feed names with items in each story, in the order they first reported it."""
    outlets: dict[int, dict[str, None]] = {}
    for start in range(0, len(story_ids), _CHUNK):
        query = (
            sa_select(col(ItemRow.story_id), col(FeedRow.name))
            .join(FeedRow, col(FeedRow.id) == col(ItemRow.feed_id))
            .where(col(ItemRow.story_id).in_(story_ids[start : start + _CHUNK]))
            .order_by(col(ItemRow.id))
        )
        for story_id, name in session.execute(query):
            outlets.setdefault(story_id, {}).setdefault(name, None)
    return {story_id: tuple(names) for story_id, names in outlets.items()}


def _first_message_ids(session: Session, story_ids: list[int]) -> dict[tuple[int, str], str]:
    found: dict[tuple[int, str], str] = {}
    for start in range(0, len(story_ids), _CHUNK):
        query = select(col(DeliveryRow.story_id), col(DeliveryRow.channel), col(DeliveryRow.message_id)).where(
            col(DeliveryRow.story_id).in_(story_ids[start : start + _CHUNK]), col(DeliveryRow.event) == "first"
        )
        for story_id, channel, message_id in session.exec(query):
            found[(story_id, channel)] = message_id
    return found


def _rows(session: Session, table: type[StoryRow], ids: list[int]) -> list[StoryRow]:
    rows: list[StoryRow] = []
    for start in range(0, len(ids), _CHUNK):
        rows.extend(session.exec(select(table).where(col(table.id).in_(ids[start : start + _CHUNK]))))
    return rows
