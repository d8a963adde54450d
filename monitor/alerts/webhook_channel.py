"""The native webhook channel: our JSON documents themselves, signed, with an idempotency key.

Apprise's json:// wraps a message in its own envelope (the document arrives as a string in
``message``); a ``webhook://`` channel POSTs the documented object as the body instead.
"""

from __future__ import annotations

import hashlib

from monitor.alerts.channels import SendOutcome
from monitor.alerts.format_digest import Digest, digest_stories
from monitor.alerts.format_json import digest_payload, story_payload
from monitor.alerts.format_text import MAX_TITLE, clean_line
from monitor.alerts.webhook import WebhookSender, parse_webhook_url
from monitor.types import ChannelSpec, StoryAlert

NOTICE_SCHEMA = "sanctions-monitor.notice/1"


class WebhookChannel:
    """A named ``webhook://`` (http) or ``webhooks://`` (https) destination. Sending blocks."""

    def __init__(self, spec: ChannelSpec, timeout: float = 30.0) -> None:
        self.spec = spec
        self._sender = WebhookSender(parse_webhook_url(spec.url), timeout=timeout)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def endpoint(self) -> str:
        return self._sender.endpoint

    def send_story(self, alert: StoryAlert) -> SendOutcome:
        # The same key on every retry of one message: receivers de-duplicate on it.
        return self._sender.post(story_payload(alert), alert.idempotency_key)

    def send_digest(self, digest: Digest) -> SendOutcome:
        stories = digest_stories(digest.alerts)
        members = ",".join(str(alert.delivery_id) for alert in sorted(digest.alerts, key=lambda a: a.delivery_id))
        key = f"digest-{hashlib.sha256(members.encode()).hexdigest()[:32]}" if stories else "digest-empty"
        return self._sender.post(digest_payload(digest), key)

    def send_notice(self, title: str, body: str) -> SendOutcome:
        document = {"schema": NOTICE_SCHEMA, "title": clean_line(title, MAX_TITLE), "body": body[:10_000]}
        digest = hashlib.sha256("\n".join((title, body)).encode()).hexdigest()
        key = f"notice-{digest[:32]}"
        return self._sender.post(document, key)

    def close(self) -> None:
        self._sender.close()
