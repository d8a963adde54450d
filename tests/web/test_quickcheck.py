"""The preview's quick check never rejects an item the rule engine matches."""

from __future__ import annotations

from pathlib import Path

from monitor.rules import compile_text, load_rules
from monitor.web.quickcheck import folded, may_match
from tests.e2e.feeds import ARMS_1, ARMS_2, ARMS_3, ARMS_NEW, QUIET
from tests.web.seed import ARMS, DRONES, HOSTILE

REPO = Path(__file__).resolve().parents[2]
TRICKY = compile_text(
    """
rules:
  - {id: possessive, query: "Russia's AND army"}
  - {id: hyphen, query: "S-400 OR F-16*"}
  - {id: case, query: "=UN AND sanction*"}
  - {id: near, query: "(ship* OR tanker*) NEAR/3 (oil OR crude) AND NOT football"}
  - {id: scope, query: 'title:("Kim Jong*") AND summary:(missile*)'}
"""
)
TEXTS = [(e.title, e.summary) for e in (ARMS_1, ARMS_2, ARMS_3, ARMS_NEW, QUIET, ARMS, DRONES, HOSTILE)] + [
    ("RUSSIA’S ARMY advances", ""),
    ("Turkey buys S-400 systems", "and F-16V jets"),
    ("The UN votes on sanctions", ""),
    ("Tankers carry Iranian crude", "shipments of oil"),
    ("Kim Jong-un inspects", "new missiles"),
]


def test_every_match_passes_the_quick_check() -> None:
    for rules in (load_rules([REPO / "rules"]), TRICKY):
        checks = {rule.id: may_match(rules.query_tree(rule.id)) for rule in rules.rules}
        matched = 0
        for title, summary in TEXTS:
            text = folded(title, summary, "")
            for rule_id in rules.match_ids({"title": title, "summary": summary, "content": ""}):
                matched += 1
                assert checks[rule_id](text), (rule_id, title)
        assert matched >= 5
    assert not may_match(TRICKY.query_tree("hyphen"))(folded("Nothing here", "", ""))
