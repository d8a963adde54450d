"""The native webhook channel: ``webhook://`` (http) and ``webhooks://`` (https) URLs, POSTed with httpx.

Apprise's ``json://`` wraps our document as a string inside its own envelope; here the body *is*
the document, so a receiver decodes it once and checks the HMAC over exactly the bytes it read.
This module sends one POST and reports the outcome; retries and the at-least-once guarantee
belong to the outbox, which calls ``WebhookSender.post`` again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from monitor.alerts.channels import SendOutcome
from monitor.alerts.format_json import dumps
from monitor.alerts.format_text import clean_line
from monitor.fetch import FetchSettings
from monitor.redact import redact_text, redact_url

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SCHEMA_HEADER",
    "SIGNATURE_HEADER",
    "WEBHOOK_SCHEMES",
    "WebhookSender",
    "WebhookTarget",
    "is_webhook_url",
    "parse_webhook_url",
    "sign",
]

log = logging.getLogger(__name__)

WEBHOOK_SCHEMES = ("webhook", "webhooks")
_HTTP_SCHEMES = {"webhook": "http", "webhooks": "https"}
SIGNATURE_HEADER = "X-Signature-256"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEMA_HEADER = "X-Sanctions-Monitor-Schema"
DEFAULT_USER_AGENT = FetchSettings().user_agent
_MAX_KEY = 255  # common receiver limit for Idempotency-Key values
_MAX_EXCERPT = 200  # characters of a failing response's body quoted in the error
# Read more than is quoted, so that a secret the answer echoes is blanked whole before the cut.
_EXCERPT_READ = 4096
_MAX_ERROR = 1000  # same cap as Apprise channels' stored errors

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where and how to POST. ``secret`` and ``auth`` are kept out of ``repr`` so that logging
    a target by mistake cannot leak them."""

    url: str  # the http(s) URL POSTed to: no secret= and no user:password@
    secret: bytes | None = field(repr=False)
    endpoint: str  # scheme://host[:port]/path, for logs and errors
    auth: tuple[str, str] | None = field(default=None, repr=False)  # HTTP Basic from user:pass@


def is_webhook_url(url: str) -> bool:
    scheme, separator, _ = url.partition("://")
    return bool(separator) and scheme.strip().lower() in WEBHOOK_SCHEMES


