"""The rule editor's live preview: what a draft matches among the stored items of the last N
days, and what it gains and loses against the rule in force (the backtest diff, as
`monitor rules backtest`, for one rule and without leaving the page).

Items of the window are kept in memory and topped up with newer ones, so a keystroke costs
one pass of the rule engine over them, not a database scan. The window holds at most
MAX_WINDOW_ITEMS of the newest items; the page says so when it is cut.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from monitor.rules import RuleFile, RuleLoadError, RuleSet, compile_rules, parse_rule_text
from monitor.rules.loader import rule_paths
from monitor.store import Store
from monitor.store.web_records import WindowItem
from monitor.web.quickcheck import folded, may_match

MAX_WINDOW_ITEMS = 50_000
SHOWN = 50  # rows listed per kind (matches, gained, lost)
WINDOW_DAYS = (1, 7, 30, 90)
_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class PreviewRow:
    item_id: int
    story_id: int | None
    title: str
    feed_name: str
    fetched_at: datetime
    snippet: str  # matches marked «»
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Preview:
    days: int
    checked: int
    cut: bool  # the window held more items than were checked
    matches: int
    gained: tuple[PreviewRow, ...]
    lost: tuple[PreviewRow, ...]
    gained_count: int
    lost_count: int
    shown: tuple[PreviewRow, ...]  # the newest matches
    regressions: tuple[PreviewRow, ...]  # items marked not relevant that the draft still matches
    regression_cases: int


class ItemWindow:
    """The newest stored items of the last ``days`` (oldest first), refreshed on each use."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._items: list[WindowItem] = []
        self._since: datetime | None = None
        self._cut = False

    def items(self, days: int) -> tuple[list[WindowItem], bool]:
        since = self._clock() - timedelta(days=days)
        with self._lock:
            if self._since is None or since < self._since:
                self._load(since)
            else:
                self._top_up()
            self._items = [item for item in self._items if item.fetched_at >= since]
            self._since = since
            return list(self._items), self._cut

    def _load(self, since: datetime) -> None:
        start = self._store.console.first_item_since(since)
        newest = self._store.console.first_item_since(self._clock() + timedelta(days=1))
        self._cut = newest - start > MAX_WINDOW_ITEMS
        self._items = []
        self._fetch(since, max(start, newest - MAX_WINDOW_ITEMS))

    def _top_up(self) -> None:
        assert self._since is not None
        self._fetch(self._since, self._items[-1].item_id if self._items else 0)
        if len(self._items) > MAX_WINDOW_ITEMS:
            self._items = self._items[-MAX_WINDOW_ITEMS:]
            self._cut = True

    def _fetch(self, since: datetime, after_id: int) -> None:
        while True:
            batch = self._store.console.window_items(since, after_id, _BATCH)
            self._items.extend(batch)
            if len(batch) < _BATCH:
                return
            after_id = batch[-1].item_id


class RulesView:
    """The rules as they are on disk now (what the daemon reloads), re-read when a file changes."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = tuple(paths)
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._current: RuleSet | RuleLoadError | None = None
        self._files: list[RuleFile] = []
        self._single: dict[str, RuleSet | None] = {}
        self._decisions: dict[str, dict[int, bool]] = {}

    def get(self) -> RuleSet | RuleLoadError:
        with self._lock:
            return self._fresh()

    def single(self, rule_id: str) -> RuleSet | None:
        """Just this rule as it is in force (aliases resolved), or None when it is not: a
        preview compares one rule, and one rule matches faster than the whole set."""
        with self._lock:
            if not isinstance(self._fresh(), RuleSet):
                return None
            if rule_id not in self._single:
                only = [replace(f, rules=tuple(d for d in f.rules if d.rule.id == rule_id)) for f in self._files]
                found = any(f.rules for f in only)
                self._single[rule_id] = compile_rules(only) if found else None
            return self._single[rule_id]

    def decisions(self, rule_id: str) -> dict[int, bool]:
        """Whether the rule in force matches each item (by id), filled in by previews: it does
        not change between keystrokes, so a preview evaluates only the draft. Emptied when the
        rule files change."""
        with self._lock:
            self._fresh()
            return self._decisions.setdefault(rule_id, {})

    def _fresh(self) -> RuleSet | RuleLoadError:
        signature = tuple(_stat(path) for path in rule_paths(self._paths))
        if signature != self._signature or self._current is None:
            self._files = [parse_rule_text(_text(path), str(path)) for path in rule_paths(self._paths)]
            self._single = {}
            self._decisions = {}
            try:
                self._current = compile_rules(self._files)
            except RuleLoadError as exc:
                self._current = exc
            self._signature = signature
        return self._current


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # load_rules reports it; here the file simply has no rules


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), 0, 0)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def preview(
    draft: RuleSet,
    current: RuleSet | None,
    items: Sequence[WindowItem],
    regression_items: Sequence[WindowItem],
    days: int,
    cut: bool,
    known: dict[int, bool] | None = None,
) -> Preview:
    """Decisions only (match_ids) for every item; evidence for the rows that are listed.
    ``known`` caches the rule in force's decisions by item id."""
    gained: list[WindowItem] = []
    lost: list[WindowItem] = []
    matched: list[WindowItem] = []
    cache = known if known is not None else {}
    could = _quick(draft)
    for item in reversed(items):  # newest first
        text = folded(item.title, item.summary, item.content)
        now = could(text) and bool(draft.match_ids(item.fields(), feed_name=item.feed_name, feed_tags=item.feed_tags))
        before = current is not None and _decided(current, item, cache)
        if now:
            matched.append(item)
        if now and not before:
            gained.append(item)
        elif before and not now:
            lost.append(item)
    regressions = [item for item in regression_items if _row(draft, item) is not None]
    return Preview(
        days=days,
        checked=len(items),
        cut=cut,
        matches=len(matched),
        gained=_rows(draft, gained[:SHOWN]),
        lost=_rows(current, lost[:SHOWN]) if current is not None else (),
        gained_count=len(gained),
        lost_count=len(lost),
        shown=_rows(draft, matched[:SHOWN]),
        regressions=_rows(draft, regressions[:SHOWN]),
        regression_cases=len(regression_items),
    )


def _quick(rules: RuleSet) -> Callable[[str], bool]:
    """The quick check of the (one) rule of ``rules`` (monitor.web.quickcheck)."""
    checks = [may_match(rules.query_tree(rule.id)) for rule in rules.rules]
    return lambda text: any(check(text) for check in checks)


def _decided(rules: RuleSet, item: WindowItem, cache: dict[int, bool]) -> bool:
    found = cache.get(item.item_id)
    if found is None:
        found = bool(rules.match_ids(item.fields(), feed_name=item.feed_name, feed_tags=item.feed_tags))
        cache[item.item_id] = found
    return found


def _rows(rules: RuleSet | None, items: Sequence[WindowItem]) -> tuple[PreviewRow, ...]:
    rows = (_row(rules, item) for item in items) if rules is not None else ()
    return tuple(row for row in rows if row is not None)


def _row(rules: RuleSet | None, item: WindowItem) -> PreviewRow | None:
    if rules is None:
        return None
    found = rules.match(item.fields(), feed_name=item.feed_name, feed_tags=item.feed_tags, lang=item.lang)
    if not found:
        return None
    match = found[0]
    return PreviewRow(
        item.item_id, item.story_id, item.title, item.feed_name, item.fetched_at, match.snippet, match.matched_words
    )
