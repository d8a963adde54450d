"""What the console knows about rules from the database: hit counts, precision from feedback,
saved versions, the items a preview matches, and the regression cases (items marked not
relevant)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.engine import Engine

from monitor.store.columns import load_words
from monitor.store.db import _session
from monitor.store.tables import FeedRow, HitRow, ItemRow
from monitor.store.web_records import RuleStats, RuleVersion, WindowItem
from monitor.store.web_tables import RuleVersionRow, TriageRow

_HITS = HitRow.__table__  # type: ignore[attr-defined]
_ITEMS = ItemRow.__table__  # type: ignore[attr-defined]
_FEEDS = FeedRow.__table__  # type: ignore[attr-defined]
_TRIAGE = TriageRow.__table__  # type: ignore[attr-defined]
_VERSIONS = RuleVersionRow.__table__  # type: ignore[attr-defined]
MAX_REGRESSION_ITEMS = 500


def rule_stats(engine: Engine, now: datetime) -> dict[str, RuleStats]:
    """Hits over 7 and 30 days (by the ix_hits_created_at range) and judged stories per rule."""
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    hits = _HITS.c
    counts = (
        select(hits.rule_id, func.sum(case((hits.created_at >= week, 1), else_=0)), func.count())
        .where(hits.created_at >= month)
        .group_by(hits.rule_id)
    )
    judged = (
        select(hits.rule_id, _TRIAGE.c.verdict, func.count(func.distinct(hits.story_id)))
        .join(_TRIAGE, _TRIAGE.c.story_id == hits.story_id)
        .where(_TRIAGE.c.verdict.is_not(None))
        .group_by(hits.rule_id, _TRIAGE.c.verdict)
    )
    with _session(engine, write=False) as session:
        connection = session.connection()
        hit_counts = {row[0]: (int(row[1] or 0), int(row[2])) for row in connection.execute(counts)}
        verdicts: dict[str, dict[str, int]] = {}
        for rule_id, verdict, stories in connection.execute(judged):
            verdicts.setdefault(rule_id, {})[verdict] = int(stories)
    return {
        rule_id: RuleStats(
            rule_id,
            hit_counts.get(rule_id, (0, 0))[0],
            hit_counts.get(rule_id, (0, 0))[1],
            verdicts.get(rule_id, {}).get("relevant", 0),
            verdicts.get(rule_id, {}).get("not_relevant", 0),
        )
        for rule_id in set(hit_counts) | set(verdicts)
    }


def _version(row: RuleVersionRow) -> RuleVersion:
    assert row.id is not None
    return RuleVersion(row.id, row.rule_id, row.file, row.action, row.content, row.diff, row.author, row.created_at)


def add_version(
    engine: Engine, rule_id: str, file: str, action: str, content: str, diff: str, author: str, now: datetime
) -> RuleVersion:
    with _session(engine) as session:
        row = RuleVersionRow(
            rule_id=rule_id, file=file, action=action, content=content, diff=diff, author=author, created_at=now
        )
        session.add(row)
        session.flush()
        return _version(row)


def versions(engine: Engine, rule_id: str, limit: int = 200) -> list[RuleVersion]:
    """Newest first."""
    query = (
        select(RuleVersionRow)
        .where(RuleVersionRow.rule_id == rule_id)  # type: ignore[arg-type]
        .order_by(RuleVersionRow.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    with _session(engine, write=False) as session:
        return [_version(row) for (row,) in session.execute(query)]


def version(engine: Engine, version_id: int) -> RuleVersion | None:
    with _session(engine, write=False) as session:
        row = session.get(RuleVersionRow, version_id)
        return None if row is None else _version(row)


def _window_select() -> Select[Any]:
    """What a WindowItem is read from: the item's text and its feed's name and tags."""
    items = _ITEMS.c
    columns = (items.id, items.story_id, _FEEDS.c.name, _FEEDS.c.tags, items.title, items.summary, items.content)
    return select(*columns, items.fetched_at, items.lang).join(_FEEDS, _FEEDS.c.id == items.feed_id)


def window_items(engine: Engine, since: datetime, after_id: int, limit: int) -> list[WindowItem]:
    """Items fetched since ``since`` with an id above ``after_id``, oldest first."""
    items = _ITEMS.c
    query = (
        _window_select()
        .where(items.id > after_id, items.fetched_at >= since)
        .order_by(items.id)
        .limit(limit)
    )  # fmt: skip
    with _session(engine, write=False) as session:
        return [_window_item(row) for row in session.connection().execute(query)]


def newest_item_id(engine: Engine) -> int:
    with _session(engine, write=False) as session:
        return int(session.connection().execute(select(func.max(_ITEMS.c.id))).scalar() or 0)


def first_item_since(engine: Engine, since: datetime) -> int:
    """The id just below the first item fetched at or after ``since`` (ids grow with fetch time)."""
    query = select(_ITEMS.c.id).where(_ITEMS.c.fetched_at >= since).order_by(_ITEMS.c.fetched_at).limit(1)
    with _session(engine, write=False) as session:
        found = session.connection().execute(query).scalar()
    return int(found) - 1 if found is not None else newest_item_id(engine)


def _window_item(row: Sequence[object]) -> WindowItem:
    return WindowItem(
        item_id=int(row[0]),  # type: ignore[call-overload]
        story_id=None if row[1] is None else int(row[1]),  # type: ignore[call-overload]
        feed_name=str(row[2]),
        feed_tags=load_words(row[3]),  # type: ignore[arg-type]
        title=str(row[4]),
        summary=str(row[5]),
        content=str(row[6]),
        fetched_at=row[7],  # type: ignore[arg-type]
        lang=None if row[8] is None else str(row[8]),
    )


def regression_items(engine: Engine, rule_id: str | None) -> list[WindowItem]:
    """Items of stories marked not relevant; with ``rule_id``, only those the rule hit."""
    items = _ITEMS.c
    query = (
        _window_select()
        .join(_TRIAGE, _TRIAGE.c.story_id == items.story_id)
        .where(_TRIAGE.c.verdict == "not_relevant")
        .order_by(items.id.desc())
        .limit(MAX_REGRESSION_ITEMS)
    )  # fmt: skip
    if rule_id is not None:
        query = query.where(items.id.in_(select(_HITS.c.item_id).where(_HITS.c.rule_id == rule_id)))
    with _session(engine, write=False) as session:
        return [_window_item(row) for row in session.connection().execute(query)]
