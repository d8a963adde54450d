"""System-test fixtures: the many-feed HTTP hub, SMTP sink, webhook receiver, a fresh PostgreSQL
database per test (skipped cleanly when the server is unreachable)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.system.feedhub import FeedHub

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def hub() -> Iterator[FeedHub]:
    server = FeedHub().start()
    yield server
    server.stop()


def pg_admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A uniquely named, empty database, dropped (even with workers still attached) afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"monitor_sys_{uuid.uuid4().hex[:10]}"
    try:
        pg_admin_execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
