"""Small builders for store tests (synthetic text only: corpus news text never enters the repo)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import psycopg
from psycopg import sql

from monitor.saving import AlertRouting, SaveResult, save_and_queue
from monitor.store import PollOutcome, Store
from monitor.store.items import DEFAULT_STORY_WINDOW
from monitor.stories import StoryKey
from monitor.types import ChannelSpec, FeedSpec, Item, RuleMatch, Severity, Span

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = "postgres@127.0.0.1:5432"
PG_ADMIN_DSN = f"postgresql://{PG_SERVER}/postgres"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TABLES = ("deliveries", "routed_hits", "hits", "item_bands", "items", "stories", "feeds", "notices")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@cache
def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def temporary_pg_database() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database; dropped (even with open connections) afterwards."""
    name = f"monitor_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def empty_pg_tables(url: str) -> None:
    """Start a test on a clean slate without paying for a new database every time."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('public.feeds') IS NOT NULL").fetchone()
        if exists and exists[0]:
            tables = sql.SQL(", ").join(sql.Identifier(t) for t in TABLES)
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))


def feed(n: int, interval: float = 300.0, tags: Sequence[str] = ()) -> FeedSpec:
    return FeedSpec(
        url=f"https://news{n}.example/feed.xml", name=f"Feed {n}", interval_seconds=interval, tags=tuple(tags)
    )


def item(
    key: str,
    *,
    title: str = "Shipment seized at port",
    link: str | None = None,
    published: datetime | None = T0,
    feed_url: str = "https://news1.example/feed.xml",
) -> Item:
    return Item(
        key=key,
        feed_url=feed_url,
        title=title,
        summary=f"summary of {key}",
        content=f"content of {key}",
        link=link or f"https://news.example/{key}",
        published=published,
        author="Desk",
    )


def match(rule_id: str = "arms", severity: Severity = Severity.HIGH, notify: Sequence[str] = ("ops",)) -> RuleMatch:
    spans = (Span("title", 0, 8, "Shipment"), Span("summary", 3, 10, "seized"))
    return RuleMatch(
        rule_id=rule_id,
        rule_title=f"Rule {rule_id}",
        severity=severity,
        notify=tuple(notify),
        spans=spans,
        snippet="«Shipment» «seized» at port",
    )


def by_notify(m: RuleMatch) -> Sequence[str]:
    return m.notify


def poll(status: str, now: datetime, **changes: object) -> PollOutcome:
    values: dict[str, object] = {
        "now": now,
        "status": status,
        "http_status": 200,
        "etag": None,
        "last_modified": None,
        "body_sha256": None,
        "error_kind": None,
        "error": None,
        "next_poll_at": now + timedelta(seconds=300),
        "new_items": 0,
    }
    values.update(changes)
    return PollOutcome(**values)  # type: ignore[arg-type]


def save(
    store: Store,
    feed_id: int,
    items: Sequence[Item],
    matches: Mapping[str, Sequence[RuleMatch]],
    route: Callable[[RuleMatch], Sequence[str]],
    now: datetime,
    *,
    story_keys: Mapping[str, StoryKey] | None = None,
    story_window: timedelta = DEFAULT_STORY_WINDOW,
    max_age: timedelta = timedelta(days=36_500),
) -> SaveResult:
    """Save through the pipeline's store step with channels named after what ``route`` returns:
    ``by_notify`` gives a channel per notify tag (taking the rules with that tag), any other
    route a channel per name that takes every rule."""
    names = sorted({name for found in matches.values() for m in found for name in route(m)})
    tagged = route is by_notify
    channels = tuple(ChannelSpec(name=name, url="", tags=(name,) if tagged else ()) for name in names)
    routing = AlertRouting(channels, max_age=max_age)
    return save_and_queue(
        store, feed_id, items, matches, now, routing, story_keys=story_keys, story_window=story_window
    )
