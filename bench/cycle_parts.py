"""bench/cycle.py's stage breakdown, issue 14's target ratios and its scratch PostgreSQL database."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from monitor.pipeline import FeedReport
from monitor.stages import Stage, StageSnapshot

Row = tuple[str, str, str]
FIRST_CYCLE_TARGET = {"SQLite": 1.5, "PostgreSQL": 1.0}  # baseline / first full cycle, at least
STEADY_TARGET = 1.3  # steady cycle with nothing changed / bare httpx floor, at most


@dataclass(frozen=True, slots=True)
class CycleFigures:
    label: str
    database: str  # SQLite or PostgreSQL
    seconds: float  # wall time of Pipeline.poll_feeds
    process_cpu: float  # this process's CPU over that call, every thread (time.process_time)
    stages: StageSnapshot


def print_stage_table(cycle: CycleFigures) -> None:
    """CPU by stage for one cycle. Shares are of all CPU measured: this process's and the
    parse workers' own figures; "other" is this process's CPU outside every stage."""
    combined = cycle.stages.combined
    own, workers = cycle.stages.own.seconds, cycle.stages.merged.seconds
    other = max(cycle.process_cpu - own, 0.0)
    total = cycle.process_cpu + workers
    lines = [("stage", "CPU s", "share", "calls")]
    for name in Stage:
        figure = combined.get(name)
        lines.append((str(name), f"{figure.seconds:.2f}", _share(figure.seconds, total), str(figure.calls)))
    lines.append(("other, main process", f"{other:.2f}", _share(other, total), "-"))
    lines.append(("all", f"{total:.2f}", _share(total, total), "-"))
    print(f"\nCPU by stage, {cycle.label} ({cycle.database}), {cycle.seconds:.2f} s wall:")
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    for line in lines:
        cells = [
            line[0].ljust(widths[0]),
            *(cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)),
        ]
        print("  " + "  ".join(cells))
    print(f"  main process CPU total: {cycle.process_cpu:.2f} s ({own:.2f} s in the stages above)")
    print(f"  parse workers CPU total: {workers:.2f} s (their own figures)", flush=True)


def print_table(rows: list[Row]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def cycle_rows(cycle: CycleFigures, reports: list[FeedReport]) -> list[Row]:
    tally = Counter(str(report.status) for report in reports)
    items = sum(report.new_items for report in reports)
    hits = sum(report.new_hits for report in reports)
    return [
        (
            f"{cycle.label} ({cycle.database}, runtime API)",
            f"{cycle.seconds:.2f} s",
            f"{dict(tally)}, {items} new items, {hits} hits",
        )
    ]


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole > 0 else "-"


def first_cycle_ratio(database: str, baseline: float, first: float) -> Row:
    ratio = baseline / first
    target = FIRST_CYCLE_TARGET[database]
    verdict = "met" if ratio >= target else "missed"
    return (
        f"ratio ({database}): baseline / first full cycle",
        f"{ratio:.2f} ×",
        f"target ≥ {target} ×: {verdict} ({baseline:.2f} s / {first:.2f} s)",
    )


def steady_ratio(database: str, steady: float, floor: float) -> Row:
    ratio = steady / floor
    verdict = "met" if ratio <= STEADY_TARGET else "missed"
    return (
        f"ratio ({database}): steady, nothing changed / bare httpx floor",
        f"{ratio:.2f} ×",
        f"target ≤ {STEADY_TARGET} ×: {verdict} ({steady:.2f} s / {floor:.2f} s, all 304)",
    )


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    """A new empty database on the server of ``admin_url``, dropped afterwards; yields its
    SQLAlchemy URL."""
    admin = make_url(admin_url).set(drivername="postgresql")
    name = f"bench_cycle_{os.getpid()}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
