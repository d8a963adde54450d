"""Read-only views for the CLI and the web page: hits (with their stories) and feed health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.store.columns import load_spans, load_words
from monitor.store.db import _session
from monitor.store.evidence import load_evidence
from monitor.store.records import FeedView, HitView
from monitor.store.story_hits import also_reported_by, other_outlets
from monitor.store.tables import FeedRow, HitRow, ItemRow
from monitor.types import Severity


def list_hits(
    engine: Engine,
    since: datetime | None = None,
    rule_id: str | None = None,
    limit: int = 1000,
    *,
    include_suppressed: bool = False,
) -> list[HitView]:
    """Newest first; `since` compares with the hit's creation time (inclusive).

    Repeat hits on a story that already alerted for the rule are hidden unless
    `include_suppressed`; the hit that is shown carries the story's corroboration.
    """
    query = (
        select(HitRow, ItemRow, FeedRow.name)
        .join(ItemRow, col(ItemRow.id) == col(HitRow.item_id))
        .join(FeedRow, col(FeedRow.id) == col(ItemRow.feed_id))
        .order_by(col(HitRow.created_at).desc(), col(HitRow.id).desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(col(HitRow.created_at) >= since)
    if rule_id is not None:
        query = query.where(col(HitRow.rule_id) == rule_id)
    if not include_suppressed:
        query = query.where(col(HitRow.suppressed).is_(False))
    with _session(engine, write=False) as session:
        rows = list(session.exec(query))
        outlets = other_outlets(session, [hit.story_id for hit, _, _ in rows if hit.story_id is not None])
    return [
        _hit_view(hit, item, feed_name, also_reported_by(outlets, hit.story_id, item.feed_id, feed_name))
        for hit, item, feed_name in rows
    ]


def _hit_view(hit: HitRow, item: ItemRow, feed_name: str, others: tuple[str, ...]) -> HitView:
    assert hit.id is not None
    evidence = load_evidence(hit.evidence)
    return HitView(
        hit_id=hit.id,
        rule_id=hit.rule_id,
        rule_title=hit.rule_title,
        severity=Severity(hit.severity),
        item_title=item.title,
        link=item.link,
        feed_name=feed_name,
        published=item.published_at,
        created_at=hit.created_at,
        matched=load_words(hit.matched),
        snippet=hit.snippet,
        spans=load_spans(hit.spans),
        story_id=hit.story_id,
        corroboration=hit.corroboration,
        also_reported_by=others,
        entities=evidence.entities,
        article=evidence.article,
    )


def list_feeds(engine: Engine) -> list[FeedView]:
    """Active feeds first, then by name."""
    counts = select(col(ItemRow.feed_id), func.count().label("n")).group_by(col(ItemRow.feed_id)).subquery()
    query = (
        select(FeedRow, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.feed_id == col(FeedRow.id))
        .order_by(col(FeedRow.active).desc(), col(FeedRow.name), col(FeedRow.id))
    )
    with _session(engine, write=False) as session:
        return [_feed_view(row, int(count)) for row, count in session.exec(query)]


def _feed_view(row: FeedRow, item_count: int) -> FeedView:
    assert row.id is not None
    return FeedView(
        id=row.id,
        url=row.url,
        name=row.name,
        tags=load_words(row.tags),
        interval_seconds=row.interval_seconds,
        active=row.active,
        last_fetch_at=row.last_fetch_at,
        last_status=row.last_status,
        last_http_status=row.last_http_status,
        last_error_kind=row.last_error_kind,
        last_error=row.last_error,
        consecutive_failures=row.consecutive_failures,
        next_poll_at=row.next_poll_at,
        last_success_at=row.last_success_at,
        last_new_item_at=row.last_new_item_at,
        health_state=row.health_state,
        item_count=item_count,
    )
