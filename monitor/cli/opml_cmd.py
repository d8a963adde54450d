"""`monitor feeds import FILE.opml` and `monitor feeds export`."""

import os
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import ConfigOption, fail, settings_or_exit
from monitor.config import ConfigError, config_path, load_settings
from monitor.opml import OpmlError, merge_into_config_yaml, read_opml, write_opml


def import_opml(
    source: Annotated[Path, typer.Argument(help="An OPML file (from a feed reader).")],
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, change nothing.")] = False,
) -> None:
    """Add the OPML file's feeds to the configuration file (comments are kept)."""
    target = config_path(config, os.environ)
    try:
        found, warnings = read_opml(source.read_bytes(), str(source))
        before = target.read_text(encoding="utf-8")
        after = merge_into_config_yaml(before, found)
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}")
    except (OpmlError, ValueError) as exc:
        fail(str(exc))
    for warning in warnings:
        typer.echo(f"skipped: {warning}", err=True)
    if dry_run:
        typer.echo(after)
        return
    candidate = target.with_suffix(target.suffix + ".new")
    candidate.write_text(after, encoding="utf-8")
    try:
        new_settings = load_settings(candidate, os.environ, channel_secrets=False)
    except ConfigError as exc:
        candidate.unlink()
        fail(f"the merged configuration would be invalid; nothing changed:\n{exc}")
    added = len(new_settings.feeds) - len(settings_or_exit(target, sends=False).feeds)
    candidate.replace(target)
    present = len(found) - added
    typer.echo(f"added {added} feeds to {target} ({present} already configured, {len(warnings)} skipped)")


def export_opml(
    config: ConfigOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")] = None,
) -> None:
    """Write the configured feeds as OPML 2.0."""
    settings = settings_or_exit(config, sends=False)
    data = write_opml(settings.feeds, "sanctions-monitor feeds")
    if output is None:
        typer.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)
        typer.echo(f"wrote {len(settings.feeds)} feeds to {output}")


def register(feeds_app: typer.Typer) -> None:
    feeds_app.command("import")(import_opml)
    feeds_app.command("export")(export_opml)
