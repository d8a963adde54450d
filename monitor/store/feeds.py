"""Feed scheduling: config sync, leased claims, conditional-GET state and poll bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import col, select

from monitor.secret_refs import REFERENCE, template_pattern
from monitor.store.columns import MAX_ERROR_TEXT, clip, dump_words, free_of_lease, load_words
from monitor.store.db import _session
from monitor.store.hashing import sha256_text
from monitor.store.records import POLL_STATUSES, FeedJob, PollOutcome
from monitor.store.tables import FeedRow, ItemRow
from monitor.types import ConditionalState, FeedSpec, PollStatus

MAX_SHOWN_NAME = 200  # a feed's own title, as shown: formats clip further
_KEY_CHUNK = 500  # keeps IN (...) lists well under SQLite's bound-parameter limit
_PG_SYNC_LOCK_KEY = 0x6D6F6E73796E63  # "monsync": arbitrary, distinct from the migration lock


def sync_feeds(engine: Engine, feeds: Sequence[FeedSpec], now: datetime) -> None:
    wanted = {spec.url: spec for spec in feeds}  # a URL listed twice: the last entry wins
    with _session(engine) as session:
        if engine.dialect.name == "postgresql":
            # fix: workers starting together would each insert the new feeds and all but one
            # would die on the unique URL; serialise the sync so later ones see the rows.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SYNC_LOCK_KEY})
        existing = {row.url: row for row in session.exec(select(FeedRow))}
        _adopt_rows_stored_with_secrets(existing, wanted)
        for url, spec in wanted.items():
            row = existing.get(url)
            if row is None:
                row = FeedRow(url=url, name=spec.name, interval_seconds=spec.interval_seconds, next_poll_at=now)
                existing[url] = row
            # An unnamed feed keeps showing the title it was last fetched with while its default
            # name is unchanged; anything else shows the configured name (until the next fetch).
            if spec.named or row.named or row.config_name != spec.name:
                row.name = spec.name
            row.config_name = spec.name
            row.named = spec.named
            row.interval_seconds = spec.interval_seconds
            row.tags = dump_words(spec.tags)
            row.active = True
            session.add(row)
        for url, row in existing.items():
            if url not in wanted and row.active:
                row.active = False  # history (items, hits) stays; the feed just stops polling
                session.add(row)
        _unshare_titles(existing.values())


def _unshare_titles(rows: Iterable[FeedRow]) -> None:
    """Shown names stay unique (stories count their outlets by name): a title that another feed
    now shows as well goes back to the configured name, and the next fetch picks it again."""
    by_name: dict[str, list[FeedRow]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    for alike in by_name.values():
        for row in alike if len(alike) > 1 else ():
            if not row.named and row.config_name and row.name != row.config_name:
                row.name = row.config_name


def set_feed_title(engine: Engine, feed_id: int, title: str) -> None:
    """Show a feed configured without a name by its own title ("Deutsche Welle", not the host).

    No-op for a named feed, an empty title, or a title already shown; a title another feed shows
    gets the feed's configured name added. Reads first, so the usual no-op takes no write lock."""
    title = " ".join(title.split())[:MAX_SHOWN_NAME]
    if not title:
        return
    with _session(engine, write=False) as session:
        row = session.get(FeedRow, feed_id)
        if row is None or row.named or row.name == title:
            return
        key = row.config_name or row.name
        taken = session.exec(
            select(col(FeedRow.id)).where(col(FeedRow.name) == title, col(FeedRow.id) != feed_id).limit(1)
        ).first()
    shown = f"{title} ({key})" if taken is not None else title
    if shown == row.name:
        return
    with _session(engine) as session:
        # Only while the feed is still unnamed: a reload may have named it meanwhile.
        session.execute(
            update(FeedRow)
            .where(col(FeedRow.id) == feed_id, col(FeedRow.named).is_(False))
            .values(name=shown)
            .execution_options(synchronize_session=False)
        )


