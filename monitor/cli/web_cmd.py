"""`monitor web`, and the console that `monitor run` serves beside the daemon."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from monitor.cli.common import ConfigOption, fail, settings_or_exit
from monitor.config import Settings
from monitor.logs import setup_logging
from monitor.runtime import utc_now
from monitor.store import Store, StorePathError, StoreUnavailableError
from monitor.web.server import WebPortError, WebServer, make_console, serve_foreground
from monitor.web.settings import WebSettings, split_listen

SQLITE_READ_ONLY = (
    "SQLite allows one writing process and the daemon is it: this console only reads. Feedback, "
    "muting, rule edits, polls and retries work in the console that `monitor run` serves (set "
    "web: in the configuration), or run every process against PostgreSQL."
)


def web(
    config: ConfigOption = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="HOST:PORT (default: web.listen, 127.0.0.1:8080).")
    ] = None,
) -> None:
    """Serve the console alone: read-write against PostgreSQL, read-only beside a SQLite daemon."""
    settings = settings_or_exit(config, sends=False)
    setup_logging(settings.log_format)
    web_settings = settings.web or WebSettings()
    if listen is not None:
        try:
            host, port = split_listen(listen)
        except ValueError as exc:
            fail(f"--listen: {exc}")
        web_settings = replace(web_settings, host=host, port=port)
    sqlite = settings.database_url.startswith("sqlite")
    try:
        store = Store.open_read_only(settings.database_url) if sqlite else Store.open(settings.database_url)
    except StoreUnavailableError as exc:
        fail(str(exc), code=1)
    except StorePathError as exc:
        fail(str(exc))
    reason = SQLITE_READ_ONLY if sqlite else ""
    typer.echo(
        f"console on http://{web_settings.listen} ({'read-only: ' + reason if reason else 'read-write'})", err=True
    )
    try:
        serve_foreground(make_console(store, web_settings, settings.rule_paths, utc_now, reason))
    except WebPortError as exc:
        fail(str(exc))
    finally:
        store.close()


def start_beside_daemon(settings: Settings) -> tuple[WebServer, Store] | None:
    """The console in the daemon's process (a thread), with its own connection pool; None when
    `web:` is not configured. Raises WebPortError when the address is taken."""
    if settings.web is None:
        return None
    store = Store.open(settings.database_url, migrate=False)  # the daemon has migrated it
    try:
        server = WebServer(make_console(store, settings.web, settings.rule_paths, utc_now)).start()
    except BaseException:
        store.close()
        raise
    return server, store


def register(app: typer.Typer) -> None:
    app.command()(web)
