"""One story for the console: its reports with evidence, its rules, and the analysts' triage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from monitor.store.columns import load_spans, load_words
from monitor.store.db import _session
from monitor.store.tables import DeliveryRow, FeedRow, HitRow, ItemRow
from monitor.store.web_inbox import story_summaries
from monitor.store.web_records import VERDICTS, Report, RuleEvidenceRow, StoryDetail, Triage
from monitor.store.web_tables import TriageRow
from monitor.types import Severity, Span

MAX_REPORTS = 200
_HITS = HitRow.__table__  # type: ignore[attr-defined]
_ITEMS = ItemRow.__table__  # type: ignore[attr-defined]
_FEEDS = FeedRow.__table__  # type: ignore[attr-defined]
_TRIAGE = TriageRow.__table__  # type: ignore[attr-defined]
_DELIVERIES = DeliveryRow.__table__  # type: ignore[attr-defined]


def story_detail(engine: Engine, story_id: int) -> StoryDetail | None:
    with _session(engine, write=False) as session:
        connection = session.connection()
        summary = story_summaries(connection, [story_id], with_hits_only=False).get(story_id)
        if summary is None:
            return None
        hits = _hits(connection, story_id)
        reports, hidden = _reports(connection, story_id, hits)
    first: dict[str, RuleEvidenceRow] = {}
    for row in hits:
        first.setdefault(row.rule_id, row)
    rules = sorted(first.values(), key=lambda row: (-row.severity.rank, row.rule_id))
    return StoryDetail(summary=summary, reports=reports, rules=tuple(rules), reports_hidden=hidden)


def _hits(connection: Connection, story_id: int) -> list[RuleEvidenceRow]:
    hits = _HITS.c
    query = (
        select(
            hits.rule_id, hits.rule_title, hits.severity, hits.item_id, _FEEDS.c.name,
            hits.matched, hits.spans, hits.snippet, hits.created_at,
        )
        .join(_ITEMS, _ITEMS.c.id == hits.item_id)
        .join(_FEEDS, _FEEDS.c.id == _ITEMS.c.feed_id)
        .where(hits.story_id == story_id)
        .order_by(hits.id)
        .limit(MAX_REPORTS * 20)
    )  # fmt: skip
    return [
        RuleEvidenceRow(
            rule_id=row[0],
            rule_title=row[1],
            severity=Severity(row[2]),
            item_id=int(row[3]),
            feed_name=row[4],
            matched=load_words(row[5]),
            spans=load_spans(row[6]),
            snippet=row[7],
            created_at=row[8],
        )
        for row in connection.execute(query)
    ]


def _reports(connection: Connection, story_id: int, hits: list[RuleEvidenceRow]) -> tuple[tuple[Report, ...], int]:
    items = _ITEMS.c
    total = connection.execute(select(func.count()).where(items.story_id == story_id)).scalar() or 0
    query = (
        select(
            items.id, _FEEDS.c.name, _FEEDS.c.tags, items.title, items.summary, items.content,
            items.link, items.published_at, items.fetched_at, items.lang,
        )
        .join(_FEEDS, _FEEDS.c.id == items.feed_id)
        .where(items.story_id == story_id)
        .order_by(items.id)
        .limit(MAX_REPORTS)
    )  # fmt: skip
    spans: dict[int, list[Span]] = {}
    for hit in hits:
        spans.setdefault(hit.item_id, []).extend(hit.spans)
    reports = tuple(
        Report(
            item_id=int(row[0]),
            feed_name=row[1],
            feed_tags=load_words(row[2]),
            title=row[3],
            summary=row[4],
            content=row[5],
            link=row[6],
            published=row[7],
            fetched_at=row[8],
            spans=tuple(spans.get(int(row[0]), ())),
            lang=row[9],
        )
        for row in connection.execute(query)
    )
    return reports, max(int(total) - len(reports), 0)


def _upsert(connection: Connection, values: dict[str, Any], changed: tuple[str, ...]) -> None:
    """Insert the story's triage row or update the given columns of the existing one."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_TRIAGE).values(**values)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[_TRIAGE.c.story_id],
            set_={name: statement.excluded[name] for name in changed},
        )
    )


def set_verdict(engine: Engine, story_id: int, verdict: str | None, note: str, user: str, now: datetime) -> Triage:
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    values = {"story_id": story_id, "verdict": verdict, "note": note[:2000], "muted": False, "updated_by": user,
              "updated_at": now}  # fmt: skip
    with _session(engine) as session:
        _upsert(session.connection(), values, ("verdict", "note", "updated_by", "updated_at"))
    return _read(engine, story_id)


def set_muted(engine: Engine, story_id: int, muted: bool, user: str, now: datetime) -> tuple[Triage, int]:
    """Mute (or unmute) a story; muting withdraws its messages still waiting in the outbox (they
    become failed, naming who muted the story, so `monitor alerts retry` can still send them).
    Returns the triage and how many messages were withdrawn."""
    values = {"story_id": story_id, "verdict": None, "note": "", "muted": muted, "updated_by": user,
              "updated_at": now}  # fmt: skip
    withdrawn = 0
    with _session(engine) as session:
        connection = session.connection()
        _upsert(connection, values, ("muted", "updated_by", "updated_at"))
        if muted:
            result = connection.execute(
                update(_DELIVERIES)
                .where(_DELIVERIES.c.story_id == story_id, _DELIVERIES.c.status == "pending")
                .values(status="failed", last_error=f"story muted in the console by {user}", lease_until=None,
                        claimed_by=None)
            )  # fmt: skip
            withdrawn = int(result.rowcount or 0)
    return _read(engine, story_id), withdrawn


def _read(engine: Engine, story_id: int) -> Triage:
    with _session(engine, write=False) as session:
        row = session.get(TriageRow, story_id)
    assert row is not None, "written just before"
    return Triage(row.verdict, row.note, row.muted, row.updated_by, row.updated_at)


def story_exists(engine: Engine, story_id: int) -> bool:
    with _session(engine, write=False) as session:
        found = session.connection().execute(select(_ITEMS.c.id).where(_ITEMS.c.story_id == story_id).limit(1))
        return found.first() is not None
