"""Rules against the configuration they run with: mistakes that would silently cost an alert.

Pure: rules, the configured feed and channel names and tags, and today's date in; problems out,
each pointing at the rule file's line and column. A `notify` tag that no channel carries is an
error when the rule then reaches no channel at all, else a warning (untagged channels still take
it); a `feeds:` entry that names no feed is an error (the rule could never match); a
`muted_until` already past and the retired `realert` key are warnings.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from monitor.rules.errors import RuleError
from monitor.rules.model import Rule
from monitor.rules.text import fold


@dataclass(frozen=True, slots=True)
class ConfiguredNames:
    feed_names: Collection[str]
    feed_tags: Collection[str]
    channel_names: Collection[str]
    channel_tags: Collection[str]
    has_channels: bool  # False: alerts go to the console, which takes every rule
    untagged_channels: tuple[str, ...] = ()  # channels without tags take every rule


@dataclass(frozen=True, slots=True)
class Consistency:
    errors: tuple[RuleError, ...]
    warnings: tuple[RuleError, ...]


_REALERT = "realert is retired and ignored: a story alerts once per channel, then as its `updates:` say"


def check_rules(rules: Sequence[Rule], names: ConfiguredNames, today: datetime.date) -> Consistency:
    errors: list[RuleError] = []
    warnings: list[RuleError] = []
    feeds = {fold(name) for name in (*names.feed_names, *names.feed_tags)}
    carried = ", ".join(sorted(names.channel_tags)) or "none"
    for rule in rules:
        if names.has_channels:
            lost = [_at(rule, "notify", f'notify tag "{tag}" is on no channel (tags: {carried})')
                    for tag in rule.notify if tag not in names.channel_tags]  # fmt: skip
            reaches_none = len(lost) == len(rule.notify) and not names.untagged_channels
            (errors if reaches_none else warnings).extend(lost)
        unknown = [name for name in rule.feeds if fold(name) not in feeds]
        errors += [_at(rule, "feeds", f'feeds: "{name}" is no configured feed\'s name or tag') for name in unknown]
        if rule.muted_until is not None and rule.muted_until < today:
            warnings.append(_at(rule, "muted_until", f"muted_until {rule.muted_until} has passed: it alerts again"))
        if rule.realert != "never":
            warnings.append(_at(rule, "realert", _REALERT))
    return Consistency(tuple(errors), tuple(warnings))


def _at(rule: Rule, key: str, message: str) -> RuleError:
    line, column = rule.positions.get(key, (rule.line, 1))
    return RuleError(rule.file, line, column, rule.id, message, None)
