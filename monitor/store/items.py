"""Items, hits and their pending deliveries, saved in one transaction; streaming for backtests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.columns import dump_spans, dump_words, load_words
from monitor.store.db import _session, insert_ignoring_conflicts
from monitor.store.hashing import content_hash, sha256_text
from monitor.store.records import SaveResult, StoredItem
from monitor.store.story_hits import NewHit, RealertPolicy, apply_story_policy
from monitor.store.story_items import NewItem, assign_stories, story_columns, story_ids_of
from monitor.store.tables import DeliveryRow, FeedRow, HitRow, ItemRow
from monitor.stories import StoryKey
from monitor.types import Item, RuleMatch

_CHUNK = 500  # rows per statement / per streamed batch; bounded memory, few round trips

DEFAULT_STORY_WINDOW = timedelta(days=3)

Route = Callable[[RuleMatch], Sequence[str]]


def _never(_rule_id: str) -> bool:
    return False


def save_items(
    engine: Engine,
    feed_id: int,
    items: Sequence[Item],
    matches: Mapping[str, Sequence[RuleMatch]],
    route: Route,
    now: datetime,
    *,
    story_keys: Mapping[str, StoryKey] | None = None,
    realert_on_new_source: RealertPolicy = _never,
    story_window: timedelta = DEFAULT_STORY_WINDOW,
) -> SaveResult:
    """Insert what is new, never duplicate anything, and queue deliveries only for new hits.

    Every insert is ON CONFLICT DO NOTHING, so two workers saving the same feed at once (or a
    retry after a crash) converge on one row per item, per (item, rule) and per (hit, channel).
    New items with a StoryKey join a recent story or start one (story_items); a new hit on a
    story that already alerted for its rule is stored suppressed, without deliveries
    (story_hits). All of it is one transaction.
    """
    unique_items: dict[str, Item] = {}
    for item in items:
        unique_items.setdefault(item.key, item)
    keys = story_keys or {}
    with _session(engine) as session:
        new_item_ids = _insert_items(session, engine, feed_id, unique_items.values(), keys, now)
        stories = assign_stories(session, engine, _new_story_items(unique_items, keys, new_item_ids), now, story_window)
        item_ids = _item_ids(session, feed_id, list(matches), known=new_item_ids)
        item_stories = story_ids_of(session, list(item_ids.values()), known=stories)
        new_hits = _insert_hits(session, engine, item_ids, item_stories, matches, now)
        suppressed = apply_story_policy(
            session,
            feed_id,
            [
                NewHit(hit_id, match.rule_id, story_id)
                for hit_id, (match, story_id) in new_hits.items()
                if story_id is not None
            ],
            realert_on_new_source,
        )
        alerting = {hit_id: match for hit_id, (match, _) in new_hits.items() if hit_id not in suppressed}
        deliveries = _insert_deliveries(session, engine, alerting, route, now)
    return SaveResult(
        new_items=len(new_item_ids),
        new_hits=len(new_hits),
        new_deliveries=deliveries,
        hit_ids=tuple(sorted(new_hits)),
        suppressed_hits=len(suppressed),
    )


def _new_story_items(
    unique_items: Mapping[str, Item], keys: Mapping[str, StoryKey], new_item_ids: Mapping[str, int]
) -> list[NewItem]:
    """The items inserted by this save that have a StoryKey, in batch order."""
    return [
        NewItem(item_id=new_item_ids[sha256_text(key)], title=item.title, key=keys[key])
        for key, item in unique_items.items()
        if key in keys and sha256_text(key) in new_item_ids
    ]


def _insert_many(session: Session, statement: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """Batched INSERT ... RETURNING; conflicting rows are skipped and return nothing."""
    returned: list[Any] = []
    for start in range(0, len(rows), _CHUNK):
        result = session.connection().execute(statement, rows[start : start + _CHUNK])
        returned.extend(result.all())
    return returned


def _insert_items(
    session: Session, engine: Engine, feed_id: int, items: Iterable[Item], keys: Mapping[str, StoryKey], now: datetime
) -> dict[str, int]:
    """Item id by key digest for the items that were not stored yet."""
    rows = [_item_values(feed_id, item, now) | story_columns(keys.get(item.key)) for item in items]
    if not rows:
        return {}
    table = ItemRow.__table__  # type: ignore[attr-defined]
    statement = insert_ignoring_conflicts(engine, ItemRow).returning(table.c.key_sha256, table.c.id)
    return {str(row[0]): int(row[1]) for row in _insert_many(session, statement, rows)}


def _item_values(feed_id: int, item: Item, now: datetime) -> dict[str, Any]:
    return {
        "feed_id": feed_id,
        "key": item.key,
        "key_sha256": sha256_text(item.key),
        "title": item.title,
        "summary": item.summary,
        "content": item.content,
        "author": item.author,
        "link": item.link,
        "link_sha256": None if item.link is None else sha256_text(item.link),
        "published_at": item.published,
        "fetched_at": now,
        "content_hash": content_hash(item),
    }


def _item_ids(session: Session, feed_id: int, keys: list[str], known: Mapping[str, int]) -> dict[str, int]:
    """Item ids by item key for every key that is stored (new in this save or from before)."""
    ids: dict[str, int] = {}
    missing: dict[str, str] = {}
    for key in keys:
        digest = sha256_text(key)
        if digest in known:
            ids[key] = known[digest]
        else:
            missing[digest] = key
    digests = list(missing)
    for start in range(0, len(digests), _CHUNK):
        query = select(col(ItemRow.key_sha256), col(ItemRow.id)).where(
            col(ItemRow.feed_id) == feed_id,
            col(ItemRow.key_sha256).in_(digests[start : start + _CHUNK]),
        )
        for digest, item_id in session.exec(query):
            if item_id is not None:
                ids[missing[digest]] = item_id
    return ids


def _insert_hits(
    session: Session,
    engine: Engine,
    item_ids: Mapping[str, int],
    item_stories: Mapping[int, int],
    matches: Mapping[str, Sequence[RuleMatch]],
    now: datetime,
) -> dict[int, tuple[RuleMatch, int | None]]:
    """Returns the NEW hits only: hit id → the match that produced it and the item's story."""
    by_item_rule: dict[tuple[int, str], RuleMatch] = {}
    for key, rule_matches in matches.items():
        item_id = item_ids.get(key)
        if item_id is None:  # a match for an item that was never stored: nothing to attach it to
            continue
        for match in rule_matches:
            by_item_rule.setdefault((item_id, match.rule_id), match)
    rows = [
        {
            "item_id": item_id,
            "rule_id": match.rule_id,
            "rule_title": match.rule_title,
            "severity": str(match.severity),
            "matched": dump_words(match.matched_words),
            "spans": dump_spans(match.spans),
            "snippet": match.snippet,
            "created_at": now,
            "story_id": item_stories.get(item_id),
        }
        for (item_id, _), match in by_item_rule.items()
    ]
    if not rows:
        return {}
    table = HitRow.__table__  # type: ignore[attr-defined]
    statement = insert_ignoring_conflicts(engine, HitRow).returning(table.c.id, table.c.item_id, table.c.rule_id)
    returned = _insert_many(session, statement, rows)
    return {
        hit_id: (by_item_rule[(item_id, rule_id)], item_stories.get(item_id)) for hit_id, item_id, rule_id in returned
    }


