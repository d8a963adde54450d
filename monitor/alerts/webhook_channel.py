"""The native webhook channel: our JSON documents themselves, signed, with an idempotency key.

Apprise's json:// wraps a message in its own envelope (the document arrives as a string in
``message``); a ``webhook://`` channel POSTs the documented object as the body instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Mapping

from monitor.alerts.channels import SendOutcome
from monitor.alerts.format_digest import Digest, digest_stories
from monitor.alerts.format_json import digest_payload, story_payload
from monitor.alerts.format_text import MAX_TITLE, clean_line
from monitor.alerts.isolation import ChannelClosedError
from monitor.alerts.webhook import WebhookSender, parse_webhook_url
from monitor.types import ChannelSpec, StoryAlert

NOTICE_SCHEMA = "sanctions-monitor.notice/1"
# A POST's hard deadline; a stop cuts one off sooner (close()).
POST_DEADLINE = 30.0


class WebhookChannel:
    """A named ``webhook://`` (http) or ``webhooks://`` (https) destination. Sending blocks."""

    def __init__(self, spec: ChannelSpec, timeout: float = POST_DEADLINE) -> None:
        self.spec = spec
        self._sender = WebhookSender(parse_webhook_url(spec.url), timeout=timeout)
        self._closed = threading.Event()
        self._idle = threading.Event()
        self._idle.set()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def endpoint(self) -> str:
        return self._sender.endpoint

    def send_story(self, alert: StoryAlert) -> SendOutcome:
        # The same key on every retry of one message: receivers de-duplicate on it.
        return self._post(story_payload(alert), alert.idempotency_key)

    def send_digest(self, digest: Digest) -> SendOutcome:
        stories = digest_stories(digest.alerts)
        members = ",".join(str(alert.delivery_id) for alert in sorted(digest.alerts, key=lambda a: a.delivery_id))
        key = f"digest-{hashlib.sha256(members.encode()).hexdigest()[:32]}" if stories else "digest-empty"
        return self._post(digest_payload(digest), key)

    def send_notice(self, title: str, body: str) -> SendOutcome:
        document = {"schema": NOTICE_SCHEMA, "title": clean_line(title, MAX_TITLE), "body": body[:10_000]}
        digest = hashlib.sha256("\n".join((title, body)).encode()).hexdigest()
        key = f"notice-{digest[:32]}"
        return self._post(document, key)

    def refuse(self) -> None:
        """From now on every send raises ChannelClosedError (the daemon is stopping)."""
        self._closed.set()

    def close(self, grace: float = 0.0) -> None:
        """Refuse new sends, give a POST under way ``grace`` seconds, then cut it off: it raises
        ChannelClosedError in its sender, so its delivery stays pending."""
        self.refuse()
        if grace > 0:
            self._idle.wait(grace)
        self._sender.cancel()
        self._sender.close()

    def _post(self, document: Mapping[str, object], key: str) -> SendOutcome:
        if self._closed.is_set():
            raise ChannelClosedError(f"channel {self.name} is closed")
        self._idle.clear()
        try:
            return self._sender.post(document, key)
        except asyncio.CancelledError:
            raise ChannelClosedError(f"channel {self.name} closed during the send") from None
        finally:
            self._idle.set()
