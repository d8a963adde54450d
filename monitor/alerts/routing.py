"""Which channels receive which hit: a pure function of the rule and the channel specs."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.types import ChannelSpec, RuleMatch


def channels_for(match: RuleMatch, channels: Sequence[ChannelSpec]) -> tuple[str, ...]:
    """A rule without notify tags goes to every channel; a channel without tags takes every rule;
    otherwise the rule's tags and the channel's tags must share one. Severity below the channel's
    minimum is dropped."""
    wanted = set(match.notify)
    selected: list[str] = []
    for channel in channels:
        if match.severity.rank < channel.min_severity.rank:
            continue
        if wanted and channel.tags and not wanted.intersection(channel.tags):
            continue
        selected.append(channel.name)
    return tuple(selected)
