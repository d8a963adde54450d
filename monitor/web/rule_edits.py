"""Saving and reverting a rule, for the pages and the API alike: check, write the file
atomically, record the version (who, when, the file's diff) in the database.

The daemon watches the rule files and reloads them by itself; nothing here talks to it.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.rules import RuleError
from monitor.store.web_records import RuleVersion
from monitor.web.console import Console
from monitor.web.rule_files import CheckedDraft, RuleFileError
from monitor.web.rule_yaml import RuleDraft, read_draft


class DraftInvalidError(ValueError):
    def __init__(self, errors: tuple[RuleError, ...]) -> None:
        super().__init__(str(errors[0]) if errors else "invalid draft")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Saved:
    version: RuleVersion
    checked: CheckedDraft


def draft_json(draft: RuleDraft) -> str:
    return json.dumps(draft.as_dict(), ensure_ascii=False, sort_keys=True)


def version_draft(version: RuleVersion) -> RuleDraft:
    return RuleDraft.from_dict(json.loads(version.content))


def file_diff(path: Path, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=2
        )
    )


def save_rule(
    console: Console, draft: RuleDraft, file: Path, expected: str | None, author: str, kind: str, now: datetime
) -> Saved:
    """Raises DraftInvalidError (errors with file:line:col), ConflictError or RuleFileError."""
    checked = console.files.check(draft, file)
    if not checked.ok:
        raise DraftInvalidError(checked.errors)
    before = console.files.save(checked, expected)
    store = console.store.console
    previous = read_draft(before, draft.id) if before else None
    if previous is not None and not store.rule_versions(draft.id):
        # the state the file had before the console first touched this rule: revertable too
        store.add_rule_version(draft.id, str(file), "baseline", draft_json(previous), "", "(file)", now)
    action = kind if previous is not None or kind != "save" else "create"
    version = store.add_rule_version(
        draft.id, str(file), action, draft_json(draft), file_diff(file, before, checked.text), author, now
    )
    return Saved(version, checked)


def revert_rule(console: Console, rule_id: str, version_id: int, author: str, now: datetime) -> Saved:
    version = console.store.console.rule_version(version_id)
    if version is None or version.rule_id != rule_id:
        raise RuleFileError(f"rule {rule_id} has no version {version_id}")
    located = console.files.locate(rule_id)
    file = located[0] if located is not None else console.files.resolve(version.file)
    return save_rule(console, version_draft(version), file, None, author, "revert", now)
