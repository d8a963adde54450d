"""Engine set-up, the single session factory, the SQLite writer lock and programmatic migrations."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

from monitor.store.records import StoreLockedError, StoreUnavailableError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Arbitrary constant: serialises `alembic upgrade` across PostgreSQL workers starting together.
_PG_MIGRATION_LOCK_KEY = 0x6D6F6E69746F72  # "monitor"
_WRITE_OPTION = "monitor_write"


def normalise_url(url: str) -> URL:
    """psycopg 3 is the installed PostgreSQL driver; plain postgresql:// would pick psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


class StorePathError(RuntimeError):
    """The SQLite database's folder or file cannot be written (permissions, a read-only file
    system); unlike StoreUnavailableError, retrying will not help until it is fixed."""


def check_sqlite_path(path: Path) -> None:
    """StorePathError unless SQLite can write `path`: it also creates its -wal, -shm and our
    .lock file beside it, so the folder must be writable too."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorePathError(f"cannot create the database folder {folder}: {exc.strerror or exc}") from exc
    if not os.access(folder, os.W_OK | os.X_OK, effective_ids=True):
        raise StorePathError(
            f"the database folder {folder} is not writable (SQLite keeps its journal and lock files beside {path.name})"
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK, effective_ids=True):
        raise StorePathError(f"the database file {path} is not writable")


def sqlite_file(url: URL) -> Path | None:
    """The database file of a sqlite URL, or None for in-memory / non-sqlite URLs."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")


def _sqlite_engine(url: URL) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if path is None:  # one shared connection, or every session would see its own empty database
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is deferred,
    # which lets two writers read the same rows and then fight over the upgrade to a write lock).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    writes = conn.get_execution_options().get(_WRITE_OPTION, True)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@contextmanager
def _session(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """The only place that opens database sessions: one transaction, committed on success.

    `write=False` marks read-only work; on SQLite it then skips the writer lock (BEGIN IMMEDIATE)
    so views never queue behind the daemon. A lost connection (e.g. a PostgreSQL restart) is
    raised as StoreUnavailableError after the rollback; the pool's pre-ping makes the next call
    reconnect.
    """
    try:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: write})
            with Session(bind=conn, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    _rollback_quietly(session)
                    raise
    except StatementError as error:
        if isinstance(error.orig, ValueError):  # e.g. a naive datetime: the caller's bug
            raise error.orig from error
        if isinstance(error, DBAPIError) and _is_unavailable(engine, error):
            raise StoreUnavailableError(_unavailable_message(error)) from error
        raise
    except DBAPIError as error:  # failures to connect are not StatementErrors
        if _is_unavailable(engine, error):
            raise StoreUnavailableError(_unavailable_message(error)) from error
        raise


def _rollback_quietly(session: Session) -> None:
    # On a dead connection the rollback fails too; the server has already discarded the
    # transaction, and the original error is the one worth reporting.
    with suppress(DBAPIError):
        session.rollback()


def _is_unavailable(engine: Engine, error: DBAPIError) -> bool:
    """Errors a later retry can cure: the connection went away or the database was busy."""
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if engine.dialect.name == "postgresql":
        return True  # connection failures, admin shutdown, deadlock/serialization aborts
    message = str(error.orig).lower()  # SQLite: only contention, not e.g. a missing table
    return "locked" in message or "busy" in message


def _unavailable_message(error: DBAPIError) -> str:
    # The driver's first line only: SQLAlchemy's full text would repeat the SQL parameters,
    # which carry feed content into logs.
    detail = str(error.orig).strip().splitlines()[0][:300] if str(error.orig).strip() else ""
    return (
        f"database unavailable ({type(error.orig).__name__}: {detail}); "
        "the call was rolled back and nothing from it was saved — retry later"
    )


def unreachable_message(error: DBAPIError) -> str:
    """For a database that cannot be opened at all (wrong host, server down, bad file)."""
    detail = str(error.orig).strip().splitlines()[0][:300] if str(error.orig).strip() else ""
    return f"cannot open the database ({type(error.orig).__name__}: {detail})"


def insert_ignoring_conflicts(engine: Engine, model: type[SQLModel]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the engine's dialect (both speak the same clause)."""
    table = model.__table__  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def run_migrations(engine: Engine) -> str:
    """`alembic upgrade head` on this engine; returns the revision the database is now at."""
    config = alembic_config()
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            revision = MigrationContext.configure(conn).get_current_revision()
    return revision or ""


def schema_problem(engine: Engine) -> str | None:
    """Why a database cannot be read by this version as it is (None: its schema is current).
    Read-only commands use this instead of migrating: they must change nothing, and on SQLite
    they must not take the writer lock either."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    with _session(engine, write=False) as session:
        revision = MigrationContext.configure(session.connection()).get_current_revision()
    if revision == head:
        return None
    if revision is None:
        return "the database has no monitor schema yet: run `monitor once` or `monitor db upgrade` first"
    if revision not in {known.revision for known in script.walk_revisions()}:
        return f"the database schema (revision {revision}) is newer than this version of the monitor: upgrade it"
    return f"the database schema is at revision {revision}, this version needs {head}: run `monitor db upgrade`"


class WriterLock:
    """An OS lock on "<db>.lock" so only one process writes a SQLite database (flock, non-blocking).

    The kernel drops the lock when the holder dies, so a crash never leaves a stale lock behind.
    """

    def __init__(self, database: Path) -> None:
        self._path = Path(f"{database}.lock")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self._path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder()
            self._file.close()
            self._file = None
            raise StoreLockedError(
                f"another monitor process is already writing to {database} (pid {holder}); "
                "SQLite allows one writer — use PostgreSQL for several workers"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()

    def _read_holder(self) -> str:
        assert self._file is not None
        self._file.seek(0)
        return self._file.read(32).strip() or "unknown"

    def release(self) -> None:
        if self._file is None:
            return
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None
