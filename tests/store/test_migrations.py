"""Migrations: from an empty database or from 0001, idempotent, identical to the SQLModel tables."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import require_postgres
from sqlmodel import SQLModel
from store_factories import T0, by_notify, feed, item, match, save, temporary_pg_database

import monitor.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from monitor.store import (
    Store,
    StoreUnavailableError,
    web_tables,  # noqa: F401
)
from monitor.store.db import alembic_config
from monitor.store.web_search import PG_SEARCH_INDEX, SEARCH_TABLE_PREFIX
from monitor.stories import story_key

HEAD = "0010"
EXPECTED_TABLES = {
    "feeds", "stories", "items", "item_bands", "hits", "routed_hits", "deliveries", "notices", "alembic_version",
    "users", "api_tokens", "story_triage", "rule_versions", "console_keys", "entity_lists", "list_entries",
}  # fmt: skip
# Full-text search is per database and outside SQLModel (monitor.store.web_search).
SEARCH_TABLES = {f"{SEARCH_TABLE_PREFIX}{suffix}" for suffix in ("", "_data", "_idx", "_docsize", "_config")}


def _not_search(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name or "").startswith(SEARCH_TABLE_PREFIX) and name != PG_SEARCH_INDEX


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'dir' / 'monitor.db'}"
        return
    require_postgres()
    with temporary_pg_database() as url:
        yield url


def _table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_open_without_migrate_leaves_database_empty(empty_url: str) -> None:
    store = Store.open(empty_url, migrate=False)
    try:
        assert _table_names(empty_url) == set()
        assert store.upgrade() == HEAD
    finally:
        store.close()
    assert _table_names(empty_url) - SEARCH_TABLES == EXPECTED_TABLES


def test_upgrade_is_idempotent(empty_url: str) -> None:
    with Store.open(empty_url) as store:
        assert store.upgrade() == HEAD
        assert store.upgrade() == HEAD
    with Store.open(empty_url) as reopened:
        assert reopened.list_feeds() == []


def test_migrated_schema_matches_the_tables(empty_url: str) -> None:
    Store.open(empty_url).close()
    engine = sa.create_engine(empty_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _not_search})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_dialect_reports_backend(empty_url: str) -> None:
    with Store.open(empty_url) as store:
        assert store.dialect == empty_url.split(":")[0].split("+")[0]


def test_sqlite_creates_parent_dir_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "monitor.db"
    Store.open(f"sqlite:///{path}").close()
    assert path.is_file()
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_workers_migrating_at_once_on_postgresql_all_succeed() -> None:
    """Several workers starting together must not race each other's CREATE TABLEs."""
    require_postgres()
    with temporary_pg_database() as url:
        start = threading.Barrier(4)
        revisions: list[str] = []
        errors: list[BaseException] = []

        def open_and_migrate() -> None:
            start.wait()
            try:
                store = Store.open(url, migrate=False)
                try:
                    revisions.append(store.upgrade())
                finally:
                    store.close()
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=open_and_migrate) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert revisions == [HEAD] * 4


def _alembic(url: str, action: str, revision: str) -> None:
    """Run one alembic command against the database, the way run_migrations does."""
    Store.open(url, migrate=False).close()  # creates a SQLite file's directory
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def test_upgrade_from_0001_keeps_data_and_opens_old_stories(empty_url: str) -> None:
    _alembic(empty_url, "upgrade", "0001")
    engine = sa.create_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO stories (first_seen_at, title) VALUES (:t, 'old story')"),
                {"t": T0 if engine.dialect.name == "postgresql" else T0.replace(tzinfo=None)},
            )
    finally:
        engine.dispose()
    with Store.open(empty_url) as store:
        assert store.upgrade() == HEAD
        store.sync_feeds([feed(1)], T0)
        feed_id = store.claim_feeds(T0, "w", 60, 1)[0].id
        entry = item("a")
        result = save(
            store,
            feed_id,
            [entry],
            {"a": [match()]},
            by_notify,
            T0,
            story_keys={"a": story_key(entry.title, "", entry.link)},
        )
        assert result.new_deliveries == 1
        assert store.list_hits()[0].story_id == 2  # a new story next to the migrated one
    engine = sa.create_engine(empty_url)
    try:
        with engine.connect() as conn:
            seen = conn.execute(sa.text("SELECT last_seen_at FROM stories WHERE id = 1")).scalar()
    finally:
        engine.dispose()
    assert seen is not None


def test_0002_downgrades_and_upgrades_again(empty_url: str) -> None:
    Store.open(empty_url).close()
    _alembic(empty_url, "downgrade", "0001")
    assert "item_bands" not in _table_names(empty_url)
    with Store.open(empty_url) as store:
        assert store.upgrade() == HEAD
    assert _table_names(empty_url) - SEARCH_TABLES == EXPECTED_TABLES


def _index_names(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {index["name"] for index in sa.inspect(engine).get_indexes(table) if index["name"]}
    finally:
        engine.dispose()


def test_0003_swaps_the_band_index_and_back(empty_url: str) -> None:
    Store.open(empty_url).close()
    assert "ix_item_bands_band_item" in _index_names(empty_url, "item_bands")
    _alembic(empty_url, "downgrade", "0002")
    assert _index_names(empty_url, "item_bands") == {"ix_item_bands_band"}
    with Store.open(empty_url) as store:
        assert store.upgrade() == HEAD
    assert _index_names(empty_url, "item_bands") == {"ix_item_bands_band_item"}


def test_read_only_open_refuses_an_older_schema_without_migrating(empty_url: str) -> None:
    _alembic(empty_url, "upgrade", "0002")
    with pytest.raises(StoreUnavailableError, match=rf"revision 0002, this version needs {HEAD}.*db upgrade"):
        Store.open_read_only(empty_url)
    _alembic(empty_url, "upgrade", "head")
    Store.open_read_only(empty_url).close()
    engine = sa.create_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(StoreUnavailableError, match=r"revision 9999\) is newer than this version"):
        Store.open_read_only(empty_url)


def test_0004_adds_the_notices_table_and_back(empty_url: str) -> None:
    Store.open(empty_url).close()
    _alembic(empty_url, "downgrade", "0003")
    engine = sa.create_engine(empty_url)
    try:
        assert "notices" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    with Store.open(empty_url) as store:
        assert store.upgrade() == HEAD
        assert store.claim_notice("k", T0, 600)
