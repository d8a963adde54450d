"""Console latency at 10 thousand and 1 million stored items: the inbox, a search and the rule
editor's preview, through the whole web stack (Starlette app, store, templates) in-process.

Fills a database with real news text from ``<repo>/../shared/corpus`` (AG News, BBC, WSJ World,
KCNA; the texts repeat, every item has its own id, key and link), spread over a year of fetch
times and 30 feeds; the shipped rule pack's hits are stored for every item whose text it matches.
Then it times each request kind `--runs` times per size (the sizes take turns, request by request,
so that the shared machine's busy spells hit them alike) and prints p50/p95 per size and the
1M/10k ratio.

Run: ``.venv/bin/python bench/web.py [--sizes 10000,1000000] [--database URL] [--runs 40]``
(SQLite in a temporary folder by default; with --database, an empty PostgreSQL database).
Prints "nothing to measure" and exits 0 when the corpus is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from sqlalchemy import insert, text  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from monitor.rules import RuleSet, load_rules  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.columns import dump_spans, dump_words  # noqa: E402
from monitor.store.tables import HitRow, ItemRow, StoryRow  # noqa: E402
from monitor.types import FeedSpec  # noqa: E402
from monitor.web.app import build_app  # noqa: E402
from monitor.web.passwords import hash_password  # noqa: E402
from monitor.web.server import make_console  # noqa: E402
from monitor.web.settings import WebSettings  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
SPAN = timedelta(days=365)
FEEDS = 30
CHUNK = 20_000
SEARCHES = ("sanctions", "Pyongyang missile", '"North Korea"', "oil OR tanker", "football -cup", "Kremlin")
DRAFTS = ("@iran AND (drone* OR Shahed)", "@iran AND (drone* OR Shahed OR missile*)", "(Iran OR Tehran) AND drone*")


def corpus_texts() -> list[tuple[str, str]]:
    from match import load_items  # bench/match.py reads the same corpus

    texts: list[tuple[str, str]] = []
    for items in load_items().values():
        for item in items:
            summary = item.get("summary") or item.get("content", "")[:600]
            texts.append((item.get("title", ""), summary))
    return texts


def _hits_of(rules: RuleSet, texts: list[tuple[str, str]]) -> list[list[dict[str, Any]]]:
    """The pack's matches for each distinct text, once (items repeat the texts)."""
    found = []
    for title, summary in texts:
        matches = rules.match({"title": title, "summary": summary, "content": ""})
        found.append([{"rule_id": m.rule_id, "rule_title": m.rule_title, "severity": str(m.severity),
                       "matched": dump_words(m.matched_words), "spans": dump_spans(m.spans), "snippet": m.snippet}
                      for m in matches])  # fmt: skip
    return found


def fill(store: Store, count: int, texts: list[tuple[str, str]], rules: RuleSet) -> None:
    started = time.monotonic()
    specs = [FeedSpec(f"https://feed{n}.example/rss", f"Outlet {n}", 900.0) for n in range(FEEDS)]
    store.sync_feeds(specs, NOW - SPAN)
    feed_ids = [feed.id for feed in sorted(store.list_feeds(), key=lambda f: f.url)]
    matches = _hits_of(rules, texts)
    engine = store._engine  # a benchmark may write rows directly
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            stories, items, hits = _rows(start, min(start + CHUNK, count), count, texts, matches, feed_ids)
            connection.execute(insert(StoryRow.__table__), stories)  # type: ignore[attr-defined]
            connection.execute(insert(ItemRow.__table__), items)  # type: ignore[attr-defined]
            if hits:
                connection.execute(insert(HitRow.__table__), hits)  # type: ignore[attr-defined]
        connection.execute(text("ANALYZE"))  # planner statistics, as a database in use has them
    if engine.dialect.name == "sqlite":  # a running daemon's log stays small: fold the fill into the file
        raw = engine.raw_connection()  # outside a transaction, which a checkpoint needs
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    print(f"  filled {count:,} items in {time.monotonic() - started:.0f} s", flush=True)


