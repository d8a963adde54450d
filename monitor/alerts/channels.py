"""Apprise channels: one Apprise object per configured channel, each service's result recorded."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import apprise

from monitor.alerts.render import Message
from monitor.redact import redact_text, redact_url
from monitor.types import ChannelSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ok: bool
    error: str | None = None


class Channel:
    """A named destination. `send` blocks (Apprise is synchronous); callers run it in a thread."""

    def __init__(self, spec: ChannelSpec, min_interval: float | None = None) -> None:
        self.spec = spec
        self._apprise = apprise.Apprise()
        if spec.is_config_file:
            config = apprise.AppriseConfig()
            config.add(spec.url)
            self._apprise.add(config)
        else:
            self._apprise.add(spec.url)
        if min_interval is not None:
            # Apprise throttles each service (e-mail: one message per 5.5 s); the channel may ask
            # for another pace, e.g. 0 for a local relay.
            for service in self._apprise:
                service.request_rate_per_sec = min_interval

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def endpoint(self) -> str:
        return redact_url(self.spec.url) if not self.spec.is_config_file else self.spec.url

    def send(self, message: Message) -> SendOutcome:
        try:
            result = self._apprise.notify(
                body=message.body, title=message.title, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as exc:  # a plugin bug must not take the outbox down
            log.exception("channel %s: Apprise raised", self.name)
            return SendOutcome(False, redact_text(f"{type(exc).__name__}: {exc}"))
        services = list(result)
        if services and all(bool(service) for service in services):
            return SendOutcome(True)
        return SendOutcome(False, _failure_text(result, services))


def _failure_text(result: object, services: Sequence[object]) -> str:
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


class ChannelSet:
    """All configured channels, by name."""

    def __init__(
        self, specs: Sequence[ChannelSpec], min_intervals: Mapping[str, float] | None = None
    ) -> None:
        intervals = min_intervals or {}
        self._channels = {spec.name: Channel(spec, intervals.get(spec.name)) for spec in specs}

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._channels.values())

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._channels)

    @property
    def specs(self) -> tuple[ChannelSpec, ...]:
        return tuple(channel.spec for channel in self._channels.values())
