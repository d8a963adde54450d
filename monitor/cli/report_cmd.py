"""Read-only views and outbox maintenance: `monitor hits`, `monitor feeds`, `monitor alerts`."""

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer

from monitor.alerts.format_views import evidence_lines
from monitor.cli.common import ConfigOption, fail, settings_or_exit, since_option, store_or_exit
from monitor.cli.csv_out import write_csv
from monitor.config import Settings
from monitor.durations import format_duration
from monitor.rules import RuleLoadError, load_rules
from monitor.runtime import utc_now
from monitor.store import HitView, Store


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


_HIT_CSV_COLUMNS = (
    "hit_id",
    "created_at",
    "published",
    "severity",
    "rule_id",
    "feed",
    "title",
    "link",
    "matched",
    "spans",
    "snippet",
    "corroboration",
)


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    store = store_or_exit(settings)
    try:
        yield store
    finally:
        store.close()


def _require_known_rule(settings: Settings, store: Store, rule_id: str) -> None:
    """Exit 2 for a rule id that is neither loaded nor in any stored hit: a typo, not a quiet rule.
    Rules that fail to load do not count against it (`rules check` reports those)."""
    try:
        loaded = {rule.id for rule in load_rules(settings.rule_paths).rules}
    except RuleLoadError:
        return
    if rule_id not in loaded and not store.list_hits(rule_id=rule_id, limit=1, include_suppressed=True):
        fail(f"--rule: no rule with id {rule_id!r} (not in the rules, not in any stored hit)")


def hit_record(hit: HitView) -> dict[str, Any]:
    return {
        "hit_id": hit.hit_id,
        "rule_id": hit.rule_id,
        "rule_title": hit.rule_title,
        "severity": str(hit.severity),
        "title": hit.item_title,
        "link": hit.link,
        "feed": hit.feed_name,
        "published": _iso(hit.published),
        "created_at": _iso(hit.created_at),
        "matched": list(hit.matched),
        "spans": [{"field": s.field, "start": s.start, "end": s.end, "text": s.text} for s in hit.spans],
        "snippet": hit.snippet,
        "story_id": hit.story_id,
        "corroboration": hit.corroboration,
        "also_reported_by": list(hit.also_reported_by),
        "entities": [{"list": e.list_name, "id": e.entry_id, "name": e.name, "schema": e.schema} for e in hit.entities],
        "article": _article(hit),
    }


def _article(hit: HitView) -> dict[str, str] | None:
    """The article page the match was made on: its spans in field "content" point into ``text``."""
    found = hit.article
    if found is None:
        return None
    return {"url": found.url, "final_url": found.final_url, "fetched_at": found.fetched_at.isoformat(),
            "sha256": found.sha256, "text": found.text}  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _short_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _sources(hit: HitView) -> str:
    if not hit.also_reported_by:
        return str(hit.corroboration)
    others = ", ".join(hit.also_reported_by[:3])
    more = f", +{len(hit.also_reported_by) - 3}" if len(hit.also_reported_by) > 3 else ""
    return f"{hit.corroboration} (also {others}{more})"


def _span_cells(hit: HitView) -> str:
    """Matched words with their character offsets, e.g. "title[0:6] Shahed; summary[12:18] drones"."""
    return "; ".join(f"{span.field}[{span.start}:{span.end}] {span.text}" for span in hit.spans)


