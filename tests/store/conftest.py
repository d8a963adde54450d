"""A `store` fixture run against SQLite (file in tmp_path) and PostgreSQL (database per module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_factories import empty_pg_tables, postgres_available, temporary_pg_database

from monitor.store import Store

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def require_postgres() -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is unreachable")


@pytest.fixture(scope="module")
def pg_module_url() -> Iterator[str]:
    require_postgres()
    with temporary_pg_database() as url:
        yield url


@pytest.fixture
def clean_pg_url(pg_module_url: str) -> str:
    """The module's PostgreSQL database, emptied, for tests that only make sense there."""
    empty_pg_tables(pg_module_url)
    return pg_module_url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"
    url: str = request.getfixturevalue("pg_module_url")
    empty_pg_tables(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()
