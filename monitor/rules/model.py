"""The Rule record that other layers (store, alerts, CLI) read."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.types import Severity

REALERT_CHOICES = ("never", "on_new_source")


@dataclass(frozen=True, slots=True)
class Rule:
    """One watch rule as written in its file (queries kept as text; compiled trees live in
    the RuleSet)."""

    id: str
    title: str
    query: str
    severity: Severity = Severity.MEDIUM
    notify: tuple[str, ...] = ()  # empty: every channel
    exclude: str | None = None
    feeds: tuple[str, ...] = ()  # empty: every feed
    enabled: bool = True
    muted_until: datetime.date | None = None
    realert: str = "never"  # one of REALERT_CHOICES; deprecated and ignored (stories alert once)
    file: str = "<string>"
    line: int = 0
    # 1-based (line, column) of each key's value in the file, to point at it in later checks
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def is_muted(self, today: datetime.date) -> bool:
        """Muted rules still match and are stored; the alert layer skips them until the date
        has passed (muted through ``muted_until`` inclusive)."""
        return self.muted_until is not None and today <= self.muted_until
