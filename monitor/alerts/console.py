"""The fallback channel when no notification URL is configured: alerts go to standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.alerts.channels import SendOutcome
from monitor.alerts.render import Message
from monitor.types import ChannelSpec

CONSOLE = ChannelSpec(name="console", url="console://")


class ConsoleChannel:
    spec = CONSOLE
    name = CONSOLE.name
    endpoint = "standard output"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: Message) -> SendOutcome:
        stream = self._stream or sys.stdout
        rule = "─" * 72
        stream.write(f"{rule}\nALERT {message.title}\n{message.body}\n{rule}\n")
        stream.flush()
        return SendOutcome(True)
