"""The only part of the rule engine that touches the file system."""

from __future__ import annotations

import errno
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monitor.rules.compile import compile_rules, referenced_lists
from monitor.rules.errors import RuleError, RuleLoadError
from monitor.rules.lists import WatchList
from monitor.rules.ruleset import RuleSet
from monitor.rules.source import RuleFile, parse_rule_text
from monitor.yamlsource import YamlSourceError, read_yaml_text

RULE_SUFFIXES = (".yaml", ".yml")
NO_RULES = "no rules found; to run without rules, write `rules: []` in the configuration"
# The entity lists named by the rules (``@list:NAME``), by name; called only when some are used.
ListProvider = Callable[[frozenset[str]], Mapping[str, WatchList]]


@dataclass(frozen=True, slots=True)
class LoadedRules:
    rules: RuleSet
    skipped: tuple[str, ...]  # one warning per folder entry named like a rule file but not read
    list_versions: Mapping[str, str] = field(default_factory=dict)  # lists compiled in, by name


@dataclass(frozen=True, slots=True)
class _Found:
    files: tuple[Path, ...]
    skipped: tuple[str, ...]
    errors: tuple[RuleError, ...]


def _find(paths: Sequence[Path]) -> _Found:
    """Files as given; folders expand to their *.yaml / *.yml files (not recursive), sorted."""
    files: list[Path] = []
    skipped: list[str] = []
    errors: list[RuleError] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)  # a missing or unreadable file is reported when it is read
            continue
        try:
            entries = sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES)
        except OSError as exc:
            errors.append(RuleError(str(path), 0, 0, None, f"cannot read rule folder: {exc.strerror or exc}", None))
            continue
        for entry in entries:
            problem = _not_a_rule_file(entry)
            if problem is None:
                files.append(entry)
            else:
                skipped.append(f"{entry}: skipped, {problem}")
    return _Found(tuple(files), tuple(skipped), tuple(errors))


def _not_a_rule_file(entry: Path) -> str | None:
    """Why a folder entry named like a rule file is not read, or None if it is a regular file
    (or a link to one)."""
    try:
        mode = entry.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop"
        if exc.errno == errno.ENOENT and entry.is_symlink():
            return "a broken symbolic link"
        return f"cannot read it: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return "a directory"
    return None if stat.S_ISREG(mode) else "not a regular file"


def rule_paths(paths: Sequence[Path]) -> list[Path]:
    """The rule files the given files and folders hold, in load order (unreadable entries, which
    loading reports, left out)."""
    return list(_find(paths).files)


def read_rules(paths: Sequence[Path], lists: ListProvider | None = None) -> LoadedRules:
    """Read, parse and compile rule files; raises RuleLoadError with every error found
    (unreadable files included) and never returns a partial set. Any other exception while
    loading becomes a RuleLoadError too (with the original as its cause), so a caller that keeps
    the last good rules needs to handle one kind of failure. Folder entries skipped are returned
    as warnings. Paths that yield no rule at all are an error: an empty folder is far more
    likely a mistake than a wish to match nothing (an empty ``paths`` is that wish)."""
    try:
        return _read(paths, lists)
    except RuleLoadError:
        raise
    except Exception as exc:
        raise unexpected_failure(paths, exc) from exc


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """read_rules, for callers that have no use for the skipped-entry warnings."""
    return read_rules(paths).rules


def _read(paths: Sequence[Path], lists: ListProvider | None) -> LoadedRules:
    found = _find(paths)
    files: list[RuleFile] = []
    errors = list(found.errors)
    for path in found.files:
        try:
            text = read_yaml_text(path)
        except YamlSourceError as exc:
            message = "cannot read rule file: " + exc.message.removeprefix("cannot read file: ")
            errors.append(RuleError(str(path), exc.line, exc.column, None, message, None))
            continue
        files.append(parse_rule_text(text, str(path)))
    if errors:
        raise RuleLoadError(errors + [e for f in files for e in f.errors])
    names = referenced_lists(files)
    watch = lists(names) if names and lists is not None else {}
    ruleset = compile_rules(files, watch)
    if paths and not ruleset.rules:
        raise load_failure(paths, NO_RULES)
    return LoadedRules(ruleset, found.skipped, {name: w.version for name, w in watch.items()})


def load_failure(paths: Sequence[Path], reason: str) -> RuleLoadError:
    """A failure of the load as a whole, named after the paths loaded."""
    names = ", ".join(map(str, paths)) or "rules"
    return RuleLoadError([RuleError(names, 0, 0, None, reason, None)])


def unexpected_failure(paths: Sequence[Path], exc: Exception) -> RuleLoadError:
    return load_failure(paths, f"unexpected error while loading rules: {type(exc).__name__}: {exc}")
