"""One poll of one feed: fetch → parse → normalize → match → store. Thin by design: each step
lives in its own module; this file only sequences them and records the outcome on the feed."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from monitor import stages
from monitor.fetch import Fetcher
from monitor.fulltext import FullText
from monitor.group_commit import GroupCommit
from monitor.logs import RepeatedErrors
from monitor.parse import FeedParseError
from monitor.parse_pool import ParseWorkerDiedError, run_parse
from monitor.parse_worker import ParsedBody, parse_body
from monitor.rules import RuleSet
from monitor.saving import DEFAULT_MAX_AGE, AlertRouting, save_and_queue
from monitor.stages import Stage, stage
from monitor.store import AsyncStore, FeedJob, PollOutcome
from monitor.types import ChannelSpec, FetchErrorKind, FetchResult, Item, PollStatus, RuleMatch

log = logging.getLogger(__name__)


PROCESSING_SLOTS = 6  # feeds parsed, matched or stored at once: two parse workers, one store, slack


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    max_backoff_seconds: float
    max_retry_after_seconds: float
    max_items_per_feed: int
    lease_seconds: float
    max_age_seconds: float = DEFAULT_MAX_AGE.total_seconds()  # older news raises no alert
    feed_max_age_seconds: Mapping[str, float] = field(default_factory=dict)  # by feed name

    def max_age_for(self, feed_name: str) -> float:
        return self.feed_max_age_seconds.get(feed_name, self.max_age_seconds)


@dataclass(frozen=True, slots=True)
class FeedReport:
    feed_name: str
    feed_url: str
    status: str  # ok | not_modified | unchanged | error
    items: int = 0
    new_items: int = 0
    new_hits: int = 0
    error: str | None = None
    next_poll_at: datetime | None = None
    error_kind: str | None = None
    fetch_seconds: float | None = None

    def summary(self) -> str:
        head = f"{self.feed_name}: {self.status}"
        if self.status == PollStatus.ERROR:
            return f"{head} — {self.error}"
        return f"{head}, {self.items} items, {self.new_items} new, {self.new_hits} new hits"


@dataclass(frozen=True, slots=True)
class _Prepared:
    rules: RuleSet  # the rules the matches came from, also used to route them
    fresh: list[Item]  # items this feed has not stored before
    matches: dict[str, tuple[RuleMatch, ...]]


class Pipeline:
    def __init__(
        self,
        db: AsyncStore,
        fetcher: Fetcher,
        rules: Callable[[], RuleSet],
        channels: Sequence[ChannelSpec],
        settings: PipelineSettings,
        clock: Callable[[], datetime],
        parse_executor: Executor | None = None,
        errors: RepeatedErrors | None = None,
        fulltext: FullText | None = None,
    ) -> None:
        self._db = db
        self._store = db.store  # for the steps that already run in a worker thread
        self._fetcher = fetcher
        self._rules = rules
        self._channels = tuple(channels)
        self._settings = settings
        self._clock = clock
        self._executor = parse_executor
        self._fulltext = fulltext  # article pages for items the feed's text left undecided
        # the daemon passes its own, which outlives this cycle's pipeline
        self._errors = errors or RepeatedErrors()
        # Fetched bodies may pile up behind the store (a first poll of many feeds); parsed ones
        # are several times larger, so only a few feeds are parsed ahead of their turn.
        self._processing = asyncio.Semaphore(PROCESSING_SLOTS)
        self._row_updates = GroupCommit(db.turn, self._store.record_polls)

    async def poll_feeds(self, worker_id: str, *, due_only: bool, limit: int) -> list[FeedReport]:
        lease = self._settings.lease_seconds
        jobs = await self._db.read(self._store.claim_feeds, self._clock(), worker_id, lease, limit, due_only=due_only)
        return list(await asyncio.gather(*(self.poll(job) for job in jobs)))

    async def poll(self, job: FeedJob) -> FeedReport:
        try:
            return await self._poll(job)
        except Exception as exc:  # one feed's bug must never stop the others
            self._errors.log(log, logging.ERROR, "feed poll crashed", exc, extra={"feed": job.name})
            message = f"internal error: {type(exc).__name__}: {exc}"
            return await self._off_loop(self._record_error, job, "internal", message, None)

    async def _poll(self, job: FeedJob) -> FeedReport:
        result = await self._fetcher.fetch(job.url, job.state)
        if not result.ok:
            kind = str(result.error_kind)
            return await self._off_loop(self._record_error, job, kind, result.error or "failed", result)
        if result.not_modified:
            return await self._record_nothing_new(job, result, PollStatus.NOT_MODIFIED, job.state.body_sha256)
        body = result.body or b""
        digest = hashlib.sha256(body).hexdigest()
        if digest == job.state.body_sha256:
            return await self._record_nothing_new(job, result, PollStatus.UNCHANGED, digest)
        async with self._processing:
            return await self._process(job, result, body, digest)

    async def _process(self, job: FeedJob, result: FetchResult, body: bytes, digest: str) -> FeedReport:
        try:
            parsed = await self._parse(job, result, body)
        except ParseWorkerDiedError as exc:  # expected after an OOM kill: no traceback
            log.error("%s", exc, extra={"feed": job.name})
            return await self._off_loop(self._record_error, job, "internal", str(exc), result)
        except FeedParseError as exc:
            kind = str(FetchErrorKind.NOT_A_FEED)
            # The kind is shown beside the message, so "not_a_feed: not a feed: ..." would stutter.
            message = str(exc).removeprefix("not a feed: ")
            return await self._off_loop(self._record_error, job, kind, message, result)
        prepared = await asyncio.to_thread(self._prepare, job, parsed)
        if self._fulltext is not None:
            found = await self._fulltext.enrich(job.name, job.tags, prepared.fresh, prepared.matches, prepared.rules)
            prepared = replace(prepared, matches=found)
        return await self._off_loop(self._store_items, job, result, parsed, digest, prepared)

    async def _off_loop(self, call: Callable[..., FeedReport], *args: Any) -> FeedReport:
        """Storing a fresh feed (story grouping, inserts) takes tens of ms of CPU and SQL: in a
        worker thread, one feed at a time, so the event loop keeps fetches alive."""
        return await self._db.write(call, *args)

    async def _parse(self, job: FeedJob, result: FetchResult, body: bytes) -> ParsedBody:
        call = functools.partial(
            parse_body,
            body,
            feed_url=job.url,
            final_url=result.final_url,
            headers=dict(result.headers),
            max_items=self._settings.max_items_per_feed,
        )
        parsed = await run_parse(self._executor, call, job.name)
        stages.merge(parsed.stages)
        return parsed

    def _prepare(self, job: FeedJob, parsed: ParsedBody) -> _Prepared:
        """What needs no write lock (one read, then matching), done before waiting for the
        store's turn: the next feed's matching overlaps this one's SQL (SQLite and psycopg
        release the GIL while a statement runs)."""
        items = parsed.feed.items
        with stage(Stage.SQL):
            known = self._store.known_item_keys(job.id, [item.key for item in items])
        fresh = [item for item in items if item.key not in known]
        rules = self._rules()
        with stage(Stage.MATCH):
            matches = {
                item.key: rules.match(item.fields(), feed_name=job.name, feed_tags=job.tags, lang=item.lang)
                for item in fresh
            }
        return _Prepared(rules, fresh, matches)

    def _store_items(
        self, job: FeedJob, result: FetchResult, parsed: ParsedBody, digest: str, prepared: _Prepared
    ) -> FeedReport:
        now = self._clock()
        if job.shown_name is not None and job.shown_name != parsed.feed.title:  # named feeds: no query
            self._store.set_feed_title(job.id, parsed.feed.title)  # before the alerts that show it
        saved = save_and_queue(
            self._store,
            job.id,
            prepared.fresh,
            prepared.matches,
            now,
            self._routing(job, prepared.rules, now),
            story_keys=parsed.story_keys,  # only the keys of items it inserts are read
        )
        if parsed.feed.warning:
            log.info("feed parsed with a warning: %s", parsed.feed.warning, extra={"feed": job.name})
        outcome, report = self._success(
            job,
            result,
            PollStatus.OK,
            digest,
            items=len(parsed.feed.items),
            new_items=saved.new_items,
            new_hits=saved.new_hits,
        )
        self._store.record_poll(job.id, outcome)
        return report

    def _routing(self, job: FeedJob, rules: RuleSet, now: datetime) -> AlertRouting:
        return AlertRouting(
            channels=self._channels,
            max_age=timedelta(seconds=self._settings.max_age_for(job.name)),
            muted=rules.muted_on(now.date()),
        )

    async def _record_nothing_new(
        self, job: FeedJob, result: FetchResult, status: str, digest: str | None
    ) -> FeedReport:
        """A 304 or an unchanged body: only the feed's row changes, in a shared transaction."""
        outcome, report = self._success(job, result, status, digest)
        await self._row_updates.write((job.id, outcome))
        return report

    def _success(
        self,
        job: FeedJob,
        result: FetchResult,
        status: str,
        digest: str | None,
        *,
        items: int = 0,
        new_items: int = 0,
        new_hits: int = 0,
    ) -> tuple[PollOutcome, FeedReport]:
        now = self._clock()
        next_poll = now + timedelta(seconds=job.interval_seconds)
        return (
            PollOutcome(
                now=now,
                status=status,
                http_status=result.status_code,
                etag=result.etag or job.state.etag,
                last_modified=result.last_modified or job.state.last_modified,
                body_sha256=digest,
                error_kind=None,
                error=None,
                next_poll_at=next_poll,
                new_items=new_items,
            ),
            FeedReport(
                feed_name=job.name,
                feed_url=job.url,
                status=status,
                items=items,
                new_items=new_items,
                new_hits=new_hits,
                next_poll_at=next_poll,
                fetch_seconds=result.elapsed_seconds,
            ),
        )

    def _record_error(self, job: FeedJob, kind: str, message: str, result: FetchResult | None) -> FeedReport:
        now = self._clock()
        delay = failure_backoff(
            job.consecutive_failures + 1,
            job.interval_seconds,
            self._settings.max_backoff_seconds,
            result.retry_after_seconds if result else None,
            self._settings.max_retry_after_seconds,
        )
        next_poll = now + timedelta(seconds=delay)
        self._store.record_poll(
            job.id,
            PollOutcome(
                now=now,
                status=PollStatus.ERROR,
                http_status=result.status_code if result else None,
                etag=job.state.etag,
                last_modified=job.state.last_modified,
                body_sha256=job.state.body_sha256,
                error_kind=kind,
                error=message,
                next_poll_at=next_poll,
                new_items=0,
            ),
        )
        return FeedReport(
            feed_name=job.name,
            feed_url=job.url,
            status=PollStatus.ERROR,
            error=f"{kind}: {message}",
            next_poll_at=next_poll,
            error_kind=kind,
            fetch_seconds=result.elapsed_seconds if result else None,
        )


def failure_backoff(
    failures: int, interval: float, max_backoff: float, retry_after: float | None, max_retry_after: float
) -> float:
    """Exponential backoff from the feed's interval, capped at max_backoff; a server's Retry-After
    wins if longer, up to its own cap. max_backoff only bounds how patient *we* get with a broken
    feed (often small, to notice a recovery soon): it must not make us ignore a server that asked
    for an hour of quiet, which is how a monitor gets its address blocked."""
    delay = min(interval * 2.0 ** max(failures - 1, 0), max(max_backoff, interval))
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_retry_after))
    return delay
