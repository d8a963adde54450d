"""The store step of the pipeline: save a feed's batch and queue what it should alert, atomically.

The store writes and reads; what to alert is decided here by the pure functions of
monitor.stories.alerting, between the read of the touched stories' state and the write of the
routed hits and messages, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.store import SavedBatch, Store
from monitor.store.items import DEFAULT_STORY_WINDOW
from monitor.stories import StoryKey
from monitor.stories.alerting import NewHit, UpdatePolicy, decide, is_fresh, route
from monitor.types import ChannelSpec, DeliveryStatus, Item, RuleMatch

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
    """Store the items, their stories and hits, and queue one message per story and channel."""
    with store.saving() as transaction:
        batch = transaction.save_items(
            feed_id, items, matches, now, story_keys=story_keys, story_window=story_window
        )
        new_hits = _routed(batch, items, matches, now, routing)
        state = transaction.channel_states(batch.touched_stories)
        alerted = {story for (story, _), seen in state.items() if seen.first_status == DeliveryStatus.SENT}
        outlets = transaction.outlet_counts(alerted, batch.new_item_ids.values()) if alerted else {}
        queued = transaction.queue(decide(new_hits, state, outlets, routing.policies), now)
    return SaveResult(
        new_items=len(batch.new_item_ids),
        new_hits=len(batch.hits),
        new_deliveries=queued,
        hit_ids=tuple(sorted(hit.hit_id for hit in batch.hits)),
        suppressed_hits=batch.suppressed,
    )


def _routed(
    batch: SavedBatch,
    items: Sequence[Item],
    matches: Mapping[str, Sequence[RuleMatch]],
    now: datetime,
    routing: AlertRouting,
) -> list[NewHit]:
    by_key = {item.key: item for item in items}
    routed: list[NewHit] = []
    for hit in batch.hits:
        item = by_key.get(hit.item_key)
        match = next((m for m in matches.get(hit.item_key, ()) if m.rule_id == hit.rule_id), None)
        if hit.story_id is None or item is None or match is None:
            continue
        channels = routing.channels_for(item, match, now)
        routed.append(NewHit(hit.hit_id, hit.story_id, hit.rule_id, hit.severity, channels))
    return routed
