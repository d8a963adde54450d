"""A configuration file for an in-process or child daemon: SQLite and one rule file in the test's
folder, plus whatever the test adds (feeds, tick, channels, retention …)."""

from __future__ import annotations

from pathlib import Path

ONE_RULE = "rules:\n  - id: arms\n    title: Arms\n    query: artillery OR arms\n"


def write_config(folder: Path, body: str, rules: str = ONE_RULE) -> Path:
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "main.yaml").write_text(rules, encoding="utf-8")
    config = folder / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{folder / 'monitor.db'}\nrules: {folder / 'rules'}\n{body}", encoding="utf-8"
    )
    return config
