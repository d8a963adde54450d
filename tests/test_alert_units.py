"""Routing, redaction and retry timing: the pure parts of alerting."""

import random

from monitor.alerts.outbox import retry_delay
from monitor.policies import AlertPolicy
from monitor.stories.alerting import route as channels_for
from monitor.types import ChannelSpec, RuleMatch, Severity


def match(notify: tuple[str, ...] = (), severity: Severity = Severity.HIGH) -> RuleMatch:
    return RuleMatch("r1", "Rule one", severity, notify, (), "snippet")


CHANNELS = (
    ChannelSpec("all", "json://a"),
    ChannelSpec("analysts", "json://b", tags=("analysts",)),
    ChannelSpec("admin", "json://c", tags=("admin",)),
    ChannelSpec("urgent", "json://d", min_severity=Severity.HIGH),
)


def test_rule_without_tags_goes_everywhere_its_severity_allows() -> None:
    assert channels_for(match(), CHANNELS) == ("all", "analysts", "admin", "urgent")
    assert channels_for(match(severity=Severity.LOW), CHANNELS) == ("all", "analysts", "admin")


def test_rule_tags_select_tagged_channels_plus_untagged_ones() -> None:
    assert channels_for(match(("analysts",)), CHANNELS) == ("all", "analysts", "urgent")
    assert channels_for(match(("nobody",)), CHANNELS) == ("all", "urgent")


def test_retry_delay_doubles_with_jitter_and_stops() -> None:
    policy = AlertPolicy(max_attempts=4, retry_base_seconds=60, retry_max_seconds=150, batch=10)
    rng = random.Random(7)
    first = retry_delay(1, policy, rng)
    second = retry_delay(2, policy, rng)
    third = retry_delay(3, policy, rng)
    assert first is not None and 48 <= first <= 72
    assert second is not None and 96 <= second <= 144
    assert third is not None and 120 <= third <= 180  # capped at 150 before jitter
    assert retry_delay(4, policy, rng) is None
