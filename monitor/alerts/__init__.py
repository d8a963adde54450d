"""Alerting: route hits to channels, render messages, deliver them from the outbox with retries."""

from monitor.alerts.channels import Channel, ChannelSet, SendOutcome
from monitor.alerts.outbox import OutboxReport, deliver_pending
from monitor.alerts.render import render_alert
from monitor.alerts.routing import channels_for

__all__ = [
    "Channel",
    "ChannelSet",
    "OutboxReport",
    "SendOutcome",
    "channels_for",
    "deliver_pending",
    "render_alert",
]
