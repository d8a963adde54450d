"""Helpers shared by the commands: loading settings and rules with the documented exit codes."""

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from monitor.config import ConfigError, Settings, config_path, load_settings
from monitor.durations import parse_duration
from monitor.rules import LoadedRules, RuleLoadError, RuleSet, read_rules
from monitor.rules.lists import WatchList
from monitor.rules.loader import ListProvider
from monitor.store import Store, StorePathError, StoreUnavailableError

EXIT_INVALID_INPUT = 2

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default: $MONITOR_CONFIG, else config/monitor.yaml)."),
]


def fail(message: str, code: int = EXIT_INVALID_INPUT) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def settings_or_exit(config: Path | None, *, sends: bool = True) -> Settings:
    """The configuration, or exit 2 with file:line messages. Commands that never send pass
    ``sends=False`` and do not need the channels' secrets."""
    path = config_path(config, os.environ)
    try:
        return load_settings(path, os.environ, channel_secrets=sends)
    except ConfigError as exc:
        fail(f"invalid configuration:\n{exc}")


def store_or_exit(settings: Settings, *, migrate: bool = True, read_only: bool = False) -> Store:
    """The store, or exit with one line when the database cannot be opened: 1 when it is
    unavailable (retrying may help), 2 when its folder or file cannot be written. ``read_only``:
    an existing, current database, opened without creating or migrating anything."""
    try:
        if read_only:
            return Store.open_read_only(settings.database_url)
        return Store.open(settings.database_url, migrate=migrate)
    except StoreUnavailableError as exc:
        fail(str(exc), code=1)
    except StorePathError as exc:
        fail(str(exc))


def stored_lists(config: Path | None) -> ListProvider:
    """Entity lists for `@list:` rules, read from the configured database only when the rules
    name one; none when it cannot be read (the rule then says its list is unknown)."""

    def provide(names: frozenset[str]) -> dict[str, WatchList]:
        try:
            settings = load_settings(config_path(config, os.environ), os.environ, channel_secrets=False)
            store = Store.open_read_only(settings.database_url)
        except (ConfigError, StoreUnavailableError, StorePathError):
            return {}
        try:
            return store.load_lists(names)
        finally:
            store.close()

    return provide


def rules_or_exit(paths: tuple[Path, ...], code: int = EXIT_INVALID_INPUT, *, config: Path | None = None) -> RuleSet:
    try:
        loaded = read_rules(paths, stored_lists(config))
    except RuleLoadError as exc:
        fail(f"invalid rules:\n{exc}", code)
    warn_skipped(loaded)
    return loaded.rules


def warn_skipped(loaded: LoadedRules) -> None:
    """Name each folder entry that looks like a rule file but was not read (a directory, a
    broken link): silently ignoring one hides the rules the user thinks are in force."""
    for warning in loaded.skipped:
        typer.echo(f"warning: {warning}", err=True)


def since_option(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        fail(f"--since: {exc}")


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
