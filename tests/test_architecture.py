"""Layering the code relies on: the store stores (it never imports the story and alert
decisions), and the rule engine and the decisions stay pure (no database, no HTTP)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "monitor"


def imported_modules(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(PACKAGE.parent))] = names
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path} imports {name}"
        for path, names in imported_modules(PACKAGE / folder).items()
        for name in names
        if name.startswith(forbidden)
    )


def test_the_store_does_not_decide() -> None:
    assert offenders("store", ("monitor.stories", "monitor.alerts", "monitor.pipeline", "monitor.saving")) == []


def test_decisions_and_rules_are_pure() -> None:
    io = ("monitor.store", "sqlalchemy", "sqlmodel", "httpx", "apprise", "monitor.fetch", "socket")
    assert offenders("stories", io) == []
    assert offenders("rules", (*io, "monitor.alerts")) == []
