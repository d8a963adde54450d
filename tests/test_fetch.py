"""Fetcher against a real local HTTP server: conditional GET, caps, timeouts, classified errors."""

from __future__ import annotations

import asyncio
import base64
import gzip
import socket
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from support.feedserver import LOGIN_PAGE_HTML, FeedServer

from monitor.fetch import Fetcher, FetchSettings, parse_retry_after, strip_userinfo
from monitor.types import ConditionalState, FetchErrorKind, FetchResult

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
FAST = FetchSettings(connect_timeout=2, read_timeout=2, deadline=10)
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


def fetch(url: str, settings: FetchSettings = FAST, state: ConditionalState | None = None) -> FetchResult:
    async def run() -> FetchResult:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url, state or ConditionalState())

    return asyncio.run(run())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ok_body_headers_and_validators(feed_server: FeedServer) -> None:
    feed_server.route("/feed", RSS, etag='"v1"', last_modified=LAST_MODIFIED, headers={"X-Custom": "yes"})
    result = fetch(feed_server.url("/feed"))
    assert result.ok and not result.not_modified
    assert result.body == RSS and result.status_code == 200
    assert result.final_url == feed_server.url("/feed")
    assert result.headers["x-custom"] == "yes"
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert (result.etag, result.last_modified) == ('"v1"', LAST_MODIFIED)
    sent = feed_server.requests("/feed")[0]
    assert sent["user-agent"] == FAST.user_agent
    assert "application/rss+xml" in sent["accept"]
    assert result.elapsed_seconds > 0


def test_conditional_get_round_trip_returns_not_modified(feed_server: FeedServer) -> None:
    feed_server.route("/feed", RSS, etag='"v1"', last_modified=LAST_MODIFIED)
    first = fetch(feed_server.url("/feed"))
    second = fetch(feed_server.url("/feed"), state=ConditionalState(first.etag, first.last_modified))
    assert second.ok and second.not_modified and second.body is None
    assert second.status_code == 304
    assert (second.etag, second.last_modified) == ('"v1"', LAST_MODIFIED)
    assert feed_server.hits("/feed") == 2
    assert feed_server.requests("/feed")[1]["if-none-match"] == '"v1"'
    assert feed_server.requests("/feed")[1]["if-modified-since"] == LAST_MODIFIED


def test_not_modified_without_validators_keeps_the_old_ones(feed_server: FeedServer) -> None:
    feed_server.route("/feed", RSS, last_modified=LAST_MODIFIED)
    result = fetch(feed_server.url("/feed"), state=ConditionalState('"old"', LAST_MODIFIED))
    assert result.not_modified
    assert result.etag == '"old"'
    assert result.last_modified == LAST_MODIFIED


def test_unsafe_stored_validator_is_not_replayed(feed_server: FeedServer) -> None:
    feed_server.route("/feed", RSS)
    result = fetch(feed_server.url("/feed"), state=ConditionalState(etag='"a"\r\nX-Evil: 1'))
    assert result.ok
    assert "if-none-match" not in feed_server.requests("/feed")[0]


def test_redirects_are_followed_and_final_url_reported(feed_server: FeedServer) -> None:
    feed_server.redirect("/old", "/moved", status=301)
    feed_server.redirect("/moved", "/feed", status=307)
    feed_server.route("/feed", RSS)
    result = fetch(feed_server.url("/old"))
    assert result.ok and result.body == RSS
    assert result.url == feed_server.url("/old")
    assert result.final_url == feed_server.url("/feed")


def test_too_many_redirects(feed_server: FeedServer) -> None:
    for hop in range(7):
        feed_server.redirect(f"/r{hop}", f"/r{hop + 1}")
    feed_server.route("/r7", RSS)
    result = fetch(feed_server.url("/r0"))
    assert result.error_kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert result.error is not None and "more than 5 redirects" in result.error


