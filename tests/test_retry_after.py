"""A feed server's Retry-After is obeyed beyond max_backoff (issue 12: `Retry-After: 3600` on a
429 was retried after 12 s because max_backoff capped it), up to `max_retry_after`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.configs import write_config
from support.feedserver import FeedServer

from monitor.config import ConfigError, load_settings
from monitor.fetch import Fetcher
from monitor.pipeline import failure_backoff
from monitor.runtime import open_runtime


def limited_feed(tmp_path: Path, feed_url: str, extra: str = "") -> Path:
    body = f"interval: 3s\nmax_backoff: 12s\nfeeds:\n  - url: {feed_url}\n    name: Limited\n{extra}"
    return write_config(tmp_path, body)


def retry_delay_after_one_poll(config: Path) -> float:
    runtime = open_runtime(load_settings(config, {}), exclusive=True)
    try:

        async def poll() -> None:
            async with Fetcher(runtime.settings.fetch) as fetcher:
                await runtime.pipeline(fetcher, None).poll_feeds(runtime.worker_id, due_only=False, limit=10)

        asyncio.run(poll())
        (feed,) = runtime.store.list_feeds()
    finally:
        runtime.close()
    assert feed.last_fetch_at is not None
    return (feed.next_poll_at - feed.last_fetch_at).total_seconds()


def test_a_429_with_retry_after_3600_waits_an_hour_despite_a_12s_max_backoff(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route("/feed.xml", b"slow down", status=429, headers={"Retry-After": "3600"})
    config = limited_feed(tmp_path, feed_server.url("/feed.xml"))
    assert retry_delay_after_one_poll(config) == 3600


def test_max_retry_after_caps_what_a_server_can_ask(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/feed.xml", b"slow down", status=503, headers={"Retry-After": "86400"})
    config = limited_feed(tmp_path, feed_server.url("/feed.xml"), "max_retry_after: 2h\n")
    assert retry_delay_after_one_poll(config) == 7200


def test_backoff_rules() -> None:
    # without Retry-After: exponential from the interval, capped by max_backoff
    assert failure_backoff(1, 3, 12, None, 86400) == 3
    assert failure_backoff(5, 3, 12, None, 86400) == 12
    # a short Retry-After never shortens our own backoff; a long one is obeyed up to its cap
    assert failure_backoff(5, 3, 12, 1, 86400) == 12
    assert failure_backoff(1, 3, 12, 3600, 86400) == 3600
    assert failure_backoff(1, 3, 12, 3600, 600) == 600


def test_max_retry_after_is_at_most_a_day(tmp_path: Path) -> None:
    config = limited_feed(tmp_path, "https://feeds.example/x.xml", "max_retry_after: 2d\n")
    with pytest.raises(ConfigError, match="max_retry_after"):
        load_settings(config, {})
