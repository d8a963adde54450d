"""Login throttling: after a few failed sign-ins for one user name or from one address, further
attempts are refused (HTTP 429) until the oldest failure ages out of the window.

Kept in memory: it works for a read-only console too, and a restart forgets it. Several
console processes (PostgreSQL deployments) each keep their own count.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
_MAX_KEYS = 100_000  # a flood of distinct names cannot grow this without bound


class LoginThrottle:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, *keys: str) -> int:
        """0 when an attempt may be made now, else how long until one may."""
        now = self._clock()
        longest = 0.0
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if len(recent) >= MAX_FAILURES:
                    longest = max(longest, (recent[0] + WINDOW - now).total_seconds())
        return max(int(longest + 0.999), 0) if longest > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > _MAX_KEYS:
                self._failures.clear()
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        recent = self._failures.setdefault(key, deque(maxlen=MAX_FAILURES * 4))
        while recent and recent[0] <= now - WINDOW:
            recent.popleft()
        return recent
