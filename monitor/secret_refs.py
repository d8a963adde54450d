"""`${NAME}` references: substituting secrets into configuration values, and hiding them again.

A value that lands inside a URL (after ``scheme://``) is percent-encoded, so a password with
``& # / @ ? %`` stays one component: Apprise, httpx and SQLAlchemy all decode user-info, path
and query values. A reference before ``://``, or in a value that is not a URL, is substituted
as is. Feed URLs keep their references (they are the feed's stored key, shown in logs and OPML);
the fetcher substitutes them per request and masks the values in whatever it reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class SecretSource:
    """Where `${NAME}` values come from: the variable NAME, else the file named by NAME_FILE
    (Docker and Kubernetes secrets)."""

    environ: Mapping[str, str]
    used_by_feeds: dict[str, str]  # filled by the configuration loader, handed to the fetcher

    def value(self, name: str) -> str:
        """The value; ValueError with a one-line reason when there is none."""
        if name in self.environ:
            return self.environ[name]
        file_variable = self.environ.get(f"{name}_FILE")
        if not file_variable:
            raise ValueError(f"environment variable {name} (or {name}_FILE) is not set")
        try:
            return Path(file_variable).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ValueError(f"{name}_FILE: cannot read {file_variable}: {reason}") from exc


def referenced(template: str) -> list[str]:
    """The names `template` refers to, in order."""
    return REFERENCE.findall(template)


def substitute(template: str, value_of: Callable[[str], str | None]) -> str:
    """`template` with each `${NAME}` replaced by ``value_of(NAME)``, percent-encoded inside a
    URL; a reference whose value is None is left as it is."""
    url_start = template.find("://")

    def one(match: re.Match[str]) -> str:
        value = value_of(match.group(1))
        if value is None:
            return match.group(0)
        return quote(value, safe="") if 0 <= url_start < match.start() else value

    return REFERENCE.sub(one, template)


def mask(text: str, template: str, values: Mapping[str, str]) -> str:
    """`text` with the values of the secrets `template` refers to, as written or as encoded,
    replaced by their `${NAME}`. Longest first, so a value containing another is masked whole."""
    forms = {
        form: f"${{{name}}}"
        for name in set(referenced(template))
        if values.get(name)  # an empty value would match everywhere
        for form in (values[name], quote(values[name], safe=""))
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, forms[form])
    return text


def template_pattern(template: str) -> re.Pattern[str]:
    """Matches what `template` became when substituted with any values (as stored before feed
    URLs kept their references)."""
    pieces = REFERENCE.split(template)  # literal, name, literal, name, …, literal
    return re.compile("".join(re.escape(piece) if index % 2 == 0 else ".+?" for index, piece in enumerate(pieces)))
