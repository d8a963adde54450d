"""The outbox against a real SQLite store and a real SMTP server, with a controlled clock:
digests go out at their scheduled time as one message, high severity bypasses them, a failed
digest is retried as a whole, and no alert is ever in two digests."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from support.smtp import SmtpSink

from monitor.alerts.channels import Channel
from monitor.alerts.outbox import ChannelPlan, Outbox, OutboxReport
from monitor.policies import AlertPolicy
from monitor.saving import AlertRouting, save_and_queue
from monitor.schedule import parse_digest_schedule
from monitor.store import AsyncStore, Store
from monitor.types import ChannelSpec, FeedSpec, Item, RuleMatch, Severity, Span

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
POLICY = AlertPolicy(max_attempts=5, retry_base_seconds=60, retry_max_seconds=600, batch=50)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def add_hits(store: Store, feed: str, titles_and_severity: list[tuple[str, Severity]], now: datetime) -> None:
    store.sync_feeds([FeedSpec(f"https://example.org/{feed}.xml", feed, 900)], now)
    (job,) = [j for j in store.claim_feeds(now, "t", 60, 10, due_only=False) if j.name == feed]
    items = [
        Item(
            f"guid:{feed}-{i}", job.url, title, "A report about shipments.", "", f"https://example.org/{feed}/{i}", now
        )
        for i, (title, _) in enumerate(titles_and_severity)
    ]
    matches = {
        item.key: [
            RuleMatch(
                f"rule-{severity}",
                f"Rule {severity}",
                severity,
                (),
                (Span("title", 0, 5, item.title[:5]),),
                f"«{item.title[:5]}»…",
            )
        ]
        for item, (_, severity) in zip(items, titles_and_severity, strict=True)
    }
    save_and_queue(store, job.id, items, matches, now, AlertRouting((ChannelSpec("briefing", ""),)))


def drain(store: Store, channel: Channel, plan: ChannelPlan, clock: Clock) -> OutboxReport:
    outbox = Outbox(AsyncStore(store), POLICY, clock, "worker", {channel.name: plan}, random.Random(1))
    return asyncio.run(outbox.drain(channel))


def briefing(smtp: SmtpSink) -> Channel:
    return Channel(ChannelSpec("briefing", smtp.apprise_url()), min_interval=0)


def test_daily_digest_with_immediate_high_severity(store: Store, smtp: SmtpSink) -> None:
    clock = Clock()
    plan = ChannelPlan(parse_digest_schedule("daily at 08:00", "UTC"), Severity.HIGH)
    channel = briefing(smtp)
    add_hits(
        store,
        "wire",
        [
            ("Tanker seized off Oman", Severity.MEDIUM),
            ("Shells shipped by rail", Severity.HIGH),
            ("Panel of Experts report", Severity.LOW),
        ],
        clock.now,
    )

    first = drain(store, channel, plan, clock)
    assert first == OutboxReport(sent=1)  # the high-severity hit, at once
    (mail,) = smtp.wait_for(1)
    assert "Shells shipped by rail" in mail.subject

    clock.now = T0 + timedelta(hours=1, minutes=59)  # 07:59: not yet
    assert drain(store, channel, plan, clock) == OutboxReport()

    clock.now = T0 + timedelta(hours=2, minutes=1)  # 08:01: one digest with the other two
    assert drain(store, channel, plan, clock) == OutboxReport(sent=2)
    mails = smtp.wait_for(2)
    digest = mails[1]
    assert "digest" in digest.subject.lower()
    text = digest.text()
    assert "Tanker seized off Oman" in text and "Panel of Experts report" in text
    assert "Shells shipped by rail" not in text

    clock.now += timedelta(hours=1)
    add_hits(store, "other", [("Drone parts transshipped", Severity.MEDIUM)], clock.now)
    assert drain(store, channel, plan, clock) == OutboxReport()  # waits for tomorrow 08:00
    clock.now = T0 + timedelta(days=1, hours=2, minutes=5)
    assert drain(store, channel, plan, clock) == OutboxReport(sent=1)
    mails = smtp.wait_for(3)
    assert "Drone parts transshipped" in mails[2].text()
    assert "Tanker seized" not in mails[2].text(), "no alert is in two digests"


def test_failed_digest_is_retried_as_a_whole(store: Store, smtp: SmtpSink) -> None:
    clock = Clock()
    plan = ChannelPlan(parse_digest_schedule("hourly"), None)
    channel = briefing(smtp)
    add_hits(store, "wire", [("First report", Severity.MEDIUM), ("Second report", Severity.HIGH)], clock.now)
    smtp.stop()
    clock.now = T0 + timedelta(hours=1, minutes=1)
    assert drain(store, channel, plan, clock) == OutboxReport(retrying=2)
    pending = store.list_deliveries(status="pending")
    assert {d.attempts for d in pending} == {1}
    assert all("Connection error" in (d.last_error or "") for d in pending)

    smtp.start()
    assert drain(store, channel, plan, clock) == OutboxReport()  # backoff not over yet
    clock.now += timedelta(minutes=2)
    assert drain(store, channel, plan, clock) == OutboxReport(sent=2)
    (mail,) = smtp.wait_for(1)
    assert "First report" in mail.text() and "Second report" in mail.text()
    assert store.list_deliveries(status="pending") == []


def test_alerts_without_digest_fail_for_good_after_max_attempts(store: Store, smtp: SmtpSink) -> None:
    clock = Clock()
    channel = briefing(smtp)
    add_hits(store, "wire", [("Only report", Severity.MEDIUM)], clock.now)
    smtp.stop()
    plan = ChannelPlan()
    outcomes = []
    for _ in range(POLICY.max_attempts):
        outcomes.append(drain(store, channel, plan, clock))
        clock.now += timedelta(hours=1)
    assert outcomes[-1] == OutboxReport(failed=1)
    assert sum(o.retrying for o in outcomes) == POLICY.max_attempts - 1
    (failed,) = store.list_deliveries(status="failed")
    assert failed.attempts == POLICY.max_attempts
    assert store.requeue(None, clock.now) == 1
    smtp.start()
    assert drain(store, channel, plan, clock) == OutboxReport(sent=1)
