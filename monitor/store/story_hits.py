"""One story, one alert per rule: suppress repeat hits, count corroborating outlets.

Runs inside save_items' transaction after the new hits are inserted and before any delivery is
queued. Concurrency: on PostgreSQL two workers saving the same story from different feeds at
the same moment cannot see each other's uncommitted hits, so both may alert once — accepted,
like two stories being created (see story_items); on SQLite writers are serialised.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, update
from sqlmodel import Session, col, select

from monitor.store.tables import FeedRow, HitRow, ItemRow

MAX_OTHER_OUTLETS = 10

RealertPolicy = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class NewHit:
    hit_id: int
    rule_id: str
    story_id: int


def apply_story_policy(session: Session, feed_id: int, new_hits: Iterable[NewHit],
                       realert_on_new_source: RealertPolicy) -> set[int]:
    """Marks repeat hits suppressed and refreshes corroboration; returns the suppressed ids.

    A new hit is a repeat when its story already has a shown (not suppressed) hit for the same
    rule. It is still shown, and alerts, if the rule re-alerts on a new source and this feed had
    no hit for the rule in the story yet.
    """
    suppressed: set[int] = set()
    policy_cache: dict[str, bool] = {}
    for hit in sorted(new_hits, key=lambda h: h.hit_id):  # first saved is the one shown
        if not _has_shown_hit(session, hit):
            continue
        earlier_feeds = _feeds_with_hits(session, hit)
        if hit.rule_id not in policy_cache:
            policy_cache[hit.rule_id] = realert_on_new_source(hit.rule_id)
        if not (policy_cache[hit.rule_id] and feed_id not in earlier_feeds):
            suppressed.add(hit.hit_id)
            _suppress(session, hit.hit_id)
        _set_corroboration(session, hit, len(earlier_feeds | {feed_id}))
    return suppressed


def _same_story_and_rule(hit: NewHit) -> list[ColumnElement[bool]]:
    return [col(HitRow.story_id) == hit.story_id, col(HitRow.rule_id) == hit.rule_id,
            col(HitRow.id) != hit.hit_id]


def _feeds_with_hits(session: Session, hit: NewHit) -> set[int]:
    """Feeds (outlets) whose items in this story already hit this rule, this hit aside."""
    query = (
        select(col(ItemRow.feed_id)).join(HitRow, col(HitRow.item_id) == col(ItemRow.id))
        .where(*_same_story_and_rule(hit)).distinct()
    )
    return set(session.exec(query))


def _has_shown_hit(session: Session, hit: NewHit) -> bool:
    query = select(func.count()).select_from(HitRow).where(
        *_same_story_and_rule(hit), col(HitRow.suppressed).is_(False)
    )
    return int(session.exec(query).one()) > 0


def _suppress(session: Session, hit_id: int) -> None:
    session.execute(
        update(HitRow).where(col(HitRow.id) == hit_id).values(suppressed=True)
        .execution_options(synchronize_session=False)
    )


def _set_corroboration(session: Session, hit: NewHit, outlets: int) -> None:
    """Every shown hit of the story for the rule carries the count of outlets."""
    session.execute(
        update(HitRow)
        .where(col(HitRow.story_id) == hit.story_id, col(HitRow.rule_id) == hit.rule_id,
               col(HitRow.suppressed).is_(False))
        .values(corroboration=outlets)
        .execution_options(synchronize_session=False)
    )


def other_outlets(session: Session, story_ids: Collection[int]
                  ) -> Mapping[int, list[tuple[int, str]]]:
    """(feed id, feed name) of every feed with items in each story, sorted by name."""
    outlets: dict[int, list[tuple[int, str]]] = {}
    wanted = sorted(set(story_ids))
    for start in range(0, len(wanted), 500):
        query = (
            select(col(ItemRow.story_id), col(FeedRow.id), col(FeedRow.name))
            .join(FeedRow, col(FeedRow.id) == col(ItemRow.feed_id))
            .where(col(ItemRow.story_id).in_(wanted[start:start + 500])).distinct()
        )
        for story_id, feed_id, name in session.exec(query):
            if story_id is not None and feed_id is not None:
                outlets.setdefault(story_id, []).append((feed_id, name))
    for members in outlets.values():
        members.sort(key=lambda member: (member[1], member[0]))
    return outlets


def also_reported_by(outlets: Mapping[int, list[tuple[int, str]]], story_id: int | None,
                     feed_id: int, feed_name: str) -> tuple[str, ...]:
    """Names of the other feeds in the story: distinct, sorted, at most MAX_OTHER_OUTLETS."""
    if story_id is None:
        return ()
    names = dict.fromkeys(
        name for other_id, name in outlets.get(story_id, ())
        if other_id != feed_id and name != feed_name
    )
    return tuple(names)[:MAX_OTHER_OUTLETS]
