"""Load errors that point at the spot in the rule file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleError:
    """One mistake in a rule file. ``line`` and ``column`` are 1-based positions in the file;
    0 for a problem with no place in a file (an unreadable folder, no rules at all)."""

    file: str
    line: int
    column: int
    rule_id: str | None
    message: str
    source_line: str | None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.line else f"{self.file}: "
        who = f"rule {self.rule_id}: " if self.rule_id else ""
        text = where + who + self.message
        if self.source_line is not None:
            shown = self.source_line.expandtabs(1)
            caret = " " * max(self.column - 1, 0) + "^"
            text += f"\n    {shown}\n    {caret}"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.message)


class RuleLoadError(Exception):
    """Every error found while loading a set of rule files; nothing was loaded."""

    def __init__(self, errors: tuple[RuleError, ...] | list[RuleError]) -> None:
        self.errors: tuple[RuleError, ...] = tuple(sorted(errors, key=RuleError.sort_key))
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.errors)
        head = f"{count} error{'s' if count != 1 else ''} in rule files:"
        return "\n".join([head, *(str(error) for error in self.errors)])
