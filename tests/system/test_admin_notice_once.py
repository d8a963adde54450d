"""Two workers on one database (PostgreSQL in production; SQLite runs the same logic) see the same
broken rule edit: the admin channel gets one notice, not one per worker; a later, different error
gets its own."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from support.webhook import WebhookReceiver

from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.runtime import Runtime, open_runtime


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    return str(request.getfixturevalue("pg_url"))


RULES = """rules:
  - id: arms
    title: Arms
    query: '"artillery shells" AND Russia'
"""


def worker(config: Path) -> tuple[Runtime, Daemon]:
    runtime = open_runtime(load_settings(config, os.environ), exclusive=False)
    return runtime, Daemon(runtime, watch_rules=False)


def test_a_broken_edit_is_announced_once_by_two_workers(
    tmp_path: Path, database: str, webhook: WebhookReceiver
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "main.yaml").write_text(RULES, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""
database: {database}
rules: {rules}
feeds: []
notify:
  - name: ops
    url: json://127.0.0.1:{webhook.port}/ops
    tags: [admin]
""",
        encoding="utf-8",
    )
    (one, first), (two, second) = worker(config), worker(config)
    try:
        announce_twice(rules, webhook, first, second)
    finally:
        one.close()
        two.close()


def announce_twice(rules: Path, webhook: WebhookReceiver, first: Daemon, second: Daemon) -> None:
    (rules / "main.yaml").write_text(RULES + "  - id: broken\n    query: 'Russia AND ('\n", encoding="utf-8")
    asyncio.run(first.reload_rules())
    asyncio.run(second.reload_rules())
    assert len(webhook.wait_for(1, timeout=10)) == 1
    asyncio.run(second.reload_rules())  # the same error on the next change: still quiet
    (rules / "main.yaml").write_text(RULES + "  - id: broken\n    query: 'Russia OR'\n", encoding="utf-8")
    asyncio.run(second.reload_rules())
    asyncio.run(first.reload_rules())
    notices = webhook.wait_for(2, timeout=10)
    assert len(notices) == 2 and "Russia OR" in str(notices[1])
    assert len(webhook.bodies()) == 2
