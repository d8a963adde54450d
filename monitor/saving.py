"""The store step of the pipeline: save a feed's batch and queue what it should alert, atomically.

The store writes and reads; what to alert is decided here by the pure functions of
monitor.stories.alerting, between the read of the touched stories' state and the write of the
routed hits and messages, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.stages import Stage, stage
from monitor.store import Store, StoredHit
from monitor.store.items import DEFAULT_STORY_WINDOW
from monitor.stories.alerting import NewHit, UpdatePolicy, decide, is_fresh, outlets_that_matter, route
from monitor.stories.grouping import group
from monitor.types import ChannelSpec, DeliveryStatus, Item, RuleMatch, StoryKey

DEFAULT_MAX_AGE = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class AlertRouting:
    """Who hears about what: the channels, the rules muted today, and how old news may be."""

    channels: tuple[ChannelSpec, ...]
    max_age: timedelta = DEFAULT_MAX_AGE
    muted: frozenset[str] = frozenset()

    @property
    def policies(self) -> dict[str, UpdatePolicy]:
        return {spec.name: UpdatePolicy(spec.updates, spec.corroboration) for spec in self.channels}

    def channels_for(self, item: Item, match: RuleMatch, now: datetime) -> tuple[str, ...]:
        if match.rule_id in self.muted or not is_fresh(item.published, now, self.max_age):
            return ()
        return route(match, self.channels)


@dataclass(frozen=True, slots=True)
class SaveResult:
    new_items: int
    new_hits: int
    new_deliveries: int  # messages queued (first messages and updates)
    hit_ids: tuple[int, ...] = field(default=())  # every new hit, repeats included
    suppressed_hits: int = 0  # new hits repeating a rule their story already had


def save_and_queue(
    store: Store,
    feed_id: int,
    items: Sequence[Item],
    matches: Mapping[str, Sequence[RuleMatch]],
    now: datetime,
    routing: AlertRouting,
    *,
    story_keys: Mapping[str, StoryKey] | None = None,
    story_window: timedelta = DEFAULT_STORY_WINDOW,
) -> SaveResult:
    """Store the items, their stories and hits, and queue one message per story and channel.
    The store reads and writes; the decisions between are monitor.stories' pure functions.
    Each step is charged to its stage (monitor.stages); the transaction's own stage keeps what
    they leave: opening it and the commit on leaving the block."""
    with stage(Stage.COMMIT), store.saving() as transaction:
        with stage(Stage.SQL):
            inserted = transaction.insert_items(feed_id, items, now, story_keys or {})
        with stage(Stage.STORY_LOOKUP):
            candidates = transaction.story_candidates(inserted, now, story_window)
        with stage(Stage.GROUPING):
            grouping = group(inserted.for_stories, candidates)
        with stage(Stage.SQL):
            stories = transaction.write_stories(inserted, grouping, now)
            saved = transaction.insert_hits(feed_id, matches, inserted, stories, now)
            touched = frozenset(stories.values()) | {hit.story_id for hit in saved.hits if hit.story_id is not None}
            state = transaction.channel_states(touched)
            alerted = {story for (story, _), seen in state.items() if seen.first_status == DeliveryStatus.SENT}
            at_most = outlets_that_matter(routing.policies.values())
            outlets = transaction.outlet_counts(alerted, feed_id, inserted.ids.values(), at_most) if alerted else {}
            muted = transaction.muted_stories(touched)
        with stage(Stage.GROUPING):
            new_hits = _routed(saved.hits, items, matches, now, routing)
            decisions = decide(new_hits, state, outlets, routing.policies, muted)
        with stage(Stage.SQL):
            queued = transaction.queue(decisions, now)
    return SaveResult(
        new_items=len(inserted.ids),
        new_hits=len(saved.hits),
        new_deliveries=queued,
        hit_ids=tuple(sorted(hit.hit_id for hit in saved.hits)),
        suppressed_hits=saved.suppressed,
    )


def _routed(
    hits: Sequence[StoredHit],
    items: Sequence[Item],
    matches: Mapping[str, Sequence[RuleMatch]],
    now: datetime,
    routing: AlertRouting,
) -> list[NewHit]:
    by_key = {item.key: item for item in items}
    routed: list[NewHit] = []
    for hit in hits:
        item = by_key.get(hit.item_key)
        match = next((m for m in matches.get(hit.item_key, ()) if m.rule_id == hit.rule_id), None)
        if hit.story_id is None or item is None or match is None:
            continue
        channels = routing.channels_for(item, match, now)
        routed.append(NewHit(hit.hit_id, hit.story_id, hit.rule_id, hit.severity, channels))
    return routed
