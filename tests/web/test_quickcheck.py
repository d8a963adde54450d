"""The preview's quick check never rejects an item the rule engine matches."""

from __future__ import annotations

from pathlib import Path

from monitor.langid import item_language
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
  - {id: loose, query: "~Pyongyang AND missile*"}
  - {id: korean, query: "lang:ko AND 북한 AND 러시아"}
"""
)
TEXTS = [(e.title, e.summary) for e in (ARMS_1, ARMS_2, ARMS_3, ARMS_NEW, QUIET, ARMS, DRONES, HOSTILE)] + [
    ("RUSSIA’S ARMY advances", ""),
    ("Turkey buys S-400 systems", "and F-16V jets"),
    ("The UN votes on sanctions", ""),
    ("Tankers carry Iranian crude", "shipments of oil"),
    ("Kim Jong-un inspects", "new missiles"),
    ("Pyŏngyang fires", "a missile"),
    ("북한이 러시아에 포탄을 공급했다", "유엔 제재 위반"),
    ("Северная Корея поставила России ракеты", "в нарушение санкций ООН"),
    ("北朝鮮がロシアに弾道ミサイルを供与", "国連制裁違反"),
]


def test_every_match_passes_the_quick_check() -> None:
    for rules in (load_rules([REPO / "rules"]), TRICKY):
        checks = {rule.id: may_match(rules.query_tree(rule.id)) for rule in rules.rules}
        matched = 0
        for title, summary in TEXTS:
            text = folded(title, summary, "")
            fields = {"title": title, "summary": summary, "content": ""}
            for rule_id in rules.match_ids(fields, lang=item_language(title, summary)):
                matched += 1
                assert checks[rule_id](text), (rule_id, title)
        assert matched >= 5
    matched_here = {
        r
        for t, s in TEXTS[-4:]
        for r in TRICKY.match_ids({"title": t, "summary": s, "content": ""}, lang=item_language(t, s))
    }
    assert matched_here == {"loose", "korean"}
    assert not may_match(TRICKY.query_tree("hyphen"))(folded("Nothing here", "", ""))
