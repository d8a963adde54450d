"""Stories: reports of one event across outlets, and what to alert about them.

Pure decisions only (no I/O, no clock, no database): ``keys`` fingerprints an item and compares
fingerprints, ``minhash`` is the tunable machinery behind it and ``markers`` picks out the words
that tell recurring events apart. The store reads candidates and writes what these modules decide.
"""

from monitor.stories.keys import (
    MIN_WORDS,
    RULE,
    SHINGLES,
    THRESHOLD,
    MergeRule,
    StoryKey,
    best_text_match,
    same_story,
    similarity,
    story_key,
)

__all__ = [
    "MIN_WORDS",
    "RULE",
    "SHINGLES",
    "THRESHOLD",
    "MergeRule",
    "StoryKey",
    "best_text_match",
    "same_story",
    "similarity",
    "story_key",
]
