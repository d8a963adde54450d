"""`retention:` in the configuration, and the daemon pruning by itself with a metric."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from support.configs import write_config
from support.smtp import free_port
from support.waiting import until

from monitor.config import ConfigError, load_settings
from monitor.daemon import Daemon
from monitor.policies import DAY, RetentionPolicy
from monitor.runtime import open_runtime
from tests.store.bulk_history import History, row_counts, write_history


def with_retention(tmp_path: Path, retention: str = "") -> Path:
    return write_config(tmp_path, f"feeds:\n  - url: http://127.0.0.1:9/feed.xml\n    name: Wire\n{retention}")


def test_defaults_keep_hits_and_prune_quiet_items_and_sent_alerts(tmp_path: Path) -> None:
    assert load_settings(with_retention(tmp_path), {}).retention == RetentionPolicy(90 * DAY, None, 30 * DAY)


def test_ages_and_never(tmp_path: Path) -> None:
    config = with_retention(tmp_path, "retention:\n  items: 26w\n  hits: 365d\n  deliveries: never\n")
    assert load_settings(config, {}).retention == RetentionPolicy(26 * 7 * DAY, 365 * DAY, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("retention:\n  items: 3d\n", "retention.items: must be at least 7d, or never"),
        ("retention:\n  hits: forever\n", "retention.hits: invalid duration 'forever'"),
        ("retention:\n  bands: 30d\n", "retention.bands: unknown key"),
    ],
)
def test_bad_retention_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(with_retention(tmp_path, text), {})


def test_the_daemon_prunes_at_start_and_counts_it(tmp_path: Path) -> None:
    settings = load_settings(with_retention(tmp_path), {})
    runtime = open_runtime(settings, exclusive=True)
    engine = create_engine(settings.database_url)
    history = History(items=2_000, old_share=0.5, now=datetime.now(UTC))
    write_history(engine, runtime.store.list_feeds()[0].id, history)
    port = free_port()

    async def scenario() -> str:
        daemon = Daemon(runtime, watch_rules=False, metrics_port=port)
        running = asyncio.create_task(daemon.run())
        try:
            await until(lambda: row_counts(engine)["items"] == 2_000 - 990, "the old quiet items to go")
            return (await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/metrics")).text
        finally:
            daemon.request_stop()
            assert await running == 0

    try:
        metrics = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert 'monitor_pruned_rows_total{table="items"} 990.0' in metrics
    assert 'monitor_pruned_rows_total{table="item_bands"} 15840.0' in metrics
