"""Syndicated copy (issue 14): many feeds carrying the same real items, polled batch by batch.

    .venv/bin/python bench/syndicated.py [--feeds 1000] [--batch 200] [--database URL]

Wire copy appears in hundreds of local outlets' feeds: every feed here serves the same real BBC
World feed (33 items, from the shared corpus), so each batch adds one more copy of every item
to the same stories. The cost of a batch must stay flat as copies pile up; the table prints
seconds per batch and the ratio of the last batch to the first. Alerts are delivered to a local
SMTP sink between batches, so the stories' first messages are sent and later batches take the
corroboration path too. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchkit import TimedSmtpSink, write_config  # noqa: E402
from feedgen import CORPUS  # noqa: E402

from monitor.config import load_settings  # noqa: E402
from monitor.fetch import Fetcher  # noqa: E402
from monitor.parse_pool import parse_pool  # noqa: E402
from monitor.runtime import open_runtime  # noqa: E402

BBC_WORLD = CORPUS / "kagisearch_fastfeedparser/benchmark_data/1796df62c4a287cc"


def serve_copies(folder: Path, feeds: int) -> tuple[subprocess.Popen[bytes], str]:
    """A static server (its own process) with one URL per feed, every one the same document."""
    site = folder / "site"
    site.mkdir()
    # Dated now, so the news is fresh and raises alerts (an old item stays quiet by design).
    now = format_datetime(datetime.now(UTC), usegmt=True)
    document = site / "bbc.xml"
    document.write_bytes(
        re.sub(rb"<pubDate>[^<]*</pubDate>", f"<pubDate>{now}</pubDate>".encode(), BBC_WORLD.read_bytes())
    )
    for n in range(feeds):
        (site / f"{n}.xml").symlink_to(document)
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(site)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert server.stdout is not None
    line = server.stdout.readline().decode()  # "Serving HTTP on 127.0.0.1 port N (http://...) ..."
    port = int(line.split(" port ")[1].split()[0])
    return server, f"http://127.0.0.1:{port}"


async def batches(config: Path, feeds: int, size: int) -> list[tuple[int, float, int, int, int]]:
    """(feeds polled, seconds, new items, new hits, messages sent) per batch."""
    settings = load_settings(config, {})
    runtime = open_runtime(settings, exclusive=True)
    results: list[tuple[int, float, int, int, int]] = []
    try:
        with parse_pool() as executor:
            async with Fetcher(settings.fetch) as fetcher:
                pipeline = runtime.pipeline(fetcher, executor)
                for _ in range(0, feeds, size):
                    started = time.perf_counter()
                    reports = await pipeline.poll_feeds(runtime.worker_id, due_only=True, limit=size)
                    seconds = time.perf_counter() - started
                    sent = (await runtime.deliver()).sent
                    items, hits = sum(r.new_items for r in reports), sum(r.new_hits for r in reports)
                    results.append((len(reports), seconds, items, hits, sent))
                    print(f"  batch {len(results)}: {results[-1][0]} feeds in {seconds:.2f} s", flush=True)
    finally:
        runtime.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--database", help="a database URL (default: a scratch SQLite file)")
    args = parser.parse_args()
    if not BBC_WORLD.is_file():
        print(f"corpus feed not found at {BBC_WORLD}; nothing to measure")
        return 0
    smtp = TimedSmtpSink().start()
    with tempfile.TemporaryDirectory(prefix="bench-syndicated-") as tmp:
        server, base = serve_copies(Path(tmp), args.feeds)
        try:
            urls = [f"{base}/{n}.xml" for n in range(args.feeds)]
            config = write_config(Path(tmp), urls, smtp, interval=3600, tick=1.0, database=args.database)
            results = asyncio.run(batches(config, args.feeds, args.batch))
        finally:
            server.terminate()
            server.wait()
            smtp.stop()
    print(f"{'batch':>5} {'feeds':>6} {'seconds':>8} {'s/feed':>7} {'new items':>9} {'hits':>5} {'sent':>5}")
    for number, (polled, seconds, items, hits, sent) in enumerate(results, 1):
        per_feed = seconds / max(polled, 1)
        print(f"{number:>5} {polled:>6} {seconds:>8.2f} {per_feed:>7.3f} {items:>9} {hits:>5} {sent:>5}")
    first, last = results[0][1] / results[0][0], results[-1][1] / results[-1][0]
    print(f"cost per feed, last batch / first batch: {last / first:.2f} ×  (target: flat, ≈ 1 ×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
