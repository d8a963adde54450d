"""The native webhook channel against real HTTP servers on 127.0.0.1: the body is the document,
the signature verifies with the receiver documented in docs/alerts.md, failures are reported
with their status and without the secret, and a trickling server is cut off at the deadline."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

import httpx
import pytest
from support.webhook import Reply, TricklingServer, WebhookReceiver

from monitor.alerts.format_json import dumps
from monitor.alerts.formats import ChannelKind, channel_kind
from monitor.alerts.isolation import ChannelClosedError
from monitor.alerts.webhook import WebhookSender, is_webhook_url, parse_webhook_url, sign
from monitor.alerts.webhook_channel import WebhookChannel
from monitor.config import ConfigError, load_settings
from monitor.redact import redact_text, redact_url
from monitor.types import ChannelSpec

REPO = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t+/&é"
ENCODED_SECRET = "s3cr3t+%2F%26%C3%A9"  # as config will substitute it: percent-encoded
DOCUMENT: dict[str, object] = {"schema": "sanctions-monitor.story/1", "story": {"id": 7, "title": "Tankers – seized"}}

Verifier = Callable[[bytes, bytes, str], bool]


def documented_verifier() -> Verifier:
    """The verifier exactly as docs/alerts.md prints it, so the docs and this test cannot drift."""
    section = (REPO / "docs" / "alerts.md").read_text(encoding="utf-8").split("## Webhook channel", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "docs/alerts.md: no python block in the Webhook channel section"
    code = match.group(1)
    assert "compare_digest" in code and len(code.strip().splitlines()) <= 5
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 - our own documentation, the point of the test
    verify = namespace["verify"]
    assert callable(verify)
    return verify  # type: ignore[return-value]


def verifying_reply(secret: bytes) -> Reply:
    verify = documented_verifier()

    def reply(headers: Message, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if verify(secret, raw, headers.get("X-Signature-256", "")):
            return 204, {}, b""
        return 401, {"content-type": "text/plain"}, b"bad signature"

    return reply


@contextmanager
def running(reply: Reply | None = None) -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver(reply)
    hook.start()
    try:
        yield hook
    finally:
        hook.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running() as hook:
        yield hook


def sender_for(receiver: WebhookReceiver, query: str = "", userinfo: str = "") -> WebhookSender:
    return WebhookSender(parse_webhook_url(f"webhook://{userinfo}127.0.0.1:{receiver.port}/in{query}"), timeout=10)


def test_posts_the_document_itself_with_its_headers(receiver: WebhookReceiver) -> None:
    outcome = sender_for(receiver, "?source=monitor").post(DOCUMENT, "story-7-first")
    assert outcome.ok and outcome.error is None
    ((path, headers, body),) = receiver.requests
    assert path == "/in?source=monitor"
    assert body == DOCUMENT  # decoded once: no envelope
    assert receiver.raw_bodies == [dumps(DOCUMENT).encode("ascii")]
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == "story-7-first"
    assert headers["X-Sanctions-Monitor-Schema"] == "sanctions-monitor.story/1"
    assert headers["User-Agent"].startswith("sanctions-monitor/")
    assert "X-Signature-256" not in headers and "Authorization" not in headers


def test_signed_post_is_accepted_by_the_documented_receiver() -> None:
    with running(verifying_reply(SECRET.encode())) as receiver:
        outcome = sender_for(receiver, f"?secret={ENCODED_SECRET}&x=1").post(DOCUMENT, "k-1")
        assert outcome.ok, outcome.error
        ((path, headers, _),) = receiver.requests
        assert path == "/in?x=1"  # secret= is not posted
        assert headers["X-Signature-256"] == sign(SECRET.encode(), receiver.raw_bodies[0])


def test_wrong_signature_and_tampered_body_are_rejected_by_the_documented_receiver() -> None:
    with running(verifying_reply(SECRET.encode())) as receiver:
        wrong = sender_for(receiver, "?secret=not-the-secret").post(DOCUMENT, "k-1")
        assert not wrong.ok and wrong.error == "HTTP 401 Unauthorized: bad signature"
        unsigned = sender_for(receiver).post(DOCUMENT, "k-2")
        assert not unsigned.ok and "HTTP 401" in str(unsigned.error)

        body = dumps(DOCUMENT).encode("ascii")
        tampered = body.replace(b"seized", b"cleared")
        signature = sign(SECRET.encode(), body)
        answer = httpx.post(receiver.url("/in"), content=tampered, headers=signed(signature), trust_env=False)
        assert answer.status_code == 401
        genuine = httpx.post(receiver.url("/in"), content=body, headers=signed(signature), trust_env=False)
        assert genuine.status_code == 204


def signed(signature: str) -> dict[str, str]:
    return {"X-Signature-256": signature, "Content-Type": "application/json"}


def test_retries_repeat_body_signature_and_key(receiver: WebhookReceiver) -> None:
    sender = sender_for(receiver, "?secret=abc")
    receiver.status = 503
    assert sender.post(DOCUMENT, "k-9").error == 'HTTP 503 Service Unavailable: {"ok": false}'
    receiver.status = 200
    assert sender.post(DOCUMENT, "k-9").ok
    first, second = (headers for _, headers, _ in receiver.requests)
    assert first["Idempotency-Key"] == second["Idempotency-Key"] == "k-9"
    assert first["X-Signature-256"] == second["X-Signature-256"]
    assert receiver.raw_bodies[0] == receiver.raw_bodies[1]


def test_basic_auth_from_userinfo(receiver: WebhookReceiver) -> None:
    assert sender_for(receiver, userinfo="monitor:p%40ss@").post(DOCUMENT, "k").ok
    ((_, headers, _),) = receiver.requests
    assert headers["Authorization"] == "Basic " + "bW9uaXRvcjpwQHNz"  # monitor:p@ss


def test_a_redirect_is_a_failure_and_is_not_followed() -> None:
    def redirect(headers: Message, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        return 302, {"location": "https://elsewhere.example/new?token=t0k3n"}, b""

    with running(redirect) as receiver:
        outcome = sender_for(receiver).post(DOCUMENT, "k")
        assert not outcome.ok
        assert outcome.error == (
            "HTTP 302 Found: redirect to https://elsewhere.example/… not followed; configure the final URL"
        )
        assert len(receiver.requests) == 1


def test_an_error_answer_is_cleaned_and_never_shows_the_secret_or_password() -> None:
    def echo(headers: Message, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        # A careless receiver quoting the request URL, a password and the secret back.
        credential = headers.get("Authorization", "")  # "Basic dTpodW50ZXIy": u:hunter2 in base64
        text = f"rejected\n\x1b[31m http://u:hunter2@h/x?secret={SECRET} hunter2 {SECRET} {credential} " + "x" * 500
        return 400, {"content-type": "text/plain"}, text.encode()

    with running(echo) as receiver:
        sender = sender_for(receiver, f"?secret={ENCODED_SECRET}", userinfo="u:hunter2@")
        error = str(sender.post(DOCUMENT, "k").error)
    assert error.startswith("HTTP 400 Bad Request: rejected ")
    assert " http://h/… [hidden] [hidden] Basic [hidden] xxx" in error
    assert len(error) < 300
    for leak in (SECRET, "hunter2", "dTpodW50ZXIy", "\x1b", "\n"):
        assert leak not in error


def test_connection_refused_is_a_failure() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed on leaving: nothing listens there any more
    sender = WebhookSender(parse_webhook_url(f"webhook://127.0.0.1:{port}/in?secret={ENCODED_SECRET}"), timeout=10)
    outcome = sender.post(DOCUMENT, "k")
    assert not outcome.ok and str(outcome.error).startswith("connection failed: ")
    assert SECRET not in str(outcome.error)


def test_webhooks_speaks_tls(receiver: WebhookReceiver) -> None:
    # The receiver speaks plain http, so the TLS handshake fails: proof that https was used.
    sender = WebhookSender(parse_webhook_url(f"webhooks://127.0.0.1:{receiver.port}/in"), timeout=10)
    outcome = sender.post(DOCUMENT, "k")
    assert not outcome.ok and str(outcome.error).startswith("connection failed: ")
    assert receiver.requests == []


@pytest.mark.timeout(30)
def test_a_trickling_server_is_cut_off_at_the_deadline_and_its_connection_closed() -> None:
    with TricklingServer(pace=0.5) as server:
        sender = WebhookSender(parse_webhook_url(f"webhook://127.0.0.1:{server.port}/in"), timeout=1.0)
        outcome = sender.post(DOCUMENT, "k")
        assert server.request_seen.is_set()
        assert not outcome.ok
        assert outcome.error == "timeout: no complete answer within the 1 s deadline"
        assert server.closed.wait(timeout=20), "the client kept the connection open"


def test_parsed_target_keeps_secret_and_credentials_out_of_view() -> None:
    url = f"webhooks://bot:hunter2@Hooks.example:8443/in/box?a=1&secret={ENCODED_SECRET}&b=%20"
    target = parse_webhook_url(url)
    assert target.url == "https://Hooks.example:8443/in/box?a=1&b=%20"
    assert target.secret == SECRET.encode()
    assert target.auth == ("bot", "hunter2")
    assert target.endpoint == "webhooks://Hooks.example:8443/in/box"
    shown = [target.endpoint, repr(target), redact_url(url), redact_text(f"failed: {url}")]
    for text in shown:
        assert SECRET not in text and ENCODED_SECRET not in text and "hunter2" not in text
    assert parse_webhook_url("webhook://h").url == "http://h/"
    assert parse_webhook_url("webhook://h/x?secret=a+b").secret == b"a+b"  # + is not a space


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("webhook:///path", "has no host"),
        ("webhook://h:99999/x", "malformed webhook URL: Port out of range"),
        ("webhook://h/x?secret=", "has an empty secret="),
        ("webhook://h/x?secret=a&secret=b", "gives secret= more than once"),
        ("webhook://h/x?secret=ab#cd", "contains '#': percent-encode it as %23"),
        ("https://h/x", "not a webhook URL"),
    ],
)
def test_malformed_urls_are_refused_without_echoing_the_secret(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        parse_webhook_url(url)
    assert "secret=a" not in str(info.value)


def test_schemes_and_kind() -> None:
    assert is_webhook_url("webhook://h/x") and is_webhook_url("WEBHOOKS://h/x")
    assert not is_webhook_url("json://h/x") and not is_webhook_url("webhook")
    assert channel_kind("webhooks://h/x") is ChannelKind.JSON


def test_an_unusable_idempotency_key_is_a_caller_error(receiver: WebhookReceiver) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        sender_for(receiver).post(DOCUMENT, "two\nlines")
    assert receiver.requests == []


def test_config_accepts_webhook_channels_with_a_secret_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("notify:\n  - name: cases\n    url: webhooks://h.example/in?secret=${HOOK_SECRET}\n")
    (channel,) = load_settings(path, {"HOOK_SECRET": "abc"}).channels
    assert parse_webhook_url(channel.url).secret == b"abc"


def test_config_rejects_a_malformed_webhook_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("interval: 5m\nnotify:\n  - url: webhook://h.example/in?secret=${HOOK_SECRET}\n")
    (channel,) = load_settings(path, {"HOOK_SECRET": "ab#cd"}).channels  # substituted percent-encoded
    assert parse_webhook_url(channel.url).secret == b"ab#cd"
    path.write_text("interval: 5m\nnotify:\n  - url: webhook://h.example/in?secret=ab#cd\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert str(info.value) == (
        f"{path}:3: notify.0.url: webhook URL 'webhook://h.example/…' contains '#': percent-encode it as %23"
    )


def test_documented_verifier_matches_sign() -> None:
    verify = documented_verifier()
    body = json.dumps(DOCUMENT).encode()
    assert verify(b"k", body, sign(b"k", body))
    assert not verify(b"k", body, sign(b"other", body))
    assert not verify(b"k", body, "")
    assert not verify(b"k", body, "sha256=é")  # a non-ASCII header is refused, not an error


def test_a_stopping_channel_cuts_off_a_post_and_leaves_it_unsent() -> None:
    """SIGTERM: the daemon closes its channels; a webhook POST under way is cut off (socket
    closed) and raises ChannelClosedError, so its delivery stays pending for the next start."""
    with TricklingServer(pace=0.5) as server:
        channel = WebhookChannel(ChannelSpec("hook", f"webhook://127.0.0.1:{server.port}/in"), timeout=60)
        outcome: list[object] = []

        def send() -> None:
            try:
                outcome.append(channel.send_notice("title", "body"))
            except ChannelClosedError as exc:
                outcome.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        assert server.request_seen.wait(10)
        channel.close(grace=0.1)
        sender.join(10)
        assert not sender.is_alive()
        assert server.closed.wait(10)
    assert len(outcome) == 1 and isinstance(outcome[0], ChannelClosedError)
    with pytest.raises(ChannelClosedError):
        channel.send_notice("after", "the stop")
