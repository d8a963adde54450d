"""Storage for stories: read the candidates a batch could join, write what grouping decided.

Runs inside the save's transaction. The recent stories' links and band candidates for the
whole batch are read with a few indexed queries; monitor.stories.grouping decides in memory
(so items of one batch also find each other); the results are written back in bulk. Only
stories that grew within the story window take new items (follow-ups weeks later re-use the
same words but are new stories).

Concurrency: two workers saving near-identical items from different feeds at the same moment
(PostgreSQL) cannot see each other's uncommitted rows, so each may create its own story; the
two then stay separate stories. That is accepted: it costs one extra alert, never a lost one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.db import insert_ignoring_conflicts
from monitor.store.tables import ItemBandRow, ItemRow, StoryRow
from monitor.types import NewStoryItem, StoryCandidate, StoryCandidates, StoryGrouping, StoryKey, StoryRef

CANDIDATES_PER_BAND = 20  # newest items first
MAX_STORY_TITLE = 1000
_CHUNK = 500


def story_columns(key: StoryKey | None) -> dict[str, Any]:
    """The items-table values that let later items find this one's story."""
    if key is None:
        return {"story_signature": None, "story_link_sha256": None}
    return {"story_signature": key.signature, "story_link_sha256": key.link_digest}


def story_candidates(
    session: Session, new_items: Sequence[NewStoryItem], now: datetime, window: timedelta
) -> StoryCandidates:
    """The recent stories the batch's items could join, by link and by band (a few indexed
    queries for the whole batch); monitor.stories.grouping decides."""
    cutoff = now - window
    by_link = _stories_by_link(session, [n.key.link_digest for n in new_items], cutoff)
    by_band = _candidates_by_band(session, [b for n in new_items for b in n.key.lookup_bands], cutoff)
    return StoryCandidates(by_link, by_band)


def write_stories(
    session: Session, engine: Engine, new_items: Sequence[NewStoryItem], grouping: StoryGrouping, now: datetime
) -> dict[int, int]:
    """Create the batch's new stories, attach every item, store the band keys; story id by
    item id."""
    created = _insert_stories(session, grouping.new_stories, now)
    resolved = {item_id: created[-ref - 1] if ref < 0 else ref for item_id, ref in grouping.chosen.items()}
    _touch_stories(session, {ref for ref in grouping.chosen.values() if ref > 0}, now)
    if resolved:
        _set_item_stories(session, resolved)
    _insert_bands(session, engine, new_items)
    return resolved


def _chunks(values: Iterable[str | None]) -> Iterable[list[str]]:
    unique = sorted({value for value in values if value is not None})
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def _stories_by_link(session: Session, digests: Iterable[str | None], cutoff: datetime) -> dict[str, StoryRef]:
    """The most recently grown recent story of each canonical-link digest."""
    found: dict[str, tuple[datetime, int]] = {}
    for chunk in _chunks(digests):
        query = (
            select(col(ItemRow.story_link_sha256), col(StoryRow.id), col(StoryRow.last_seen_at))
            .join(StoryRow, col(StoryRow.id) == col(ItemRow.story_id))
            .where(col(ItemRow.story_link_sha256).in_(chunk), col(StoryRow.last_seen_at) >= cutoff)
        )
        for digest, story_id, seen in session.exec(query):
            if digest is None or story_id is None or seen is None:
                continue
            if digest not in found or (seen, story_id) > found[digest]:
                found[digest] = (seen, story_id)
    return {digest: story for digest, (_, story) in found.items()}


