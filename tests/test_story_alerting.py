"""The alert decisions, pure: batch and current state in, routed hits and messages out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.stories.alerting import (
    NewHit,
    UpdatePolicy,
    crossed_threshold,
    decide,
    describe_event,
    is_fresh,
    outlets_that_matter,
)
from monitor.types import ChannelStory, DeliveryStatus, QueuedMessage, RoutedHit, Severity, UpdateKind

BOTH = {"mail": UpdatePolicy(frozenset(UpdateKind), (3, 10)), "chat": UpdatePolicy(frozenset(UpdateKind), (3, 10))}
HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW
SENT, PENDING = DeliveryStatus.SENT, DeliveryStatus.PENDING


def hit(
    hit_id: int, rule: str, severity: Severity = HIGH, story: int = 1, channels: tuple[str, ...] = ("mail",)
) -> NewHit:
    return NewHit(hit_id, story, rule, severity, channels)


def test_one_first_message_per_story_and_channel_listing_every_rule() -> None:
    hits = [hit(1, "a", HIGH, channels=("mail", "chat")), hit(2, "b", MEDIUM), hit(3, "c", LOW), hit(4, "a", story=2)]
    decisions = decide(hits, {}, {}, BOTH)
    assert decisions.messages == (
        QueuedMessage(1, "mail", "first", HIGH),
        QueuedMessage(1, "chat", "first", HIGH),
        QueuedMessage(2, "mail", "first", HIGH),
    )
    assert RoutedHit("mail", 2, 1) in decisions.routes and RoutedHit("chat", 2, 1) not in decisions.routes
    assert len(decisions.routes) == 5


def test_unrouted_hits_queue_nothing() -> None:
    assert decide([hit(1, "a", channels=())], {}, {}, BOTH).messages == ()


def test_a_rule_already_on_the_story_is_not_routed_again() -> None:
    state = {(1, "mail"): ChannelStory({"a": HIGH}, SENT)}
    decisions = decide([hit(9, "a")], state, {}, BOTH)
    assert decisions.routes == () and decisions.messages == ()


def test_new_rules_join_a_pending_first_message_and_raise_its_severity() -> None:
    state = {(1, "mail"): ChannelStory({"a": LOW}, PENDING)}
    decisions = decide([hit(9, "b", HIGH)], state, {}, BOTH)
    assert decisions.messages == () and decisions.raised == {(1, "mail"): HIGH}
    assert decisions.routes == (RoutedHit("mail", 9, 1),)


def test_severity_update_once_after_the_first_was_sent() -> None:
    state = {(1, "mail"): ChannelStory({"a": LOW}, SENT)}
    decisions = decide([hit(9, "b", HIGH), hit(10, "c", HIGH)], state, {}, BOTH)
    assert decisions.messages == (QueuedMessage(1, "mail", "severity:high", HIGH),)
    same = decide([hit(11, "d", LOW)], state, {}, BOTH)
    assert same.messages == () and same.routes == (RoutedHit("mail", 11, 1),)
    off = {"mail": UpdatePolicy(frozenset({UpdateKind.CORROBORATION}), (3,))}
    assert decide([hit(9, "b", HIGH)], state, {}, off).messages == ()


def test_corroboration_update_when_a_threshold_is_crossed() -> None:
    state = {(1, "mail"): ChannelStory({"a": HIGH}, SENT), (1, "chat"): ChannelStory({"a": HIGH}, PENDING)}
    assert decide([], state, {1: (1, 2)}, BOTH).messages == ()
    crossed = decide([], state, {1: (2, 3)}, BOTH)
    assert crossed.messages == (QueuedMessage(1, "mail", "outlets:3", HIGH),)  # chat's first is still queued
    assert decide([], state, {1: (2, 12)}, BOTH).messages == (QueuedMessage(1, "mail", "outlets:10", HIGH),)
    waiting = {(1, "mail"): ChannelStory({"a": HIGH}, SENT, pending_update=True)}
    assert decide([], waiting, {1: (2, 3)}, BOTH).messages == ()
    assert decide([], state, {1: (2, 3)}, {}).messages == ()  # no policy: no updates


def test_a_failed_first_message_gets_no_updates() -> None:
    state = {(1, "mail"): ChannelStory({"a": LOW}, DeliveryStatus.FAILED)}
    assert decide([hit(9, "b", HIGH)], state, {1: (1, 5)}, BOTH).messages == ()


def test_helpers() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert is_fresh(None, now, timedelta(days=3)) and is_fresh(now - timedelta(days=3), now, timedelta(days=3))
    assert not is_fresh(now - timedelta(days=60), now, timedelta(days=3))
    assert crossed_threshold(2, 11, (3, 10)) == 10 and crossed_threshold(3, 9, (3, 10)) is None
    assert describe_event("outlets:3") == "now reported by 3 outlets"
    assert describe_event("severity:high") == "now matches a high-severity rule"


def test_a_muted_story_collects_rules_but_sends_nothing() -> None:
    state = {(1, "mail"): ChannelStory({"a": LOW}, SENT)}
    decisions = decide([hit(9, "b", HIGH), hit(10, "a", story=2)], state, {1: (2, 3)}, BOTH, muted={1, 2})
    assert decisions.messages == ()
    assert decisions.routes == (RoutedHit("mail", 9, 1), RoutedHit("mail", 10, 2))


def test_outlet_counts_matter_up_to_the_highest_corroboration_threshold() -> None:
    corroborating = UpdatePolicy(frozenset({UpdateKind.CORROBORATION}), (3, 10))
    other = UpdatePolicy(frozenset({UpdateKind.CORROBORATION}), (25,))
    severity_only = UpdatePolicy(frozenset({UpdateKind.SEVERITY}), (100,))
    assert outlets_that_matter([corroborating, severity_only]) == 10
    assert outlets_that_matter([corroborating, other]) == 25
    assert outlets_that_matter([severity_only]) == 0
    assert outlets_that_matter([]) == 0
    # counts capped there cross the same thresholds as the real ones
    for before, after in [(9, 10), (9, 40), (10, 40), (2, 3), (40, 41)]:
        capped = (min(before, 10), min(after, 10))
        assert crossed_threshold(*capped, (3, 10)) == crossed_threshold(before, after, (3, 10))
