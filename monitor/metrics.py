"""Prometheus metrics and a tiny HTTP endpoint for /metrics and /healthz.

The endpoint is a stdlib ThreadingHTTPServer in a daemon thread: it needs no event loop, so it
keeps answering while the scheduler is busy (or stuck), which is exactly when /healthz matters.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from monitor.redact import redact_text
from monitor.types import FetchErrorKind, PollStatus

log = logging.getLogger(__name__)

POLL_STATUSES = tuple(str(status) for status in PollStatus)
PRUNED_TABLES = ("items", "item_bands", "hits", "routed_hits", "deliveries", "stories")  # retention's tables
_CYCLE_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 60.0)


class Metrics:
    """All process metrics, on a private registry so tests (and several instances) stay isolated."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.polls = Counter("monitor_polls", "Feed polls by outcome.", ["status"], registry=reg)
        self.fetch_failures = Counter("monitor_fetch_failures", "Failed fetches by cause.", ["kind"], registry=reg)
        self.hits = Counter("monitor_hits", "Rule hits stored.", registry=reg)
        self.alerts_sent = Counter("monitor_alerts_sent", "Alert deliveries that succeeded.", ["channel"], registry=reg)
        self.alerts_failed = Counter(
            "monitor_alerts_failed",
            "Alert delivery attempts that failed.",
            ["channel"],
            registry=reg,
        )
        self.cycle_seconds = Histogram(
            "monitor_cycle_seconds",
            "Duration of one poll cycle.",
            buckets=_CYCLE_BUCKETS,
            registry=reg,
        )
        self.fetch_seconds = Histogram(
            "monitor_fetch_seconds",
            "Duration of one feed fetch.",
            buckets=_FETCH_BUCKETS,
            registry=reg,
        )
        self.feeds_overdue = Gauge(
            "monitor_feeds_overdue", "Active feeds whose next poll is well past due.", registry=reg
        )
        self.pending_alerts = Gauge("monitor_pending_alerts", "Alert deliveries waiting in the outbox.", registry=reg)
        self.pruned_rows = Counter("monitor_pruned_rows", "Rows deleted by retention.", ["table"], registry=reg)
        self._prime_known_labels()

    def _prime_known_labels(self) -> None:
        # series that exist from the start read as 0 instead of "no data", so rate() and
        # absence alerts behave from the first scrape
        for status in POLL_STATUSES:
            self.polls.labels(status=status)
        for kind in FetchErrorKind:
            self.fetch_failures.labels(kind=kind.value)
        for table in PRUNED_TABLES:
            self.pruned_rows.labels(table=table)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class HealthStatus:
    ok: bool
    scheduler_alive: bool
    database_ok: bool
    overdue_feeds: int
    last_cycle_at: datetime | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "scheduler_alive": self.scheduler_alive,
            "database_ok": self.database_ok,
            "overdue_feeds": self.overdue_feeds,
            "last_cycle_at": self.last_cycle_at.isoformat() if self.last_cycle_at else None,
            # details often quote a database or library error, which may carry a URL with a password
            "detail": redact_text(self.detail),
        }


HealthCheck = Callable[[], HealthStatus]


def _failed_health(reason: str) -> HealthStatus:
    return HealthStatus(False, False, False, 0, None, reason)


class _Handler(BaseHTTPRequestHandler):
    server_version = "monitor"
    sys_version = ""  # do not advertise the Python version
    server: _Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/metrics":
            self._reply(HTTPStatus.OK, CONTENT_TYPE_LATEST, self.server.metrics.render())
        elif path == "/healthz":
            status = self._health()
            body = json.dumps(status.to_json()).encode()
            code = HTTPStatus.OK if status.ok else HTTPStatus.SERVICE_UNAVAILABLE
            self._reply(code, "application/json", body)
        else:
            self._reply(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")

    def _health(self) -> HealthStatus:
        try:
            return self.server.health()
        except Exception:  # a broken check must read as unhealthy, not as a dropped connection
            log.exception("health check raised")
            return _failed_health("health check raised an error (see the logs)")

    def _reply(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # scrapes every few seconds would drown the real log; keep them at debug level
        log.debug("metrics endpoint: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: Metrics, health: HealthCheck) -> None:
        self.metrics = metrics
        self.health = health
        super().__init__(address, _Handler)


class MetricsPortError(RuntimeError):
    """The metrics endpoint cannot listen on its address (port taken, no such address)."""


class MetricsServer:
    """Serves GET /metrics and GET /healthz from a background thread."""

    def __init__(
        self,
        metrics: Metrics,
        health: HealthCheck,
        host: str = "127.0.0.1",
        port: int = 9108,
    ) -> None:
        self._metrics = metrics
        self._health = health
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port once started (useful with port=0), else the requested one."""
        if self._server is None:
            return self._address[1]
        return int(self._server.server_address[1])

    def start(self) -> None:
        if self._server is not None:
            return
        host, port = self._address
        try:
            self._server = _Server(self._address, self._metrics, self._health)
        except OSError as exc:
            raise MetricsPortError(f"cannot listen on {host}:{port} for metrics: {exc.strerror or exc}") from exc
        self._thread = threading.Thread(
            # a short poll interval keeps stop() quick, inside the daemon's shutdown budget
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="metrics-http",
            daemon=True,
        )
        self._thread.start()
        log.info("metrics endpoint on http://%s:%d (/metrics, /healthz)", host, self.port)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> MetricsServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
