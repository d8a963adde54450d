"""Cycle benchmark (issue 5): 1,000 feeds × 50 real corpus items from a local HTTP server.

    .venv/bin/python bench/cycle.py [--feeds 1000] [--items 50] [--server asyncio|threaded]
                                    [--interval 10] [--probes 6] [--no-cli] [--no-daemon]
                                    [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Measures, and prints as a table:
  - the feed server alone (both implementations), to show whether it limits the figures;
  - baseline: a sequential loop of feedparser.parse(url), what cron-driven tools do;
  - first full cycle and steady-state cycles, in-process through the runtime API
    (open_runtime + Pipeline.poll_feeds, delivery timed separately), each followed by its CPU
    by stage (monitor.stages), then issue 14's two ratios; with --postgres the same again on a
    scratch PostgreSQL database; and `monitor once` walls;
  - the daemon (`monitor run`): peak RSS of the main process and of its parse workers, and the
    latency from an item appearing on a feed to its e-mail reaching a local SMTP sink.
Not a test: it asserts nothing; docs/performance.md explains the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402
import httpx  # noqa: E402
from benchkit import MemorySampler, TimedSmtpSink, write_config  # noqa: E402
from benchserver import ServerProcess  # noqa: E402
from cycle_parts import (  # noqa: E402
    CycleFigures,
    Row,
    cycle_rows,
    first_cycle_ratio,
    print_stage_table,
    print_table,
    scratch_postgres,
    steady_ratio,
)
from feedgen import CORPUS, CorpusItem, load_corpus  # noqa: E402

from monitor import stages  # noqa: E402
from monitor.config import load_settings  # noqa: E402
from monitor.fetch import Fetcher  # noqa: E402
from monitor.parse_pool import parse_pool  # noqa: E402
from monitor.rules import load_rules  # noqa: E402
from monitor.runtime import open_runtime  # noqa: E402

T = TypeVar("T")


def probe_items(corpus: list[CorpusItem], count: int) -> list[int]:
    """Corpus items the shipped rule pack matches; kept off the feeds so each probe is news."""
    rules = load_rules([REPO / "rules"])
    found = []
    for index, item in enumerate(corpus):
        fields = {"title": item.title, "summary": item.description, "content": ""}
        if rules.match(fields):
            found.append(index)
    rng = random.Random(5)
    return rng.sample(found, min(count, len(found)))


async def fetch_all(urls: list[str], concurrency: int, etags: dict[str, str]) -> tuple[float, Counter[int]]:
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:

        async def one(url: str) -> None:
            async with gate:
                headers = {"If-None-Match": etags[url]} if url in etags else {}
                reply = await client.get(url, headers=headers)
                statuses[reply.status_code] += 1
                if "etag" in reply.headers:
                    etags[url] = reply.headers["etag"]

        started = time.perf_counter()
        await asyncio.gather(*(one(url) for url in urls))
    return time.perf_counter() - started, statuses


def measure_servers(args: argparse.Namespace, reserved: frozenset[int]) -> tuple[list[Row], dict[str, float]]:
    """The rows, and each server's all-304 time: the floor of a steady cycle with nothing changed."""
    rows = []
    floors = {}
    for kind in ("threaded", "asyncio"):
        server = ServerProcess(kind, args.feeds, args.items, reserved).start()
        try:
            urls = [server.url(f"/feed/{n}.xml") for n in range(args.feeds)]
            etags: dict[str, str] = {}
            full, _ = asyncio.run(fetch_all(urls, 16, etags))
            cached, statuses = asyncio.run(fetch_all(urls, 16, etags))
        finally:
            server.stop()
        floors[kind] = cached
        rows.append(
            (
                f"feed server alone ({kind}), httpx ×16",
                f"{full:.2f} s / {cached:.2f} s",
                f"all 200 / all 304 ({statuses[304]} of {args.feeds})",
            )
        )
    return rows, floors


