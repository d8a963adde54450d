"""A webhook that never finishes answering: after the request it sends one byte of a response
header every `interval` seconds, forever, so no read timeout ever fires. It notes when a client
hangs up, which is how a test sees that the sender's socket was really closed."""

from __future__ import annotations

import itertools
import select
import socket
import threading

_HEAD = b"HTTP/1.1 200 OK\r\nX-Slow: "


class TrickleServer:
    def __init__(self, interval: float = 2.0) -> None:
        self._interval = interval
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.connected = threading.Event()  # a request arrived
        self.hung_up = threading.Event()  # a client closed its connection (or died)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="trickle", daemon=True)

    def __enter__(self) -> TrickleServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed by __exit__
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        answer = itertools.chain(_HEAD, itertools.cycle(b"x"))
        with conn:
            self.connected.set()
            while not self._stopping.is_set():
                readable, _, _ = select.select([conn], [], [], self._interval)
                try:
                    # the request (and its body) may still arrive; an empty read is the hang-up
                    if readable and not conn.recv(65536):
                        break
                    if not readable:
                        conn.sendall(bytes([next(answer)]))
                except OSError:  # reset by a killed client
                    break
        self.hung_up.set()