def _insert_deliveries(
    session: Session, engine: Engine, new_hits: Mapping[int, RuleMatch], route: Route, now: datetime
) -> int:
    rows = [
        {
            "hit_id": hit_id,
            "channel": channel,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for hit_id, match in new_hits.items()
        for channel in dict.fromkeys(route(match))
    ]
    if not rows:
        return 0
    table = DeliveryRow.__table__  # type: ignore[attr-defined]
    statement = insert_ignoring_conflicts(engine, DeliveryRow).returning(table.c.id)
    return len(_insert_many(session, statement, rows))


def iter_items(engine: Engine, since: datetime | None = None) -> Iterator[StoredItem]:
    """Every stored item (fetched at or after `since`), oldest first, read in batches.

    Each batch is read in its own short transaction, so a slow consumer never holds one open.
    """
    after_id = 0
    while True:
        batch = _item_batch(engine, after_id, since)
        if not batch:
            return
        yield from batch
        after_id = batch[-1].item_id


def _item_batch(engine: Engine, after_id: int, since: datetime | None) -> list[StoredItem]:
    query = (
        select(ItemRow, FeedRow)
        .join(FeedRow, col(FeedRow.id) == col(ItemRow.feed_id))
        .where(col(ItemRow.id) > after_id)
        .order_by(col(ItemRow.id))
        .limit(_CHUNK)
    )
    if since is not None:
        query = query.where(col(ItemRow.fetched_at) >= since)
    with _session(engine, write=False) as session:
        rows = list(session.exec(query))
        ids = [item.id for item, _ in rows]
        rules: dict[int, set[str]] = {}
        if ids:
            hits = select(col(HitRow.item_id), col(HitRow.rule_id)).where(col(HitRow.item_id).in_(ids))
            for item_id, rule_id in session.exec(hits):
                rules.setdefault(item_id, set()).add(rule_id)
    return [_stored_item(item, feed, frozenset(rules.get(item.id or 0, ()))) for item, feed in rows]


def _stored_item(row: ItemRow, feed: FeedRow, rule_ids: frozenset[str]) -> StoredItem:
    assert row.id is not None
    item = Item(
        key=row.key,
        feed_url=feed.url,
        title=row.title,
        summary=row.summary,
        content=row.content,
        link=row.link,
        published=row.published_at,
        author=row.author,
    )
    return StoredItem(
        item_id=row.id,
        item=item,
        feed_name=feed.config_name or feed.name,
        feed_tags=load_words(feed.tags),
        hit_rule_ids=rule_ids,
    )
