"""Apprise channels: one Apprise object per configured channel, each message rendered for the
kind of service behind it, and each service's result recorded."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import apprise

from monitor.alerts.email_threads import email_thread
from monitor.alerts.formats import (
    ChannelKind,
    Digest,
    Rendered,
    Renderer,
    apprise_body_format,
    channel_kind,
)
from monitor.alerts.isolation import SEND_DEADLINE_SECONDS, ChildSender, SendAbandonedError
from monitor.redact import redact_text, redact_url
from monitor.types import ChannelSpec, StoryAlert

if TYPE_CHECKING:
    from monitor.alerts.webhook_channel import WebhookChannel

log = logging.getLogger(__name__)

Thread = tuple[str, str | None]  # (this message's Message-ID, the Message-ID it replies to)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ok: bool
    error: str | None = None


class Channel:
    """A named destination. Sending blocks (Apprise is synchronous); callers use a thread. The
    send itself runs in a child process with a hard deadline (monitor.alerts.isolation)."""

    def __init__(self, spec: ChannelSpec, min_interval: float | None = None) -> None:
        self.spec = spec
        self.kind = ChannelKind.TEXT if spec.is_config_file else channel_kind(spec.url)
        self._renderer = Renderer(Path(spec.template_dir) if spec.template_dir else None, spec.console_url)
        self._renderer.check()
        self._apprise = apprise.Apprise()
        if spec.is_config_file:
            config = apprise.AppriseConfig()
            config.add(spec.url)
            self._apprise.add(config)
        else:
            self._apprise.add(spec.url)
        if min_interval is not None:
            # Apprise throttles each service (e-mail: one message per 5.5 s); a channel may ask
            # for another pace, e.g. 0 for a local relay.
            for service in self._apprise:
                service.request_rate_per_sec = min_interval
        self._child = ChildSender(
            spec.name, functools.partial(Channel, spec, min_interval), "notify_here", _deadline(self._apprise)
        )

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def endpoint(self) -> str:
        return self.spec.url if self.spec.is_config_file else redact_url(self.spec.url)

    def send_story(self, alert: StoryAlert) -> SendOutcome:
        rendered = self._renderer.render(alert, self.kind, self.spec.timezone)
        thread = (alert.message_id, alert.thread_id) if self.kind is ChannelKind.EMAIL else None
        return self._notify(rendered, apprise_body_format(self.kind), thread)

    def send_digest(self, digest: Digest) -> SendOutcome:
        rendered = self._renderer.render_digest(digest, self.kind)
        return self._notify(rendered, apprise_body_format(self.kind))

    def send_notice(self, title: str, body: str) -> SendOutcome:
        return self._notify(Rendered(title, body, "text"), "text")

    def _notify(self, message: Rendered, body_format: str | None, thread: Thread | None = None) -> SendOutcome:
        """ChannelClosedError (the daemon is stopping) is raised: the delivery must stay pending."""
        try:
            outcome: SendOutcome = self._child.call(message, body_format, thread)
        except SendAbandonedError as exc:
            return SendOutcome(False, str(exc))
        return outcome

    def close(self, grace: float = 0.0) -> None:
        """Refuse new sends, give one under way ``grace`` seconds, then cut it off."""
        self._child.close(grace)

    def refuse(self) -> None:
        self._child.refuse()

    def notify_here(self, message: Rendered, body_format: str | None, thread: Thread | None = None) -> SendOutcome:
        """The send itself, in the calling process (the child of ``_notify``). ``thread``: the
        e-mail's own Message-ID and the one it replies to (see email_threads)."""
        try:
            if thread is None:
                result = self._apprise.notify(body=message.body, title=message.title, body_format=body_format)
            else:
                with email_thread(self._apprise, *thread):
                    result = self._apprise.notify(body=message.body, title=message.title, body_format=body_format)
        except Exception as exc:  # a plugin bug must not take the outbox down
            log.exception("Apprise raised", extra={"channel": self.name})
            return SendOutcome(False, redact_text(f"{type(exc).__name__}: {exc}"))
        services = list(result)
        if services and all(bool(service) for service in services):
            return SendOutcome(True)
        return SendOutcome(False, _failure_text(services))


def _failure_text(services: Sequence[object]) -> str:
    if not services:
        return "no Apprise service was loaded for this channel"
    problems: list[str] = []
    for service in services:
        if bool(service):
            continue
        messages = [
            entry.message
            for attempt in getattr(service, "attempts", ())
            for entry in getattr(attempt, "logs", ())
            if entry.level in ("ERROR", "WARNING")
        ]
        detail = messages[-1] if messages else "failed"
        problems.append(f"{getattr(service, 'name', 'service')}: {detail}")
    return redact_text("; ".join(problems))[:1000]


def _deadline(services: apprise.Apprise) -> float:
    """Apprise's pacing between messages (e-mail: 5.5 s, or the channel's min_interval) comes on
    top of the network time."""
    return SEND_DEADLINE_SECONDS + sum(float(service.request_rate_per_sec or 0) for service in services)


class ChannelSet:
    """All configured channels, by name."""

    def __init__(self, specs: Sequence[ChannelSpec], min_intervals: Mapping[str, float] | None = None) -> None:
        from monitor.alerts.webhook import is_webhook_url  # the webhook modules import this one
        from monitor.alerts.webhook_channel import WebhookChannel

        intervals = min_intervals or {}
        self._channels: dict[str, Channel | WebhookChannel] = {
            spec.name: WebhookChannel(spec)
            if not spec.is_config_file and is_webhook_url(spec.url)
            else Channel(spec, intervals.get(spec.name))
            for spec in specs
        }

    def __iter__(self) -> Iterator[Channel | WebhookChannel]:
        return iter(self._channels.values())

    @property
    def specs(self) -> tuple[ChannelSpec, ...]:
        return tuple(channel.spec for channel in self._channels.values())

    def close(self, grace: float = 0.0) -> None:
        """Every channel refuses new sends at once; sends still under way after ``grace`` seconds
        are cut off (their child processes killed), so no channel can hold up the daemon's exit."""
        until = time.monotonic() + grace
        for channel in self:
            channel.refuse()
        for channel in self:
            channel.close(max(0.0, until - time.monotonic()))
