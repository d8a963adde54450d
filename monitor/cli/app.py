"""Entry point: `monitor run | once | hits | feeds | alerts | rules ... | users ... | web | db upgrade`."""

import asyncio
import logging
from typing import Annotated

import typer

from monitor.cli import lists_cmd, opml_cmd, report_cmd, rules_cmd, users_cmd, web_cmd
from monitor.cli.common import ConfigOption, fail, settings_or_exit, store_or_exit
from monitor.config import Settings
from monitor.daemon import StartupSignals, run_daemon
from monitor.fetch import Fetcher
from monitor.logs import setup_logging
from monitor.metrics import MetricsPortError
from monitor.parse_pool import parse_pool
from monitor.rules import RuleLoadError
from monitor.runtime import CycleReport, Runtime, open_runtime
from monitor.store import StoreLockedError, StorePathError, StoreUnavailableError
from monitor.types import PollStatus
from monitor.web.server import WebPortError

app = typer.Typer(
    help="Sanctions-violation allegation monitor: feeds → watch rules → alerts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(users_cmd.app, name="users")
web_cmd.register(app)
app.add_typer(lists_cmd.app, name="lists")
report_cmd.register(app)
opml_cmd.register(report_cmd.feeds_app)


def _open(settings: Settings) -> Runtime:
    try:
        return open_runtime(settings, exclusive=True)
    except RuleLoadError as exc:
        fail(f"invalid rules:\n{exc}")
    except (StoreLockedError, StoreUnavailableError) as exc:
        fail(str(exc), code=1)
    except StorePathError as exc:
        fail(str(exc))


@app.command()
def run(
    config: ConfigOption = None,
    log_format: Annotated[str | None, typer.Option("--log-format", help="text or json (default: from config).")] = None,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="Serve /healthz and /metrics here.")
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Address for the metrics endpoint.")
    ] = "127.0.0.1",
) -> None:
    """Run the daemon: poll due feeds, store hits, send alerts, reload rules on change."""
    startup = StartupSignals().install()
    settings = settings_or_exit(config)
    if log_format not in (None, "text", "json"):
        fail("--log-format must be text or json")
    setup_logging(log_format or settings.log_format)
    runtime = _open(settings)
    try:
        console = web_cmd.start_beside_daemon(settings)  # web: configured → the console, in a thread
    except WebPortError as exc:
        runtime.close()
        fail(f"web.listen: {exc}")
    try:
        code = run_daemon(runtime, startup=startup, metrics_port=metrics_port, metrics_host=metrics_host)
    except MetricsPortError as exc:
        fail(f"--metrics-port: {exc}")
    finally:
        if console is not None:
            console[0].stop()
            console[1].close()
    raise typer.Exit(code)


@app.command()
def once(
    config: ConfigOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any feed failed, not only all.")] = False,
) -> None:
    """Poll every feed now, match, store, deliver pending alerts, print a summary per feed.
    Exit 1 when no feed could be fetched (with --strict: when any could not), else 0."""
    settings = settings_or_exit(config)
    setup_logging(settings.log_format, logging.WARNING)
    runtime = _open(settings)
    try:
        report = asyncio.run(_once(runtime))
    finally:
        runtime.close()
    for feed in report.feeds:
        typer.echo(feed.summary())
    outbox = report.outbox
    typer.echo(f"alerts: {outbox.sent} sent, {outbox.retrying} retrying, {outbox.failed} failed")
    failed = sum(feed.status == PollStatus.ERROR for feed in report.feeds)
    if failed and (strict or failed == len(report.feeds)):
        fail(f"{failed} of {len(report.feeds)} feeds failed", code=1)


async def _once(runtime: Runtime) -> CycleReport:
    with parse_pool() as executor:
        async with Fetcher(runtime.settings.fetch) as fetcher, runtime.article_pages() as pages:
            return await runtime.cycle(fetcher, executor, due_only=False, pages=pages)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    settings = settings_or_exit(config, sends=False)
    store = store_or_exit(settings, migrate=False)
    try:
        revision = store.upgrade()
    except StoreUnavailableError as exc:
        fail(str(exc), code=1)
    finally:
        store.close()
    typer.echo(f"database at revision {revision}")


def main() -> None:
    app()
