"""Rule folders and files that cannot be read are messages with exit codes, never tracebacks;
entries named like rule files that are skipped are named in a warning; an empty rules folder is
an error unless the configuration says `rules: []` (issue 12, defects 1 and 8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.rules import RuleLoadError, read_rules
from tests.e2e.conftest import run_cli

RULE = "rules:\n  - id: arms\n    query: artillery\n"
NOT_CHAIN = "rules:\n  - id: nots\n    query: 'x AND " + "NOT " * 1000 + "y'\n"


def config(tmp_path: Path, rules: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"database: sqlite:///{tmp_path / 'monitor.db'}\nrules: {rules}\nfeeds: []\n", encoding="utf-8")
    return path


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in files.items():
        (rules / name).write_text(text, encoding="utf-8")
    return rules


def test_entries_named_like_rule_files_that_are_not_read_are_named(tmp_path: Path) -> None:
    rules = folder_with(tmp_path, {"main.yaml": RULE, "notes.txt": "not a rule file"})
    (rules / "loop.yaml").symlink_to("loop.yaml")
    (rules / "gone.yml").symlink_to("deleted.yaml")
    (rules / "old.yaml").mkdir()
    (rules / "linked.yaml").symlink_to(rules / "main.yaml")  # a link to a file is read
    expected = [
        f"{rules / 'gone.yml'}: skipped, a broken symbolic link",
        f"{rules / 'loop.yaml'}: skipped, a symbolic link loop",
        f"{rules / 'old.yaml'}: skipped, a directory",
    ]
    with pytest.raises(RuleLoadError, match="duplicate rule id"):
        read_rules([rules])
    (rules / "linked.yaml").unlink()
    assert list(read_rules([rules]).skipped) == expected

    checked = run_cli("rules", "check", "--rules-dir", str(rules), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.splitlines() == [f"warning: {line}" for line in expected]
    assert checked.stdout.startswith("ok: 1 rules")


def test_an_empty_rules_folder_is_an_error_unless_the_config_says_no_rules(tmp_path: Path) -> None:
    empty = folder_with(tmp_path, {"aliases.yaml": "aliases:\n  x: [y]\n"})
    checked = run_cli("rules", "check", "--rules-dir", str(empty), cwd=tmp_path)
    message = f"{empty}: no rules found; to run without rules, write `rules: []` in the configuration"
    assert checked.returncode == 1
    assert message in checked.stderr.splitlines()

    started = run_cli("once", "--config", str(config(tmp_path, str(empty))), cwd=tmp_path)
    assert started.returncode == 2
    assert message in started.stderr.splitlines()

    without = run_cli("once", "--config", str(config(tmp_path, "[]")), cwd=tmp_path)
    assert without.returncode == 0, without.stderr
    assert run_cli("rules", "check", "--config", str(tmp_path / "monitor.yaml"), cwd=tmp_path).returncode == 0


def test_a_device_as_the_rules_is_a_message(tmp_path: Path) -> None:
    checked = run_cli("rules", "check", "--rules-dir", "/dev/zero", cwd=tmp_path, timeout=30)
    assert checked.returncode == 1
    assert "/dev/zero:1:1: cannot read rule file: not a regular file" in checked.stderr.splitlines()
    started = run_cli("once", "--config", str(config(tmp_path, "/dev/zero")), cwd=tmp_path, timeout=30)
    assert started.returncode == 2
    assert "Traceback" not in started.stderr
    assert "/dev/zero:1:1: cannot read rule file: not a regular file" in started.stderr.splitlines()


def test_a_rule_file_that_crashed_the_loader_stops_start_up_with_exit_2(tmp_path: Path) -> None:
    rules = folder_with(tmp_path, {"nots.yaml": NOT_CHAIN})
    started = run_cli("once", "--config", str(config(tmp_path, str(rules))), cwd=tmp_path)
    assert started.returncode == 2  # systemd does not restart on 2 (docs/monitor.service)
    assert "Traceback" not in started.stderr
    assert f"{rules / 'nots.yaml'}:3:4015: rule nots: query has more than 1,000 operators" in started.stderr


def without_root_powers(command: list[str]) -> list[str]:
    """``command`` as it runs for an ordinary user: root reads any folder, so as root the
    capabilities that let it are dropped for the child (util-linux setpriv)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv is not installed to drop root's read permission")
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", *command]


def test_an_unreadable_rules_folder_is_a_message(tmp_path: Path) -> None:
    locked = folder_with(tmp_path, {"main.yaml": RULE})
    settings = config(tmp_path, str(locked))
    locked.chmod(0)
    try:
        checked, started = [
            subprocess.run(
                without_root_powers([sys.executable, "-m", "monitor", *command, "--config", str(settings)]),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            for command in (["rules", "check"], ["once"])
        ]
    finally:
        locked.chmod(0o755)
    message = f"{locked}: cannot read rule folder: Permission denied"
    assert (checked.returncode, started.returncode) == (1, 2)
    assert message in checked.stderr.splitlines()
    assert message in started.stderr.splitlines()
    assert "Traceback" not in started.stderr
