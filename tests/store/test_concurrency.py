"""Real concurrency: separate processes / threads racing for the same rows never share one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from store_factories import REPO_ROOT, T0, by_notify, feed, item, match, save

from monitor.store import Store

WORKERS = 3
WORKER_SCRIPT = Path(__file__).resolve().parent / "claim_worker.py"


def _child_env() -> dict[str, str]:
    paths = [str(REPO_ROOT), str(WORKER_SCRIPT.parent)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _race_processes(url: str, kind: str) -> list[list[int]]:
    """Start WORKERS claimers, release them together, return what each one claimed."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), url, f"worker-{n}", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_child_env(),
        )
        for n in range(WORKERS)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=90)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [proc.returncode for proc in procs] == [0] * WORKERS, "a worker crashed (see stderr)"
    return [json.loads(output) for output in outputs]


def _race_threads(work: Callable[[int], list[int]]) -> list[list[int]]:
    start = threading.Barrier(WORKERS)
    results: list[list[int]] = [[] for _ in range(WORKERS)]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = work(n)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def _assert_partition(results: list[list[int]], expected: set[int]) -> None:
    claimed = [row_id for result in results for row_id in result]
    assert len(claimed) == len(set(claimed)), "a row was claimed twice"
    assert set(claimed) == expected


@pytest.mark.postgres
def test_processes_never_claim_the_same_feed_on_postgresql(clean_pg_url: str) -> None:
    with Store.open(clean_pg_url) as store:
        store.sync_feeds([feed(n) for n in range(240)], T0)
        expected = {view.id for view in store.list_feeds()}
    _assert_partition(_race_processes(clean_pg_url, "feeds"), expected)


@pytest.mark.postgres
def test_processes_never_claim_the_same_delivery_on_postgresql(clean_pg_url: str) -> None:
    with Store.open(clean_pg_url) as store:
        store.sync_feeds([feed(1)], T0)
        feed_id = store.claim_feeds(T0, "setup", 60, 1)[0].id
        matches = {f"k{n}": [match("arms", notify=("ops", "mail", "slack"))] for n in range(80)}
        save(store, feed_id, [item(key) for key in matches], matches, by_notify, T0)
        expected = {d.delivery_id for d in store.list_deliveries(limit=1000)}
    assert len(expected) == 240
    _assert_partition(_race_processes(clean_pg_url, "deliveries"), expected)
    with Store.open(clean_pg_url) as store:
        assert store.pending_count() == 0


def test_threads_never_claim_the_same_feed(store_url: str) -> None:
    stores = [Store.open(store_url) for _ in range(WORKERS)]
    try:
        stores[0].sync_feeds([feed(n) for n in range(150)], T0)
        expected = {view.id for view in stores[0].list_feeds()}

        def claim_until_empty(n: int) -> list[int]:
            claimed: list[int] = []
            while batch := stores[n].claim_feeds(T0, f"t{n}", 3600, 4):
                claimed.extend(job.id for job in batch)
            return claimed

        _assert_partition(_race_threads(claim_until_empty), expected)
    finally:
        for store in stores:
            store.close()


def test_concurrent_saves_of_one_batch_store_it_once(store_url: str) -> None:
    stores = [Store.open(store_url) for _ in range(WORKERS)]
    try:
        stores[0].sync_feeds([feed(1)], T0)
        feed_id = stores[0].claim_feeds(T0, "setup", 60, 1)[0].id
        batch = [item(f"k{n}") for n in range(60)]
        matches = {i.key: [match("arms", notify=("ops", "mail"))] for i in batch}

        def save_batch(n: int) -> list[int]:
            return list(save(stores[n], feed_id, batch, matches, by_notify, T0).hit_ids)

        _assert_partition(_race_threads(save_batch), {h.hit_id for h in stores[0].list_hits()})
        assert len(stores[0].list_hits()) == 60
        assert stores[0].pending_count() == 120
        assert stores[0].list_feeds()[0].item_count == 60
    finally:
        for store in stores:
            store.close()
