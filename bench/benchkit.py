"""Small measuring tools for bench/cycle.py: an SMTP sink that timestamps arrivals and
per-process memory figures read from /proc."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from monitor.alerts.isolation import SENDER_NAME

REPO = Path(__file__).resolve().parents[1]


class TimedSmtpSink:
    """Keeps (time.monotonic() at arrival, subject + text) of every message."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.arrivals: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        arrived = time.monotonic()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = (
            str(message["subject"])
            + "\n"
            + "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")
        )
        with self._lock:
            self.arrivals.append((arrived, text))
        return "250 accepted"

    def start(self) -> TimedSmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def apprise_url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=bench@example.org&to=analyst@example.org&secure=no"

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def arrival_of(self, word: str) -> float | None:
        with self._lock:
            return next((t for t, text in self.arrivals if word in text), None)


@dataclass(frozen=True, slots=True)
class Memory:
    pid: int
    name: str
    rss_kb: int
    peak_kb: int  # VmHWM: the kernel's own high-water mark for this process


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, found through /proc/<pid>/stat parent ids."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def memory_of(pid: int) -> Memory | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if "VmHWM" not in values:  # a zombie, exited but not yet reaped: its figures are gone
        return None
    rss = int(values.get("VmRSS", "0 kB").split()[0])
    peak = int(values.get("VmHWM", "0 kB").split()[0])
    return Memory(pid, _short_name(cmdline, comm), rss, peak)


def _short_name(cmdline: str, comm: str) -> str:
    if "multiprocessing" in cmdline and "resource_tracker" in cmdline:
        return "resource tracker"
    if comm == SENDER_NAME[:15]:  # the daemon names its children (monitor.parse_pool.name_process)
        return "alert sender"
    if "multiprocessing" in cmdline or "spawn_main" in cmdline:
        return "parse worker"
    return "daemon" if "monitor" in cmdline else cmdline[:40]


class MemorySampler:
    """Samples the whole process tree of `root` every `period` seconds in a thread."""

    def __init__(self, root: int, period: float = 0.2) -> None:
        self._root = root
        self._period = period
        self._stop = threading.Event()
        self.peak_total_kb = 0
        self.last: dict[int, Memory] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            found = [m for m in map(memory_of, process_tree(self._root)) if m is not None]
            self.peak_total_kb = max(self.peak_total_kb, sum(m.rss_kb for m in found))
            self.last.update({m.pid: m for m in found})


def write_config(
    folder: Path, urls: list[str], smtp: TimedSmtpSink, interval: float, tick: float, database: str | None = None
) -> Path:
    """A monitor.yaml for the benchmarks: these feeds, the shipped rules, one mail channel to
    the sink (SQLite under ``folder`` unless a database URL is given)."""
    feeds = "".join(f"  - url: {url}\n    name: Bench {n}\n" for n, url in enumerate(urls))
    config = folder / "monitor.yaml"
    config.write_text(
        f"""
database: {database or f"sqlite:///{folder / 'monitor.db'}"}
rules: {REPO / "rules"}
interval: {interval}s
tick: {tick}s
notify:
  - name: mail
    url: {smtp.apprise_url()}
    min_interval: 0s
feeds:
{feeds}""",
        encoding="utf-8",
    )
    return config
