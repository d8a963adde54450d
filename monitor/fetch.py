"""Fetch feeds over HTTP(S) with httpx: bounded, conditional, and never raising for network trouble.

Modelled on Miniflux's fetcher: one shared client, conditional GET, a hard body cap, and every
failure classified (`FetchErrorKind`) with a message an analyst can read. Feed servers are
untrusted, so the body is streamed and counted *after* decompression (a gzip bomb stops at the
cap), Retry-After is capped, and messages never carry URL credentials.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import re
import socket
import ssl
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from monitor.durations import format_size
from monitor.secret_refs import mask, substitute
from monitor.types import ConditionalState, FetchErrorKind, FetchResult

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_MAX_REASON_CHARS = 80
_USERINFO_IN_TEXT = re.compile(r"//[^/\s@]+@")  # "//user:secret@" anywhere in a message


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str = "sanctions-monitor/0.1 (+https://github.com/sanctions-monitor)"
    connect_timeout: float = 10
    read_timeout: float = 20
    deadline: float = 60  # overall wall-clock budget per feed, queueing for a slot excluded
    max_redirects: int = 5
    max_bytes: int = 10 * 1024 * 1024  # decoded (decompressed) body bytes
    concurrency: int = 16
    proxy: str | None = None  # explicit, because the client ignores proxy environment variables
    accept: str = ACCEPT  # feeds; article pages ask for HTML (monitor.fulltext)
    # values of the ${NAME} references in feed URLs, substituted only into the request itself
    url_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


class _FetchError(Exception):
    """Internal: a classified failure on its way to becoming a FetchResult."""

    def __init__(
        self,
        kind: FetchErrorKind,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class Fetcher:
    """Async context manager owning one shared `httpx.AsyncClient`.

    `fetch()` is safe to call concurrently; at most `settings.concurrency` requests run at once.
    """

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self._settings = settings or FetchSettings()
        self._semaphore = asyncio.Semaphore(self._settings.concurrency)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        settings = self._settings
        # In a thread: loading the CA certificates takes ~0.1 s, too long to hold the event loop.
        self._client = await asyncio.to_thread(
            httpx.AsyncClient,
            headers={
                "User-Agent": settings.user_agent,
                "Accept": settings.accept,
                "Accept-Encoding": "gzip, deflate",  # what _BoundedDecoder can decode
            },
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.deadline,
            ),
            limits=httpx.Limits(max_connections=settings.concurrency),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            trust_env=False,  # no hidden configuration from environment variables
            proxy=settings.proxy,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, url: str, state: ConditionalState | None = None) -> FetchResult:
        """GET `url`, its `${NAME}` references substituted; never raises for network, TLS, HTTP
        or size problems (see `error_kind`). The result names `url` as given, and the secrets'
        values are masked in its final URL and error message."""
        if self._client is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        state = state or ConditionalState()
        secrets = self._settings.url_secrets
        target = substitute(url, secrets.get)  # only this request ever sees the values
        async with self._semaphore:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self._settings.deadline):
                    result = await self._get(self._client, target, state)
            except _FetchError as failure:
                result = _failed(target, failure)
            except TimeoutError:
                seconds = _format_seconds(self._settings.deadline)
                message = f"timeout: overall deadline of {seconds} exceeded"
                result = _failed(target, _FetchError(FetchErrorKind.TIMEOUT, message))
            except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
                result = _failed(target, _classify(exc, self._settings))
            if target != url:
                result = _without_secrets(result, url, secrets)
            return replace(result, elapsed_seconds=time.monotonic() - started)

    async def _get(self, client: httpx.AsyncClient, url: str, state: ConditionalState) -> FetchResult:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise _FetchError(FetchErrorKind.PROTOCOL, f"unsupported URL scheme {scheme!r}")
        async with client.stream("GET", url, headers=_conditional_headers(state)) as response:
            final_url = strip_userinfo(str(response.url))
            headers = _lowercase_headers(response.headers)
            if response.status_code == 304:
                return FetchResult(
                    url=url,
                    final_url=final_url,
                    status_code=304,
                    body=None,
                    headers=headers,
                    not_modified=True,
                    etag=headers.get("etag") or state.etag,
                    last_modified=headers.get("last-modified") or state.last_modified,
                )
            _raise_for_status(response)
            body = await self._read_body(response)
            return FetchResult(
                url=url,
                final_url=final_url,
                status_code=response.status_code,
                body=body,
                headers=headers,
                not_modified=False,
                etag=headers.get("etag"),
                last_modified=headers.get("last-modified"),
            )

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self._settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit, f"Content-Length {int(declared):,}")
        decoder = _BoundedDecoder(response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        received = 0
        # Decode ourselves instead of aiter_bytes(): httpx inflates each 64 KiB network read in
        # one go, which is ~64 MB per read for a gzip bomb. Here no call yields more than the
        # bytes still allowed (+1 to notice the overflow).
        async for raw in response.aiter_raw():
            chunk = decoder.decode(raw, limit - received + 1)
            received += len(chunk)
            if received > limit:
                raise _too_large(limit, "stopped reading")
            chunks.append(chunk)
        tail = decoder.flush()
        if received + len(tail) > limit:
            raise _too_large(limit, "stopped reading")
        return b"".join([*chunks, tail])


class _BoundedDecoder:
    """Incremental Content-Encoding decoder (gzip, deflate) whose output size the caller caps."""

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self._name = ", ".join(codings)
        self._deflate_first_chunk = codings == ["deflate"]
        if not codings:
            self._zlib = None
        elif codings in (["gzip"], ["x-gzip"]):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif codings == ["deflate"]:
            self._zlib = zlib.decompressobj()
        else:  # we only advertise gzip and deflate
            message = f"unsupported Content-Encoding {self._name[:40]!r}"
            raise _FetchError(FetchErrorKind.PROTOCOL, message)

    def decode(self, data: bytes, max_length: int) -> bytes:
        if self._zlib is None:
            return data
        try:
            return self._zlib.decompress(data, max_length)
        except zlib.error as exc:
            if self._deflate_first_chunk:  # servers disagree on zlib-wrapped vs raw deflate
                self._deflate_first_chunk = False
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(data, max_length)
            raise _FetchError(FetchErrorKind.PROTOCOL, f"corrupt {self._name} body: {exc}") from exc
        finally:
            self._deflate_first_chunk = False

    def flush(self) -> bytes:
        return self._zlib.flush() if self._zlib is not None else b""


def strip_userinfo(url: str) -> str:
    """Drop `user:password@` from a URL so it can appear in messages, logs and base URLs."""
    try:
        parts = urlsplit(url)
        if "@" not in parts.netloc:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    except ValueError:
        return "<unparsable URL>"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date), clamped to [0, 24 h]; None if absent
    or unparsable. The cap stops a hostile server from silencing a feed indefinitely."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _conditional_headers(state: ConditionalState) -> dict[str, str]:
    headers: dict[str, str] = {}
    # Validators come from a previous (untrusted) response; only replay well-formed ones.
    if state.etag and _is_safe_header_value(state.etag):
        headers["If-None-Match"] = state.etag
    if state.last_modified and _is_safe_header_value(state.last_modified):
        headers["If-Modified-Since"] = state.last_modified
    return headers


def _is_safe_header_value(value: str) -> bool:
    return len(value) <= 1024 and value.isascii() and value.isprintable()


def _lowercase_headers(headers: httpx.Headers) -> dict[str, str]:
    # httpx joins repeated headers with ", "; names arrive lower-cased already, lower() is a guard.
    return {name.lower(): value for name, value in headers.items()}


def _raise_for_status(response: httpx.Response) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    message = f"HTTP {code} {_reason(response)}".rstrip()
    retry_after = None
    if code in _RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            message += f" (retry after {_format_seconds(retry_after)})"
    raise _FetchError(FetchErrorKind.HTTP_STATUS, message, status_code=code, retry_after=retry_after)


def _reason(response: httpx.Response) -> str:
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        # Unknown code: the server's own reason phrase, trimmed because it is untrusted text.
        phrase = "".join(ch for ch in response.reason_phrase if ch.isprintable())
        return phrase[:_MAX_REASON_CHARS]


def _too_large(limit: int, detail: str) -> _FetchError:
    return _FetchError(FetchErrorKind.TOO_LARGE, f"body exceeds {format_size(limit)} ({detail})")


def _classify(exc: Exception, settings: FetchSettings) -> _FetchError:
    """Map an httpx/OS exception onto a FetchErrorKind and a readable, credential-free message."""
    detail = _describe(exc)
    if isinstance(exc, httpx.TooManyRedirects):
        last = strip_userinfo(str(exc.request.url))
        message = f"more than {settings.max_redirects} redirects (loop?), last was {last}"
        return _FetchError(FetchErrorKind.TOO_MANY_REDIRECTS, message)
    if isinstance(exc, httpx.TimeoutException):
        return _FetchError(FetchErrorKind.TIMEOUT, _timeout_message(exc, settings))
    causes = list(_causes(exc))
    if any(isinstance(cause, socket.gaierror) for cause in causes):
        return _FetchError(FetchErrorKind.DNS, f"name resolution failed: {detail}")
    if any(isinstance(cause, ssl.SSLError) for cause in causes):
        return _FetchError(FetchErrorKind.TLS, f"TLS error: {detail}")
    if isinstance(exc, httpx.ConnectError | httpx.ReadError | httpx.WriteError | OSError):
        return _FetchError(FetchErrorKind.CONNECT, f"connection failed: {detail}")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return _FetchError(FetchErrorKind.PROTOCOL, f"unsupported protocol: {detail}")
    if isinstance(exc, httpx.DecodingError):
        return _FetchError(FetchErrorKind.PROTOCOL, f"could not decode body: {detail}")
    if isinstance(exc, httpx.InvalidURL | ValueError):
        return _FetchError(FetchErrorKind.PROTOCOL, f"invalid URL: {detail}")
    return _FetchError(FetchErrorKind.PROTOCOL, f"HTTP protocol error: {detail}")


def _timeout_message(exc: httpx.TimeoutException, settings: FetchSettings) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timeout: could not connect within {_format_seconds(settings.connect_timeout)}"
    if isinstance(exc, httpx.ReadTimeout):
        return f"timeout: no data for {_format_seconds(settings.read_timeout)} while reading"
    if isinstance(exc, httpx.PoolTimeout):
        return "timeout: no free connection in the pool"
    return f"timeout: could not send the request within {_format_seconds(settings.read_timeout)}"


def _describe(exc: BaseException) -> str:
    """The first non-empty message along the cause chain (httpx often wraps a bare OSError)."""
    for cause in _causes(exc):
        text = str(cause).strip()
        if text:
            return _USERINFO_IN_TEXT.sub("//", text)
    return type(exc).__name__


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it was raised from, guarding against cycles."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _failed(url: str, failure: _FetchError) -> FetchResult:
    return FetchResult(
        url=url,
        final_url=strip_userinfo(url),
        status_code=failure.status_code,
        body=None,
        headers={},
        not_modified=False,
        etag=None,
        last_modified=None,
        error_kind=failure.kind,
        error=failure.message,
        retry_after_seconds=failure.retry_after,
    )


def _without_secrets(result: FetchResult, url: str, secrets: Mapping[str, str]) -> FetchResult:
    """The result as for `url` itself. Relative links then resolve against the masked final URL:
    better a broken link than a secret in stored items and alerts."""
    error = mask(result.error, url, secrets) if result.error else None
    return replace(result, url=url, final_url=mask(result.final_url, url, secrets), error=error)


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


__all__ = ["FetchSettings", "Fetcher", "parse_retry_after", "strip_userinfo"]