def _candidates_by_band(
    session: Session, bands: Iterable[str | None], cutoff: datetime
) -> dict[str, list[StoryCandidate]]:
    """Per band, the newest items fetched within the window that share it and belong to a
    recent story.

    A band over a common word is shared by thousands of items. The ranking runs inside the
    (band, item_id) index over the window's items only, and item and story rows are read for
    the newest few per band, so a lookup costs what the last few days hold, not what the
    database has gathered (ranking every sharer by its story's last_seen_at made a first poll
    of 1,000 feeds slow down feed after feed)."""
    found: dict[str, list[StoryCandidate]] = {}
    # Item ids grow with fetch time: the window's items are those from its first id on (none
    # when nothing was fetched within it, as a comparison with NULL holds for no row).
    first_recent_item = select(func.min(col(ItemRow.id))).where(col(ItemRow.fetched_at) >= cutoff).scalar_subquery()
    for chunk in _chunks(bands):
        rank = (
            func.row_number()
            .over(partition_by=col(ItemBandRow.band), order_by=col(ItemBandRow.item_id).desc())
            .label("rank")
        )
        newest = (
            select(col(ItemBandRow.band), col(ItemBandRow.item_id), rank)
            .where(col(ItemBandRow.band).in_(chunk), col(ItemBandRow.item_id) >= first_recent_item)
            .subquery()
        )
        query = (
            select(newest.c.band, col(ItemRow.story_id), col(ItemRow.story_signature))
            .join(ItemRow, col(ItemRow.id) == newest.c.item_id)
            .join(StoryRow, col(StoryRow.id) == col(ItemRow.story_id))
            .where(newest.c.rank <= CANDIDATES_PER_BAND, col(StoryRow.last_seen_at) >= cutoff)
            .order_by(newest.c.rank)
        )
        for band, story_id, signature in session.execute(query):
            if story_id is not None and signature:
                found.setdefault(band, []).append(StoryCandidate(story_id, signature))
    return found


def _insert_stories(session: Session, pending: Sequence[NewStoryItem], now: datetime) -> list[int]:
    """Create one story per pending item; ids in the same order."""
    if not pending:
        return []
    table = StoryRow.__table__  # type: ignore[attr-defined]
    rows = [
        {
            "first_seen_at": now,
            "last_seen_at": now,
            "title": new.title[:MAX_STORY_TITLE],
            "signature": new.key.signature or None,
        }
        for new in pending
    ]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [int(row[0]) for row in session.connection().execute(statement, rows)]


def _touch_stories(session: Session, story_ids: set[int], now: datetime) -> None:
    """Stored stories that took a new item stay open for another window from now."""
    ordered = sorted(story_ids)
    for start in range(0, len(ordered), _CHUNK):
        session.execute(
            update(StoryRow)
            .where(col(StoryRow.id).in_(ordered[start : start + _CHUNK]), col(StoryRow.last_seen_at) < now)
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )


def _set_item_stories(session: Session, stories: Mapping[int, int]) -> None:
    table = ItemRow.__table__  # type: ignore[attr-defined]
    statement = update(table).where(table.c.id == bindparam("b_item")).values(story_id=bindparam("b_story"))
    rows = [{"b_item": item_id, "b_story": story_id} for item_id, story_id in stories.items()]
    session.connection().execute(statement, rows)


def _insert_bands(session: Session, engine: Engine, new_items: Sequence[NewStoryItem]) -> None:
    rows = [{"item_id": new.item_id, "band": band} for new in new_items for band in new.key.lookup_bands]
    # fix: executemany, not .values(rows): a multi-row VALUES statement is compiled anew for every
    # chunk (~1,000 bind parameters each), which made this the costliest step of a first poll.
    statement = insert_ignoring_conflicts(engine, ItemBandRow)
    for start in range(0, len(rows), _CHUNK):
        session.connection().execute(statement, rows[start : start + _CHUNK])


def story_ids_of(session: Session, item_ids: Sequence[int], known: Mapping[int, int]) -> dict[int, int]:
    """Story id by item id for the given items that have one (new ones from `known`)."""
    found = {item_id: known[item_id] for item_id in item_ids if item_id in known}
    missing = [item_id for item_id in item_ids if item_id not in known]
    for start in range(0, len(missing), _CHUNK):
        query = select(col(ItemRow.id), col(ItemRow.story_id)).where(
            col(ItemRow.id).in_(missing[start : start + _CHUNK]), col(ItemRow.story_id).is_not(None)
        )
        for item_id, story_id in session.exec(query):
            if item_id is not None and story_id is not None:
                found[item_id] = story_id
    return found
