"""The inbox and search queries on both databases: keyset pages without gaps or repeats, filters,
the search language, and the 0006 migration's way back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.rules import compile_text
from monitor.store import Store
from monitor.store.web_records import InboxFilter
from monitor.store.web_search import parse_search
from monitor.types import Severity
from tests.store.store_factories import postgres_available, temporary_pg_database
from tests.web.seed import NOW, Wire, seed

RULES = compile_text(
    """
rules:
  - id: missiles
    query: missile*
    severity: high
  - id: drones
    query: drone*
    severity: low
"""
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store.open(f"sqlite:///{tmp_path / 'monitor.db'}")
        yield opened
        opened.close()
        return
    if not postgres_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is unreachable")
    with temporary_pg_database() as url:
        opened = Store.open(url)
        yield opened
        opened.close()


def _wires(count: int) -> list[Wire]:
    """Unrelated stories (no shared wording, so none merge): every third about missiles, every
    fifth of the others about drones."""
    wires = []
    for n in range(count):
        topic = "missiles" if n % 3 == 0 else ("drones" if n % 5 == 0 else "grain")
        tokens = [f"w{(n * 7919 + i * 104729) % 99991}" for i in range(12)]
        title = f"Report {n}: {topic} {' '.join(tokens[:6])} number{n}"
        wires.append(Wire(f"k{n}", title, f"Unique summary {n} {' '.join(tokens[6:])} about {topic} and zebra{n % 2}."))
    return wires


def _all_pages(store: Store, wanted: InboxFilter) -> list[int]:
    seen: list[int] = []
    page = store.console.inbox(wanted)
    while True:
        seen += [story.story_id for story in page.stories] or [item.item_id for item in page.items]
        if page.older is None:
            return seen
        page = store.console.inbox(replace(wanted, before=page.older))


def test_keyset_pages_cover_every_story_once_newest_first(store: Store) -> None:
    seed(store, RULES, _wires(40))
    ids = _all_pages(store, InboxFilter(limit=4))
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids)) == 40 // 3 + 1 + len([n for n in range(40) if n % 3 and n % 5 == 0])
    # the page before a cursor is the same rows seen from the other side
    second = store.console.inbox(InboxFilter(limit=4, before=ids[3]))
    back = store.console.inbox(InboxFilter(limit=4, after=second.stories[0].story_id))
    assert [s.story_id for s in back.stories] == ids[:4]
    assert back.newer is None


def test_filters(store: Store) -> None:
    seed(store, RULES, _wires(30))
    high = store.console.inbox(InboxFilter(severity=Severity.HIGH, limit=100)).stories
    assert high and all(story.severity is Severity.HIGH for story in high)
    drones = store.console.inbox(InboxFilter(rule="drones", limit=100)).stories
    assert drones and all(story.rules == ("drones",) for story in drones)
    assert store.console.inbox(InboxFilter(feed="Nowhere")).stories == ()
    assert len(store.console.inbox(InboxFilter(feed="Wire", limit=100)).stories) == len(
        store.console.inbox(InboxFilter(limit=100)).stories
    )
    assert store.console.inbox(InboxFilter(since=NOW + timedelta(days=1))).stories == ()
    assert store.console.inbox(InboxFilter(until=NOW - timedelta(days=1))).stories == ()
    first = high[0].story_id
    store.console.set_muted(first, True, "eda", NOW)
    assert first not in [s.story_id for s in store.console.inbox(InboxFilter(limit=100)).stories]
    assert [s.story_id for s in store.console.inbox(InboxFilter(state="muted")).stories] == [first]
    store.console.set_verdict(high[1].story_id, "relevant", "", "eda", NOW)
    assert [s.story_id for s in store.console.inbox(InboxFilter(state="relevant")).stories] == [high[1].story_id]
    untriaged = {s.story_id for s in store.console.inbox(InboxFilter(state="untriaged", limit=100)).stories}
    assert first not in untriaged and high[1].story_id not in untriaged


def test_search_finds_words_phrases_alternatives_and_exclusions(store: Store) -> None:
    seed(store, RULES, _wires(20))

    def titles(query: str, **extra: object) -> set[str]:
        page = store.console.inbox(InboxFilter(q=query, limit=100, **extra))  # type: ignore[arg-type]
        return {item.title.split(":")[0] for item in page.items}

    assert titles("number7") == {"Report 7"}
    assert titles("grains") == titles("grain")  # stemmed
    assert titles('"summary 13"') == {"Report 13"}
    assert titles("number3 OR number4") == {"Report 3", "Report 4"}
    assert "Report 0" not in titles("missiles -zebra0")
    assert titles("missiles", rule="drones") == set()
    assert titles("zebra1", state="all") == {f"Report {n}" for n in range(1, 20, 2)}
    assert titles('AND OR NOT ( " *') == titles("and")  # operators typed are plain words
    searched = _all_pages(store, InboxFilter(q="unique", limit=3))
    assert len(searched) == len(set(searched)) == 20


def test_parse_search() -> None:
    assert parse_search("") is None and parse_search("-only -excluded") is None
    query = parse_search('iran "shahed drones" OR geran -football')
    assert query is not None
    assert query.groups == (("iran",), ("shahed drones", "geran"))
    assert query.fts5() == '("iran") AND ("shahed drones" OR "geran") NOT "football"'
    assert query.websearch() == '"iran" "shahed drones" or "geran" -"football"'


def test_story_detail_and_the_way_back_from_0006(store: Store, tmp_path: Path) -> None:
    seed(store, RULES, _wires(3))
    story = store.console.inbox(InboxFilter()).stories[0]
    detail = store.console.story(story.story_id)
    assert detail is not None and detail.rules[0].rule_id == "missiles"
    assert detail.reports[0].spans  # evidence offsets for the page's highlights
    assert store.console.story(10_000) is None
