"""The inbox: stories with hits (or, when searching, matching items), newest first, a page at a time.

Pages are keyset-paginated on ids (a story's id grows with its first sighting, an item's with its
fetch): a page starts below (or above) the cursor and stops after `limit` rows, walking the
hits indexes (story_id; rule_id, story_id; severity, story_id) backwards. No OFFSET and no
COUNT, so the millionth story costs what the first does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.engine import Connection, Engine

from monitor.store.db import _session
from monitor.store.tables import FeedRow, HitRow, ItemRow, StoryRow
from monitor.store.web_records import FoundItem, InboxFilter, InboxPage, StorySummary, Triage
from monitor.store.web_search import SearchQuery, matching_items, parse_search
from monitor.store.web_tables import TriageRow
from monitor.types import Severity

_HITS = HitRow.__table__  # type: ignore[attr-defined]
_ITEMS = ItemRow.__table__  # type: ignore[attr-defined]
_FEEDS = FeedRow.__table__  # type: ignore[attr-defined]
_STORIES = StoryRow.__table__  # type: ignore[attr-defined]
_TRIAGE = TriageRow.__table__  # type: ignore[attr-defined]
_RANK = {level.value: level.rank for level in Severity}
_NO_ID = 2**31 - 1  # above every id (an INTEGER column): a bound that no row passes


def inbox(engine: Engine, wanted: InboxFilter) -> InboxPage:
    with _session(engine, write=False) as session:
        connection = session.connection()
        search = parse_search(wanted.q) if wanted.q else None
        if search is not None:
            return _search_page(connection, wanted, search)
        return _story_page(connection, wanted)


def _severities(at_least: Severity) -> list[str]:
    return [level.value for level in Severity if level.rank >= at_least.rank]


def _state_condition(story_id: ColumnElement[int], state: str) -> ColumnElement[bool] | None:
    triage = _TRIAGE.c
    same = triage.story_id == story_id
    if state == "open":
        return ~exists().where(same, triage.muted.is_(True))
    if state == "untriaged":
        return ~exists().where(same, (triage.muted.is_(True)) | triage.verdict.is_not(None))
    if state == "muted":
        return exists().where(same, triage.muted.is_(True))
    if state in ("relevant", "not_relevant"):
        return exists().where(same, triage.verdict == state)
    return None


def _story_bounds(connection: Connection, wanted: InboxFilter) -> list[ColumnElement[bool]]:
    """Date limits as story-id limits: ids are handed out in first-seen order."""
    bounds: list[ColumnElement[bool]] = []
    story = _STORIES.c
    if wanted.since is not None:
        first = connection.execute(
            select(story.id).where(story.first_seen_at >= wanted.since).order_by(story.first_seen_at).limit(1)
        ).scalar()
        bounds.append(_HITS.c.story_id >= (first if first is not None else _NO_ID))
    if wanted.until is not None:
        last = connection.execute(
            select(story.id).where(story.first_seen_at < wanted.until).order_by(story.first_seen_at.desc()).limit(1)
        ).scalar()
        bounds.append(_HITS.c.story_id <= (last if last is not None else -1))
    return bounds


def _feed_id(connection: Connection, name: str | None) -> int | None:
    if name is None:
        return None
    found = connection.execute(select(_FEEDS.c.id).where(_FEEDS.c.name == name)).scalar()
    return int(found) if found is not None else -1


def _story_page(connection: Connection, wanted: InboxFilter) -> InboxPage:
    hits = _HITS.c
    conditions = [hits.story_id.is_not(None), *_story_bounds(connection, wanted)]
    if wanted.rule is not None:
        conditions.append(hits.rule_id == wanted.rule)
    if wanted.severity is Severity.HIGH:
        conditions.append(hits.severity == Severity.HIGH.value)
    elif wanted.severity is not None:
        conditions.append(hits.severity.in_(_severities(wanted.severity)))
    state = _state_condition(hits.story_id, wanted.state)
    if state is not None:
        conditions.append(state)
    query = select(hits.story_id).where(*conditions).group_by(hits.story_id)
    feed_id = _feed_id(connection, wanted.feed)
    if feed_id is not None:
        query = query.join(_ITEMS, _ITEMS.c.id == hits.item_id).where(_ITEMS.c.feed_id == feed_id)
    ids = _keyset(connection, query, hits.story_id, wanted)
    newer, older = _cursors(wanted, ids)
    shown = ids[-wanted.limit :] if wanted.after is not None else ids[: wanted.limit]
    summaries = story_summaries(connection, shown)
    return InboxPage(stories=tuple(summaries[i] for i in shown if i in summaries), newer=newer, older=older)


def _keyset(connection: Connection, query: Select[Any], key: ColumnElement[int], wanted: InboxFilter) -> list[int]:
    """Keys of one page plus one more (to know whether a next page exists), newest first."""
    if wanted.after is not None:
        rows = connection.execute(query.where(key > wanted.after).order_by(key.asc()).limit(wanted.limit + 1)).all()
        return [int(row[0]) for row in reversed(rows)]
    if wanted.before is not None:
        query = query.where(key < wanted.before)
    rows = connection.execute(query.order_by(key.desc()).limit(wanted.limit + 1)).all()
    return [int(row[0]) for row in rows]


def _cursors(wanted: InboxFilter, keys: Sequence[int]) -> tuple[int | None, int | None]:
    """(newer, older) cursors for a page fetched with one extra row."""
    if wanted.after is not None:
        has_newer = len(keys) > wanted.limit
        shown = keys[-wanted.limit :] if has_newer else keys
        return (shown[0] if has_newer and shown else None), (shown[-1] if shown else wanted.after + 1)
    has_older = len(keys) > wanted.limit
    shown = keys[: wanted.limit]
    newer = shown[0] if wanted.before is not None and shown else None
    return newer, (shown[-1] if has_older else None)


def _search_page(connection: Connection, wanted: InboxFilter, search: SearchQuery) -> InboxPage:
    items = _ITEMS.c
    where: list[ColumnElement[bool]] = []
    if wanted.rule is not None or wanted.severity is not None:
        hit_conditions = [_HITS.c.story_id == items.story_id]
        if wanted.rule is not None:
            hit_conditions.append(_HITS.c.rule_id == wanted.rule)
        if wanted.severity is not None:
            hit_conditions.append(_HITS.c.severity.in_(_severities(wanted.severity)))
        where.append(exists().where(and_(*hit_conditions)))
    feed_id = _feed_id(connection, wanted.feed)
    if feed_id is not None:
        where.append(items.feed_id == feed_id)
    if wanted.since is not None:
        where.append(items.fetched_at >= wanted.since)
    if wanted.until is not None:
        where.append(items.fetched_at < wanted.until)
    state = _state_condition(items.story_id, wanted.state)
    if state is not None:
        where.append(state)
    statement = matching_items(
        connection.dialect.name,
        search,
        before=wanted.before,
        after=wanted.after,
        limit=wanted.limit + 1,
        where=tuple(where),
    )
    rows: list[tuple[int, int | None]] = [(int(row[0]), row[1]) for row in connection.execute(statement).all()]
    if wanted.after is not None:
        rows.reverse()
    newer, older = _cursors(wanted, [item_id for item_id, _ in rows])
    keep = rows[-wanted.limit :] if wanted.after is not None else rows[: wanted.limit]
    return InboxPage(items=_found_items(connection, keep), newer=newer, older=older)


def _found_items(connection: Connection, rows: Sequence[tuple[int, int | None]]) -> tuple[FoundItem, ...]:
    if not rows:
        return ()
    items = _ITEMS.c
    query = (
        select(items.id, items.title, items.summary, items.published_at, items.fetched_at, _FEEDS.c.name)
        .join(_FEEDS, _FEEDS.c.id == items.feed_id)
        .where(items.id.in_([item_id for item_id, _ in rows]))
    )
    found = {int(row[0]): row for row in connection.execute(query)}
    summaries = story_summaries(connection, [story for _, story in rows if story is not None], with_hits_only=False)
    result: list[FoundItem] = []
    for item_id, story_id in rows:
        row = found.get(item_id)
        if row is None:
            continue
        story = summaries.get(story_id) if story_id is not None else None
        result.append(FoundItem(item_id, row[1], row[2], row[5], _utc(row[3]), _utc(row[4]) or _EPOCH, story))
    return tuple(result)


def story_summaries(
    connection: Connection, story_ids: Sequence[int], *, with_hits_only: bool = True
) -> dict[int, StorySummary]:
    """One summary per story: headline, severity, rules, outlets, lead outlet, triage."""
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    stories = {
        int(row[0]): row
        for row in connection.execute(
            select(_STORIES.c.id, _STORIES.c.title, _STORIES.c.first_seen_at).where(_STORIES.c.id.in_(ids))
        )
    }
    rules = _story_rules(connection, ids)
    outlets: dict[int, int] = dict(
        connection.execute(
            select(_ITEMS.c.story_id, func.count(func.distinct(_ITEMS.c.feed_id)))
            .where(_ITEMS.c.story_id.in_(ids))
            .group_by(_ITEMS.c.story_id)
        ).all()
    )
    leads = _lead_feeds(connection, ids)
    triage = triage_of(connection, ids)
    result: dict[int, StorySummary] = {}
    for story_id, row in stories.items():
        matched = rules.get(story_id, [])
        if with_hits_only and not matched:
            continue
        ordered = sorted(matched, key=lambda pair: (-_RANK.get(pair[1], 0), pair[0]))
        result[story_id] = StorySummary(
            story_id=story_id,
            headline=row[1],
            first_seen=_utc(row[2]) or _EPOCH,
            severity=Severity(ordered[0][1]) if ordered else None,
            outlet_count=int(outlets.get(story_id, 0)),
            rules=tuple(rule_id for rule_id, _ in ordered),
            lead_feed=leads.get(story_id, ""),
            triage=triage.get(story_id),
        )
    return result


def _story_rules(connection: Connection, ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    rules: dict[int, dict[str, str]] = {}
    query = select(_HITS.c.story_id, _HITS.c.rule_id, _HITS.c.severity).where(_HITS.c.story_id.in_(ids)).distinct()
    for story_id, rule_id, severity in connection.execute(query):
        current = rules.setdefault(int(story_id), {})
        if _RANK.get(severity, 0) >= _RANK.get(current.get(rule_id, "low"), 0):
            current[rule_id] = severity
    return {story_id: list(found.items()) for story_id, found in rules.items()}


def _lead_feeds(connection: Connection, ids: Sequence[int]) -> dict[int, str]:
    """The outlet of each story's first item."""
    first = (
        select(_ITEMS.c.story_id, func.min(_ITEMS.c.id).label("first_id"))
        .where(_ITEMS.c.story_id.in_(ids))
        .group_by(_ITEMS.c.story_id)
        .subquery()
    )
    query = (
        select(first.c.story_id, _FEEDS.c.name)
        .join(_ITEMS, _ITEMS.c.id == first.c.first_id)
        .join(_FEEDS, _FEEDS.c.id == _ITEMS.c.feed_id)
    )
    return {int(story_id): name for story_id, name in connection.execute(query)}


def triage_of(connection: Connection, ids: Sequence[int]) -> dict[int, Triage]:
    triage = _TRIAGE.c
    query = select(
        triage.story_id, triage.verdict, triage.note, triage.muted, triage.updated_by, triage.updated_at
    ).where(triage.story_id.in_(list(ids)))
    return {
        int(row[0]): Triage(row[1], row[2], bool(row[3]), row[4], _utc(row[5]) or _EPOCH)
        for row in connection.execute(query)
    }


_EPOCH = datetime.fromtimestamp(0, UTC)


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC whatever the driver handed back (aggregates bypass the column type)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
