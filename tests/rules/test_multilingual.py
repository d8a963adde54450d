"""Words in every script: ICU cuts for Chinese/Japanese/Thai, Korean particles, ~ loose terms,
lang: scopes, and the segmentation shown by explain. Every match is also checked against the
naive matcher (spans included) through ``hits``."""

from __future__ import annotations

import pytest
from test_rules_matching import hits, rules

from monitor.rules import RuleLoadError, compile_text
from monitor.rules.segment import loose, particle_stems
from monitor.rules.text import words


def spans(query: str, title: str, lang: str | None = None) -> list[tuple[int, int, str]]:
    found = rules(query).match({"title": title}, lang=lang)
    assert len(found) == 1, found
    return [(s.start, s.end, s.text) for s in found[0].spans]


def test_japanese_and_chinese_are_cut_into_words() -> None:
    japanese = ["北朝鮮", "が", "ロシア", "に", "弾道", "ミサイル", "を", "供与"]
    assert words("北朝鮮がロシアに弾道ミサイルを供与") == japanese
    assert words("朝鲜向俄罗斯提供导弹") == ["朝鲜", "向", "俄罗斯", "提供", "导弹"]
    assert words("Russia's S-400 北朝鮮") == ["Russia", "S", "400", "北朝鮮"]  # other scripts as before


def test_cjk_terms_match_inside_running_text_with_exact_spans() -> None:
    title = "速報:北朝鮮がロシアに弾道ミサイルを供与"
    assert spans("北朝鮮 AND ミサイル", title) == [(3, 6, "北朝鮮"), (13, 17, "ミサイル")]
    assert hits("弾道ミサイル", title)  # a compound term: consecutive words
    assert hits("ミサイル NEAR/1 供与", title)
    assert hits("导弹", "朝鲜向俄罗斯提供导弹，违反联合国制裁")


def test_japanese_term_does_not_match_across_a_word_boundary() -> None:
    # 東京都庁 is 東京 | 都庁: the substring 京都 spans the boundary.
    assert "京都" in "東京都庁で会見"
    assert not hits("京都", "東京都庁で会見")
    assert hits("京都", "京都の寺で会見")


def test_hangul_terms_match_a_word_with_its_particles() -> None:
    for text in ("북한이 러시아에", "북한은 러시아와", "북한의 포탄", "북한에서는", "북한"):
        assert hits("북한", text), text
    assert spans("북한 AND 러시아", "북한이 러시아에 포탄을") == [(0, 3, "북한이"), (4, 8, "러시아에")]
    assert hits('"북한 러시아"', "북한과 러시아의 협력")  # particles inside a phrase
    assert hits("포탄 NEAR/0 공급*", "포탄을 공급했다")
    assert hits("IAEA", "IAEA는 사찰을")  # a particle after a Latin word


def test_korean_term_does_not_match_across_a_morpheme_boundary() -> None:
    # 북한이란 is 북한 + the particle 이란 ("as for North Korea"), not the word 이란 (Iran).
    assert "이란" in "북한이란 나라"
    assert not hits("이란", "북한이란 나라")
    assert hits("이란", "이란이 핵협상을")
    assert not hits("북한", "남북한 정상회담")  # a word that contains the term is another word


def test_particle_stems() -> None:
    assert particle_stems("북한에서는") == ("북한", "북한에서")
    assert particle_stems("는") == ()  # a particle alone is no stem plus particle
    assert particle_stems("Russia") == ()


def test_loose_terms_fold_accents_and_width_and_keep_spans() -> None:
    assert loose("Pyŏngyang") == "pyongyang"
    assert loose("ＵＮ") == "un"
    assert loose("Moscú") == "moscu"
    title = "Talks in Pyŏngyang and ＵＮ sanctions"
    assert spans("~Pyongyang AND ~UN", title) == [(9, 18, "Pyŏngyang"), (23, 25, "ＵＮ")]
    assert hits('~"kim jong un"', "Kim Jŏng Ŭn visited")
    assert not hits("Pyongyang", "Talks in Pyŏngyang")  # without ~ diacritics still count
    assert hits("~Pyong*", "Pyŏngyang's envoy")


def test_loose_terms_in_aliases() -> None:
    assert hits("@city", "Visit to Pyŏngyang", aliases={"city": ["~Pyongyang"]})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("~=UN", "cannot be combined"),
        ("=~UN", "cannot be combined"),
        ("~ AND x", "must be followed"),
        ("lang: AND x", "language code"),
        ("lang:korean AND x", "language code"),
        ("lang:(ko OR ja) AND x", "(lang:ru OR lang:uk)"),
        ("lang:ko", "none of its words"),
        ("lang:ko NEAR/3 x", "lang: scope"),
        ("title:lang:ko AND x", "whole item"),
    ],
)
def test_option_and_scope_errors(query: str, message: str) -> None:
    with pytest.raises(RuleLoadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rules(query)


def test_lang_scope() -> None:
    ruleset = rules("lang:ko AND 제재")
    assert ruleset.match_ids({"title": "유엔 제재"}, lang="ko") == ("r",)
    assert ruleset.match_ids({"title": "유엔 제재"}, lang="ja") == ()
    assert ruleset.match_ids({"title": "유엔 제재"}) == ()  # unknown language
    either = rules("(lang:ru OR lang:uk) AND санкц*")
    assert either.match_ids({"title": "санкции"}, lang="uk") == ("r",)
    assert rules("NOT lang:en AND sanctions").match_ids({"title": "sanctions"}, lang="en") == ()


def test_lang_scope_is_case_insensitive_and_rendered() -> None:
    ruleset = compile_text('rules:\n  - id: r\n    query: "LANG:KO AND x"\n')
    assert ruleset.match_ids({"title": "x"}, lang="ko") == ("r",)


def test_explain_shows_language_and_segmentation() -> None:
    ruleset = rules("북한 AND 北朝鮮")
    text = ruleset.explain("r", {"title": "북한이 발표", "summary": "北朝鮮がロシアに"}, lang="ko").render()
    assert "language: ko" in text
    assert "words of title: 북한+이 | 발표" in text
    assert "words of summary: 北朝鮮 | が | ロシア | に" in text
    english = ruleset.explain("r", {"title": "North Korea"}).render()
    assert "words of" not in english and "language:" not in english
    lang_node = rules("lang:ja AND 北朝鮮").explain("r", {"title": "北朝鮮"}, lang="ko").render()
    assert "✗ lang:ja (item: ko)" in lang_node
