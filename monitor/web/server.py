"""Serving the console: beside the daemon (`monitor run` with `web:` configured, a background
thread with its own event loop) or alone (`monitor web`, in the foreground).

The socket is bound before anything starts, so an address in use is one clear error rather
than a thread dying quietly.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import uvicorn

from monitor.store import Store
from monitor.web.app import build_app
from monitor.web.auth import SessionSigner
from monitor.web.console import Console
from monitor.web.preview import ItemWindow, RulesView
from monitor.web.rule_files import RuleFiles
from monitor.web.settings import WebSettings
from monitor.web.throttle import LoginThrottle

log = logging.getLogger(__name__)
# Requests under way at shutdown get this long: the daemon promises to exit within 10 s of SIGTERM.
STOP_SECONDS = 1.0


class WebPortError(RuntimeError):
    """The console cannot listen on its address."""


def make_console(
    store: Store,
    settings: WebSettings,
    rule_paths: tuple[Path, ...],
    clock: Callable[[], datetime],
    read_only_reason: str = "",
) -> Console:
    return Console(
        store=store,
        settings=settings,
        files=RuleFiles(rule_paths),
        rules=RulesView(rule_paths),
        window=ItemWindow(store, clock),
        throttle=LoginThrottle(clock),
        signer=SessionSigner(store.console.key("session")),
        clock=clock,
        read_only_reason=read_only_reason,
    )


def bind(settings: WebSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise WebPortError(f"cannot listen on {settings.listen} for the console: {exc.strerror or exc}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server(console: Console) -> uvicorn.Server:
    config = uvicorn.Config(
        build_app(console),
        log_config=None,  # the monitor's own logging setup applies
        access_log=False,
        proxy_headers=False,  # X-Forwarded-* is believed only from web.trusted_proxies (monitor.web.auth)
        server_header=False,
        timeout_graceful_shutdown=1,
        lifespan="off",
    )
    return uvicorn.Server(config)


class WebServer:
    """The console in a background thread, for the daemon's process."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._socket = bind(console.settings)
        self._server = _server(console)
        self._thread = threading.Thread(target=self._run, name="web-console", daemon=True)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self) -> WebServer:
        self._thread.start()
        log.info("console on http://%s", self._console.settings.listen)
        return self

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STOP_SECONDS + 2)
        self._socket.close()


def serve_foreground(console: Console) -> None:
    """`monitor web`: serve until SIGINT/SIGTERM (uvicorn handles them in the main thread)."""
    sock = bind(console.settings)
    try:
        _server(console).run(sockets=[sock])
    finally:
        sock.close()
