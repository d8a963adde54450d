"""A hit's evidence beyond its spans (``hits.evidence``, JSON): the list entries named in the
spans, and the article page the match was made on. Bounded like every stored feed text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.store.columns import MAX_JSON_TEXT
from monitor.types import ArticleRef, EntityRef, RuleMatch

MAX_ARTICLE_CHARS = 100_000  # as for a feed item's content (monitor.normalize)


@dataclass(frozen=True, slots=True)
class Evidence:
    entities: tuple[EntityRef, ...] = ()
    article: ArticleRef | None = None


def dump_evidence(match: RuleMatch) -> str | None:
    """JSON for the column, or None when the match has nothing beyond its spans."""
    if not match.entities and match.article is None:
        return None
    document: dict[str, Any] = {}
    if match.entities:
        document["entities"] = [
            {"list": e.list_name[:MAX_JSON_TEXT], "id": e.entry_id[:MAX_JSON_TEXT],
             "name": e.name[:MAX_JSON_TEXT], "schema": e.schema[:MAX_JSON_TEXT]}
            for e in match.entities
        ]  # fmt: skip
    if match.article is not None:
        article = match.article
        document["article"] = {
            "url": article.url, "final_url": article.final_url, "fetched_at": article.fetched_at.isoformat(),
            "sha256": article.sha256, "text": article.text[:MAX_ARTICLE_CHARS],
        }  # fmt: skip
    return json.dumps(document, ensure_ascii=False)


def load_evidence(raw: str | None) -> Evidence:
    """The stored evidence; anything unreadable counts as none (it is evidence, not state)."""
    if not raw:
        return Evidence()
    try:
        document: Any = json.loads(raw)
        entities = tuple(
            EntityRef(str(e["list"]), str(e["id"]), str(e["name"]), str(e["schema"]))
            for e in document.get("entities", [])
        )
        found = document.get("article")
        article = None
        if isinstance(found, dict):
            article = ArticleRef(
                str(found["url"]), str(found["final_url"]), datetime.fromisoformat(found["fetched_at"]),
                str(found["sha256"]), str(found["text"]),
            )  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError):
        return Evidence()
    return Evidence(entities, article)