def _rows(
    start: int, end: int, count: int, texts: list[tuple[str, str]], matches: list[list[dict[str, Any]]],
    feed_ids: list[int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    stories, items, hits = [], [], []
    for n in range(start, end):
        at = NOW - SPAN + SPAN * (n / count)  # ids grow with fetch time, as in a real database
        title, summary = texts[n % len(texts)]
        key = f"item-{n}"
        stories.append({"id": n + 1, "first_seen_at": at, "last_seen_at": at, "title": title[:1000]})
        items.append({"id": n + 1, "feed_id": feed_ids[n % FEEDS], "key": key, "key_sha256": _sha(key),
                      "title": title, "summary": summary, "content": "", "link": f"https://news.example/{n}",
                      "link_sha256": _sha(f"https://news.example/{n}"), "published_at": at, "fetched_at": at,
                      "story_id": n + 1, "content_hash": _sha(title + summary + key)})  # fmt: skip
        for found in matches[n % len(texts)]:
            hits.append({**found, "item_id": n + 1, "created_at": at, "story_id": n + 1})
    return stories, items, hits


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


Request = Callable[[int], None]


def requests_for(store: Store, rules_dir: Path) -> dict[str, Request]:
    """One callable per request kind, on a signed-in client of a console over ``store``."""
    store.console.add_user("bench", "editor", hash_password("bench password"), NOW)
    console = make_console(store, WebSettings(), (rules_dir,), lambda: NOW)
    client = TestClient(build_app(console), base_url="http://127.0.0.1:8080")
    client.post("/login", data={"username": "bench", "password": "bench password"})
    inbox = client.get("/?state=all").text
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', inbox).group(1)  # type: ignore[union-attr]
    inbox_paths = ["/?state=all", "/", "/?severity=high", "/?rule=dprk-russia-arms", "/?feed=Outlet+7"]
    inbox_paths += [f"/?state=all&before={cursor}" for cursor in _cursors(client)]
    file = str(rules_dir / "iran.yaml")

    def get(path: str) -> None:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)

    def preview(run: int) -> None:
        form = {"csrf_token": csrf, "file": file, "query": DRAFTS[run % len(DRAFTS)], "severity": "high",
                "enabled": "1", "days": "7"}  # fmt: skip
        answer = client.post("/rules/iran-drones-russia/check", data=form)
        assert answer.status_code == 200 and "Preview" in answer.text, answer.text[:500]

    return {
        "inbox": lambda run: get(inbox_paths[run % len(inbox_paths)]),
        "search": lambda run: get(f"/?q={SEARCHES[run % len(SEARCHES)]}"),
        "preview": preview,
    }


def measure(sessions: dict[int, dict[str, Request]], runs: int) -> dict[int, dict[str, list[float]]]:
    """Every size's requests in turn, run by run: a busy spell of the shared machine then slows
    all sizes alike instead of one of them, and the ratio stays fair."""
    results: dict[int, dict[str, list[float]]] = {size: {} for size in sessions}
    for kind, count in (("inbox", runs), ("search", runs), ("preview", max(runs // 2, 5))):
        for requests in sessions.values():
            requests[kind](0)  # warm: the first preview loads the item window
        for run in range(count):
            for size, requests in sessions.items():
                started = time.perf_counter()
                requests[kind](run)
                results[size].setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    return results


def _cursors(client: TestClient) -> list[int]:
    """Cursors of a few pages deep into the inbox (keyset pages are followed, never skipped to)."""
    found, path = [], "/?state=all"
    for _ in range(5):
        older = re.search(r"before=(\d+)", client.get(path).text)
        if older is None:
            break
        found.append(int(older.group(1)))
        path = f"/?state=all&before={older.group(1)}"
    return found


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(round(share * (len(ordered) - 1)), len(ordered) - 1)]


def prepare(stack: ExitStack, count: int, texts: list[tuple[str, str]], database: str | None) -> dict[str, Request]:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-web-")))
    rules_dir = folder / "rules"
    rules_dir.mkdir()
    for path in (REPO / "rules").glob("*.yaml"):
        (rules_dir / path.name).write_text(path.read_text())
    store = stack.enter_context(_fresh(database or f"sqlite:///{folder}/monitor.db"))
    fill(store, count, texts, load_rules([rules_dir]))
    return requests_for(store, rules_dir)


@contextmanager
def _fresh(url: str) -> Iterator[Store]:
    """A migrated store; on PostgreSQL the given database is emptied first."""
    store = Store.open(url)
    try:
        if store.dialect == "postgresql":
            with store._engine.begin() as connection:
                tables = "users, api_tokens, story_triage, rule_versions, hits, routed_hits, deliveries, items, stories"
                connection.execute(text(f"TRUNCATE {tables}, item_bands, feeds CASCADE"))
        yield store
    finally:
        store.close()


def report(results: dict[int, dict[str, list[float]]]) -> Iterator[str]:
    sizes = sorted(results)
    yield "| request | " + " | ".join(f"p50 / p95 at {size:,}" for size in sizes) + " | p95 ratio |"
    yield "|---|" + "---:|" * (len(sizes) + 1)
    for kind in ("inbox", "search", "preview"):
        cells = [
            f"{percentile(results[s][kind], 0.5):.0f} / {percentile(results[s][kind], 0.95):.0f} ms" for s in sizes
        ]
        ratio = percentile(results[sizes[-1]][kind], 0.95) / max(percentile(results[sizes[0]][kind], 0.95), 0.001)
        yield f"| {kind} | " + " | ".join(cells) + f" | {ratio:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--database", default=None, help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    try:
        texts = corpus_texts()
    except SystemExit as exc:
        print(f"{exc}")
        return
    print(f"{len(texts):,} distinct corpus texts; database {'SQLite' if not args.database else 'PostgreSQL'}")
    sizes = [int(part) for part in args.sizes.split(",")]
    if args.database and len(sizes) > 1:
        parser.error("--database takes one size at a time (each size needs its own database)")
    with ExitStack() as stack:
        sessions = {}
        for size in sizes:
            print(f"{size:,} items:", flush=True)
            sessions[size] = prepare(stack, size, texts, args.database)
        results = measure(sessions, args.runs)
    for size, kinds in results.items():
        print(size, json.dumps({kind: [round(v, 1) for v in sorted(values)] for kind, values in kinds.items()}))
    for line in report(results):
        print(line)


if __name__ == "__main__":
    main()
