"""A threaded HTTP server for hundreds of feeds: ETag/304, a request log with times, and a gate.

    hub = FeedHub().start()
    hub.set_feed("/feed/7.xml", rss_bytes)      # ETag = hash of the body, so edits change it
    hub.hits("/feed/7.xml")                     # requests so far (200s and 304s)
    hub.close_gate()                            # new requests wait (bounded) until open_gate()

The gate lets a test freeze workers in the middle of their fetches, so it can kill one while it
provably holds leases.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_HOLD_SECONDS = 15.0  # a forgotten closed gate must not hang a test run


class FeedHub:
    def __init__(self) -> None:
        self._bodies: dict[str, tuple[bytes, str]] = {}
        self._times: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self._gate.set()
        self.held = 0  # requests currently waiting at the closed gate
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.hub = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> FeedHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._gate.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def set_feed(self, path: str, body: bytes) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        with self._lock:
            self._bodies[path] = (body, etag)

    def hits(self, path: str) -> int:
        with self._lock:
            return len(self._times.get(path, ()))

    def times(self, path: str) -> list[float]:
        """time.monotonic() of every request to `path`, oldest first."""
        with self._lock:
            return list(self._times.get(path, ()))

    def close_gate(self) -> None:
        self._gate.clear()

    def open_gate(self) -> None:
        self._gate.set()

    def _arrive(self, path: str) -> tuple[bytes, str] | None:
        with self._lock:
            self._times[path].append(time.monotonic())
        if not self._gate.is_set():
            with self._lock:
                self.held += 1
            self._gate.wait(MAX_HOLD_SECONDS)
            with self._lock:
                self.held -= 1
        with self._lock:
            return self._bodies.get(path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # several workers open many connections at once
    hub: FeedHub

    def handle_error(self, request: object, client_address: object) -> None:
        """A killed worker leaves half-open connections behind; that is the point, not an error."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        found = self.server.hub._arrive(self.path)
        if found is None:
            self._reply(404, b"not found", None)
            return
        body, etag = found
        if etag in (self.headers.get("If-None-Match") or ""):
            self._reply(304, b"", etag)
            return
        self._reply(200, body, etag)

    def _reply(self, status: int, body: bytes, etag: str | None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the worker died while we held its request
            self.close_connection = True