def baseline(urls: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    entries = sum(len(feedparser.parse(url).entries) for url in urls)
    return time.perf_counter() - started, entries


async def in_process_cycles(
    config: Path, server: ServerProcess, changed: int, database: str
) -> tuple[list[Row], list[CycleFigures]]:
    """The first full cycle and two steady ones; each cycle's CPU by stage is printed as it ends."""
    settings = load_settings(config, {})
    runtime = open_runtime(settings, exclusive=True)
    rows: list[Row] = []
    figures: list[CycleFigures] = []
    try:
        with parse_pool() as executor:
            async with Fetcher(settings.fetch) as fetcher:
                pipeline = runtime.pipeline(fetcher, executor)
                for label, prepare in (
                    ("first full cycle", None),
                    (f"steady cycle, {changed} feeds changed", changed),
                    ("steady cycle, nothing changed", 0),
                ):
                    if prepare:
                        server.admin(f"/_admin/refresh?count={prepare}")
                    stages.reset()
                    cpu, started = time.process_time(), time.perf_counter()
                    reports = await pipeline.poll_feeds(runtime.worker_id, due_only=False, limit=1_000_000)
                    polled = time.perf_counter() - started
                    cycle = CycleFigures(label, database, polled, time.process_time() - cpu, stages.snapshot())
                    figures.append(cycle)
                    print_stage_table(cycle)
                    rows += cycle_rows(cycle, reports)
                    started = time.perf_counter()
                    outbox = await runtime.deliver()
                    if outbox.sent or outbox.retrying:
                        rows.append(
                            (
                                "  + delivering its alerts to SMTP",
                                f"{time.perf_counter() - started:.2f} s",
                                f"{outbox.sent} sent, {outbox.retrying} retrying",
                            )
                        )
    finally:
        runtime.close()
    return rows, figures


def cli_once(config: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "once", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]
    return wall, summary


def daemon_run(
    folder: Path, server: ServerProcess, smtp: TimedSmtpSink, args: argparse.Namespace, probes: list[int]
) -> list[Row]:
    urls = [server.url(f"/feed/{n}.xml") for n in range(args.feeds)]
    config = write_config(folder, urls, smtp, args.interval, args.tick)
    log = (folder / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sampler = MemorySampler(daemon.pid).start()
    rng = random.Random(7)
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        _wait_first_cycle(folder / "monitor.db", args.feeds, daemon)
        first_cycle = time.perf_counter() - started
        for number, index in enumerate(probes):
            # inject at a random phase of the poll interval, as real news would arrive
            time.sleep(rng.uniform(0, args.interval))
            ref = f"benchref{number:03d}"
            server.admin(f"/_admin/add?feed={rng.randrange(args.feeds)}&index={index}&ref={ref}")
            injected = time.monotonic()
            arrived = _wait_for(functools.partial(smtp.arrival_of, ref), args.interval * 3 + 30)
            latencies.append(arrived - injected if arrived is not None else float("inf"))
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        sampler.stop()
        log.close()
    return _daemon_rows(args, first_cycle, latencies, sampler)


def _wait_first_cycle(database: Path, feeds: int, daemon: subprocess.Popen[bytes]) -> None:
    """Every feed fetched once and the outbox drained (first-cycle alerts are not probes)."""

    def done() -> bool:
        if daemon.poll() is not None:
            raise RuntimeError("the daemon exited; see daemon.log")
        try:
            with sqlite3.connect(database, timeout=5) as conn:
                fetched = conn.execute("SELECT count(*) FROM feeds WHERE last_fetch_at IS NOT NULL").fetchone()[0]
                pending = conn.execute("SELECT count(*) FROM deliveries WHERE status = 'pending'").fetchone()[0]
        except sqlite3.Error:
            return False
        return bool(fetched == feeds and pending == 0)

    if _wait_for(lambda: True if done() else None, 600) is None:
        raise RuntimeError("the daemon's first cycle did not finish in 10 minutes")


def _wait_for(probe: Callable[[], T | None], timeout: float) -> T | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.05)
    return None


def _daemon_rows(
    args: argparse.Namespace, first_cycle: float, latencies: list[float], sampler: MemorySampler
) -> list[Row]:
    by_kind: dict[str, list[int]] = {}
    for memory in sampler.last.values():
        by_kind.setdefault(memory.name, []).append(memory.peak_kb)
    main_peak = max(by_kind.get("daemon", [0])) / 1024
    workers = by_kind.get("parse worker", [])
    worker_text = " + ".join(f"{kb / 1024:.0f}" for kb in workers) or "none seen"
    sender_text = " + ".join(f"{kb / 1024:.0f}" for kb in by_kind.get("alert sender", [])) or "none seen"
    rows = [
        ("daemon: first cycle + its alerts delivered", f"{first_cycle:.1f} s", "SQLite, SMTP sink"),
        ("daemon peak RSS, main process (VmHWM)", f"{main_peak:.0f} MB", "target ≤ 250 MB"),
        ("daemon peak RSS, parse workers (VmHWM)", f"{worker_text} MB", f"{len(workers)} spawned processes"),
        ("daemon peak RSS, alert sender (VmHWM)", f"{sender_text} MB", "one per channel (monitor.alerts.isolation)"),
        (
            "daemon peak RSS, whole tree (sampled sum)",
            f"{sampler.peak_total_kb / 1024:.0f} MB",
            "main + workers + sender + resource tracker, every 0.2 s",
        ),
    ]
    finite = sorted(x for x in latencies if x != float("inf"))
    lost = len(latencies) - len(finite)
    if finite:
        rows.append(
            (
                f"alert latency, interval {args.interval:.0f} s, tick {args.tick:.1f} s",
                f"median {statistics.median(finite):.1f} s, max {finite[-1]:.1f} s",
                f"{len(finite)} probes{f', {lost} never arrived' if lost else ''}; target ≤ {args.interval + 2:.0f} s",
            )
        )
    return rows


def in_process(
    args: argparse.Namespace,
    server: ServerProcess,
    smtp: TimedSmtpSink,
    base: float,
    floor: float,
    name: str,
    database: str | None,
) -> list[Row]:
    """The in-process cycles on one database (None: SQLite in a temporary folder), then the
    issue's two ratios against the baseline and the bare httpx floor of this run."""
    urls = [server.url(f"/feed/{n}.xml") for n in range(args.feeds)]
    with tempfile.TemporaryDirectory(prefix="bench-cycle-") as tmp:
        config = write_config(Path(tmp), urls, smtp, args.interval, args.tick, database)
        rows, cycles = asyncio.run(in_process_cycles(config, server, int(args.feeds * args.changed), name))
    first, _, steady = cycles
    rows += [first_cycle_ratio(name, base, first.seconds), steady_ratio(name, steady.seconds, floor)]
    print()
    print_table(rows)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--server", choices=("asyncio", "threaded"), default="asyncio")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--tick", type=float, default=1.0)
    parser.add_argument("--probes", type=int, default=6)
    parser.add_argument("--changed", type=float, default=0.05, help="share of feeds changed before a steady cycle")
    parser.add_argument("--no-cli", action="store_true", help="skip the `monitor once` runs")
    parser.add_argument("--no-daemon", action="store_true", help="skip the `monitor run` part (memory, latency)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run the in-process cycles on a scratch database created (and dropped) on this server, "
        "e.g. postgresql://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    try:
        corpus = load_corpus()
    except FileNotFoundError:
        print(f"corpus not found at {CORPUS.resolve()}; nothing to measure")
        return 0
    probes = probe_items(corpus, args.probes)
    reserved = frozenset(probes)
    print(
        f"{len(corpus)} corpus items, {args.feeds} feeds × {args.items} items, "
        f"{len(probes)} probe items held back; server: {args.server}",
        flush=True,
    )
    rows: list[Row] = [("measure", "figure", "notes")]
    server_rows, floors = measure_servers(args, reserved)
    rows += server_rows
    smtp = TimedSmtpSink().start()
    server = ServerProcess(args.server, args.feeds, args.items, reserved).start()
    try:
        urls = [server.url(f"/feed/{n}.xml") for n in range(args.feeds)]
        base, entries = baseline(urls)
        rows.append(("baseline: sequential feedparser.parse(url)", f"{base:.2f} s", f"{entries} entries"))
        print_table(rows[-1:])
        measured = functools.partial(in_process, args, server, smtp, base, floors[args.server])
        rows += measured("SQLite", None)
        if args.postgres:
            with scratch_postgres(args.postgres) as database:
                rows += measured("PostgreSQL", database)
        if not args.no_cli:
            with tempfile.TemporaryDirectory(prefix="bench-once-") as tmp:
                config = write_config(Path(tmp), urls, smtp, args.interval, args.tick)
                for label in ("`monitor once`, fresh database (wall)", "`monitor once` again, all 304 (wall)"):
                    wall, summary = cli_once(config)
                    rows.append((label, f"{wall:.2f} s", summary))
                    print_table(rows[-1:])
        if not args.no_daemon:
            with tempfile.TemporaryDirectory(prefix="bench-daemon-") as tmp:
                rows += daemon_run(Path(tmp), server, smtp, args, probes)
    finally:
        server.stop()
        smtp.stop()
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
