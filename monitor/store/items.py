"""Items, stories, hits and their queued messages, saved in one transaction; streaming for backtests."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store import alert_state
from monitor.store.columns import dump_spans, dump_words, load_words
from monitor.store.db import _session, insert_ignoring_conflicts
from monitor.store.evidence import dump_evidence
from monitor.store.hashing import content_hash, sha256_text
from monitor.store.records import StoredHit, StoredItem
from monitor.store.story_hits import NewHit, mark_repeats
from monitor.store.story_items import story_candidates, story_columns, story_ids_of, write_stories
from monitor.store.tables import FeedRow, HitRow, ItemRow
from monitor.types import (
    AlertDecisions,
    ChannelStory,
    Item,
    NewStoryItem,
    RuleMatch,
    StoryCandidates,
    StoryGrouping,
    StoryKey,
)

_CHUNK = 500  # rows per statement / per streamed batch; bounded memory, few round trips

DEFAULT_STORY_WINDOW = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class InsertedItems:
    """What a save inserted: item ids by item key, and the items story grouping takes."""

    ids: Mapping[str, int]
    for_stories: tuple[NewStoryItem, ...]


@dataclass(frozen=True, slots=True)
class SavedHits:
    hits: tuple[StoredHit, ...]  # new hits only
    suppressed: int  # new hits repeating a rule their story already had


class SaveTransaction:
    """One transaction for one feed's save, in steps, so that the caller decides between the
    reads and the writes (monitor.saving): items; the stories they could join; the stories
    decided; hits; the touched stories' alert state; the messages decided.

    Every insert is ON CONFLICT DO NOTHING, so two workers saving the same feed at once (or a
    retry after a crash) converge on one row per item, per (item, rule) and per message."""

    def __init__(self, session: Session, engine: Engine) -> None:
        self._session = session
        self._engine = engine

    def insert_items(
        self, feed_id: int, items: Sequence[Item], now: datetime, story_keys: Mapping[str, StoryKey]
    ) -> InsertedItems:
        """Insert the items not stored yet; an item without a StoryKey (no text) will start a
        story of its own."""
        unique: dict[str, Item] = {}
        for item in items:
            unique.setdefault(item.key, item)
        keys = {key: story_keys.get(key) or _LONE for key in unique}
        inserted = _insert_items(self._session, self._engine, feed_id, unique.values(), keys, now)
        ids = {key: inserted[sha256_text(key)] for key in unique if sha256_text(key) in inserted}
        fresh = tuple(NewStoryItem(ids[key], item.title, keys[key]) for key, item in unique.items() if key in ids)
        return InsertedItems(ids, fresh)

    def story_candidates(self, inserted: InsertedItems, now: datetime, window: timedelta) -> StoryCandidates:
        return story_candidates(self._session, inserted.for_stories, now, window)

    def write_stories(self, inserted: InsertedItems, grouping: StoryGrouping, now: datetime) -> dict[int, int]:
        return write_stories(self._session, self._engine, inserted.for_stories, grouping, now)

    def insert_hits(
        self,
        feed_id: int,
        matches: Mapping[str, Sequence[RuleMatch]],
        inserted: InsertedItems,
        stories: Mapping[int, int],
        now: datetime,
    ) -> SavedHits:
        """Hits for every match on a stored item (new in this save or from before)."""
        session = self._session
        item_ids = _item_ids(session, feed_id, list(matches), known=inserted.ids)
        item_stories = story_ids_of(session, list(item_ids.values()), known=stories)
        new_hits = _insert_hits(session, self._engine, item_ids, item_stories, matches, now)
        repeats = mark_repeats(
            session, feed_id, [NewHit(h.hit_id, h.rule_id, h.story_id) for h in new_hits if h.story_id is not None]
        )
        return SavedHits(tuple(new_hits), len(repeats))

    def channel_states(self, story_ids: Collection[int]) -> dict[tuple[int, str], ChannelStory]:
        return alert_state.channel_states(self._session, story_ids)

    def muted_stories(self, story_ids: Collection[int]) -> set[int]:
        return alert_state.muted_stories(self._session, story_ids)

    def outlet_counts(
        self, story_ids: Collection[int], feed_id: int, new_item_ids: Collection[int], at_most: int
    ) -> dict[int, tuple[int, int]]:
        return alert_state.outlet_counts(self._session, story_ids, feed_id, new_item_ids, at_most)

    def queue(self, decisions: AlertDecisions, now: datetime) -> int:
        """Write the routed hits and messages the caller decided on; returns messages queued."""
        return alert_state.write_decisions(self._session, self._engine, decisions, now)


@contextmanager
def saving(engine: Engine) -> Iterator[SaveTransaction]:
    with _session(engine) as session:
        yield SaveTransaction(session, engine)


_LONE = StoryKey(canonical_link=None, signature="", bands=())  # no text: a story of its own


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
        "lang": item.lang,
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
) -> list[StoredHit]:
    """The NEW hits only, in insertion order."""
    by_item_rule: dict[tuple[int, str], tuple[str, RuleMatch]] = {}
    for key, rule_matches in matches.items():
        item_id = item_ids.get(key)
        if item_id is None:  # a match for an item that was never stored: nothing to attach it to
            continue
        for match in rule_matches:
            by_item_rule.setdefault((item_id, match.rule_id), (key, match))
    rows = [
        {
            "item_id": item_id,
            "rule_id": match.rule_id,
            "rule_title": match.rule_title,
            "severity": str(match.severity),
            "matched": dump_words(match.matched_words),
            "spans": dump_spans(match.spans),
            "snippet": match.snippet,
            "evidence": dump_evidence(match),
            "created_at": now,
            "story_id": item_stories.get(item_id),
        }
        for (item_id, _), (_, match) in by_item_rule.items()
    ]
    if not rows:
        return []
    table = HitRow.__table__  # type: ignore[attr-defined]
    statement = insert_ignoring_conflicts(engine, HitRow).returning(table.c.id, table.c.item_id, table.c.rule_id)
    hits: list[StoredHit] = []
    for hit_id, item_id, rule_id in _insert_many(session, statement, rows):
        key, match = by_item_rule[(item_id, rule_id)]
        hits.append(StoredHit(hit_id, key, item_stories.get(item_id), match.rule_id, match.severity))
    return hits


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
        lang=row.lang,
    )
    return StoredItem(
        item_id=row.id,
        item=item,
        feed_name=feed.config_name or feed.name,
        feed_tags=load_words(feed.tags),
        hit_rule_ids=rule_ids,
    )
