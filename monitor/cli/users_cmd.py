"""`monitor users add | set | remove | list | token`: the console's accounts."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from monitor.cli.common import ConfigOption, fail, settings_or_exit, store_or_exit
from monitor.runtime import utc_now
from monitor.store import Store
from monitor.store.web_accounts import AccountError
from monitor.store.web_records import ROLES
from monitor.web.passwords import hash_password, new_token

app = typer.Typer(help="Accounts of the web console (see docs/console.md).", no_args_is_help=True)
RoleOption = Annotated[str, typer.Option("--role", help="viewer, editor or admin.")]


@contextmanager
def _store(config: object) -> Iterator[Store]:
    store = store_or_exit(settings_or_exit(config, sends=False))  # type: ignore[arg-type]
    try:
        yield store
    except AccountError as exc:
        fail(str(exc))
    finally:
        store.close()


def _read_password() -> str:
    """From a terminal: asked twice, not echoed. Otherwise the first line of standard input, so
    scripts pipe it in and it never appears in the process list or the shell history."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            fail("the passwords differ")
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        return hash_password(password)
    except ValueError as exc:
        fail(str(exc))


def _check_role(role: str) -> None:
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (as typed at sign-in).")],
    role: RoleOption = "viewer",
    proxy_only: Annotated[
        bool, typer.Option("--proxy-only", help="No password: signs in only through the trusted proxy header.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add a user; the password is read from standard input."""
    _check_role(role)
    if not name.strip() or len(name) > 100 or name != name.strip():
        fail("the user name must be 1 to 100 characters without surrounding spaces")
    password_hash = None if proxy_only else _read_password()
    with _store(config) as store:
        store.console.add_user(name, role, password_hash, utc_now())
    typer.echo(f"added {name} ({role})")


@app.command("set")
def set_user(
    name: Annotated[str, typer.Argument()],
    role: Annotated[str | None, typer.Option("--role", help="viewer, editor or admin.")] = None,
    password: Annotated[bool, typer.Option("--password", help="Set a new password (from standard input).")] = False,
    disable: Annotated[bool | None, typer.Option("--disable/--enable", help="Refuse or allow sign-in.")] = None,
    sign_out: Annotated[bool, typer.Option("--sign-out", help="End every session of the user.")] = False,
    config: ConfigOption = None,
) -> None:
    """Change a user's role, password or state; any change ends the user's sessions."""
    if role is not None:
        _check_role(role)
    password_hash = _read_password() if password else None
    with _store(config) as store:
        account = store.console.update_user(
            name, role=role, password_hash=password_hash, disabled=disable, sign_out=sign_out
        )
    typer.echo(f"{account.name}: {account.role}{', disabled' if account.disabled else ''}; sessions ended")


@app.command("remove")
def remove(name: Annotated[str, typer.Argument()], config: ConfigOption = None) -> None:
    """Remove a user and their API tokens."""
    with _store(config) as store:
        store.console.remove_user(name)
    typer.echo(f"removed {name}")


@app.command("list")
def list_users(config: ConfigOption = None) -> None:
    """Every user with role and state."""
    with _store(config) as store:
        for account in store.console.users():
            state = "disabled" if account.disabled else ("password" if account.has_password else "proxy only")
            typer.echo(f"{account.name}\t{account.role}\t{state}")


@app.command("token")
def token(
    name: Annotated[str, typer.Argument()],
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke every token of the user instead.")] = False,
    config: ConfigOption = None,
) -> None:
    """Print a new API bearer token for the user (shown once; the database keeps a digest)."""
    with _store(config) as store:
        if revoke:
            typer.echo(f"revoked {store.console.revoke_tokens(name)} tokens of {name}")
            return
        value = new_token()
        store.console.add_token(name, value, utc_now())
    typer.echo(value)
