"""Alerting: render story messages and deliver them from the outbox with retries (routing is a
pure decision in monitor.stories.alerting)."""

from monitor.alerts.channels import Channel, ChannelSet, SendOutcome
from monitor.alerts.outbox import ChannelPlan, Outbox, OutboxReport

__all__ = [
    "Channel",
    "ChannelPlan",
    "ChannelSet",
    "Outbox",
    "OutboxReport",
    "SendOutcome",
]
