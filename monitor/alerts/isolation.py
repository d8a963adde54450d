"""Channel sends in a child process that can be killed: a hard deadline that frees everything.

Apprise is synchronous, and its own time limit only stops *waiting*: a service that trickles its
answer keeps a thread and a socket busy, and since that thread is not a daemon thread the
process cannot exit (issue 12: still alive 165 s after SIGTERM). A thread cannot be cancelled; a
process can. Each channel therefore sends from its own long-lived child process, which keeps
Apprise's per-service pacing (e-mail waits 5.5 s between messages) from one send to the next.
The parent waits for the answer up to a deadline; past it, or when the daemon stops, it kills
the child, which closes its sockets, and the next send starts a fresh one.

The child's log records travel back over the same pipe and go through the parent's handlers, so
they are redacted and formatted like every other line.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from monitor.parse_pool import exit_with_parent, name_process

log = logging.getLogger(__name__)
SENDER_NAME = "monitor-send"

# Apprise gives up waiting on a service after 60 s (AppriseAsset's service_timeout) but leaves its
# thread running; the few seconds more let its own, tidier answer arrive first when it can.
SEND_DEADLINE_SECONDS = 65.0
_CONTEXT = multiprocessing.get_context("spawn")  # never fork a process that has threads


class ChannelClosedError(RuntimeError):
    """The channel was closed (the daemon is stopping) before or during the send. Nothing is known
    to have been delivered: the caller leaves the delivery pending for the next start."""


class SendAbandonedError(RuntimeError):
    """The send did not finish: it outlived its deadline, or the child process died."""


class ChildSender:
    """Runs ``getattr(factory(), method)(*args)`` in one child process, one call at a time.

    ``factory`` is pickled to the child (spawned, so it must be importable by reference) and
    called once there; the child then serves calls until it is killed or the parent goes away.
    """

    def __init__(self, name: str, factory: Callable[[], Any], method: str, deadline: float) -> None:
        self._name = name
        self._factory = factory
        self._method = method
        self._deadline = deadline
        self._lock = threading.Lock()  # one call at a time; close() takes it to wait for a call
        self._closed = False
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._reaper: weakref.finalize[[BaseProcess, Connection], ChildSender] | None = None

    def call(self, *args: Any) -> Any:
        with self._lock:
            try:
                conn = self._connection()
                conn.send(args)
                return self._answer(conn, time.monotonic() + self._deadline)
            except (EOFError, OSError):  # the child died, or close() killed it
                code = self._discard()
                if self._closed:
                    raise ChannelClosedError(f"channel {self._name} closed during the send") from None
                raise SendAbandonedError(f"the sending process died (exit code {code})") from None

    def refuse(self) -> None:
        """From now on every call raises ChannelClosedError; a call under way goes on."""
        self._closed = True

    def close(self, grace: float = 0.0) -> None:
        """Refuse new calls, give the one under way ``grace`` seconds, then kill the child."""
        self._closed = True
        if not self._lock.acquire(timeout=grace):
            self._kill()  # the waiting call sees the pipe close at once and raises
            if not self._lock.acquire(timeout=5):  # stuck elsewhere (e.g. a blocked log stream)
                log.warning("channel %s: a send did not end after its process was killed", self._name)
                return
        try:
            self._discard()
        finally:
            self._lock.release()

    def _connection(self) -> Connection:
        if self._closed:
            raise ChannelClosedError(f"channel {self._name} is closed")
        if self._conn is None:
            self._start()
        if self._closed:  # close() ran while the child started and did not see it
            self._discard()
            raise ChannelClosedError(f"channel {self._name} is closed")
        assert self._conn is not None
        return self._conn

    def _start(self) -> None:
        ours, theirs = _CONTEXT.Pipe()
        level = logging.getLogger().getEffectiveLevel()
        process = _CONTEXT.Process(
            target=_serve,
            args=(theirs, self._factory, self._method, os.getpid(), level),
            name=f"send-{self._name}",
            daemon=True,
        )
        process.start()
        theirs.close()  # else killing the child would not close the pipe for us
        self._process, self._conn = process, ours
        # a channel dropped without close() (tests, `monitor once`) must not leave its child behind
        self._reaper = weakref.finalize(self, _reap, process, ours)

    def _answer(self, conn: Connection, until: float) -> Any:
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0 or not conn.poll(remaining):
                self._discard()
                raise SendAbandonedError(f"no answer within {self._deadline:.0f} s; the send was cut off")
            kind, payload = conn.recv()
            if kind == "log":
                _replay(payload, self._name)
            elif kind == "error":
                raise SendAbandonedError(payload)
            else:
                if kind == "recycle":  # Apprise left a thread (and its socket) running
                    self._discard()
                return payload

    def _kill(self) -> None:
        process = self._process
        if process is not None:
            process.kill()

    def _discard(self) -> int | None:
        """Kill and reap the child, close the pipe; its exit code (None if there was none)."""
        if self._reaper is not None:
            self._reaper.detach()
            self._reaper = None
        process, conn = self._process, self._conn
        self._process = self._conn = None
        return _reap(process, conn) if process is not None and conn is not None else None


def _reap(process: BaseProcess, conn: Connection) -> int | None:
    process.kill()
    process.join(timeout=5)
    conn.close()
    return process.exitcode


def _replay(fields: dict[str, Any], channel: str) -> None:
    record = logging.makeLogRecord({**fields, "channel": channel})
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)


# ---- in the child -------------------------------------------------------------------------


def _serve(conn: Connection, factory: Callable[[], Any], method: str, parent: int, level: int) -> None:
    # Ctrl-C reaches the whole process group; the parent stops on it and ends us itself, so a
    # send is not cut short behind its back. (SIGTERM keeps its default: multiprocessing uses it
    # at exit, and systemd's KillMode=mixed sends it to the daemon only.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    name_process(SENDER_NAME)
    exit_with_parent(parent)
    send = _serialised(conn)
    root = logging.getLogger()
    root.handlers[:] = [_PipeHandler(send)]
    root.setLevel(level)
    target = getattr(factory(), method)
    while True:
        try:
            args = conn.recv()
        except EOFError:
            return
        try:
            result = target(*args)
        except Exception as exc:  # reported to the parent, which treats it as a failed send
            send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            send((_finish_kind(), result))


def _serialised(conn: Connection) -> Callable[[object], None]:
    """Apprise logs from its worker threads, possibly while this thread sends an answer: one
    message at a time, or their bytes would interleave in the pipe."""
    lock = threading.Lock()

    def send(message: object) -> None:
        with lock:
            conn.send(message)

    return send


def _finish_kind() -> str:
    """'recycle' when Apprise stopped waiting for a service whose thread still runs: the parent
    then replaces this process, or every trickling send would leave a thread and socket here."""
    try:
        from apprise.apprise import any_abandoned_calls_still_running
    except ImportError:  # an Apprise without the bookkeeping: recycle to be safe
        return "recycle"
    return "recycle" if any_abandoned_calls_still_running() else "ok"


class _PipeHandler(logging.Handler):
    """Sends each record's essentials (never arbitrary `extra` objects) to the parent."""

    def __init__(self, send: Callable[[object], None]) -> None:
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            essentials = ("name", "levelno", "levelname", "created", "msecs")
            self._send(("log", {"msg": message, **{name: getattr(record, name) for name in essentials}}))
        except Exception:
            self.handleError(record)