def _clip(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hits(
    config: ConfigOption = None,
    since: Annotated[str | None, typer.Option(help="Only hits newer than this, e.g. 7d, 12h.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule id.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.TABLE,
    limit: Annotated[int, typer.Option(help="At most this many hits.")] = 1000,
    duplicates: Annotated[
        bool, typer.Option("--duplicates", help="Also show later reports of an alerted story.")
    ] = False,
    snippets: Annotated[
        bool, typer.Option("--snippets", help="Table: each hit's snippet and matched words with offsets.")
    ] = False,
) -> None:
    """List stored hits, newest first."""
    window = since_option(since)
    cutoff = utc_now() - timedelta(seconds=window) if window else None
    settings = settings_or_exit(config, sends=False)
    with _store(settings) as store:
        found = store.list_hits(since=cutoff, rule_id=rule, limit=limit, include_suppressed=duplicates)
        if rule is not None and not found:
            _require_known_rule(settings, store, rule)
    records = [hit_record(hit) for hit in found]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif output is OutputFormat.CSV:
        cells = (
            {**record, "matched": "; ".join(record["matched"]), "spans": _span_cells(hit)}
            for record, hit in zip(records, found, strict=True)
        )
        write_csv(sys.stdout, _HIT_CSV_COLUMNS, cells)
    else:
        rows = [
            [
                _short_time(h.created_at),
                str(h.severity),
                h.rule_id,
                _clip(h.feed_name, 20),
                _clip(h.item_title, 60),
                ", ".join(h.matched[:5]),
                _sources(h),
            ]
            for h in found
        ]
        print_table(["found", "severity", "rule", "feed", "title", "matched", "outlets"], rows)
        if snippets:
            for hit in found:
                typer.echo(f"\n#{hit.hit_id} {hit.rule_id}: {_clip(hit.item_title, 100)}\n  {_clip(hit.snippet, 300)}")
                typer.echo(f"  {_span_cells(hit)}")
                for line in evidence_lines(hit.entities, hit.article):
                    typer.echo(f"  {_clip(line, 300)}")
        typer.echo(f"{len(found)} hits")


feeds_app = typer.Typer(help="Feed health, OPML import and export.", invoke_without_command=True)


@feeds_app.callback()
def feeds(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Each feed's health: last fetch, status, error, failures, next poll."""
    if ctx.invoked_subcommand is not None:
        return
    with _store(settings_or_exit(config, sends=False)) as store:
        views = store.list_feeds()
    now = utc_now()
    rows = []
    for feed in views:
        next_poll = (
            "-"
            if feed.next_poll_at is None
            else (
                "due"
                if feed.next_poll_at <= now
                else f"in {format_duration((feed.next_poll_at - now).total_seconds())}"
            )
        )
        status = feed.last_status or "never polled"
        if not feed.active:
            status = "inactive"
        rows.append(
            [
                _clip(feed.name, 28),
                status,
                _short_time(feed.last_fetch_at),
                str(feed.consecutive_failures),
                next_poll,
                str(feed.item_count),
                feed.health_state,
                _clip(f"{feed.last_error_kind}: {feed.last_error}" if feed.last_error else "", 60),
            ]
        )
    print_table(["feed", "status", "last fetch", "failures", "next poll", "items", "health", "error"], rows)


alerts_app = typer.Typer(help="The alert outbox.", invoke_without_command=True)


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    config: ConfigOption = None,
    status: Annotated[str | None, typer.Option(help="pending, failed or sent.")] = None,
) -> None:
    """List alert messages (one per story, channel and update; newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    if status not in (None, "pending", "failed", "sent"):
        fail("--status must be pending, failed or sent")
    with _store(settings_or_exit(config, sends=False)) as store:
        views = store.list_deliveries(status=status)
    rows = [
        [
            str(v.delivery_id),
            v.status,
            v.channel,
            str(v.attempts),
            str(v.story_id),
            v.event,
            _clip(v.headline, 40),
            _short_time(v.next_attempt_at),
            _clip(v.last_error, 50),
        ]
        for v in views
    ]
    print_table(["id", "status", "channel", "tries", "story", "event", "headline", "next try", "error"], rows)


@alerts_app.command("retry")
def alerts_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Delivery ids to requeue.")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Requeue every failed delivery.")] = False,
    config: ConfigOption = None,
) -> None:
    """Put failed deliveries back in the queue."""
    if not ids and not all_failed:
        fail("give delivery ids or --all-failed")
    with _store(settings_or_exit(config, sends=False)) as store:
        count = store.requeue(None if all_failed else ids, utc_now())
    typer.echo(f"requeued {count} deliveries")
    if ids and count < len(set(ids)):
        # scripts must be able to tell: an unknown id, or one that is not failed, was not requeued
        fail(f"{len(set(ids)) - count} of the given ids are not failed deliveries", code=1)


def register(app: typer.Typer) -> None:
    app.command()(hits)
    app.add_typer(feeds_app, name="feeds")
    app.add_typer(alerts_app, name="alerts")
