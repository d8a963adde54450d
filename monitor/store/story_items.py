"""Put newly stored items into stories: same canonical link, else near-duplicate text.

Runs inside save_items' transaction, one item at a time, so items of one batch see each other.
Only stories that grew within the story window take new items (monitor.stories: follow-ups
weeks later re-use the same words but are new stories).

Concurrency: two workers saving near-identical items from different feeds at the same moment
(PostgreSQL) cannot see each other's uncommitted rows, so each may create its own story; the
two then stay separate stories. That is accepted: it costs one extra alert, never a lost one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.store.db import insert_ignoring_conflicts
from monitor.store.hashing import sha256_text
from monitor.store.tables import ItemBandRow, ItemRow, StoryRow
from monitor.stories import StoryKey, same_story, similarity

MAX_CANDIDATES = 100  # band matches confirmed per item: bounds work on spammy near-duplicates
MAX_BANDS = 64  # per item; monitor.stories makes 16
MAX_BAND_TEXT = 64
MAX_STORY_TITLE = 1000


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item this save inserted, with what story grouping needs of it."""

    item_id: int
    title: str
    key: StoryKey


def story_columns(key: StoryKey | None) -> dict[str, Any]:
    """The items-table values that let later items find this one's story."""
    if key is None:
        return {"story_signature": None, "story_link_sha256": None}
    link = None if key.canonical_link is None else sha256_text(key.canonical_link)
    return {"story_signature": key.signature, "story_link_sha256": link}


def assign_stories(session: Session, engine: Engine, new_items: Sequence[NewItem],
                   now: datetime, window: timedelta) -> dict[int, int]:
    """Story id by item id for every given item (joining a recent story or starting one)."""
    cutoff = now - window
    assigned: dict[int, int] = {}
    for new in new_items:
        story_id = _story_by_link(session, new.key, cutoff)
        if story_id is None:
            story_id = _story_by_text(session, new, cutoff)
        if story_id is None:
            story_id = _new_story(session, new, now)
        else:
            _touch_story(session, story_id, now)
        session.execute(
            update(ItemRow).where(col(ItemRow.id) == new.item_id).values(story_id=story_id)
            .execution_options(synchronize_session=False)
        )
        _insert_bands(session, engine, new)
        assigned[new.item_id] = story_id
    return assigned


def _recent_stories(cutoff: datetime) -> Any:
    return col(StoryRow.last_seen_at) >= cutoff


def _story_by_link(session: Session, key: StoryKey, cutoff: datetime) -> int | None:
    if key.canonical_link is None:
        return None
    query = (
        select(col(ItemRow.story_id))
        .join(StoryRow, col(StoryRow.id) == col(ItemRow.story_id))
        .where(col(ItemRow.story_link_sha256) == sha256_text(key.canonical_link),
               _recent_stories(cutoff))
        .order_by(col(StoryRow.last_seen_at).desc(), col(StoryRow.id)).limit(1)
    )
    return session.exec(query).first()


def _story_by_text(session: Session, new: NewItem, cutoff: datetime) -> int | None:
    """The recent story of the most similar earlier item sharing a band, once confirmed."""
    bands = _bounded_bands(new.key)
    if not bands:
        return None
    query = (
        select(col(ItemRow.id), col(ItemRow.story_id), col(ItemRow.story_signature),
               col(StoryRow.last_seen_at))
        .join(ItemBandRow, col(ItemBandRow.item_id) == col(ItemRow.id))
        .join(StoryRow, col(StoryRow.id) == col(ItemRow.story_id))
        .where(col(ItemBandRow.band).in_(bands), _recent_stories(cutoff))
        .distinct()
        .order_by(col(StoryRow.last_seen_at).desc(), col(ItemRow.id).desc())
        .limit(MAX_CANDIDATES)
    )
    best: tuple[float, int] | None = None
    for _item_id, story_id, signature, _seen in session.exec(query):
        if story_id is None or not signature:
            continue
        # Links were compared by the indexed lookup already; here only the text decides.
        candidate = StoryKey(canonical_link=None, signature=signature, bands=())
        text_only = StoryKey(canonical_link=None, signature=new.key.signature, bands=())
        if same_story(text_only, candidate):
            score = similarity(text_only, candidate)
            if best is None or score > best[0]:
                best = (score, story_id)
    return None if best is None else best[1]


def _new_story(session: Session, new: NewItem, now: datetime) -> int:
    story = StoryRow(first_seen_at=now, last_seen_at=now, title=new.title[:MAX_STORY_TITLE],
                     signature=new.key.signature or None)
    session.add(story)
    session.flush()
    assert story.id is not None
    return story.id


def _touch_story(session: Session, story_id: int, now: datetime) -> None:
    session.execute(
        update(StoryRow)
        .where(col(StoryRow.id) == story_id, col(StoryRow.last_seen_at) < now)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def _bounded_bands(key: StoryKey) -> list[str]:
    return list(dict.fromkeys(band[:MAX_BAND_TEXT] for band in key.bands[:MAX_BANDS]))


def _insert_bands(session: Session, engine: Engine, new: NewItem) -> None:
    rows = [{"item_id": new.item_id, "band": band} for band in _bounded_bands(new.key)]
    if rows:
        session.connection().execute(insert_ignoring_conflicts(engine, ItemBandRow), rows)


def story_ids_of(session: Session, item_ids: Sequence[int],
                 known: Mapping[int, int]) -> dict[int, int]:
    """Story id by item id for the given items that have one (new ones from `known`)."""
    found = {item_id: known[item_id] for item_id in item_ids if item_id in known}
    missing = [item_id for item_id in item_ids if item_id not in known]
    for start in range(0, len(missing), 500):
        query = select(col(ItemRow.id), col(ItemRow.story_id)).where(
            col(ItemRow.id).in_(missing[start:start + 500]), col(ItemRow.story_id).is_not(None)
        )
        for item_id, story_id in session.exec(query):
            if item_id is not None and story_id is not None:
                found[item_id] = story_id
    return found
