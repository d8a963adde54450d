"""Column types and bounded JSON helpers shared by the tables and the queries."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped
from sqlalchemy.types import TypeDecorator

from monitor.types import Span

# Feed content is hostile: a rule matching thousands of words must not bloat a row without bound.
MAX_JSON_ENTRIES = 200
MAX_JSON_TEXT = 300
MAX_ERROR_TEXT = 2000


class UTCDateTime(TypeDecorator[datetime]):
    """Accepts only aware datetimes, stores UTC, and always returns aware UTC datetimes.

    SQLite has no time zone type, so values are stored there as naive UTC text (which also sorts
    correctly); PostgreSQL gets ``timestamptz``. Naive input is refused because guessing its zone
    is how timestamps silently shift by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime given to the store (need aware UTC): {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def free_of_lease(lease_until: Mapped[datetime | None], now: datetime) -> ColumnElement[bool]:
    """SQL condition: nobody holds a live lease on this row (never leased, or lease expired)."""
    return or_(lease_until.is_(None), lease_until <= now)


def clip(text: str | None, limit: int) -> str | None:
    return None if text is None else text[:limit]


def dump_words(words: Iterable[str]) -> str:
    bounded = [word[:MAX_JSON_TEXT] for word in list(words)[:MAX_JSON_ENTRIES]]
    return json.dumps(bounded, ensure_ascii=False)


def load_words(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    loaded: Any = json.loads(raw)
    if not isinstance(loaded, list):
        return ()
    return tuple(str(word) for word in loaded)


def dump_spans(spans: Iterable[Span]) -> str:
    bounded = [
        {"field": s.field, "start": s.start, "end": s.end, "text": s.text[:MAX_JSON_TEXT]}
        for s in list(spans)[:MAX_JSON_ENTRIES]
    ]
    return json.dumps(bounded, ensure_ascii=False)


def load_spans(raw: str | None) -> tuple[Span, ...]:
    if not raw:
        return ()
    loaded: Any = json.loads(raw)
    if not isinstance(loaded, list):
        return ()
    return tuple(
        Span(field=str(s["field"]), start=int(s["start"]), end=int(s["end"]), text=str(s["text"]))
        for s in loaded
        if isinstance(s, dict)
    )
