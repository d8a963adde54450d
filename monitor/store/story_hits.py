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
from sqlmodel import Session, col, select

from monitor.store.tables import FeedRow, HitRow, ItemRow

MAX_OTHER_OUTLETS = 10
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class NewHit:
    hit_id: int
    rule_id: str
    story_id: int


def mark_repeats(session: Session, feed_id: int, new_hits: Sequence[NewHit]) -> set[int]:
    """Marks repeat hits suppressed and refreshes corroboration; returns the suppressed ids.

    A new hit is a repeat when its story already has a hit for the same rule: `monitor hits`
    then shows the story once per rule, with the count of outlets whose reports matched it.
    Within one batch the first saved hit is the one shown. The shown hit carries that count,
    so a repeat costs two indexed reads however many copies the story holds: the group's shown
    hit, and whether this feed had reported the story for the rule before.
    """
    if not new_hits:
        return set()
    new_ids = {hit.hit_id for hit in new_hits}
    stories = sorted({hit.story_id for hit in new_hits})
    outlets = _shown_outlets(session, stories, new_ids)
    reported = _reported_by_feed(session, feed_id, stories, new_ids)
    suppressed: set[int] = set()
    changed: dict[tuple[int, str], int] = {}
    for hit in sorted(new_hits, key=lambda h: h.hit_id):
        group = (hit.story_id, hit.rule_id)
        if group not in outlets:
            outlets[group] = 1  # this hit is the one shown; its own outlet
        else:
            suppressed.add(hit.hit_id)
            if group not in reported:
                outlets[group] += 1
                changed[group] = outlets[group]
        reported.add(group)
    _suppress(session, suppressed)
    _set_corroboration(session, changed)
    return suppressed


def _shown_outlets(session: Session, stories: Sequence[int], new_ids: set[int]) -> dict[tuple[int, str], int]:
    """The outlet count of each (story, rule) group that has a shown hit from before this save."""
    shown: dict[tuple[int, str], int] = {}
    for start in range(0, len(stories), _CHUNK):
        query = select(col(HitRow.id), col(HitRow.story_id), col(HitRow.rule_id), col(HitRow.corroboration)).where(
            col(HitRow.story_id).in_(stories[start : start + _CHUNK]), col(HitRow.suppressed).is_(False)
        )
        for hit_id, story_id, rule_id, count in session.exec(query):
            if hit_id not in new_ids and story_id is not None:
                shown[(story_id, rule_id)] = max(count, shown.get((story_id, rule_id), 0))
    return shown


def _reported_by_feed(
    session: Session, feed_id: int, stories: Sequence[int], new_ids: set[int]
) -> set[tuple[int, str]]:
    """The (story, rule) groups this feed had a hit in before this save."""
    reported: set[tuple[int, str]] = set()
    for start in range(0, len(stories), _CHUNK):
        query = (
            select(col(HitRow.id), col(ItemRow.story_id), col(HitRow.rule_id))
            .join(HitRow, col(HitRow.item_id) == col(ItemRow.id))
            .where(col(ItemRow.feed_id) == feed_id, col(ItemRow.story_id).in_(stories[start : start + _CHUNK]))
        )
        for hit_id, story_id, rule_id in session.exec(query):
            if hit_id not in new_ids and story_id is not None:
                reported.add((story_id, rule_id))
    return reported


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
