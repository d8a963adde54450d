"""Recurring events stay apart: weekdays, ordinals and headline numbers (monitor.stories.markers)."""

from __future__ import annotations

import pytest

from monitor.stories import THRESHOLD, StoryKey, same_story, similarity, story_key
from monitor.stories import markers as mk
from monitor.stories import minhash as mh

LAUNCH_TITLE = "North Korea fires ballistic missile into the sea off its east coast, Seoul says"


def key(title: str, summary: str = "") -> StoryKey:
    return story_key(title, summary, None)


def launch(day: str, distance: str) -> StoryKey:
    return key(
        LAUNCH_TITLE,
        f"South Korea's joint chiefs of staff said the missile was fired on {day} from an area "
        f"near Pyongyang and flew about {distance} km before falling into the sea.",
    )


def markers_of(title: str, summary: str = "") -> tuple[str, ...]:
    title_words, lede_words = mh.title_and_lede(title, summary, mh.ShingleConfig())
    return mk.markers(title_words, lede_words)


def test_the_tuesday_launch_and_the_friday_launch_are_two_stories() -> None:
    tuesday, friday = launch("Tuesday", "600"), launch("Friday", "600")
    assert similarity(tuesday, friday) == 0.0
    assert not same_story(tuesday, friday)
    # The same launch, reported again with another distance, is still one story.
    assert same_story(tuesday, launch("Tuesday", "550"))


def test_weekdays_match_across_languages() -> None:
    assert markers_of("Lancement de missile mardi", "") == ("d1",)
    assert markers_of("Raketenstart am Dienstag", "") == markers_of("Missile launch on Tuesday", "")


def test_the_fifth_and_the_sixth_tanker_seized_are_two_stories() -> None:
    lede = "The Coast Guard boarded the sanctioned vessel in the Caribbean, officials said."
    fifth = key("U.S. forces seize fifth oil tanker near Venezuela in blockade", lede)
    sixth = key("U.S. forces seize 6th oil tanker near Venezuela in blockade", lede)
    assert not same_story(fifth, sixth)
    assert same_story(fifth, key("U.S. forces seize fifth oil tanker off Venezuela in blockade", lede))


def test_recurring_headlines_with_other_numbers_do_not_merge_on_the_headline() -> None:
    # The title road is closed; a near-copy of the whole text would still merge by the other road.
    first = key(
        "Toronto Raptors team report for the game of November 13",
        "The Raptors try to push their record to 5-2 tonight against Portland.",
    )
    second = key(
        "Toronto Raptors team report for the game of November 20",
        "The Raptors lost 101-94 to Seattle on Friday at home in Toronto.",
    )
    assert not same_story(first, second)


def test_a_toll_updated_in_the_lede_and_headline_is_still_one_story() -> None:
    lede = "Two car bombs shook the capital in quick succession on Sunday, police said."
    assert same_story(key("Two car bombs kill 10 in Baghdad", lede), key("Baghdad car bombs kill 11", lede))


def test_first_is_no_ordinal_and_lede_numbers_are_not_markers() -> None:
    assert markers_of("First snow of the year", "About 40 flights were cancelled on Monday.") == ("d0",)
    assert markers_of("Fifth round of talks ends 2nd day", "") == ("o2", "o5")
    assert markers_of("Talks in 2026 with 34 delegates", "") == ("n2026", "n34")


def test_marker_tokens_parse_back_and_reject_junk() -> None:
    parsed = mk.parse("d1,n13,o5")
    assert parsed == mk.Markers(frozenset({"d1"}), frozenset({"o5"}), frozenset({"n13"}))
    assert mk.parse("") == mk.NO_MARKERS
    for junk in ("x1", "d", "d1,", "n1234567890", ",".join(["d1"] * (mk.MAX_MARKERS + 1))):
        assert mk.parse(junk) is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("d1", "d4", True),
        ("d1,d2", "d2", False),
        ("d1", "", False),
        ("o5", "o6", True),
        ("n13", "n20", False),  # numbers only close the title road
    ],
)
def test_recurring_needs_both_sides_and_nothing_in_common(a: str, b: str, expected: bool) -> None:
    parsed_a, parsed_b = mk.parse(a), mk.parse(b)
    assert parsed_a is not None and parsed_b is not None
    assert mk.recurring(parsed_a, parsed_b) is expected


def test_a_shared_headline_count_weighs_the_headline_in_full() -> None:
    # 5 of 9 title words in common: 0.56 > THRESHOLD only at full weight.
    lede_a = "The veteran activist died peacefully at home, his family said in a statement."
    lede_b = "Tributes came from politicians who called the activist and preacher a leader."
    counted = (key("Civil rights activist Jesse Jackson dies aged 84", lede_a),
               key("Jesse Jackson, veteran activist and preacher, dies at 84", lede_b))  # fmt: skip
    uncounted = (key("Civil rights activist Jesse Jackson dies aged", lede_a),
                 key("Jesse Jackson, veteran activist and preacher, dies", lede_b))  # fmt: skip
    assert similarity(*counted) >= THRESHOLD > similarity(*uncounted)
