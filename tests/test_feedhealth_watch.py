"""FeedHealthWatch against a real SQLite store and a real webhook receiver: a transition another
worker already made is not announced again, and one no admin channel took is tried again."""

from __future__ import annotations

import asyncio

from support.smtp import free_port
from support.webhook import WebhookReceiver

from monitor.alerts.channels import Channel
from monitor.feedhealth import FeedHealthWatch
from monitor.policies import HealthPolicy
from monitor.store import AsyncStore, Store
from monitor.types import ChannelSpec
from tests.store.store_factories import T0, at, feed, poll

POLICY = HealthPolicy(failures=2)


def failing_feed(store: Store) -> int:
    store.sync_feeds([feed(1)], T0)
    feed_id = store.claim_feeds(T0, "w", 60, 1)[0].id
    for n in range(2):
        store.record_poll(feed_id, poll("error", at(n), error_kind="http_status", error="HTTP 503"))
    return feed_id


def watch(store: Store, url: str) -> FeedHealthWatch:
    admin = Channel(ChannelSpec("ops", url, tags=("admin",)), min_interval=0)
    return FeedHealthWatch(AsyncStore(store), [admin], POLICY, lambda: at(10))


def test_a_transition_another_worker_made_is_not_announced_again(store: Store, webhook: WebhookReceiver) -> None:
    feed_id = failing_feed(store)
    first = watch(store, f"json://127.0.0.1:{webhook.port}/ops")
    assert asyncio.run(first.check()) == 1
    assert len(webhook.wait_for(1)) == 1

    # A second worker read the feed list before the first worker's change: it must stay quiet.
    assert not store.change_health_state(feed_id, "ok", "failing")
    assert asyncio.run(watch(store, f"json://127.0.0.1:{webhook.port}/ops").check()) == 0
    assert len(webhook.bodies()) == 1


def test_a_notice_no_admin_channel_took_is_tried_again(store: Store, webhook: WebhookReceiver) -> None:
    failing_feed(store)
    unreachable = watch(store, f"json://127.0.0.1:{free_port()}/ops")
    assert asyncio.run(unreachable.check()) == 0
    assert [view.health_state for view in store.list_feeds()] == ["ok"], "the state went back"

    assert asyncio.run(watch(store, f"json://127.0.0.1:{webhook.port}/ops").check()) == 1
    assert "failing" in str(webhook.wait_for(1)[0]).lower()
    assert [view.health_state for view in store.list_feeds()] == ["failing"]
