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

from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.db import insert_ignoring_conflicts
from monitor.store.newest import first_recent_item, newest_by_band, newest_by_link
from monitor.store.tables import ItemBandRow, ItemRow, StoryRow
from monitor.types import NewStoryItem, StoryCandidate, StoryCandidates, StoryGrouping, StoryKey, StoryRef

CANDIDATES_PER_BAND = 20  # newest items first
CANDIDATES_PER_LINK = 5  # a link's newest items; their stories, most recently grown first
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
    first = first_recent_item(session, cutoff)
    if first is None:  # nothing fetched within the window: no recent story to join
        return StoryCandidates({}, {})
    by_link = _stories_by_link(session, [n.key.link_digest for n in new_items], first, cutoff)
    # An item whose link found a story joins it whatever its text (monitor.stories.grouping), so
    # only the others need text candidates: wire copy under one link costs no band lookups.
    unlinked = [n for n in new_items if n.key.link_digest not in by_link]
    by_band = _candidates_by_band(session, [b for n in unlinked for b in n.key.lookup_bands], first, cutoff)
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


def _stories_by_link(
    session: Session, digests: Iterable[str | None], first: int, cutoff: datetime
) -> dict[str, StoryRef]:
    """The most recently grown recent story among the newest items of each canonical link."""
    found: dict[str, StoryRef] = {}
    for chunk in _chunks(digests):
        for digest, story_id in newest_by_link(session, chunk, first, cutoff, CANDIDATES_PER_LINK):
            found.setdefault(digest, story_id)  # rows come most recently grown first
    return found


def _candidates_by_band(
    session: Session, bands: Iterable[str | None], first: int, cutoff: datetime
) -> dict[str, list[StoryCandidate]]:
    """Per band, the stories of the newest items fetched within the window that share it, when
    those stories are recent (monitor.store.newest: a band shared by thousands of items costs
    what its newest few cost)."""
    found: dict[str, list[StoryCandidate]] = {}
    for chunk in _chunks(bands):
        for band, story_id, signature in newest_by_band(session, chunk, first, cutoff, CANDIDATES_PER_BAND):
            if signature:
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
