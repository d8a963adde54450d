"""Digests: the stories queued for one channel over one period, each story once.

Grouping is format-neutral; each message format renders what is built here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.types import Severity, StoryAlert

MAX_DIGEST_STORIES = 100  # a digest stays readable; the rest is counted, not listed


@dataclass(frozen=True, slots=True)
class Digest:
    """Stories collected for one channel over one period ("Daily digest, 2 Dec")."""

    channel: str
    period_label: str
    alerts: tuple[StoryAlert, ...]
    timezone: str = "UTC"


def digest_stories(alerts: Sequence[StoryAlert]) -> tuple[StoryAlert, ...]:
    """Each story once (a first message and an update both waiting show as one: the one queued
    last, which carries the newest state), highest severity first, then newest first."""
    latest: dict[int, StoryAlert] = {}
    for alert in sorted(alerts, key=lambda a: a.delivery_id):
        latest[alert.story_id] = alert
    return tuple(sorted(latest.values(), key=lambda a: (-a.severity.rank, -a.first_seen.timestamp(), -a.story_id)))


def count_high(alerts: Sequence[StoryAlert]) -> int:
    return sum(1 for alert in alerts if alert.severity is Severity.HIGH)
