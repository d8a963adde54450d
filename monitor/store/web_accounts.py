"""Console accounts and API tokens. Passwords arrive hashed (monitor.web.passwords); tokens are
kept as SHA-256 digests, so the database never holds anything a reader could sign in with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, delete, select

from monitor.store.db import _session
from monitor.store.hashing import sha256_text
from monitor.store.web_records import ROLES, Account
from monitor.store.web_tables import ApiTokenRow, ConsoleKeyRow, UserRow


class AccountError(ValueError):
    """A user that exists already, does not exist, or an unknown role."""


def _account(row: UserRow) -> Account:
    assert row.id is not None
    return Account(
        id=row.id,
        name=row.name,
        role=row.role,
        disabled=row.disabled,
        session_epoch=row.session_epoch,
        created_at=row.created_at,
        has_password=row.password_hash is not None,
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r} (use {', '.join(ROLES)})")


def add_user(engine: Engine, name: str, role: str, password_hash: str | None, now: datetime) -> Account:
    _check_role(role)
    with _session(engine) as session:
        if session.exec(select(UserRow).where(col(UserRow.name) == name)).first() is not None:
            raise AccountError(f"user {name!r} exists already")
        row = UserRow(name=name, role=role, password_hash=password_hash, created_at=now)
        session.add(row)
        session.flush()
        return _account(row)


def update_user(
    engine: Engine,
    name: str,
    *,
    role: str | None = None,
    password_hash: str | None = None,
    disabled: bool | None = None,
    sign_out: bool = False,
) -> Account:
    """Change what is given; a new password, a role change, disabling and ``sign_out`` all end
    the user's sessions (their cookies carry the old epoch)."""
    if role is not None:
        _check_role(role)
    with _session(engine) as session:
        row = session.exec(select(UserRow).where(col(UserRow.name) == name)).first()
        if row is None:
            raise AccountError(f"no user {name!r}")
        if role is not None:
            row.role = role
        if password_hash is not None:
            row.password_hash = password_hash
        if disabled is not None:
            row.disabled = disabled
        if sign_out or role is not None or password_hash is not None or disabled:
            row.session_epoch += 1
        session.add(row)
        session.flush()
        return _account(row)


def remove_user(engine: Engine, name: str) -> None:
    with _session(engine) as session:
        row = session.exec(select(UserRow).where(col(UserRow.name) == name)).first()
        if row is None:
            raise AccountError(f"no user {name!r}")
        session.execute(delete(ApiTokenRow).where(col(ApiTokenRow.user_id) == row.id))
        session.delete(row)


def list_users(engine: Engine) -> list[Account]:
    with _session(engine, write=False) as session:
        return [_account(row) for row in session.exec(select(UserRow).order_by(col(UserRow.name)))]


def user_by_name(engine: Engine, name: str) -> tuple[Account, str | None] | None:
    """The account and its password hash."""
    with _session(engine, write=False) as session:
        row = session.exec(select(UserRow).where(col(UserRow.name) == name)).first()
        return None if row is None else (_account(row), row.password_hash)


def user_by_id(engine: Engine, user_id: int) -> Account | None:
    with _session(engine, write=False) as session:
        row = session.get(UserRow, user_id)
        return None if row is None else _account(row)


def add_token(engine: Engine, name: str, token: str, now: datetime) -> None:
    with _session(engine) as session:
        row = session.exec(select(UserRow).where(col(UserRow.name) == name)).first()
        if row is None or row.id is None:
            raise AccountError(f"no user {name!r}")
        session.add(ApiTokenRow(user_id=row.id, token_sha256=sha256_text(token), created_at=now))


def revoke_tokens(engine: Engine, name: str) -> int:
    with _session(engine) as session:
        row = session.exec(select(UserRow).where(col(UserRow.name) == name)).first()
        if row is None:
            raise AccountError(f"no user {name!r}")
        result = session.execute(delete(ApiTokenRow).where(col(ApiTokenRow.user_id) == row.id))
        return int(getattr(result, "rowcount", 0) or 0)


def user_by_token(engine: Engine, token: str) -> Account | None:
    query = (
        select(UserRow)
        .join(ApiTokenRow, col(ApiTokenRow.user_id) == col(UserRow.id))
        .where(col(ApiTokenRow.token_sha256) == sha256_text(token))
    )
    with _session(engine, write=False) as session:
        row = session.exec(query).first()
        return None if row is None else _account(row)


def console_key(engine: Engine, name: str) -> str:
    """A key the 0006 migration generated (e.g. "session"), shared by every console process."""
    with _session(engine, write=False) as session:
        row = session.get(ConsoleKeyRow, name)
    if row is None:
        raise LookupError(f"console key {name!r} is missing: run `monitor db upgrade`")
    return row.value


def bump_epoch(engine: Engine, user_id: int) -> None:
    with _session(engine) as session:
        session.execute(
            update(UserRow).where(col(UserRow.id) == user_id).values(session_epoch=UserRow.session_epoch + 1)
        )
