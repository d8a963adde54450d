"""A large history written with a few INSERT … SELECT statements over a counting CTE, so 100,000
items (and 1.6 million band rows) take seconds rather than minutes, on SQLite and PostgreSQL.

The rows look like the pipeline's: ~3 KB of text per item, 16 band keys per item, ten items per
story, a hit on every 100th item with one delivery each (mostly sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, insert, literal, select, table, true
from sqlalchemy.engine import Connection, Engine

from monitor.store.columns import UTCDateTime
from monitor.store.tables import DeliveryRow, HitRow, ItemBandRow, ItemRow, RoutedHitRow, StoryRow

BANDS_PER_ITEM = 16
ITEMS_PER_STORY = 10
HIT_EVERY = 100
PRUNED_TABLES = ("items", "item_bands", "hits", "deliveries", "stories")
SUMMARY = "Analysts said the shipment was routed through three ports. " * 20  # 1.2 KB


@dataclass(frozen=True)
class History:
    items: int
    old_share: float  # fraction of items fetched `old` ago, the rest `recent` ago
    now: datetime
    old: timedelta = timedelta(days=120)
    recent: timedelta = timedelta(days=10)

    @property
    def old_items(self) -> int:
        return int(self.items * self.old_share)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
            for name in PRUNED_TABLES
        }


def write_history(engine: Engine, feed_id: int, history: History) -> None:
    stories, items = StoryRow.__table__, ItemRow.__table__
    old_at, recent_at = _when(history.now - history.old), _when(history.now - history.recent)
    with engine.begin() as conn:
        s = _numbers(history.items // ITEMS_PER_STORY)
        story_title = literal("story ") + cast(s.c.i, String)
        conn.execute(
            insert(stories).from_select(["first_seen_at", "last_seen_at", "title"], select(old_at, old_at, story_title))
        )
        first_story = select(func.min(stories.c.id)).scalar_subquery()
        n = _numbers(history.items)
        fetched = case((n.c.i <= history.old_items, old_at), else_=recent_at)
        conn.execute(insert(items).from_select(*_item_columns(n, feed_id, fetched, first_story)))
        _add_bands(conn, items)
        _add_hits_and_deliveries(conn, items)


def _numbers(count: int) -> Any:
    """1..count as a recursive CTE (both databases speak WITH RECURSIVE)."""
    seed = select(literal(1, Integer).label("i")).cte("n", recursive=True)
    return seed.union_all(select(seed.c.i + 1).where(seed.c.i < count))


def _when(moment: datetime) -> Any:
    return literal(moment, UTCDateTime())


def _item_columns(n: Any, feed_id: int, fetched: Any, first_story: Any) -> tuple[list[str], Any]:
    text_i = cast(n.c.i, String)
    columns = {
        "feed_id": literal(feed_id),
        "key": literal("item-") + text_i,
        "key_sha256": literal("k") + text_i,
        "title": literal("Shipment report number ") + text_i,
        "summary": literal(SUMMARY),
        "content": literal(""),
        "link": literal("https://wire.example/") + text_i,
        "fetched_at": fetched,
        "story_id": first_story + (n.c.i - 1) // ITEMS_PER_STORY,
        "content_hash": literal("c") + text_i,
    }
    return list(columns), select(*columns.values())


def _add_bands(conn: Connection, items: Any) -> None:
    b = _numbers(BANDS_PER_ITEM)
    band = literal("b") + cast(b.c.i, String) + literal(":") + cast(items.c.id, String)
    rows = select(items.c.id, band).select_from(items).join(b, true())
    conn.execute(insert(ItemBandRow.__table__).from_select(["item_id", "band"], rows))


def _add_hits_and_deliveries(conn: Connection, items: Any) -> None:
    c, hits = items.c, HitRow.__table__
    alerted = select(
        c.id, literal("arms"), literal("Arms"), literal("high"), literal("«shells»"), c.fetched_at, c.story_id
    )
    columns = ["item_id", "rule_id", "rule_title", "severity", "snippet", "created_at", "story_id"]
    conn.execute(insert(hits).from_select(columns, alerted.where(c.id % HIT_EVERY == 0)))
    # each alerted hit is routed to one channel and has its story's first message there; every
    # tenth message is still pending, the others were sent when they were found
    routed = select(literal("ops"), hits.c.id, hits.c.story_id, hits.c.created_at)
    conn.execute(insert(RoutedHitRow.__table__).from_select(["channel", "hit_id", "story_id", "created_at"], routed))
    pending = hits.c.id % 10 == 0
    status = case((pending, literal("pending")), else_=literal("sent"))
    sent_at = case((pending, None), else_=hits.c.created_at)
    message_id = literal("<m") + cast(hits.c.id, String) + literal("@bench>")
    rows = select(
        hits.c.story_id, literal("ops"), literal("first"), literal("high"), message_id, status,
        hits.c.created_at, sent_at, hits.c.created_at,
    )  # fmt: skip
    columns = ["story_id", "channel", "event", "severity", "message_id", "status", "next_attempt_at", "sent_at",
               "created_at"]  # fmt: skip
    conn.execute(insert(DeliveryRow.__table__).from_select(columns, rows))
