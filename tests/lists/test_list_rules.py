"""`@list:NAME` and `@list:NAME[Schema]` in rules: names and vessel identifiers in every usual
spelling, the entry named in the evidence, errors that say what is wrong; the indexed list
OR decides and marks exactly what the reference matcher (naive.py) does."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.lists.formats import read_list
from monitor.rules import RuleLoadError, compile_text
from monitor.rules.lists import WatchList
from monitor.rules.naive import NaiveRules

SAMPLES = Path(__file__).parent / "samples"


def lists() -> dict[str, WatchList]:
    found = {}
    for name, file in (("ofac", "ofac_sdn.xml"), ("un", "un_consolidated.xml"), ("os", "opensanctions.ftm.json")):
        found[name] = WatchList(name, "v1", read_list((SAMPLES / file).read_bytes()).entries)
    return found


RULES = """rules:
  - id: vessels
    query: '@list:ofac[Vessel] OR @list:os[Vessel] OR @list:un'
  - id: people
    query: '@list:ofac[Person] AND (missile* OR sanction*)'
"""


@pytest.mark.parametrize(
    "text",
    [
        "Tanker IMO 9570853 was seen off Nakhodka",
        "the tanker (IMO9570853) switched off its transponder",
        "a vessel, IMO No. 9570853, loaded oil at night",
        "IMO number: 9570853 flagged in Togo",
        "IMO-9570853 again",
        "MMSI 667001234 went dark",
        "MMSI: 667001234",
        "the Sea Pioneer 7 sailed",
        "formerly the Ocean Bright",
    ],
)
def test_a_listed_vessel_in_every_spelling(text: str) -> None:
    (match,) = compile_text(RULES, lists=lists()).match({"summary": text})
    assert match.rule_id == "vessels"
    assert [(e.list_name, e.entry_id, e.name, e.schema) for e in match.entities] == [
        ("ofac", "90001", "SEA PIONEER 7", "Vessel")
    ]


@pytest.mark.parametrize("text", ["IMO 9570854", "number 9570853 alone", "the sea pioneer sailed", "IMO 95708530"])
def test_near_misses_do_not_match(text: str) -> None:
    assert compile_text(RULES, lists=lists()).match({"summary": text}) == ()


def test_names_with_case_and_diacritics_and_the_entry_in_the_evidence() -> None:
    rules = compile_text(RULES, lists=lists())
    (people,) = rules.match({"title": "kim chol su oversaw the missile launch"})
    assert people.entities[0].entry_id == "90002" and people.spans[0].text == "kim chol su"
    (vessel,) = rules.match({"title": "Chongchon Example Shipping Co. Ltd ship spotted"})
    assert vessel.entities[0].list_name == "un"
    assert rules.match({"title": "Kim said nothing about missiles"}) == ()  # weak a.k.a. not used


def test_the_indexed_list_agrees_with_the_naive_matcher() -> None:
    rules = compile_text(
        RULES + "  - id: near\n    query: '(@list:ofac NEAR/3 tanker) AND NOT title:(@list:un)'\n", lists=lists()
    )
    naive = NaiveRules(rules)
    texts = [
        {"title": "tanker SEA PIONEER 7 and IMO 9570853", "summary": "Ri Myong-ho met KIM Chol Su about sanctions"},
        {"title": "RI MYONG HO", "summary": "the tanker Ocean Bright, IMO No. 9570853, near Sea Pioneer 7"},
        {"title": "nothing here", "summary": "pioneer 7 sea tanker"},
    ]
    for fields in texts:
        expected = [(m.rule_id, m.spans) for m in naive.match(fields)]
        assert [(m.rule_id, m.spans) for m in rules.match(fields)] == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("@list:nope", "unknown list @list:nope (imported lists: ofac, os, un)"),
        ("@list:un[Vessel]", "list un has no Vessel entries (its schemata: Organization, Person)"),
        ("@list:ofac[", 'invalid list reference "@list:ofac["'),
    ],
)
def test_errors_name_the_problem(query: str, message: str) -> None:
    with pytest.raises(RuleLoadError) as failure:
        compile_text(f"rules:\n  - id: r\n    query: '{query}'\n", lists=lists())
    assert message in str(failure.value)
