"""Item language detection (monitor.langid): the languages of the pack, the script check, and
texts with nothing to tell by."""

from __future__ import annotations

import pytest

from monitor.langid import detect_language, item_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("북한이 러시아에 포탄을 공급했다 유엔 제재 위반", "ko"),
        ("北朝鮮がロシアに弾道ミサイルを供与、国連制裁違反", "ja"),
        ("朝鲜向俄罗斯提供导弹，违反联合国制裁", "zh"),
        ("Северная Корея поставила России ракеты в нарушение санкций ООН", "ru"),
        ("Північна Корея передала Росії ракети в порушення санкцій ООН", "uk"),
        ("Nordkorea lieferte Russland Raketen unter Verstoß gegen die UN-Sanktionen", "de"),
        ("La Corée du Nord a livré des missiles à la Russie en violation des sanctions", "fr"),
        ("Corea del Norte suministró misiles a Rusia en violación de las sanciones", "es"),
        ("North Korea shipped artillery shells to Russia, breaching UN sanctions", "en"),
    ],
)
def test_languages_of_the_pack(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_script_settles_chinese_japanese_and_korean() -> None:
    assert detect_language("国内联播快讯") == "zh"  # a short Han-only headline: not Japanese
    assert detect_language("北, 러에 포탄 공급") == "ko"  # Hanja in a Korean headline


def test_nothing_to_tell_by() -> None:
    assert detect_language("") is None
    assert detect_language("2026-12-06 12:00 | 42") is None
    assert item_language("", "", "Россия и КНДР обменялись туристами") == "ru"  # content when all else is empty
