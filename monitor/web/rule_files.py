"""The rule files the console may edit, checked drafts, and atomic saves.

A draft is checked the way `monitor rules check` checks files: the edited file's new text is
parsed and compiled together with every other rule file, so errors carry the same
`file:line:col: rule <id>: …` messages, with lines and columns of the file as it would be saved.
Saving writes a temporary file beside the original and renames it over it (readers, the daemon's
watcher included, see the old file or the new one, never half of one), under a lock on the
folder so two editors cannot interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from monitor.rules import RuleError, RuleFile, RuleLoadError, RuleSet, compile_rules, parse_rule_text
from monitor.rules.loader import RULE_SUFFIXES, rule_paths
from monitor.web.rule_yaml import RuleDraft, RuleYamlError, read_draft, render_file

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,100}")


class RuleFileError(ValueError):
    """A file name the console refuses, a missing rule, or a file changed by someone else."""


class ConflictError(RuleFileError):
    """The file changed since the editor read it."""


@dataclass(frozen=True, slots=True)
class CheckedDraft:
    """A draft in its file: the would-be file text, every error, and (when there is none) a
    RuleSet holding just this rule, for previews."""

    draft: RuleDraft
    file: Path
    text: str
    errors: tuple[RuleError, ...]
    rule: RuleSet | None

    @property
    def ok(self) -> bool:
        return not self.errors


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class RuleFiles:
    """The configured rule paths (files or folders, as `rules:` in the configuration)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)
        # The other files' parses, by (mtime, size): a keystroke re-parses only the edited file.
        self._parsed: dict[Path, tuple[tuple[int, int], RuleFile]] = {}

    def files(self) -> list[Path]:
        return rule_paths(self.paths)

    def folders(self) -> list[Path]:
        return [path for path in self.paths if path.is_dir()]

    def resolve(self, name: str) -> Path:
        """A rule file by its name as shown (`rules/dprk.yaml`), or a new file's bare name
        (`watch.yaml`, created in the first rule folder). Anything else is refused: a name with
        a folder in it that is not a rule file already, `..`, an absolute path, another suffix."""
        for path in self.files():
            if name == str(path):
                return path
        if not _SAFE_NAME.fullmatch(name) or not name.endswith(RULE_SUFFIXES) or ".." in name:
            raise RuleFileError(
                f"refused rule file name {name!r}: give an existing rule file or a new name like watch.yaml"
            )
        folders = self.folders()
        if not folders:
            raise RuleFileError("no rule folder is configured to create a new file in")
        target = folders[0] / name
        if target.resolve().parent != folders[0].resolve():
            raise RuleFileError(f"refused rule file name {name!r}")
        return target

    def locate(self, rule_id: str) -> tuple[Path, str, RuleDraft] | None:
        """The file defining the rule, its text and the rule as a draft."""
        for path in self.files():
            text = _read(path)
            try:
                draft = read_draft(text, rule_id)
            except RuleYamlError:
                continue
            if draft is not None:
                return path, text, draft
        return None

    def check(self, draft: RuleDraft, file: Path) -> CheckedDraft:
        current = _read(file) if file.exists() else ""
        try:
            text = render_file(current, draft)
        except RuleYamlError as exc:
            error = RuleError(str(file), 1, 1, draft.id, str(exc), None)
            return CheckedDraft(draft, file, current, (error,), None)
        parsed = [parse_rule_text(text, str(path)) if path == file else self._parse(path) for path in self._with(file)]
        errors = _errors(parsed)
        if not errors and not any(d.rule.id == draft.id for f in parsed for d in f.rules):
            errors = (RuleError(str(file), 1, 1, draft.id, "the rule is missing from the file after editing", None),)
        if errors:
            return CheckedDraft(draft, file, text, errors, None)
        only = [replace(f, rules=tuple(d for d in f.rules if d.rule.id == draft.id)) for f in parsed]
        return CheckedDraft(draft, file, text, (), compile_rules(only))

    def _parse(self, path: Path) -> RuleFile:
        try:
            stat = path.stat()
            signature = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            signature = (0, 0)
        cached = self._parsed.get(path)
        if cached is None or cached[0] != signature:
            cached = (signature, parse_rule_text(_read(path), str(path)))
            self._parsed[path] = cached
        return cached[1]

    def _with(self, file: Path) -> list[Path]:
        files = self.files()
        return files if file in files else [*files, file]

    def save(self, checked: CheckedDraft, expected: str | None) -> str:
        """Write the checked text; ``expected`` is the digest of the text the editor started
        from (None: do not compare). Returns the text the file had before."""
        if not checked.ok:
            raise RuleFileError("the draft has errors")
        with _folder_lock(checked.file.parent):
            before = _read(checked.file) if checked.file.exists() else ""
            if expected is not None and digest(before) != expected:
                raise ConflictError(f"{checked.file} changed since you opened it: reload to see the changes")
            fresh = self.check(checked.draft, checked.file)  # against the file as it is now
            if not fresh.ok:
                raise RuleFileError(str(fresh.errors[0]))
            _write_atomically(checked.file, fresh.text)
        return before


def _errors(parsed: Sequence[RuleFile]) -> tuple[RuleError, ...]:
    try:
        compile_rules(parsed)
    except RuleLoadError as exc:
        return exc.errors
    return ()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing drops the lock


def _write_atomically(path: Path, text: str) -> None:
    # The temporary name does not end in .yaml, so the rule loader never reads it.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(mode)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
