"""A real, threaded HTTP server on 127.0.0.1 whose routes each test programs.

    server = FeedServer().start()          # or the `feed_server` pytest fixture
    server.route("/feed.xml", body=rss_bytes, etag='"v1"')
    url = server.url("/feed.xml")          # http://127.0.0.1:<port>/feed.xml
    ...fetch url...
    server.hits("/feed.xml")               # how many requests arrived for that path
    server.requests("/feed.xml")[-1]       # lower-cased headers of the last request
  server.targets("/feed.xml")[-1]        # the last request's target, query string included
    server.stop()

Behaviours (one per route, the last call for a path wins):
  route()        fixed status/body/headers; optional ETag / Last-Modified → 304 when they match
  redirect()     3xx to another path or absolute URL (two redirects to each other make a loop)
  gzip_bomb()    a small gzip body that inflates to `inflated_bytes`
  endless()      chunked body that never ends (until the client hangs up or the server stops)
  drip()         body sent one byte per `interval` seconds
  stall()        headers sent, then silence
  reset()        TCP RST before any response
  close_mid_body() Content-Length promises more than is sent, then the connection closes
"""

from __future__ import annotations

import gzip
import io
import socket
import struct
import threading
import zlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Behaviour = Literal["fixed", "gzip_bomb", "endless", "drip", "stall", "reset", "close_mid_body"]

LOGIN_PAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
    b"<form method='post' action='/login'><input name='user'><input type='password' name='pw'>"
    b"<button>Sign in</button></form></body></html>"
)


@dataclass
class Route:
    """What the server does for one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    behaviour: Behaviour = "fixed"
    interval: float = 0.0  # drip: seconds between bytes
    inflated_bytes: int = 0  # gzip_bomb: size after decompression


class FeedServer:
    """Threaded stdlib HTTP server bound to an ephemeral port on 127.0.0.1."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._requests: dict[str, list[dict[str, str]]] = defaultdict(list)
        self._targets: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0  # highest number of requests handled at the same time
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.feed_server = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # releases endless/drip/stall handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # addressing ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # programming routes ----------------------------------------------------------------------
    def route(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = "application/rss+xml; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serve `body` with `status`; with etag/last_modified, answer 304 to a matching
        If-None-Match / If-Modified-Since. `content_type=None` sends no Content-Type."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        self._set(path, Route(status, raw, all_headers, etag, last_modified))

    def redirect(self, path: str, to: str, *, status: int = 302) -> None:
        location = to if "://" in to else self.url(to)
        self._set(path, Route(status=status, headers={"Location": location}))

    def gzip_bomb(self, path: str, inflated_bytes: int) -> None:
        self._set(path, Route(behaviour="gzip_bomb", inflated_bytes=inflated_bytes))

    def endless(self, path: str) -> None:
        self._set(path, Route(behaviour="endless"))

    def drip(self, path: str, body: bytes, interval: float) -> None:
        self._set(path, Route(body=body, behaviour="drip", interval=interval))

    def stall(self, path: str) -> None:
        self._set(path, Route(behaviour="stall"))

    def reset(self, path: str) -> None:
        self._set(path, Route(behaviour="reset"))

    def close_mid_body(self, path: str, body: bytes) -> None:
        self._set(path, Route(body=body, behaviour="close_mid_body"))

    # observing -------------------------------------------------------------------------------
    def hits(self, path: str) -> int:
        with self._lock:
            return len(self._requests.get(path, []))

    def requests(self, path: str) -> list[dict[str, str]]:
        """Lower-cased request headers of every request to `path`, oldest first."""
        with self._lock:
            return [dict(headers) for headers in self._requests.get(path, [])]

    def targets(self, path: str) -> list[str]:
        """The request target (path and query, as sent) of every request to `path`, oldest first."""
        with self._lock:
            return list(self._targets.get(path, []))

    # used by the handler ---------------------------------------------------------------------
    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _set(self, path: str, route: Route) -> None:
        with self._lock:
            self._routes[path] = route

    def _record(self, path: str, headers: dict[str, str], target: str) -> Route | None:
        with self._lock:
            self._requests[path].append(headers)
            self._targets[path].append(target)
            return self._routes.get(path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    feed_server: FeedServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-response are expected here; keep test output quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request stderr log."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        headers = {name.lower(): value for name, value in self.headers.items()}
        feed_server = self.server.feed_server
        route = feed_server._record(path, headers, self.path)
        if route is None:
            self._send_fixed(Route(status=404, body=b"not found"))
            return
        sender = getattr(self, f"_send_{route.behaviour}")
        feed_server._enter()
        try:
            sender(route)
        except OSError:  # the client hung up (as timeouts and size caps make it do)
            self.close_connection = True
        finally:
            feed_server._leave()

    def _send_fixed(self, route: Route) -> None:
        if _not_modified(route, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")):
            self.send_response(304)
            self._send_validators(route)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self._send_validators(route)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def _send_validators(self, route: Route) -> None:
        if route.etag:
            self.send_header("ETag", route.etag)
        if route.last_modified:
            self.send_header("Last-Modified", route.last_modified)

    def _send_gzip_bomb(self, route: Route) -> None:
        payload = _gzip_zeros(route.inflated_bytes)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_endless(self, route: Route) -> None:
        self._start_chunked()
        chunk = b"<item><title>again</title></item>\n" * 1000
        while not self.server.feed_server.stopping.is_set():
            self._write_chunk(chunk)

    def _send_drip(self, route: Route) -> None:
        self._start_chunked()
        stopping = self.server.feed_server.stopping
        for index in range(len(route.body)):
            if stopping.wait(route.interval):
                return
            self._write_chunk(route.body[index : index + 1])
        self._write_chunk(b"")

    def _send_stall(self, route: Route) -> None:
        self._start_chunked()
        self.server.feed_server.stopping.wait()

    def _send_reset(self, route: Route) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _send_close_mid_body(self, route: Route) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(route.body) * 2))
        self.end_headers()
        self.wfile.write(route.body)
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _start_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _not_modified(route: Route, if_none_match: str | None, if_modified_since: str | None) -> bool:
    if route.etag and if_none_match:
        return route.etag in (tag.strip() for tag in if_none_match.split(","))
    if route.last_modified and if_modified_since:
        try:
            return parsedate_to_datetime(if_modified_since) >= parsedate_to_datetime(route.last_modified)
        except (TypeError, ValueError):
            return False
    return False


_BOMB_CACHE: dict[int, bytes] = {}


def _gzip_zeros(size: int) -> bytes:
    """gzip of `size` zero bytes, built in 1 MiB steps so the server never holds `size` bytes."""
    if size not in _BOMB_CACHE:
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=zlib.Z_BEST_COMPRESSION) as out:
            step = b"\0" * (1 << 20)
            remaining = size
            while remaining > 0:
                out.write(step[: min(remaining, len(step))])
                remaining -= len(step)
        _BOMB_CACHE[size] = buffer.getvalue()
    return _BOMB_CACHE[size]
