"""Which story each new item joins: the same canonical link, else the most similar recent text.

Pure: the batch and the candidates the store found for it in, the decision out. Items of one
batch also find each other: each decided item becomes a candidate for the items after it.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.stories.keys import best_text_match
from monitor.types import NewStoryItem, StoryCandidate, StoryCandidates, StoryGrouping, StoryKey, StoryRef

MAX_CANDIDATES = 100  # text candidates confirmed per item: bounds work on spammy near-duplicates


def group(new_items: Sequence[NewStoryItem], found: StoryCandidates) -> StoryGrouping:
    by_link = dict(found.by_link)
    by_band = {band: list(candidates) for band, candidates in found.by_band.items()}
    new_stories: list[NewStoryItem] = []
    chosen: dict[int, StoryRef] = {}
    for new in new_items:
        ref = _find_story(new.key, by_link, by_band)
        if ref is None:
            new_stories.append(new)
            ref = -len(new_stories)
        chosen[new.item_id] = ref
        _remember(new.key, ref, by_link, by_band)  # later items of the batch may join it
    return StoryGrouping(chosen, tuple(new_stories))


def _find_story(
    key: StoryKey, by_link: dict[str, StoryRef], by_band: dict[str, list[StoryCandidate]]
) -> StoryRef | None:
    digest = key.link_digest
    if digest is not None and digest in by_link:
        return by_link[digest]
    # Links were compared above; from here on only the text decides.
    candidates = dict.fromkeys(c for band in key.lookup_bands for c in by_band.get(band, ()))
    chosen = list(candidates)[:MAX_CANDIDATES]
    return best_text_match(key.signature, ((c.story, c.signature) for c in chosen))


def _remember(
    key: StoryKey, ref: StoryRef, by_link: dict[str, StoryRef], by_band: dict[str, list[StoryCandidate]]
) -> None:
    digest = key.link_digest
    if digest is not None:
        by_link.setdefault(digest, ref)
    if key.signature:
        for band in key.lookup_bands:
            by_band.setdefault(band, []).insert(0, StoryCandidate(ref, key.signature))