def _adopt_rows_stored_with_secrets(existing: dict[str, FeedRow], wanted: Mapping[str, FeedSpec]) -> None:
    """Earlier versions stored a feed URL with its `${NAME}` secrets substituted. The one active
    row that a configured template matches, and that nothing else claims, is renamed to the
    template: the secret leaves the database and the feed keeps its items (a new row would see
    every current item as new and alert on it again)."""
    for url in wanted:
        if url in existing or not REFERENCE.search(url):
            continue
        pattern = template_pattern(url)
        rows = [row for key, row in existing.items() if key not in wanted and row.active and pattern.fullmatch(key)]
        if len(rows) == 1:
            (row,) = rows
            del existing[row.url]
            row.url = url
            existing[url] = row


def claim_feeds(
    engine: Engine, now: datetime, worker_id: str, lease_seconds: float, limit: int, *, due_only: bool = True
) -> list[FeedJob]:
    """Lease up to `limit` feeds, most overdue first, in one atomic UPDATE ... RETURNING.

    PostgreSQL: the candidate SELECT uses FOR UPDATE SKIP LOCKED, so concurrent workers skip
    each other's rows instead of blocking or double-claiming. SQLite: the single statement runs
    under BEGIN IMMEDIATE, which already serialises writers.
    """
    if limit <= 0:
        return []
    conditions = [col(FeedRow.active).is_(True), free_of_lease(col(FeedRow.lease_until), now)]
    if due_only:
        conditions.append(col(FeedRow.next_poll_at) <= now)
    candidates = (
        select(col(FeedRow.id))
        .where(and_(*conditions))
        .order_by(col(FeedRow.next_poll_at), col(FeedRow.id))
        .limit(limit)
    )
    with _session(engine) as session:
        if engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        claim = (
            update(FeedRow)
            .where(col(FeedRow.id).in_(candidates.scalar_subquery()))
            .values(claimed_by=worker_id, lease_until=now + timedelta(seconds=lease_seconds))
            .returning(FeedRow)
            .execution_options(synchronize_session=False)
        )
        rows = list(session.scalars(claim))
        rows.sort(key=lambda row: (row.next_poll_at, row.id))
        return [_feed_job(row) for row in rows]


def replan_feeds(engine: Engine, now: datetime, tolerance_seconds: float) -> int:
    """Reschedule feeds whose last poll lies in the future: the wall clock was set back (or
    another worker's clock runs ahead), and their next poll, planned from that time, would wait
    for the size of the step. Each keeps its planned delay (interval or backoff), counted from
    now; a feed never polled is due now. Times that cannot have happened yet are clamped to now.
    Returns how many feeds were replanned."""
    limit = now + timedelta(seconds=tolerance_seconds)
    last = col(FeedRow.last_fetch_at)
    ahead = or_(last > limit, and_(last.is_(None), col(FeedRow.next_poll_at) > limit))
    with _session(engine) as session:
        rows = list(session.exec(select(FeedRow).where(ahead)))
        for row in rows:
            planned_from = row.last_fetch_at or row.next_poll_at
            row.next_poll_at = now + max(row.next_poll_at - planned_from, timedelta(0))
            row.last_fetch_at = _not_after(row.last_fetch_at, now)
            row.last_success_at = _not_after(row.last_success_at, now)
            row.last_new_item_at = _not_after(row.last_new_item_at, now)
            session.add(row)
    return len(rows)


def _not_after(moment: datetime | None, now: datetime) -> datetime | None:
    return None if moment is None else min(moment, now)


def _feed_job(row: FeedRow) -> FeedJob:
    assert row.id is not None
    return FeedJob(
        id=row.id,
        url=row.url,
        name=row.config_name or row.name,  # the name rules' `feeds:` filters know
        tags=load_words(row.tags),
        interval_seconds=float(row.interval_seconds),
        state=ConditionalState(etag=row.etag, last_modified=row.last_modified, body_sha256=row.body_sha256),
        consecutive_failures=row.consecutive_failures,
        last_success_at=row.last_success_at,
        shown_name=None if row.named else row.name,
    )


