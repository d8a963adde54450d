"""ConsoleStore: what the web console reads and writes, reached as `Store.console`.

Thread-safe like Store: every call is its own short transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.store import web_accounts, web_inbox, web_rules, web_story
from monitor.store.db import _session
from monitor.store.tables import FeedRow
from monitor.store.web_records import (
    Account,
    InboxFilter,
    InboxPage,
    RuleStats,
    RuleVersion,
    StoryDetail,
    Triage,
    WindowItem,
)


class ConsoleStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # accounts
    def add_user(self, name: str, role: str, password_hash: str | None, now: datetime) -> Account:
        return web_accounts.add_user(self._engine, name, role, password_hash, now)

    def update_user(
        self,
        name: str,
        *,
        role: str | None = None,
        password_hash: str | None = None,
        disabled: bool | None = None,
        sign_out: bool = False,
    ) -> Account:
        return web_accounts.update_user(
            self._engine, name, role=role, password_hash=password_hash, disabled=disabled, sign_out=sign_out
        )

    def remove_user(self, name: str) -> None:
        web_accounts.remove_user(self._engine, name)

    def users(self) -> list[Account]:
        return web_accounts.list_users(self._engine)

    def user_by_name(self, name: str) -> tuple[Account, str | None] | None:
        return web_accounts.user_by_name(self._engine, name)

    def user_by_id(self, user_id: int) -> Account | None:
        return web_accounts.user_by_id(self._engine, user_id)

    def add_token(self, name: str, token: str, now: datetime) -> None:
        web_accounts.add_token(self._engine, name, token, now)

    def revoke_tokens(self, name: str) -> int:
        return web_accounts.revoke_tokens(self._engine, name)

    def user_by_token(self, token: str) -> Account | None:
        return web_accounts.user_by_token(self._engine, token)

    def sign_out_everywhere(self, user_id: int) -> None:
        web_accounts.bump_epoch(self._engine, user_id)

    def key(self, name: str) -> str:
        return web_accounts.console_key(self._engine, name)

    # stories
    def inbox(self, wanted: InboxFilter) -> InboxPage:
        return web_inbox.inbox(self._engine, wanted)

    def story(self, story_id: int) -> StoryDetail | None:
        return web_story.story_detail(self._engine, story_id)

    def story_exists(self, story_id: int) -> bool:
        return web_story.story_exists(self._engine, story_id)

    def set_verdict(self, story_id: int, verdict: str | None, note: str, user: str, now: datetime) -> Triage:
        return web_story.set_verdict(self._engine, story_id, verdict, note, user, now)

    def set_muted(self, story_id: int, muted: bool, user: str, now: datetime) -> tuple[Triage, int]:
        return web_story.set_muted(self._engine, story_id, muted, user, now)

    # rules
    def rule_stats(self, now: datetime) -> dict[str, RuleStats]:
        return web_rules.rule_stats(self._engine, now)

    def add_rule_version(
        self, rule_id: str, file: str, action: str, content: str, diff: str, author: str, now: datetime
    ) -> RuleVersion:
        return web_rules.add_version(self._engine, rule_id, file, action, content, diff, author, now)

    def rule_versions(self, rule_id: str) -> list[RuleVersion]:
        return web_rules.versions(self._engine, rule_id)

    def rule_version(self, version_id: int) -> RuleVersion | None:
        return web_rules.version(self._engine, version_id)

    def window_items(self, since: datetime, after_id: int, limit: int) -> list[WindowItem]:
        return web_rules.window_items(self._engine, since, after_id, limit)

    def first_item_since(self, since: datetime) -> int:
        return web_rules.first_item_since(self._engine, since)

    def regression_items(self, rule_id: str | None) -> list[WindowItem]:
        return web_rules.regression_items(self._engine, rule_id)

    # feeds
    def feed_names(self) -> list[str]:
        """Active feeds' names, for filters (no item counts: those scan every item)."""
        with _session(self._engine, write=False) as session:
            query = select(col(FeedRow.name)).where(col(FeedRow.active).is_(True)).order_by(col(FeedRow.name))
            return list(session.exec(query))

    def poll_now(self, feed_id: int, now: datetime) -> bool:
        """Make an active feed due now; the daemon polls it on its next tick."""
        with _session(self._engine) as session:
            result = session.execute(
                update(FeedRow)
                .where(col(FeedRow.id) == feed_id, col(FeedRow.active).is_(True))
                .values(next_poll_at=now)
            )
            return bool(getattr(result, "rowcount", 0))
