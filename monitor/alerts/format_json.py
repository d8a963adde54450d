"""The JSON webhook documents: a stable, versioned schema (documented in docs/alerts.md).

Adding a key is a compatible change; renaming, removing or retyping one needs a new schema
version ("sanctions-monitor.story/2").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from monitor.alerts.format_digest import MAX_DIGEST_STORIES, Digest, count_high, digest_stories
from monitor.alerts.format_summary import summary_segments
from monitor.alerts.format_text import (
    MAX_FEED_NAME,
    MAX_MATCHED,
    MAX_SNIPPET,
    MAX_TITLE,
    MAX_WORD,
    clean_line,
    clean_words,
    safe_http_url,
)
from monitor.types import ArticleRef, StoryAlert

STORY_SCHEMA = "sanctions-monitor.story/1"
DIGEST_SCHEMA = "sanctions-monitor.digest/2"


def story_payload(alert: StoryAlert) -> dict[str, object]:
    """The webhook document for one story message (feed text cleaned and capped, link
    http(s) or null, summary offsets into the cleaned summary text)."""
    segments = summary_segments(alert.summary, alert.summary_spans)
    spans: list[dict[str, object]] = []
    offset = 0
    for segment in segments:
        if segment.matched:
            spans.append({"start": offset, "end": offset + len(segment.text), "text": segment.text})
        offset += len(segment.text)
    return {
        "schema": STORY_SCHEMA,
        "id": alert.idempotency_key,
        "event": alert.event,
        "update": alert.is_update,
        "severity": alert.severity.value,
        "story": {
            "id": alert.story_id,
            "headline": clean_line(alert.headline, MAX_TITLE),
            "link": safe_http_url(alert.link),
            "feed": clean_line(alert.feed_name, MAX_FEED_NAME),
            "published": iso_utc(alert.published),
            "first_seen": iso_utc(alert.first_seen),
            "outlets": list(clean_words(alert.outlets)),
        },
        "summary": {"text": "".join(segment.text for segment in segments), "matched": spans},
        "rules": [
            {
                "id": clean_line(rule.rule_id, MAX_WORD),
                "title": clean_line(rule.rule_title, MAX_TITLE),
                "severity": rule.severity.value,
                "matched": list(clean_words(rule.matched, MAX_MATCHED)),
                "snippet": clean_line(rule.snippet, MAX_SNIPPET),
                "feed": clean_line(rule.feed_name, MAX_FEED_NAME),
                "entities": [
                    {"list": e.list_name, "id": e.entry_id, "name": clean_line(e.name, MAX_TITLE), "schema": e.schema}
                    for e in rule.entities
                ],
                "article": _article(rule.article),
            }
            for rule in alert.rules
        ],
    }


def _article(article: ArticleRef | None) -> dict[str, object] | None:
    """Where the matched text came from; the text itself stays in the database (monitor hits)."""
    if article is None:
        return None
    fetched = iso_utc(article.fetched_at)
    return {"url": safe_http_url(article.final_url), "fetched_at": fetched, "sha256": article.sha256}


def digest_payload(digest: Digest) -> dict[str, object]:
    """The webhook document for a digest: each story once, as in a story message."""
    stories = digest_stories(digest.alerts)
    return {
        "schema": DIGEST_SCHEMA,
        "channel": clean_line(digest.channel, MAX_FEED_NAME),
        "period": clean_line(digest.period_label, MAX_TITLE),
        "total": len(stories),
        "high": count_high(stories),
        "stories": [story_payload(alert) for alert in stories[:MAX_DIGEST_STORIES]],
    }


def dumps(document: dict[str, object]) -> str:
    # ensure_ascii keeps the body 7-bit: no raw U+2028 or odd bytes reach a receiver's parser.
    return json.dumps(document, ensure_ascii=True, separators=(",", ":"))


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix; naive times are taken to be UTC already."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
