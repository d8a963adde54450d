"""One story, one shown hit per rule: mark repeat hits, count corroborating outlets.

Runs inside the save's transaction after the new hits are inserted. Concurrency: on PostgreSQL
two workers saving the same story from different feeds at the same moment cannot see each
other's uncommitted hits, so both hits may stay shown — accepted, like two stories being
created (see story_items); on SQLite writers are serialised.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.store.tables import FeedRow, HitRow, ItemRow

MAX_OTHER_OUTLETS = 10
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class NewHit:
    hit_id: int
    rule_id: str
    story_id: int


@dataclass(frozen=True, slots=True)
class _Seen:
    """A hit already in a (story, rule) group: its outlet and whether it is shown."""

    feed_id: int
    shown: bool


def mark_repeats(session: Session, feed_id: int, new_hits: Sequence[NewHit]) -> set[int]:
    """Marks repeat hits suppressed and refreshes corroboration; returns the suppressed ids.

    A new hit is a repeat when its story already has a hit for the same rule: `monitor hits`
    then shows the story once per rule, with the count of outlets whose reports matched it.
    Within one batch the first saved hit is the one shown.
    """
    if not new_hits:
        return set()
    groups = _existing_groups(session, new_hits)
    suppressed: set[int] = set()
    outlets: dict[tuple[int, str], int] = {}
    for hit in sorted(new_hits, key=lambda h: h.hit_id):
        group = groups.setdefault((hit.story_id, hit.rule_id), [])
        earlier_feeds = {seen.feed_id for seen in group}
        shown_before = any(seen.shown for seen in group)
        if shown_before:
            suppressed.add(hit.hit_id)
            outlets[(hit.story_id, hit.rule_id)] = len(earlier_feeds | {feed_id})
        group.append(_Seen(feed_id, not shown_before))
    _suppress(session, suppressed)
    _set_corroboration(session, outlets)
    return suppressed


def _existing_groups(session: Session, new_hits: Sequence[NewHit]) -> dict[tuple[int, str], list[_Seen]]:
    """The other hits of the new hits' (story, rule) groups, oldest first."""
    wanted = {(hit.story_id, hit.rule_id) for hit in new_hits}
    new_ids = {hit.hit_id for hit in new_hits}
    stories = sorted({story_id for story_id, _ in wanted})
    groups: dict[tuple[int, str], list[_Seen]] = {}
    for start in range(0, len(stories), _CHUNK):
        query = (  # five columns: past sqlmodel.select's typed overloads, so plain SQLAlchemy
            sa_select(
                col(HitRow.id), col(HitRow.story_id), col(HitRow.rule_id), col(HitRow.suppressed), col(ItemRow.feed_id)
            )
            .join(ItemRow, col(ItemRow.id) == col(HitRow.item_id))
            .where(col(HitRow.story_id).in_(stories[start : start + _CHUNK]))
            .order_by(col(HitRow.id))
        )
        for hit_id, story_id, rule_id, hidden, hit_feed in session.execute(query):
            if hit_id in new_ids or story_id is None or (story_id, rule_id) not in wanted:
                continue
            groups.setdefault((story_id, rule_id), []).append(_Seen(hit_feed, not hidden))
    return groups


def _suppress(session: Session, hit_ids: set[int]) -> None:
    ordered = sorted(hit_ids)
    for start in range(0, len(ordered), _CHUNK):
        session.execute(
            update(HitRow)
            .where(col(HitRow.id).in_(ordered[start : start + _CHUNK]))
            .values(suppressed=True)
            .execution_options(synchronize_session=False)
        )


def _set_corroboration(session: Session, outlets: Mapping[tuple[int, str], int]) -> None:
    """Every shown hit of a story for a rule carries the story's count of outlets."""
    if not outlets:
        return
    table = HitRow.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(
            table.c.story_id == bindparam("b_story"),
            table.c.rule_id == bindparam("b_rule"),
            table.c.suppressed.is_(False),
        )
        .values(corroboration=bindparam("b_outlets"))
    )
    rows = [
        {"b_story": story_id, "b_rule": rule_id, "b_outlets": count} for (story_id, rule_id), count in outlets.items()
    ]
    session.connection().execute(statement, rows)


def other_outlets(session: Session, story_ids: Collection[int]) -> Mapping[int, list[tuple[int, str]]]:
    """(feed id, feed name) of every feed with items in each story, sorted by name."""
    outlets: dict[int, list[tuple[int, str]]] = {}
    wanted = sorted(set(story_ids))
    for start in range(0, len(wanted), _CHUNK):
        query = (
            select(col(ItemRow.story_id), col(FeedRow.id), col(FeedRow.name))
            .join(FeedRow, col(FeedRow.id) == col(ItemRow.feed_id))
            .where(col(ItemRow.story_id).in_(wanted[start : start + _CHUNK]))
            .distinct()
        )
        for story_id, feed_id, name in session.exec(query):
            if story_id is not None and feed_id is not None:
                outlets.setdefault(story_id, []).append((feed_id, name))
    for members in outlets.values():
        members.sort(key=lambda member: (member[1], member[0]))
    return outlets


def also_reported_by(
    outlets: Mapping[int, list[tuple[int, str]]], story_id: int | None, feed_id: int, feed_name: str
) -> tuple[str, ...]:
    """Names of the other feeds in the story: distinct, sorted, at most MAX_OTHER_OUTLETS."""
    if story_id is None:
        return ()
    names = dict.fromkeys(
        name for other_id, name in outlets.get(story_id, ()) if other_id != feed_id and name != feed_name
    )
    return tuple(names)[:MAX_OTHER_OUTLETS]
