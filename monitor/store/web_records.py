"""Frozen values the console's store calls take and give (monitor.store.web_console)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.types import Severity, Span

ROLES = ("viewer", "editor", "admin")
VERDICTS = ("relevant", "not_relevant")
# open: everything not muted (the default inbox); untriaged: no verdict yet and not muted
STATES = ("open", "untriaged", "relevant", "not_relevant", "muted", "all")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str
    role: str  # one of ROLES
    disabled: bool
    session_epoch: int
    created_at: datetime
    has_password: bool = True

    def may(self, role: str) -> bool:
        """At least ``role``: viewer < editor < admin."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """What the inbox shows. ``before``/``after`` are keyset cursors: story ids, or item ids
    when ``q`` searches (results are then items, newest first)."""

    q: str = ""
    rule: str | None = None
    severity: Severity | None = None  # at least this severe
    feed: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    state: str = "open"
    before: int | None = None
    after: int | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Triage:
    verdict: str | None
    note: str
    muted: bool
    updated_by: str
    updated_at: datetime

    @property
    def state(self) -> str:
        return "muted" if self.muted else (self.verdict or "new")


@dataclass(frozen=True, slots=True)
class StorySummary:
    story_id: int
    headline: str
    first_seen: datetime
    severity: Severity | None  # None: no rule matched any report (found by search only)
    outlet_count: int
    rules: tuple[str, ...]  # matched rule ids, most severe first
    lead_feed: str
    triage: Triage | None

    @property
    def state(self) -> str:
        return self.triage.state if self.triage is not None else "new"


@dataclass(frozen=True, slots=True)
class FoundItem:
    """A search result: one matching item and its story."""

    item_id: int
    title: str
    summary: str
    feed_name: str
    published: datetime | None
    fetched_at: datetime
    story: StorySummary | None


@dataclass(frozen=True, slots=True)
class InboxPage:
    stories: tuple[StorySummary, ...] = ()
    items: tuple[FoundItem, ...] = ()  # when searching
    newer: int | None = None  # cursor for the page before (``after=``), None on the first page
    older: int | None = None  # cursor for the next page (``before=``), None on the last page


@dataclass(frozen=True, slots=True)
class Report:
    """One item of a story, with the evidence spans of every rule that matched it."""

    item_id: int
    feed_name: str
    feed_tags: tuple[str, ...]
    title: str
    summary: str
    content: str
    link: str | None
    published: datetime | None
    fetched_at: datetime
    spans: tuple[Span, ...]
    lang: str | None = None  # detected by the parse worker; None for items stored before 0009


@dataclass(frozen=True, slots=True)
class RuleEvidenceRow:
    """A rule's first hit in a story."""

    rule_id: str
    rule_title: str
    severity: Severity
    item_id: int
    feed_name: str
    matched: tuple[str, ...]
    spans: tuple[Span, ...]
    snippet: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoryDetail:
    summary: StorySummary
    reports: tuple[Report, ...]  # oldest first
    rules: tuple[RuleEvidenceRow, ...]  # most severe first
    reports_hidden: int  # beyond the cap


@dataclass(frozen=True, slots=True)
class RuleStats:
    rule_id: str
    hits_7d: int
    hits_30d: int
    relevant: int  # stories with this rule's hits marked relevant
    not_relevant: int

    @property
    def precision(self) -> float | None:
        judged = self.relevant + self.not_relevant
        return self.relevant / judged if judged else None


@dataclass(frozen=True, slots=True)
class RuleVersion:
    id: int
    rule_id: str
    file: str
    action: str  # baseline | save | revert | create
    content: str
    diff: str
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WindowItem:
    """A stored item as the rule preview matches it."""

    item_id: int
    story_id: int | None
    feed_name: str
    feed_tags: tuple[str, ...]
    title: str
    summary: str
    content: str
    fetched_at: datetime
    lang: str | None = None

    def fields(self) -> dict[str, str]:
        return {"title": self.title, "summary": self.summary, "content": self.content}
