"""The command line, in-process (typer's runner), with a working folder holding rules and a config."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from monitor.cli.app import app
from tests.e2e.feeds import RULES_YAML

_runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `monitor ARGS…`."""
    result = _runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_config(folder: Path, feeds: str, *, database: str | None = None) -> Path:
    """folder/monitor.yaml with the test rules and `feeds` (YAML list items, indented by two)."""
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "main.yaml").write_text(RULES_YAML, encoding="utf-8")
    database = database or f"sqlite:///{folder / 'monitor.db'}"
    path = folder / "monitor.yaml"
    path.write_text(f"database: {database}\nrules: {folder / 'rules'}\nfeeds:\n{feeds}", encoding="utf-8")
    return path
