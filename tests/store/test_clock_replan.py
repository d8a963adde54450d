"""After the wall clock is set back, stored schedules are replanned from now, and until then
/healthz counts the feeds as overdue (issue 12, 5). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from store_factories import T0, at, feed, poll

from monitor.metrics import Metrics
from monitor.observe import HealthCheck
from monitor.store import Store

HOUR = timedelta(hours=1)


def test_replan_counts_the_planned_delay_from_now(store: Store) -> None:
    store.sync_feeds([feed(1, interval=300), feed(2), feed(3)], T0)
    first, second = store.claim_feeds(T0, "w", 60, 2)
    store.record_poll(first.id, poll("ok", T0, next_poll_at=at(300)))
    store.record_poll(second.id, poll("error", T0, next_poll_at=at(3600)))  # backing off for an hour
    back = T0 - HOUR  # the clock is set back an hour; feed 3 was never polled, due at T0

    assert store.claim_feeds(back, "w", 60, 3) == [], "without replanning, nothing is due for an hour"
    assert store.replan_feeds(back, tolerance_seconds=10) == 3

    feeds = {f.name: f for f in store.list_feeds()}
    assert feeds["Feed 1"].next_poll_at == back + timedelta(seconds=300)
    assert feeds["Feed 2"].next_poll_at == back + HOUR, "the backoff is kept"
    assert feeds["Feed 3"].next_poll_at == back
    assert feeds["Feed 1"].last_fetch_at == back, "a poll cannot have happened after now"
    assert store.replan_feeds(back, tolerance_seconds=10) == 0
    assert [job.name for job in store.claim_feeds(back, "w", 60, 3)] == ["Feed 3"]


def test_healthz_counts_feeds_polled_in_the_future_as_overdue(store: Store) -> None:
    store.sync_feeds([feed(1)], T0)
    (job,) = store.claim_feeds(T0, "w", 60, 1)
    store.record_poll(job.id, poll("ok", T0, next_poll_at=at(300)))
    now = [T0 - HOUR]
    health = HealthCheck(store, Metrics(), 5.0, lambda: now[0])
    health.ticked()

    status = health()
    assert (status.ok, status.overdue_feeds, status.detail) == (False, 1, "1 feeds overdue")

    store.replan_feeds(now[0], tolerance_seconds=10)
    assert health().ok
