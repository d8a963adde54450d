"""Real HTTP receivers on loopback: one for JSON webhooks (Apprise json://, the native webhook
channel) and Slack-style posts, and one that answers one byte at a time."""

from __future__ import annotations

import itertools
import json
import select
import socket
import threading
import time
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (request headers, raw body) -> (status, response headers, response body)
Reply = Callable[[Message, bytes], tuple[int, dict[str, str], bytes]]


class WebhookReceiver:
    def __init__(self, reply: Reply | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.raw_bodies: list[bytes] = []
        self.status = 200
        self.reply = reply  # when set, decides each answer instead of `status`
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers), body))
                    receiver.raw_bodies.append(raw)
                    status = receiver.status
                    reply = receiver.reply
                if reply is not None:
                    status, headers, answer = reply(self.headers, raw)
                else:
                    headers = {"content-type": "application/json"}
                    answer = b'{"ok": true}' if status < 400 else b'{"ok": false}'
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[Any]:
        with self.lock:
            return [body for _, _, body in self.requests]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.bodies()) >= count:
                return self.bodies()
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook posts, got {len(self.bodies())}")


class TricklingServer:
    """Takes one connection, reads the request, then answers one header byte every `pace` seconds,
    never finishing. `request_seen` is set once the request is read; `closed` when the client hangs
    up (the end of file or a reset is seen, or a write fails)."""

    def __init__(self, pace: float = 0.5) -> None:
        self.pace = pace
        self.request_seen = threading.Event()
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TricklingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._listener.close()

    def _serve(self) -> None:
        # select() with a timeout lets the thread notice __exit__ without another connection.
        while not select.select([self._listener], [], [], self.pace)[0]:
            if self._stop.is_set():
                return
        connection, _ = self._listener.accept()
        with connection:
            _read_request(connection)
            self.request_seen.set()
            self._trickle(connection)

    def _trickle(self, connection: socket.socket) -> None:
        answer = itertools.chain(b"HTTP/1.1 200 OK\r\nX-Slow: ", itertools.repeat(ord("a")))
        for byte in answer:
            if self._stop.is_set():
                return
            # The client sends nothing after its request: readable means it hung up.
            if select.select([connection], [], [], self.pace)[0] and not _receive(connection):
                self.closed.set()
                return
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                self.closed.set()
                return


def _read_request(connection: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return b""
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length and (chunk := connection.recv(65536)):
        body += chunk
    return body


def _receive(connection: socket.socket) -> bytes:
    try:
        return connection.recv(1)
    except OSError:  # reset by the peer: it is gone just the same
        return b""
