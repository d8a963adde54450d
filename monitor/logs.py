"""Logging set-up: readable text or JSON lines, with URLs redacted from every record."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from monitor.redact import redact_text

# attributes our code attaches with `extra=`; they are printed in both formats
CONTEXT_FIELDS = ("feed", "rule_id", "channel", "endpoint", "delivery_id", "worker")


class RedactingFilter(logging.Filter):
    """Libraries (Apprise, httpx) may log full URLs with tokens; rewrite them before output."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError) as exc:
            # a library's malformed call must not crash the caller nor vanish
            message = f"{record.msg!s} [bad log arguments {record.args!r}: {exc}]"
        record.msg = redact_text(message)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact_text(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name))
        return f"{text} [{context}]" if context else text


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "apscheduler.scheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


REPEAT_WINDOW_SECONDS = 300.0

_Key = tuple[str, int, str, str]  # logger name, level, message, exception type and first line


@dataclass(slots=True)
class _Repeats:
    logger: logging.Logger
    since: float  # start of the current counting window (monotonic)
    count: int = 0  # occurrences not logged in this window


class RepeatedErrors:
    """Logs an error the first time, then only counts it while it keeps happening.

    A failure that recurs every tick (a full disk, a database that is down) would otherwise
    write its traceback every few seconds: 53 lines each, 3,500 lines a minute. Identical means
    the same logger, level, message and exception type and first line of its text (SQLAlchemy
    puts the statement and its parameters on later lines, which differ from feed to feed). At
    the end of each window one line says how often it happened again; a window without a
    repeat forgets the error, so it is logged in full when it comes back.
    """

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()  # pipeline threads and the event loop both report errors
        self._seen: dict[_Key, _Repeats] = {}

    def log(
        self,
        logger: logging.Logger,
        level: int,
        message: str,
        error: BaseException | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        key = (logger.name, level, message, _error_text(error))
        now = self._clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is None:
                self._seen[key] = _Repeats(logger, now)
            else:
                seen.count += 1
                summary = self._close_window(key, seen, now)
        if seen is None:
            logger.log(level, "%s", message, exc_info=error, extra=extra)
        elif summary is not None:
            summary()

    def flush(self) -> None:
        """Report the repeats of every window that has ended (the daemon calls this each tick)."""
        now = self._clock()
        with self._lock:
            summaries = [self._close_window(key, seen, now) for key, seen in list(self._seen.items())]
        for summary in summaries:
            if summary is not None:
                summary()

    def _close_window(self, key: _Key, seen: _Repeats, now: float) -> Callable[[], None] | None:
        """If the window has ended: start the next one and return the line that reports the
        last (logged by the caller, outside the lock); forget an error that did not repeat."""
        elapsed = now - seen.since
        if elapsed < self._window:
            return None
        count, seen.since, seen.count = seen.count, now, 0
        if not count:
            del self._seen[key]
            return None
        _, level, message, error = key
        minutes = max(1, round(elapsed / 60))
        text = f"{message}: same error {count} more times in the last {minutes} minutes"
        text += f" ({error})" if error else ""
        return lambda: seen.logger.log(level, "%s", text)


def _error_text(error: BaseException | None) -> str:
    if error is None:
        return ""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__
