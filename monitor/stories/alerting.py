"""What to send about stories: pure decisions, batch and current state in, rows to write out.

The unit of alerting is the story, per channel. A channel's first message about a story goes
out once, listing every rule routed to that channel; a rule that matches a later report of the
story joins it (while the first message is still pending, the message simply shows it when sent).
After the first message was sent, a channel hears again only when the story crosses an outlet
threshold or gains a rule of higher severity, and then at most once per such event. The store
reads the state these functions need and writes what they return, in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.types import (
    AlertDecisions,
    ChannelSpec,
    ChannelStory,
    DeliveryStatus,
    QueuedMessage,
    RoutedHit,
    RuleMatch,
    Severity,
    UpdateKind,
)

FIRST = "first"


def route(match: RuleMatch, channels: Sequence[ChannelSpec]) -> tuple[str, ...]:
    """The channels a rule's hit goes to. A rule without notify tags goes to every channel; a
    channel without tags takes every rule; otherwise they must share a tag. A severity below
    the channel's minimum is dropped."""
    wanted = set(match.notify)
    return tuple(
        channel.name
        for channel in channels
        if match.severity.rank >= channel.min_severity.rank
        and not (wanted and channel.tags and not wanted.intersection(channel.tags))
    )


def is_fresh(published: datetime | None, fetched: datetime, max_age: timedelta) -> bool:
    """Old news stays quiet: an item published more than ``max_age`` before it was fetched
    raises no alert. An item without a date counts as published when first seen."""
    return published is None or fetched - published <= max_age


@dataclass(frozen=True, slots=True)
class NewHit:
    """A hit this save stored, with the channels its rule routes to (empty when muted or old)."""

    hit_id: int
    story_id: int
    rule_id: str
    severity: Severity
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UpdatePolicy:
    kinds: frozenset[UpdateKind]
    thresholds: tuple[int, ...]


@dataclass(slots=True)
class _Working:
    """One (story, channel) while a batch is decided."""

    rules: dict[str, Severity]
    first_status: str | None
    pending_update: bool
    severity_before: Severity | None


def decide(
    new_hits: Sequence[NewHit],
    state: Mapping[tuple[int, str], ChannelStory],
    outlets: Mapping[int, tuple[int, int]],
    policies: Mapping[str, UpdatePolicy],
    muted: Collection[int] = (),
) -> AlertDecisions:
    """Route the batch's hits and decide which messages to queue.

    ``state`` holds what each (story, channel) touched by the batch had before it; ``outlets``
    the distinct outlets of each touched story (before, after) this batch; ``muted`` the stories
    an analyst muted, which still collect their rules but queue no message.
    """
    working: dict[tuple[int, str], _Working] = {}
    routes: list[RoutedHit] = []
    for hit in sorted(new_hits, key=lambda h: h.hit_id):
        for channel in dict.fromkeys(hit.channels):
            entry = working.get((hit.story_id, channel)) or _start(state.get((hit.story_id, channel)))
            working[(hit.story_id, channel)] = entry
            if hit.rule_id in entry.rules:
                continue  # the story already carries this rule on this channel
            entry.rules[hit.rule_id] = hit.severity
            routes.append(RoutedHit(channel, hit.hit_id, hit.story_id))
    messages: list[QueuedMessage] = []
    raised: dict[tuple[int, str], Severity] = {}
    for key in dict.fromkeys([*working, *state]):
        story_id, channel = key
        entry = working.get(key) or _start(state[key])
        policy = policies.get(channel)
        message = _after_routing(story_id, channel, entry, policy, raised) if key in working else None
        if message is None and story_id in outlets:
            message = _corroboration(story_id, channel, entry, outlets[story_id], policy)
        if message is not None and story_id not in muted:
            messages.append(message)
    return AlertDecisions(tuple(routes), tuple(messages), raised)


def _start(before: ChannelStory | None) -> _Working:
    if before is None:
        return _Working({}, None, False, None)
    return _Working(dict(before.rules), before.first_status, before.pending_update, highest(before.rules.values()))


def _after_routing(
    story_id: int,
    channel: str,
    entry: _Working,
    policy: UpdatePolicy | None,
    raised: dict[tuple[int, str], Severity],
) -> QueuedMessage | None:
    severity = highest(entry.rules.values())
    if severity is None:
        return None
    if entry.first_status is None:
        entry.first_status = DeliveryStatus.PENDING
        return QueuedMessage(story_id, channel, FIRST, severity)
    if entry.severity_before is not None and severity.rank <= entry.severity_before.rank:
        return None
    if entry.first_status == DeliveryStatus.PENDING or entry.pending_update:
        raised[(story_id, channel)] = severity  # the queued message will show the new rule
        return None
    if entry.first_status == DeliveryStatus.SENT and policy is not None and UpdateKind.SEVERITY in policy.kinds:
        entry.pending_update = True
        return QueuedMessage(story_id, channel, f"severity:{severity.value}", severity)
    return None


def _corroboration(
    story_id: int, channel: str, entry: _Working, counts: tuple[int, int], policy: UpdatePolicy | None
) -> QueuedMessage | None:
    """An update when the story's outlets crossed a threshold since the first message went out."""
    if policy is None or UpdateKind.CORROBORATION not in policy.kinds:
        return None
    if entry.first_status != DeliveryStatus.SENT or entry.pending_update:
        return None  # a queued message will show the current outlets anyway
    crossed = crossed_threshold(counts[0], counts[1], policy.thresholds)
    severity = highest(entry.rules.values())
    if crossed is None or severity is None:
        return None
    return QueuedMessage(story_id, channel, f"outlets:{crossed}", severity)


def outlets_that_matter(policies: Iterable[UpdatePolicy]) -> int:
    """How many outlets a story's count needs to reach: no threshold lies above the highest, so
    counts capped there decide the same (0: no channel follows corroboration)."""
    return max(
        (limit for policy in policies if UpdateKind.CORROBORATION in policy.kinds for limit in policy.thresholds),
        default=0,
    )


def crossed_threshold(before: int, after: int, thresholds: Iterable[int]) -> int | None:
    """The highest threshold reached by going from ``before`` to ``after`` outlets, if any."""
    reached = [limit for limit in thresholds if before < limit <= after]
    return max(reached) if reached else None


def highest(levels: Iterable[Severity]) -> Severity | None:
    return max(levels, key=lambda level: level.rank, default=None)


def describe_event(event: str) -> str:
    """Words for an update's reason, for message headings."""
    kind, _, value = event.partition(":")
    if kind == "outlets":
        return f"now reported by {value} outlets"
    if kind == "severity":
        return f"now matches a {value}-severity rule"
    return "new story"
