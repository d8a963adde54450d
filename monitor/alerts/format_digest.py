"""Digests: many alerts for one channel, grouped by rule and then by story.

Grouping is format-neutral; each message format renders the groups built here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.types import Alert, Severity

MAX_STORIES_PER_RULE = 50  # a digest stays readable; the rest is counted, not listed


@dataclass(frozen=True, slots=True)
class Digest:
    """Alerts collected for one channel over one period (e.g. "daily, 2024-05-01")."""

    channel: str
    period_label: str
    alerts: tuple[Alert, ...]


@dataclass(frozen=True, slots=True)
class StoryGroup:
    """One story: its first report, shown once, and every other outlet that carried it."""

    lead: Alert
    alerts: int
    also_reported_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleGroup:
    rule_id: str
    rule_title: str
    severity: Severity
    alerts: int
    stories: tuple[StoryGroup, ...]  # at most MAX_STORIES_PER_RULE, newest first
    stories_total: int

    @property
    def stories_hidden(self) -> int:
        return self.stories_total - len(self.stories)


def group_digest(digest: Digest) -> tuple[RuleGroup, ...]:
    """Rules by severity (highest first), then by number of alerts, then by title."""
    by_rule: dict[str, list[Alert]] = defaultdict(list)
    for alert in _distinct(digest.alerts):
        by_rule[alert.rule_id].append(alert)
    groups = [_rule_group(alerts) for alerts in by_rule.values()]
    groups.sort(key=lambda group: (-group.severity.rank, -group.alerts, group.rule_title))
    return tuple(groups)


def _distinct(alerts: Sequence[Alert]) -> list[Alert]:
    """The same hit can be queued twice (a retried digest); count it once."""
    seen: dict[int, Alert] = {}
    for alert in alerts:
        seen.setdefault(alert.hit_id, alert)
    return list(seen.values())


def _rule_group(alerts: list[Alert]) -> RuleGroup:
    by_story: dict[tuple[str, int], list[Alert]] = defaultdict(list)
    for alert in alerts:
        # Alerts without a story id stand alone: key them by hit so they never merge.
        key = ("story", alert.story_id) if alert.story_id is not None else ("hit", alert.hit_id)
        by_story[key].append(alert)
    stories = sorted(
        (_story_group(members) for members in by_story.values()),
        key=lambda story: (_timestamp(story.lead), story.lead.hit_id),
        reverse=True,
    )
    first = alerts[0]
    severity = max((alert.severity for alert in alerts), key=lambda level: level.rank)
    return RuleGroup(
        rule_id=first.rule_id,
        rule_title=first.rule_title,
        severity=severity,
        alerts=len(alerts),
        stories=tuple(stories[:MAX_STORIES_PER_RULE]),
        stories_total=len(stories),
    )


def _story_group(members: list[Alert]) -> StoryGroup:
    # The earliest report leads; later outlets are "also reported by".
    ordered = sorted(members, key=lambda alert: (_timestamp(alert), alert.hit_id))
    lead = ordered[0]
    outlets: dict[str, None] = {}
    for alert in ordered:
        for outlet in (alert.feed_name, *alert.also_reported_by):
            if outlet and outlet != lead.feed_name:
                outlets.setdefault(outlet, None)
    return StoryGroup(lead=lead, alerts=len(members), also_reported_by=tuple(outlets))


_NEVER = datetime.min.replace(tzinfo=UTC)


def _timestamp(alert: Alert) -> datetime:
    moment = alert.published
    if moment is None:
        return _NEVER
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
