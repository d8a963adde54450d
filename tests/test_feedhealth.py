"""Feed health assessment: failing after N failures, silent after 3x the usual gap, else ok."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.feedhealth import FAILING, OK, SILENT, HealthPolicy, assess, notice_text
from monitor.store import FeedView

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = HealthPolicy(failures=5, silence_factor=3.0)
FEED = FeedView(
    id=1,
    url="https://example.org/feed.xml",
    name="Example",
    tags=(),
    interval_seconds=900,
    active=True,
    last_fetch_at=NOW,
    last_status="ok",
    last_http_status=200,
    last_error_kind=None,
    last_error=None,
    consecutive_failures=0,
    next_poll_at=NOW,
    last_success_at=NOW,
    last_new_item_at=NOW - timedelta(hours=2),
    health_state=OK,
    item_count=40,
)


def test_healthy_feed() -> None:
    assert assess(FEED, 3600.0, NOW, POLICY).state == OK


def test_failing_after_the_threshold_not_before() -> None:
    four = replace(
        FEED, consecutive_failures=4, last_error_kind="http_status", last_error="HTTP 503 Service Unavailable"
    )
    assert assess(four, 3600.0, NOW, POLICY).state == OK
    five = replace(four, consecutive_failures=5)
    result = assess(five, 3600.0, NOW, POLICY)
    assert result.state == FAILING
    assert result.reason == "5 failed polls in a row; last: http_status: HTTP 503 Service Unavailable"
    title, body = notice_text(five, result)
    assert title == "[monitor] feed failing: Example"
    assert "https://example.org/feed.xml" in body


def test_silent_after_three_usual_gaps() -> None:
    quiet = replace(FEED, last_new_item_at=NOW - timedelta(hours=7))
    assert assess(quiet, 2 * 3600.0, NOW, POLICY).state == SILENT  # 7h > 3 x 2h
    assert assess(quiet, 3 * 3600.0, NOW, POLICY).state == OK  # 7h < 3 x 3h
    reason = assess(quiet, 2 * 3600.0, NOW, POLICY).reason
    assert reason == "no new item for 7h (usually one every 2h)"


def test_busy_feeds_need_an_hour_of_silence_and_unknown_history_is_never_silent() -> None:
    busy = replace(FEED, last_new_item_at=NOW - timedelta(minutes=30))
    assert assess(busy, 60.0, NOW, POLICY).state == OK  # 30 min > 3 x 1 min, but under an hour
    assert assess(replace(FEED, last_new_item_at=NOW - timedelta(days=30)), None, NOW, POLICY).state == OK
