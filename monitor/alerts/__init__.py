"""Alerting: route hits to channels, render messages, deliver them from the outbox with retries."""

from monitor.alerts.channels import Channel, ChannelSet, SendOutcome
from monitor.alerts.outbox import ChannelPlan, OutboxReport, deliver_pending
from monitor.alerts.routing import channels_for

__all__ = [
    "Channel",
    "ChannelPlan",
    "ChannelSet",
    "OutboxReport",
    "SendOutcome",
    "channels_for",
    "deliver_pending",
]
