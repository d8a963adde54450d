"""Two workers and one slow channel: a batch that outlives its claim's lease is taken over
by another worker, and still no alert reaches the SMTP server twice."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from support.smtp import SmtpSink
from test_outbox_digest import POLICY, Clock, add_hits, briefing

from monitor.alerts.channels import Channel, SendOutcome
from monitor.alerts.formats import Digest
from monitor.alerts.outbox import LEASE_SECONDS, Outbox, OutboxReport
from monitor.store import AsyncStore, Store
from monitor.types import Severity, StoryAlert


class SlowChannel:
    """The real channel, throttled: each send takes 60 % of a lease on the test clock (Apprise
    waits between e-mails), so the batch's claim runs out after two sends. Then a second
    worker drains the same channel, as it would in production."""

    def __init__(self, channel: Channel, clock: Clock, rival: str, store: Store) -> None:
        self._channel, self._clock, self._rival, self._store = channel, clock, rival, store
        self.sends = 0
        self.rival_report = OutboxReport()

    @property
    def name(self) -> str:
        return self._channel.name

    @property
    def endpoint(self) -> str:
        return self._channel.endpoint

    def send_story(self, alert: StoryAlert) -> SendOutcome:
        outcome = self._channel.send_story(alert)
        self._clock.now += timedelta(seconds=LEASE_SECONDS * 0.6)
        self.sends += 1
        if self.sends == 2:
            rival = Outbox(AsyncStore(self._store), POLICY, self._clock, self._rival, rng=random.Random(2))
            rival_drain = rival.drain(self._channel)
            self.rival_report = asyncio.run(rival_drain)
        return outcome

    def send_digest(self, digest: Digest) -> SendOutcome:
        return self._channel.send_digest(digest)

    def send_notice(self, title: str, body: str) -> SendOutcome:
        return self._channel.send_notice(title, body)


def test_a_batch_outliving_its_lease_is_not_sent_twice(store: Store, smtp: SmtpSink) -> None:
    clock = Clock()
    titles = [f"Shipment {n} of shells reported" for n in range(4)]
    add_hits(store, "wire", [(title, Severity.HIGH) for title in titles], clock.now)
    slow = SlowChannel(briefing(smtp), clock, "rival", store)

    outbox = Outbox(AsyncStore(store), POLICY, clock, "slow-worker", rng=random.Random(1))
    mine = asyncio.run(outbox.drain(slow))

    # The batch's claim ran out during the second send and the rival took the two alerts not
    # yet sent. The slow worker skips them instead of sending them again.
    assert mine == OutboxReport(sent=2)
    assert slow.rival_report == OutboxReport(sent=2)
    mails = smtp.wait_for(4)
    assert sorted(mail.subject.split(" — ")[0] for mail in mails) == sorted(titles)
    assert len(smtp.messages) == 4
    assert [d.status for d in store.list_deliveries()] == ["sent"] * 4


def test_renewal_and_outcomes_belong_to_the_current_holder(store: Store) -> None:
    clock = Clock()
    add_hits(store, "wire", [("Tanker seized", Severity.MEDIUM)], clock.now)
    (job,) = store.claim_deliveries(clock.now, "a", 30, 10)
    assert store.renew_lease(job.delivery_id, "a", clock.now + timedelta(seconds=20), 30)
    assert store.claim_deliveries(clock.now + timedelta(seconds=45), "b", 30, 10) == []  # renewed to 50 s
    (taken,) = store.claim_deliveries(clock.now + timedelta(seconds=51), "b", 30, 10)
    assert taken.delivery_id == job.delivery_id

    assert not store.renew_lease(job.delivery_id, "a", clock.now + timedelta(seconds=52), 30)
    store.mark_failed(job.delivery_id, "late failure", clock.now, retry_at=clock.now, owner="a")
    (pending,) = store.list_deliveries(status="pending")
    assert pending.attempts == 0, "a stale holder's report changes nothing"
    assert not store.mark_sent(job.delivery_id, clock.now, owner="a")
    assert store.mark_sent(job.delivery_id, clock.now + timedelta(seconds=53), owner="b")
    assert [d.status for d in store.list_deliveries()] == ["sent"]
