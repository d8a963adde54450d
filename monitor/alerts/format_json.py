"""The JSON webhook documents: a stable, versioned schema (documented in docs/alerts.md).

Adding a key is a compatible change; renaming, removing or retyping one needs a new schema
version ("sanctions-monitor.alert/2").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from monitor.alerts.format_digest import Digest, RuleGroup, StoryGroup, group_digest
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
from monitor.types import Alert

ALERT_SCHEMA = "sanctions-monitor.alert/1"
DIGEST_SCHEMA = "sanctions-monitor.digest/1"
MAX_SPANS = 100


def json_payload(alert: Alert) -> dict[str, object]:
    """The webhook document for one alert (feed text cleaned and capped, link http(s) or null)."""
    return {
        "schema": ALERT_SCHEMA,
        "hit_id": alert.hit_id,
        "rule": {
            "id": clean_line(alert.rule_id, MAX_WORD),
            "title": clean_line(alert.rule_title, MAX_TITLE),
            "severity": alert.severity.value,
        },
        "item": {
            "title": clean_line(alert.item_title, MAX_TITLE),
            "link": safe_http_url(alert.link),
            "feed": clean_line(alert.feed_name, MAX_FEED_NAME),
            "published": iso_utc(alert.published),
        },
        "story": {
            "id": alert.story_id,
            "also_reported_by": list(clean_words(alert.also_reported_by)),
        },
        "matched": list(clean_words(alert.matched, MAX_MATCHED)),
        "spans": [
            {
                "field": clean_line(span.field, MAX_WORD),
                "start": span.start,
                "end": span.end,
                "text": clean_line(span.text, MAX_WORD),
            }
            for span in alert.spans[:MAX_SPANS]
        ],
        "snippet": clean_line(alert.snippet, MAX_SNIPPET),
    }


def digest_payload(digest: Digest) -> dict[str, object]:
    """The webhook document for a digest: rule groups, each with its stories' lead alerts."""
    groups = group_digest(digest)
    return {
        "schema": DIGEST_SCHEMA,
        "channel": clean_line(digest.channel, MAX_FEED_NAME),
        "period": clean_line(digest.period_label, MAX_TITLE),
        "total": sum(group.alerts for group in groups),
        "rules": [_rule_payload(group) for group in groups],
    }


def _rule_payload(group: RuleGroup) -> dict[str, object]:
    return {
        "rule": {
            "id": clean_line(group.rule_id, MAX_WORD),
            "title": clean_line(group.rule_title, MAX_TITLE),
            "severity": group.severity.value,
        },
        "count": group.alerts,
        "stories_total": group.stories_total,
        "stories": [_story_payload(story) for story in group.stories],
    }


def _story_payload(story: StoryGroup) -> dict[str, object]:
    lead = json_payload(story.lead)
    lead["story"] = {
        "id": story.lead.story_id,
        "also_reported_by": list(clean_words(story.also_reported_by)),
    }
    return {"alerts": story.alerts, "lead": lead}


def dumps(document: dict[str, object]) -> str:
    # ensure_ascii keeps the body 7-bit: no raw U+2028 or odd bytes reach a receiver's parser.
    return json.dumps(document, ensure_ascii=True, separators=(",", ":"))


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix; naive times are taken to be UTC already."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
