"""Delivery guarantee under crashes (issue 4): a busy daemon is SIGKILLed at random points and
restarted, ten times; in the end every alert reached both the SMTP sink and the webhook, and the
only duplicates are the documented crash window — a send that succeeded but was not yet marked
sent — so at most one per channel per kill."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from support.smtp import SmtpSink
from support.webhook import WebhookReceiver

from tests.system.feedhub import FeedHub
from tests.system.harness import DbProbe, Worker, posts_mentioning, start_worker, wait_until
from tests.system.synth import RULES_YAML, FeedWriter, feed_path

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

FEEDS = 20
MATCHES_PER_FEED = 10  # 200 hits → 400 sends, several seconds of delivery on this machine
KILLS = 10
SEED = 20261127


def write_config(tmp_path: Path, hub: FeedHub, smtp: SmtpSink, webhook: WebhookReceiver) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "watch.yaml").write_text(RULES_YAML, encoding="utf-8")
    feeds = "".join(f"  - url: {hub.url(feed_path(n))}\n    name: Feed {n}\n" for n in range(FEEDS))
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: sqlite:///{tmp_path / "monitor.db"}
rules: {tmp_path / "rules"}
interval: 5s
tick: 0.3s
fetch:
  deadline: 2s
alerts:
  retry_base: 1s
notify:
  - name: mail
    url: {smtp.apprise_url()}
    min_interval: 0s
  - name: hook
    url: json://127.0.0.1:{webhook.port}/hook
    min_interval: 0s
feeds:
{feeds}""",
        encoding="utf-8",
    )
    return config


def received(smtp: SmtpSink, webhook: WebhookReceiver) -> int:
    with smtp.lock:
        mails = len(smtp.messages)
    return mails + len(webhook.bodies())


def kill_at_a_random_point(
    worker: Worker, rng: random.Random, smtp: SmtpSink, webhook: WebhookReceiver, sends: int
) -> str:
    """Half the kills land at a random time since start (start-up, fetch, parse, store), half
    after a random number of further sends (in the middle of delivery)."""
    if rng.random() < 0.5:
        delay = rng.uniform(0.3, 5.0)
        deadline = time.monotonic() + delay
        wait_until(lambda: time.monotonic() >= deadline or not worker.alive(), delay + 1, "kill time")
        point = f"{delay:.1f}s after start"
    else:
        # once everything is out (`sends`), the kill lands on an idle daemon: also a case
        target = min(received(smtp, webhook) + rng.randint(1, 40), sends)
        wait_until(
            lambda: received(smtp, webhook) >= target,
            60,
            "sends before the kill",
            lambda: worker.log()[-3000:],
            alive=[worker],
        )
        point = f"after send #{received(smtp, webhook)}"
    assert worker.alive(), worker.log()[-3000:]
    worker.kill()
    return point


def test_no_alert_is_lost_and_duplicates_stay_within_the_crash_window(
    tmp_path: Path, hub: FeedHub, smtp: SmtpSink, webhook: WebhookReceiver
) -> None:
    writer = FeedWriter(seed=11, quiet=2)
    refs = [writer.add_match(feed, k) for feed in range(FEEDS) for k in range(MATCHES_PER_FEED)]
    for feed in range(FEEDS):
        hub.set_feed(feed_path(feed), writer.body(feed))
    config = write_config(tmp_path, hub, smtp, webhook)
    rng = random.Random(SEED)
    points = []
    for run in range(KILLS):
        if run:  # fresh news before each restart, so no kill lands on a daemon with nothing to do
            refs += [writer.add_match(feed, MATCHES_PER_FEED + run) for feed in range(FEEDS)]
            for feed in range(FEEDS):
                hub.set_feed(feed_path(feed), writer.body(feed))
        worker = start_worker(config, tmp_path / f"run{run}.log")
        points.append(kill_at_a_random_point(worker, rng, smtp, webhook, 2 * len(refs)))
    last = start_worker(config, tmp_path / "final.log")
    try:
        wait_until(
            # when the kills already let everything out, the last worker still has to come up
            lambda: all_delivered(smtp, webhook, refs) and "daemon started" in last.log(),
            120,
            "every alert on both channels",
            lambda: f"kills at {points}\n{last.log()[-3000:]}",
            alive=[last],
        )
    finally:
        assert last.stop() == 0, last.log()[-3000:]
    duplicates = count_duplicates(smtp, webhook, refs)
    print(f"\nkills at: {points}\nduplicates per channel: {duplicates} (allowed ≤ {KILLS} each)")
    assert duplicates["mail"] <= KILLS and duplicates["hook"] <= KILLS, duplicates
    db = DbProbe(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        counts = db.counts()
    finally:
        db.close()
    assert counts["hits"] == counts["distinct_hits"] == len(refs)
    assert counts["deliveries"] == counts["sent"] == 2 * len(refs)


def all_delivered(smtp: SmtpSink, webhook: WebhookReceiver, refs: list[str]) -> bool:
    with smtp.lock:
        texts = [mail.text() + mail.subject for mail in smtp.messages]
    bodies = webhook.bodies()
    seen_mail = {ref for ref in refs if any(ref in text for text in texts)}
    if len(seen_mail) < len(refs):
        return False
    return all(posts_mentioning(bodies, ref) >= 1 for ref in refs)


def count_duplicates(smtp: SmtpSink, webhook: WebhookReceiver, refs: list[str]) -> dict[str, int]:
    with smtp.lock:
        texts = [mail.text() + mail.subject for mail in smtp.messages]
    bodies = webhook.bodies()
    mail = sum(max(0, sum(ref in text for text in texts) - 1) for ref in refs)
    hook = sum(max(0, posts_mentioning(bodies, ref) - 1) for ref in refs)
    return {"mail": mail, "hook": hook}
