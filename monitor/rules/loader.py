"""The only part of the rule engine that touches the file system."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from monitor.rules.compile import compile_rules
from monitor.rules.errors import RuleError, RuleLoadError
from monitor.rules.ruleset import RuleSet
from monitor.rules.source import RuleFile, parse_rule_text

RULE_SUFFIXES = (".yaml", ".yml")


def rule_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; folders expand to their *.yaml / *.yml files (not recursive), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Read, parse and compile rule files; raises RuleLoadError with every error found
    (unreadable files included) and never returns a partial set."""
    files: list[RuleFile] = []
    errors: list[RuleError] = []
    for path in rule_paths(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            errors.append(RuleError(str(path), 1, 1, None, f"cannot read rule file: {reason}", None))
            continue
        files.append(parse_rule_text(text, str(path)))
    if errors:
        raise RuleLoadError(errors + [e for f in files for e in f.errors])
    return compile_rules(files)
