"""The fallback channel when no notification URL is configured: alerts go to standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.alerts.channels import SendOutcome
from monitor.alerts.formats import ChannelKind, Digest, Rendered, Renderer
from monitor.types import ChannelSpec, StoryAlert

CONSOLE = ChannelSpec(name="console", url="console://")


class ConsoleChannel:
    spec = CONSOLE

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._renderer = Renderer()

    @property
    def name(self) -> str:
        return CONSOLE.name

    @property
    def endpoint(self) -> str:
        return "standard output"

    def send_story(self, alert: StoryAlert) -> SendOutcome:
        return self._print(self._renderer.render(alert, ChannelKind.TEXT))

    def send_digest(self, digest: Digest) -> SendOutcome:
        return self._print(self._renderer.render_digest(digest, ChannelKind.TEXT))

    def send_notice(self, title: str, body: str) -> SendOutcome:
        return self._print(Rendered(title, body, "text"))

    def _print(self, message: Rendered) -> SendOutcome:
        stream = self._stream or sys.stdout
        rule = "─" * 72
        stream.write(f"{rule}\nALERT {message.title}\n{message.body}\n{rule}\n")
        stream.flush()
        return SendOutcome(True)