def test_redirect_loop(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", "/a")
    result = fetch(feed_server.url("/a"))
    assert result.error_kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert feed_server.hits("/a") + feed_server.hits("/b") == FAST.max_redirects + 1


def test_redirect_to_file_scheme_is_refused(feed_server: FeedServer) -> None:
    feed_server.redirect("/feed", "file:///etc/passwd")
    result = fetch(feed_server.url("/feed"))
    assert result.error_kind is FetchErrorKind.PROTOCOL
    assert result.body is None


def test_non_http_scheme_is_refused_without_io() -> None:
    result = fetch("file:///etc/passwd")
    assert result.error_kind is FetchErrorKind.PROTOCOL
    assert result.error == "unsupported URL scheme 'file'"


def test_gzip_bomb_stops_at_the_decoded_cap(feed_server: FeedServer) -> None:
    feed_server.gzip_bomb("/bomb", inflated_bytes=64 * 1024 * 1024)
    settings = FetchSettings(read_timeout=5, max_bytes=1024 * 1024)
    result = fetch(feed_server.url("/bomb"), settings)
    assert result.error_kind is FetchErrorKind.TOO_LARGE
    assert result.error is not None and result.error.startswith("body exceeds 1.0 MB")


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("gzip", gzip.compress(RSS)),
        ("deflate", zlib.compress(RSS)),
        ("deflate", zlib.compress(RSS)[2:-4]),  # raw deflate, as some servers send it
        ("identity", RSS),
    ],
)
def test_compressed_bodies_are_decoded(feed_server: FeedServer, encoding: str, encoded: bytes) -> None:
    feed_server.route("/feed", encoded, headers={"Content-Encoding": encoding})
    result = fetch(feed_server.url("/feed"))
    assert result.ok and result.body == RSS
    assert feed_server.requests("/feed")[0]["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("encoding", "encoded", "message"),
    [
        ("gzip", b"not gzip at all", "corrupt gzip body"),
        ("br", b"\x0b\x02\x80", "unsupported Content-Encoding 'br'"),
    ],
)
def test_undecodable_bodies_are_protocol_errors(
    feed_server: FeedServer, encoding: str, encoded: bytes, message: str
) -> None:
    feed_server.route("/feed", encoded, headers={"Content-Encoding": encoding})
    result = fetch(feed_server.url("/feed"))
    assert result.error_kind is FetchErrorKind.PROTOCOL
    assert result.error is not None and result.error.startswith(message)


def test_declared_content_length_over_the_cap_is_rejected_before_reading(
    feed_server: FeedServer,
) -> None:
    feed_server.route("/big", b"x" * 2048)
    result = fetch(feed_server.url("/big"), FetchSettings(max_bytes=1024))
    assert result.error_kind is FetchErrorKind.TOO_LARGE
    assert result.error is not None and "Content-Length 2,048" in result.error


def test_endless_body_stops_at_the_cap(feed_server: FeedServer) -> None:
    feed_server.endless("/endless")
    result = fetch(feed_server.url("/endless"), FetchSettings(max_bytes=256 * 1024))
    assert result.error_kind is FetchErrorKind.TOO_LARGE
    assert result.error == "body exceeds 256.0 kB (stopped reading)"


def test_slow_drip_hits_the_overall_deadline(feed_server: FeedServer) -> None:
    feed_server.drip("/drip", RSS, interval=0.05)  # each byte well inside the read timeout
    result = fetch(feed_server.url("/drip"), FetchSettings(read_timeout=2, deadline=0.5))
    assert result.error_kind is FetchErrorKind.TIMEOUT
    assert result.error == "timeout: overall deadline of 0.5 s exceeded"


def test_stalled_body_hits_the_read_timeout(feed_server: FeedServer) -> None:
    feed_server.stall("/stall")
    result = fetch(feed_server.url("/stall"), FetchSettings(read_timeout=0.3, deadline=10))
    assert result.error_kind is FetchErrorKind.TIMEOUT
    assert result.error == "timeout: no data for 0.3 s while reading"


def test_http_error_status_is_readable(feed_server: FeedServer) -> None:
    result = fetch(feed_server.url("/missing"))
    assert result.error_kind is FetchErrorKind.HTTP_STATUS
    assert result.error == "HTTP 404 Not Found"
    assert result.status_code == 404


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [(429, "120", 120.0), (503, "999999999", 86400.0), (429, "soon", None)],
)
def test_retry_after_seconds(feed_server: FeedServer, status: int, retry_after: str, expected: float | None) -> None:
    feed_server.route("/limited", b"slow down", status=status, headers={"Retry-After": retry_after})
    result = fetch(feed_server.url("/limited"))
    assert result.error_kind is FetchErrorKind.HTTP_STATUS
    assert result.status_code == status
    assert result.retry_after_seconds == expected


