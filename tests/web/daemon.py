"""A real `monitor run` with the console configured, the shipped rule pack and a local feed
server, for the browser tests. Its log is read line by line, so a test waits for what the daemon
says it did (a poll, a rule reload) instead of sleeping."""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Daemon:
    folder: Path
    process: subprocess.Popen[str]
    base_url: str
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    log: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def start_reading(self) -> None:
        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.put(line.rstrip("\n"))

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        """The next log line matching ``pattern`` (blocking reads, no polling)."""
        deadline = time.monotonic() + timeout
        wanted = re.compile(pattern)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the daemon never logged {pattern!r}; its log:\n" + "\n".join(self.log[-40:]))
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.log.append(line)
            if wanted.search(line):
                return line

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # The reader ends at the pipe's end once the daemon is gone; then the pipe is closed here
        # rather than left to the garbage collector (a ResourceWarning in some later test).
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.process.stdout is not None and (self.reader is None or not self.reader.is_alive()):
            self.process.stdout.close()


def write_config(folder: Path, feed_url: str, port: int) -> Path:
    shutil.copytree(REPO / "rules", folder / "rules")
    config = folder / "monitor.yaml"
    config.write_text(
        f"""database: sqlite:///{folder / "data" / "monitor.db"}
rules: rules/
interval: 1h
tick: 0.5s
feeds:
  - url: {feed_url}
    name: Wire
web:
  listen: 127.0.0.1:{port}
  base_url: http://127.0.0.1:{port}
""",
        encoding="utf-8",
    )
    return config


def cli(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "MONITOR_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args, "--config", str(folder / "monitor.yaml")],
        cwd=folder, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def start(folder: Path, port: int) -> Daemon:
    env = {key: value for key, value in os.environ.items() if key != "MONITOR_CONFIG"}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "--config", str(folder / "monitor.yaml")],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    daemon = Daemon(folder, process, f"http://127.0.0.1:{port}")
    daemon.start_reading()
    return daemon
