"""Alerting: render story messages and deliver them from the outbox with retries (routing is a
pure decision in monitor.stories.alerting).

The names below are imported on first use (PEP 562): a channel's sending process imports
monitor.alerts.channels, and must not pull the outbox and with it the store, SQLAlchemy and the
rule engine into every such process (about 50 MB each)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.alerts.channels import Channel, ChannelSet, SendOutcome
    from monitor.alerts.outbox import ChannelPlan, Outbox, OutboxReport

_HOMES = {
    "Channel": "monitor.alerts.channels",
    "ChannelSet": "monitor.alerts.channels",
    "SendOutcome": "monitor.alerts.channels",
    "ChannelPlan": "monitor.alerts.outbox",
    "Outbox": "monitor.alerts.outbox",
    "OutboxReport": "monitor.alerts.outbox",
}

__all__ = [
    "Channel",
    "ChannelPlan",
    "ChannelSet",
    "Outbox",
    "OutboxReport",
    "SendOutcome",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'monitor.alerts' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
