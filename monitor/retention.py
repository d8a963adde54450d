"""Retention in the daemon: rows past their age are deleted in small batches, off the event loop.

Each batch is its own short transaction (monitor.store.retention) run in a worker thread, with a
pause between batches so the pipeline's writes get the database in between: SQLite has a single
writer, and a long delete would hold up every poll behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from monitor.metrics import Metrics
from monitor.policies import RetentionPolicy
from monitor.store import AsyncStore

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0
BATCH_ROWS = 500  # rows of one kind per transaction: tens of milliseconds on either database
PAUSE_SECONDS = 0.05  # between batches


class Pruner:
    def __init__(
        self, db: AsyncStore, policy: RetentionPolicy, clock: Callable[[], datetime], metrics: Metrics | None = None
    ) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock
        self._metrics = metrics

    async def run(self, stop: asyncio.Event | None = None) -> dict[str, int]:
        """One pass over everything past its age; rows deleted, by table. Stops between batches
        once `stop` is set (the rest waits for the next pass)."""
        total: Counter[str] = Counter()
        for kind, before in self._policy.cutoffs(self._clock()).items():
            while stop is None or not stop.is_set():
                pruned = await self._db.write(self._db.store.prune, kind, before, BATCH_ROWS)
                self._count(pruned)
                total.update(pruned)
                if pruned.get(kind, 0) < BATCH_ROWS:
                    break
                await asyncio.sleep(PAUSE_SECONDS)
        if total:
            log.info("retention: deleted %s", ", ".join(f"{count} {table}" for table, count in sorted(total.items())))
        return dict(total)

    def _count(self, pruned: dict[str, int]) -> None:
        if self._metrics is None:
            return
        for table, count in pruned.items():
            self._metrics.pruned_rows.labels(table=table).inc(count)
