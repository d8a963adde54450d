"""Child process for the concurrency tests: claims until nothing is left, prints what it got.

usage: python claim_worker.py <db-url> <worker-id> feeds|deliveries
Protocol: prints "ready" once connected, waits for a line on stdin (the common start signal),
then prints one JSON list of the ids it claimed.
"""

from __future__ import annotations

import json
import sys

from store_factories import T0

from monitor.store import Store

BATCH = 5


def claim_all(store: Store, worker_id: str, kind: str) -> list[int]:
    claimed: list[int] = []
    while True:
        if kind == "feeds":
            batch = [job.id for job in store.claim_feeds(T0, worker_id, 3600, BATCH)]
        else:
            batch = [job.delivery_id for job in store.claim_deliveries(T0, worker_id, 3600, BATCH)]
            for delivery_id in batch:
                store.mark_sent(delivery_id, T0)
        if not batch:
            return claimed
        claimed.extend(batch)


def main() -> None:
    url, worker_id, kind = sys.argv[1:4]
    store = Store.open(url, migrate=False)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        print(json.dumps(claim_all(store, worker_id, kind)), flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main()