def test_retry_after_http_date(feed_server: FeedServer) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    feed_server.route("/busy", b"", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    result = fetch(feed_server.url("/busy"))
    assert result.error is not None and result.error.startswith("HTTP 503 Service Unavailable (retry after")
    assert result.retry_after_seconds is not None
    assert 3500 < result.retry_after_seconds <= 3600


def test_parse_retry_after_edge_cases() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_retry_after("Mon, 01 Jan 2024 00:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Sun, 31 Dec 2023 00:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after("-5", now=now) is None
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=now) == 86400.0


def test_html_login_page_is_fetched_as_is(feed_server: FeedServer) -> None:
    feed_server.route("/feed", LOGIN_PAGE_HTML, content_type="text/html; charset=utf-8")
    result = fetch(feed_server.url("/feed"))
    assert result.ok and result.body == LOGIN_PAGE_HTML  # judging content is parse's job
    assert result.headers["content-type"] == "text/html; charset=utf-8"


def test_connection_reset(feed_server: FeedServer) -> None:
    feed_server.reset("/reset")
    result = fetch(feed_server.url("/reset"))
    assert result.error_kind is FetchErrorKind.CONNECT
    assert result.error is not None and "Connection reset" in result.error


def test_connection_closed_mid_body(feed_server: FeedServer) -> None:
    feed_server.close_mid_body("/half", RSS)
    result = fetch(feed_server.url("/half"))
    assert result.error_kind is FetchErrorKind.PROTOCOL
    assert result.body is None


def test_tls_to_a_plain_http_port(feed_server: FeedServer) -> None:
    result = fetch(f"https://127.0.0.1:{feed_server.port}/feed")
    assert result.error_kind is FetchErrorKind.TLS
    assert result.error is not None and result.error.startswith("TLS error")


def test_dns_failure() -> None:
    result = fetch("http://does-not-exist.invalid/feed")
    assert result.error_kind is FetchErrorKind.DNS
    assert result.error is not None and result.error.startswith("name resolution failed")


def test_connection_refused() -> None:
    result = fetch(f"http://127.0.0.1:{closed_port()}/feed")
    assert result.error_kind is FetchErrorKind.CONNECT


def test_credentials_never_reach_messages_or_final_url(feed_server: FeedServer) -> None:
    feed_server.route("/private", RSS)
    ok = fetch(f"http://reader:s3cret@127.0.0.1:{feed_server.port}/private")
    assert ok.ok and "s3cret" not in ok.final_url
    expected = "Basic " + base64.b64encode(b"reader:s3cret").decode()
    assert feed_server.requests("/private")[0]["authorization"] == expected
    failed = fetch(f"http://reader:s3cret@127.0.0.1:{closed_port()}/private")
    assert failed.error_kind is FetchErrorKind.CONNECT
    assert "s3cret" not in (failed.error or "") and "s3cret" not in failed.final_url


def test_unsupported_scheme_on_redirect_hides_credentials(feed_server: FeedServer) -> None:
    feed_server.redirect("/feed", "ftp://user:hunter2@files.example.org/feed.xml")
    result = fetch(feed_server.url("/feed"))
    assert result.error_kind is FetchErrorKind.PROTOCOL
    assert result.error is not None and "hunter2" not in result.error


def test_strip_userinfo() -> None:
    assert strip_userinfo("https://u:p@example.org:8443/a?b=1") == "https://example.org:8443/a?b=1"
    assert strip_userinfo("https://example.org/a") == "https://example.org/a"
    assert strip_userinfo("http://[::1") == "<unparsable URL>"


def test_concurrency_is_bounded(feed_server: FeedServer) -> None:
    feed_server.drip("/slow", b"<rss/>", interval=0.02)
    settings = FetchSettings(concurrency=2, read_timeout=5, deadline=20)

    async def run() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            calls = [fetcher.fetch(feed_server.url("/slow"), ConditionalState()) for _ in range(6)]
            return await asyncio.gather(*calls)

    results = asyncio.run(run())
    assert all(result.body == b"<rss/>" for result in results)
    assert feed_server.hits("/slow") == 6
    assert feed_server.max_in_flight <= 2


def test_fetch_outside_context_manager_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        asyncio.run(Fetcher(FAST).fetch("http://127.0.0.1/", ConditionalState()))
