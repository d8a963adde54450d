"""The default pack in other languages: the sentences of issue 11 (and variants with other
inflections and particles) match the relevant shipped rules, with spans that point at the words
in the original text. The sentences are our own, written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.rules import RuleMatch, RuleSet, load_rules

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
ARMS, EVASION = "dprk-russia-arms", "dprk-sanctions-evasion"

# (language, sentence, the words dprk-russia-arms must mark)
SENTENCES = [
    ("ru", "Северная Корея поставила России ракеты в нарушение санкций ООН",
     ["Северная Корея", "поставила", "России", "ракеты"]),
    ("ru", "КНДР передала российской армии снаряды, нарушив санкции Совбеза",
     ["КНДР", "передала", "российской", "снаряды"]),
    ("ru", "Поставки боеприпасов из Северной Кореи в Россию нарушают санкции ООН",
     ["Поставки", "боеприпасов", "Северной Кореи", "Россию"]),
    ("uk", "Північна Корея передала Росії ракети в порушення санкцій ООН",
     ["Північна Корея", "передала", "Росії", "ракети"]),
    ("ja", "北朝鮮がロシアに弾道ミサイルを供与、国連制裁違反",
     ["北朝鮮", "ロシア", "弾道ミサイル", "ミサイル", "供与"]),
    ("ja", "北朝鮮はロシアへ砲弾を輸出し、安保理の制裁に違反した",
     ["北朝鮮", "ロシア", "砲弾", "輸出"]),
    ("ko", "북한이 러시아에 포탄을 공급했다 유엔 제재 위반", ["북한이", "러시아에", "포탄을", "공급했다"]),
    ("ko", "북한은 러시아로 미사일을 보냈다…안보리 대북제재 위반", ["북한은", "러시아로", "미사일을", "보냈다"]),
    ("ko", "北, 러시아에 탄약 수출…유엔 제재를 위반", ["北", "러시아에", "탄약", "수출"]),
    ("zh", "朝鲜向俄罗斯提供导弹，违反联合国制裁", ["朝鲜", "俄罗斯", "提供", "导弹"]),
    ("es", "Corea del Norte suministró misiles a Rusia en violación de las sanciones de la ONU",
     ["Corea del Norte", "suministró", "misiles", "Rusia"]),
    ("es", "Pionyang envió proyectiles a Moscú violando las sanciones",
     ["Pionyang", "envió", "proyectiles", "Moscú"]),
    ("de", "Nordkorea lieferte Russland Raketen unter Verstoß gegen die UN-Sanktionen",
     ["Nordkorea", "lieferte", "Russland", "Raketen"]),
    ("de", "Nordkoreanische Munition geliefert: Russland verletzt die Sanktionen",
     ["Nordkoreanische", "Munition", "geliefert", "Russland"]),
    ("fr", "La Corée du Nord a livré des missiles à la Russie en violation des sanctions de l'ONU",
     ["Corée du Nord", "livré", "missiles", "Russie"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def pack() -> RuleSet:
    return load_rules([RULES_DIR])


def by_rule(pack: RuleSet, title: str, lang: str) -> dict[str, RuleMatch]:
    return {m.rule_id: m for m in pack.match({"title": title}, lang=lang)}


@pytest.mark.parametrize(("lang", "title", "marked"), SENTENCES, ids=[f"{s[0]}:{s[1][:24]}" for s in SENTENCES])
def test_transfer_in_violation_of_sanctions(pack: RuleSet, lang: str, title: str, marked: list[str]) -> None:
    found = by_rule(pack, title, lang)
    assert ARMS in found and EVASION in found, sorted(found)
    spans = found[ARMS].spans
    assert [s.text for s in spans] == marked
    for span in spans:
        assert span.field == "title" and title[span.start : span.end] == span.text


def test_the_korean_sentence_has_exact_character_spans(pack: RuleSet) -> None:
    title = "북한이 러시아에 포탄을 공급했다 유엔 제재 위반"
    evasion = by_rule(pack, title, "ko")[EVASION]
    assert [(s.start, s.end, s.text) for s in evasion.spans] == [(0, 3, "북한이"), (21, 23, "제재"), (24, 26, "위반")]


def test_korean_troops_for_russia(pack: RuleSet) -> None:
    assert "dprk-troops-russia" in by_rule(pack, "우크라이나서 생포된 북한군 포로 2명", "ko")
    assert "dprk-troops-russia" in by_rule(pack, "김정은, 러시아 파병군 유족 위로", "ko")


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("zh", "俄称继续打击乌军事目标 乌称俄加强北顿涅茨克方向军力"),  # 北 of Severodonetsk
        ("ko", "금감원, 은행 임직원 10명 제재…내부통제 위반"),  # a domestic regulator's sanctions
        ("es", "Sin embargo, el panel de expertos elige un vino"),
        ("ja", "東京都庁でロシア語の講座"),
    ],
)
def test_other_language_traps_stay_quiet(pack: RuleSet, lang: str, title: str) -> None:
    assert by_rule(pack, title, lang) == {}
