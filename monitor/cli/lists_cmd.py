"""`monitor lists import | show | remove`: entity lists for `@list:NAME` rule references."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from monitor.cli.common import ConfigOption, fail, settings_or_exit, store_or_exit
from monitor.lists.formats import FORMATS
from monitor.lists.refresh import check_list
from monitor.rules.lexer import LIST_REF_RE
from monitor.runtime import utc_now
from monitor.types import ListSpec

app = typer.Typer(help="Entity lists (sanctions lists) that rules use as @list:NAME.", no_args_is_help=True)
_FORMAT_HELP = f"One of {', '.join(FORMATS)} (default: detected from the content)."


@app.command("import")
def import_list(
    name: Annotated[str, typer.Argument(help="The list's name in rules: @list:NAME.")],
    source: Annotated[str, typer.Argument(help="A file, or an http(s) URL.")],
    list_format: Annotated[str | None, typer.Option("--format", help=_FORMAT_HELP)] = None,
    config: ConfigOption = None,
) -> None:
    """Read a list file or URL and store it as NAME (replacing the stored version). Exit 1 when
    it cannot be read; the version stored before stays."""
    if list_format is not None and list_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    if not _valid_name(name):
        fail(f"invalid list name {name!r} (letters, digits, _ and -)")
    settings = settings_or_exit(config, sends=False)
    configured = next((spec for spec in settings.lists if spec.name == name), None)
    spec = ListSpec(name, source, list_format or (configured.format if configured else None))
    if configured is not None:
        spec = ListSpec(name, source, spec.format, configured.refresh_seconds, configured.max_bytes)
    store = store_or_exit(settings)
    try:
        outcome = asyncio.run(check_list(store, spec, settings.fetch, utc_now(), force=True))
    finally:
        store.close()
    typer.echo(outcome.summary())
    if outcome.status == "error":
        raise typer.Exit(1)


@app.command("show")
def show(config: ConfigOption = None) -> None:
    """Each stored list: format, entries, when it was read, and the last error."""
    settings = settings_or_exit(config, sends=False)
    store = store_or_exit(settings)
    try:
        states = store.list_states()
    finally:
        store.close()
    if not states:
        typer.echo("no lists imported (monitor lists import NAME FILE|URL)")
    for state in states:
        read = f"{state.imported_at:%Y-%m-%d %H:%M} UTC" if state.imported_at else "never"
        line = f"{state.name}: {state.format}, {state.entry_count:,} entries, read {read}, from {state.source}"
        typer.echo(line + (f"; last check failed: {state.last_error}" if state.last_error else ""))


@app.command("remove")
def remove(name: str, config: ConfigOption = None) -> None:
    """Delete a stored list (rules that use it then fail to load)."""
    settings = settings_or_exit(config, sends=False)
    store = store_or_exit(settings)
    try:
        removed = store.remove_list(name)
    finally:
        store.close()
    if not removed:
        fail(f"no list named {name!r}", code=1)
    typer.echo(f"list {name} removed")


def _valid_name(name: str) -> bool:
    return LIST_REF_RE.fullmatch(f"list:{name}") is not None and "[" not in name
