"""Small policy values read from the configuration and used by the alert and health layers.

They live apart from monitor.config so those layers need not import the config loader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    batch: int


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failures: int = 5
    silence_factor: float = 3.0


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long rows are kept, in seconds; None keeps them for ever."""

    items_seconds: float | None = 90 * DAY  # items without a hit (and their band rows)
    hits_seconds: float | None = None  # hits, then their items by the items rule
    deliveries_seconds: float | None = 30 * DAY  # sent outbox rows

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """What to prune and from when, in the order that frees the most per pass: hits first
        (their items become prunable), stories last (left without items)."""
        ages = {"hits": self.hits_seconds, "deliveries": self.deliveries_seconds, "items": self.items_seconds}
        configured = {kind: age for kind, age in ages.items() if age is not None}
        if configured:
            configured["stories"] = min(configured.values())  # only stories nothing references
        return {kind: now - timedelta(seconds=age) for kind, age in configured.items()}