def parse_webhook_url(url: str) -> WebhookTarget:
    """``webhook[s]://[user:pass@]host[:port]/path?secret=…&other=params`` as a target.

    Raises ValueError whose message never contains the secret or the password. ``secret`` is
    percent-decoded (``+`` stays a plus: it is common in base64 secrets); every other query
    parameter is sent to the receiver exactly as written.
    """
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - validates the port, which urlsplit parses lazily
    except ValueError as exc:
        raise ValueError(f"malformed webhook URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _HTTP_SCHEMES:
        raise ValueError("not a webhook URL: use webhook://host/path (http) or webhooks://host/path (https)")
    if not parts.hostname:
        raise ValueError(f"webhook URL {redact_url(url)!r} has no host")
    if "#" in url:
        # An unencoded '#' in a substituted secret would silently cut the URL here.
        raise ValueError(f"webhook URL {redact_url(url)!r} contains '#': percent-encode it as %23")
    secret, query = _split_secret(parts.query, redact_url(url))
    netloc = parts.netloc.rpartition("@")[2]
    path = parts.path or "/"
    target = WebhookTarget(
        url=urlunsplit((_HTTP_SCHEMES[scheme], netloc, path, query, "")),
        secret=secret,
        endpoint=f"{scheme}://{netloc}{path}",
        auth=(unquote(parts.username), unquote(parts.password or "")) if parts.username is not None else None,
    )
    try:
        httpx.URL(target.url)
    except httpx.InvalidURL:
        raise ValueError(f"webhook URL {target.endpoint!r} is not a valid http(s) URL") from None
    return target


def _split_secret(query: str, shown: str) -> tuple[bytes | None, str]:
    """The decoded ``secret`` parameter and the query without it."""
    secrets: list[str] = []
    kept: list[str] = []
    for piece in query.split("&") if query else ():
        name, _, value = piece.partition("=")
        if unquote(name) == "secret":
            secrets.append(unquote(value))
        else:
            kept.append(piece)
    if len(secrets) > 1:
        raise ValueError(f"webhook URL {shown!r} gives secret= more than once")
    if secrets and not secrets[0]:
        raise ValueError(f"webhook URL {shown!r} has an empty secret=")
    return (secrets[0].encode("utf-8") if secrets else None), "&".join(kept)


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Signature-256`` value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POSTs documents to one target and reports each outcome; never raises for network or HTTP
    trouble. Blocking: call it from a worker thread that runs no event loop.

    ``timeout`` is a hard deadline for the whole POST (connect, send, response headers, the
    excerpt of an error body). httpx's own timeouts apply per socket operation, which a server
    trickling one byte at a time never trips, so each POST runs on a private event loop under
    ``asyncio.timeout``, and its client (with the socket) is closed when the deadline cancels it.
    """

    def __init__(self, target: WebhookTarget, *, timeout: float = 30.0, user_agent: str = DEFAULT_USER_AGENT) -> None:
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        self.target = target
        self._timeout = timeout
        self._user_agent = user_agent
        self._hidden = _hidden_values(target)
        self._lock = threading.Lock()
        self._running: set[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = set()
        # Loading the CA bundle takes tens of milliseconds: once per sender, not per POST.
        self._verify = httpx.create_ssl_context() if target.url.startswith("https:") else True

    @property
    def endpoint(self) -> str:
        return self.target.endpoint

    def post(self, document: Mapping[str, object], idempotency_key: str) -> SendOutcome:
        """POST ``document`` as compact JSON; ok only for a 2xx answer. Raises ValueError for an
        idempotency key that cannot be a header value (a caller's bug, not a delivery failure)."""
        body = dumps(dict(document)).encode("ascii")
        headers = self._headers(document, idempotency_key, body)
        try:
            return self._run(self._post(body, headers))
        except TimeoutError:
            return SendOutcome(False, f"timeout: no complete answer within the {self._timeout:g} s deadline")
        except httpx.TimeoutException as exc:
            return SendOutcome(False, self._scrub(f"timeout: {_detail(exc)}"))
        except (httpx.HTTPError, OSError) as exc:
            return SendOutcome(False, self._scrub(f"connection failed: {_detail(exc)}"))
        except Exception as exc:  # an httpx bug must not take the outbox down
            log.exception("webhook POST raised", extra={"endpoint": self.endpoint})
            return SendOutcome(False, self._scrub(f"{type(exc).__name__}: {exc}"))

    def close(self) -> None:
        """Nothing is held between posts (each POST's client closes with it); here so that the
        outbox can close every sender alike."""

    def cancel(self) -> None:
        """Cut off every POST under way (from any thread): each raises asyncio.CancelledError in
        its caller, its client and socket closed. For a stop that cannot wait for the deadline."""
        with self._lock:
            running = list(self._running)
        for loop, task in running:
            loop.call_soon_threadsafe(task.cancel)

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        loop = asyncio.new_event_loop()
        task = loop.create_task(coroutine)
        with self._lock:
            self._running.add((loop, task))
        try:
            return loop.run_until_complete(task)
        finally:
            with self._lock:
                self._running.discard((loop, task))
            # Not asyncio.run(): it joins the default executor's threads, so a getaddrinfo() stuck
            # on a slow resolver would hold the caller past the deadline. close() does not wait.
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _headers(self, document: Mapping[str, object], key: str, body: bytes) -> dict[str, str]:
        if not (0 < len(key) <= _MAX_KEY and key.isascii() and key.isprintable()):
            raise ValueError(f"idempotency key must be 1 to {_MAX_KEY} printable ASCII characters")
        headers = {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: key,
            "User-Agent": self._user_agent,
            "Accept-Encoding": "identity",  # an error body is quoted raw, never inflated
        }
        schema = document.get("schema")
        if isinstance(schema, str) and schema.isascii() and schema.isprintable():
            headers[SCHEMA_HEADER] = schema
        if self.target.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.target.secret, body)
        return headers

    async def _post(self, body: bytes, headers: dict[str, str]) -> SendOutcome:
        async with (
            asyncio.timeout(self._timeout),
            httpx.AsyncClient(
                auth=self.target.auth,
                verify=self._verify,
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,  # a redirect is reported: the operator fixes the URL
                trust_env=False,  # no proxy or CA settings from hidden environment variables
            ) as client,
            client.stream("POST", self.target.url, content=body, headers=headers) as response,
        ):
            if 200 <= response.status_code < 300:
                return SendOutcome(True)
            return SendOutcome(False, await self._failure(response))

    async def _failure(self, response: httpx.Response) -> str:
        status = f"HTTP {response.status_code} {_phrase(response)}".rstrip()
        if 300 <= response.status_code < 400:
            location = response.headers.get("location", "")
            where = f" to {redact_url(location)}" if "://" in location else ""
            return f"{status}: redirect{where} not followed; configure the final URL"
        excerpt = self._scrub(await _read_start(response), _MAX_EXCERPT)
        return f"{status}: {excerpt}" if excerpt else status

    def _scrub(self, text: str, limit: int = _MAX_ERROR) -> str:
        """One line of at most ``limit`` characters with no URL tail, secret or password in it:
        a receiver's error page may echo what it was sent."""
        text = redact_text(text)  # URLs first: a blanked value inside one would make it unparsable
        for value in self._hidden:
            text = text.replace(value, "[hidden]")
        return clean_line(text, limit)


def _hidden_values(target: WebhookTarget) -> tuple[str, ...]:
    """What must never show in an error: the secret, the password, and the Basic credential as
    sent (an echoing receiver would quote it base64-encoded)."""
    hidden = [target.secret.decode("utf-8", "ignore")] if target.secret else []
    if target.auth is not None:
        user, password = target.auth
        hidden += [password, base64.b64encode(f"{user}:{password}".encode()).decode("ascii")]
    return tuple(value for value in hidden if value)


async def _read_start(response: httpx.Response) -> str:
    """The start of an error body, when it is uncompressed: receivers often say why there."""
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return ""
    received = b""
    async for chunk in response.aiter_raw():
        received += chunk
        if len(received) >= _EXCERPT_READ:
            break
    return received[:_EXCERPT_READ].decode("utf-8", "replace")


def _phrase(response: httpx.Response) -> str:
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:  # an unknown code: the server's own phrase, which is untrusted text
        return clean_line(response.reason_phrase, 80)


def _detail(exc: BaseException) -> str:
    """The innermost non-empty message along the cause chain: httpx wraps the OSError that says
    what happened ("Connect call failed") in generic ones ("All connection attempts failed")."""
    detail = type(exc).__name__
    current: BaseException | None = exc
    for _ in range(10):  # bounded: a chain may loop
        if current is None:
            break
        detail = str(current).strip() or detail
        current = current.__cause__ or current.__context__
    return detail