def known_item_keys(engine: Engine, feed_id: int, keys: Sequence[str]) -> set[str]:
    by_digest = {sha256_text(key): key for key in keys}
    digests = list(by_digest)
    found: set[str] = set()
    with _session(engine, write=False) as session:
        for start in range(0, len(digests), _KEY_CHUNK):
            chunk = digests[start : start + _KEY_CHUNK]
            query = select(col(ItemRow.key_sha256)).where(
                col(ItemRow.feed_id) == feed_id, col(ItemRow.key_sha256).in_(chunk)
            )
            found.update(by_digest[digest] for digest in session.exec(query))
    return found


def record_poll(engine: Engine, feed_id: int, outcome: PollOutcome) -> None:
    record_polls(engine, [(feed_id, outcome)])


def record_polls(engine: Engine, outcomes: Sequence[tuple[int, PollOutcome]]) -> None:
    """Each feed's poll outcome, all in one transaction (ValueError, writing nothing, if a
    status is unknown)."""
    for _, outcome in outcomes:
        if outcome.status not in POLL_STATUSES:
            raise ValueError(f"unknown poll status {outcome.status!r}")
    # Outcomes that set the same columns share one statement run with executemany: a steady
    # cycle's hundreds of 304s take one statement, not one each.
    groups: dict[tuple[tuple[str, bool], ...], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for feed_id, outcome in outcomes:
        values = _poll_values(outcome)
        shape = tuple(sorted((name, isinstance(value, ClauseElement)) for name, value in values.items()))
        rows = groups.setdefault(shape, (values, []))[1]
        bound = {f"b_{name}": value for name, value in values.items() if not isinstance(value, ClauseElement)}
        rows.append({"b_id": feed_id} | bound)
    with _session(engine) as session:
        for example, rows in groups.values():
            session.connection().execute(_poll_update(example), rows)


def _poll_update(example: Mapping[str, Any]) -> Any:
    """An UPDATE of the example's columns: values as parameters, expressions (a failure count
    going up) as they are."""
    table = FeedRow.__table__  # type: ignore[attr-defined]
    values = {
        name: value if isinstance(value, ClauseElement) else bindparam(f"b_{name}", type_=table.c[name].type)
        for name, value in example.items()
    }
    return update(table).where(table.c.id == bindparam("b_id")).values(values)


def _poll_values(outcome: PollOutcome) -> dict[str, Any]:
    values: dict[str, Any] = {
        "last_fetch_at": outcome.now,
        "last_status": outcome.status,
        "last_http_status": outcome.http_status,
        "next_poll_at": outcome.next_poll_at,
        "claimed_by": None,
        "lease_until": None,
    }
    if outcome.status == PollStatus.ERROR:
        values["last_error_kind"] = clip(outcome.error_kind, 32)
        values["last_error"] = clip(outcome.error, MAX_ERROR_TEXT)
        values["consecutive_failures"] = col(FeedRow.consecutive_failures) + 1
    else:
        values.update(_success_values(outcome))
    if outcome.new_items > 0:
        values["last_new_item_at"] = outcome.now
    return values


def _success_values(outcome: PollOutcome) -> dict[str, Any]:
    values: dict[str, Any] = {
        "last_success_at": outcome.now,
        "consecutive_failures": 0,
        "last_error_kind": None,
        "last_error": None,
    }
    validators = {"etag": outcome.etag, "last_modified": outcome.last_modified, "body_sha256": outcome.body_sha256}
    for name, value in validators.items():
        # A 304 or an unchanged body often comes without validators: keep what we had.
        if outcome.status == PollStatus.OK or value is not None:
            values[name] = value
    return values
