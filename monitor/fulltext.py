"""Full text for candidates: fetch the article page of items the feed's own text could not
decide, extract its main text, and match the rules on it as ``content``.

Which items (per feed, ``fulltext:``):

* ``candidates`` (the default): a new item that no rule matched, but that is a prospect of some
  rule: the item's words pass the rule's prefilter (every requirement group it checks), or, for
  a teaser (summary shorter than ``teaser_words`` words), hit any one of those groups.
  An item that is nobody's prospect costs no request: no rule could match it.
* ``always``: every new item that no rule matched.
* ``never``.

Only items with a link, and young enough to alert (``max_age``), are fetched. Pages are fetched
with the feeds' limits (size cap, timeouts, redirects), at most ``PER_HOST`` at a time per host,
only where robots.txt allows our User-Agent. A match made this way carries the article (URL,
fetch time, SHA-256 and text) as evidence; its ``content`` spans point into that text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import TracebackType
from urllib.parse import urlsplit

from monitor.extract import extract_text
from monitor.fetch import Fetcher, FetchSettings
from monitor.robots import RobotsCache
from monitor.rules import RuleSet
from monitor.stories.alerting import is_fresh
from monitor.types import ArticleRef, FetchResult, FullTextMode, Item, RuleMatch

log = logging.getLogger(__name__)
PER_HOST = 2  # requests in flight per host: news sites rate-limit harder than feed servers
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class FeedPolicy:
    mode: FullTextMode
    max_age: timedelta


class ArticlePages:
    """Article pages over one client, with a host's requests queued PER_HOST at a time and
    robots.txt obeyed. An async context manager, like Fetcher."""

    def __init__(self, settings: FetchSettings) -> None:
        self._fetcher = Fetcher(replace(settings, accept=PAGE_ACCEPT))
        self._robots = RobotsCache(self._fetcher, settings.user_agent)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> ArticlePages:
        await self._fetcher.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._fetcher.__aexit__(exc_type, exc, traceback)

    async def page(self, url: str) -> FetchResult | None:
        """The page, or None where robots.txt forbids it (the result says why it failed)."""
        host = (urlsplit(url).hostname or "").lower()
        turn = self._hosts.setdefault(host, asyncio.Semaphore(PER_HOST))
        async with turn:
            if not await self._robots.allowed(url):
                log.info("robots.txt disallows %s", url)
                return None
            return await self._fetcher.fetch(url)


class FullText:
    """The pipeline's hook (``enrich``) between matching and saving."""

    def __init__(
        self,
        pages: ArticlePages,
        policies: Mapping[str, FeedPolicy],
        teaser_words: int,
        clock: Callable[[], datetime],
        executor: Executor | None = None,
    ) -> None:
        self._pages = pages
        self._policies = policies
        self._teaser_words = teaser_words
        self._clock = clock
        self._executor = executor  # extraction runs beside feed parsing, out of the event loop

    async def enrich(
        self,
        feed_name: str,
        feed_tags: Sequence[str],
        items: Sequence[Item],
        matches: Mapping[str, tuple[RuleMatch, ...]],
        rules: RuleSet,
    ) -> dict[str, tuple[RuleMatch, ...]]:
        """``matches`` plus the matches made on the article pages of the items chosen."""
        policy = self._policies.get(feed_name)
        found = dict(matches)
        if policy is None or policy.mode is FullTextMode.NEVER:
            return found
        now = self._clock()
        chosen = [
            item
            for item in items
            if not found.get(item.key) and self._wanted(item, policy, now, rules, feed_name, feed_tags)
        ]
        results = await asyncio.gather(*(self._on_article(item, rules, feed_name, feed_tags) for item in chosen))
        found.update((item.key, result) for item, result in zip(chosen, results, strict=True) if result)
        return found

    def _wanted(
        self, item: Item, policy: FeedPolicy, now: datetime, rules: RuleSet, feed_name: str, feed_tags: Sequence[str]
    ) -> bool:
        if not item.link or not is_fresh(item.published, now, policy.max_age):
            return False
        if policy.mode is FullTextMode.ALWAYS:
            return True
        teaser = len(item.summary.split()) < self._teaser_words
        prospects = rules.prospects(
            item.fields(), feed_name=feed_name, feed_tags=feed_tags, partial=teaser, lang=item.lang
        )
        return bool(prospects)

    async def _on_article(
        self, item: Item, rules: RuleSet, feed_name: str, feed_tags: Sequence[str]
    ) -> tuple[RuleMatch, ...]:
        assert item.link is not None
        article = await self.article(item.link)
        if article is None:
            return ()
        fields = {"title": item.title, "summary": item.summary, "content": article.text}
        matched = await asyncio.to_thread(rules.match, fields, feed_name=feed_name, feed_tags=feed_tags, lang=item.lang)
        return tuple(replace(match, article=article) for match in matched)

    async def article(self, url: str) -> ArticleRef | None:
        """The page's main text, or None (robots.txt, a failed fetch, not HTML, no text)."""
        result = await self._pages.page(url)
        if result is None or not result.ok or not result.body:
            if result is not None and not result.ok:
                log.info("article not fetched: %s: %s", url, result.error)
            return None
        if not result.headers.get("content-type", "text/html").lower().startswith(_HTML_TYPES):
            return None
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(self._executor, extract_text, result.body, result.final_url)
        if not text:
            return None
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return ArticleRef(url, result.final_url, self._clock(), digest, text)
