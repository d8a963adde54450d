"""What a parse worker process does with one fetched body.

feedparser, story fingerprinting and language detection are CPU work; the main process is busy with
fetching, matching and SQL, so both run here, in the process pool (monitor.runtime.parse_pool).
This module imports only what that needs, which keeps each worker small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from monitor.langid import item_language
from monitor.parse import parse_feed
from monitor.stages import Stage, StageFigures, recording, stage
from monitor.stories import StoryKey, story_key
from monitor.types import ParsedFeed


@dataclass(frozen=True, slots=True)
class ParsedBody:
    feed: ParsedFeed
    story_keys: dict[str, StoryKey]  # item key → its story fingerprint, for every item
    # this parse's CPU by stage, measured where it ran; the main process adds it to its tally
    stages: StageFigures = field(default_factory=StageFigures)


def parse_body(body: bytes, *, feed_url: str, final_url: str, headers: Mapping[str, str], max_items: int) -> ParsedBody:
    """Parse and normalize (monitor.parse.parse_feed), detect each item's language, then
    fingerprint every item."""
    with recording() as tally:
        with stage(Stage.PARSE):  # parse_feed charges its normalising to Stage.NORMALISE
            feed = parse_feed(body, feed_url=feed_url, final_url=final_url, headers=headers, max_items=max_items)
        with stage(Stage.LANGUAGE):
            items = tuple(
                replace(item, lang=item_language(item.title, item.summary, item.content)) for item in feed.items
            )
        feed = replace(feed, items=items)
        with stage(Stage.STORY_KEYS):
            keys = {item.key: story_key(item.title, item.summary, item.link) for item in feed.items}
    return ParsedBody(feed, keys, tally.figures())
