"""Explanations of (non-)matches and the snippet shown in alerts."""

from __future__ import annotations

from monitor.rules import compile_text
from monitor.rules.snippet import make_snippet
from monitor.types import Span

RULES = """\
aliases:
  dprk: ["North Korea", "North Korean", "Pyongyang"]
rules:
  - id: arms
    query: '@dprk AND (missile* OR artillery) AND NOT exercise'
    exclude: 'title:(football OR olympic*)'
    feeds: [reuters]
  - id: near
    query: 'Russia NEAR/2 (arms OR shells)'
  - id: disabled
    query: 'Russia'
    enabled: false
"""


def test_explain_a_match_shows_each_node_and_words() -> None:
    ruleset = compile_text(RULES)
    fields = {"title": "North Korean missiles for Russia", "summary": "Pyongyang denies it."}
    explanation = ruleset.explain("arms", fields, feed_name="reuters")
    assert explanation.matched
    assert explanation.render() == "\n".join(
        [
            "rule arms: MATCH",
            "  query:",
            "    ✓ AND",
            '      ✓ @dprk: "North Korean", "Pyongyang"',
            "      ✓ OR",
            '        ✓ missile*: "missiles"',
            "        ✗ artillery: no occurrence",
            "      ✓ NOT",
            "        ✗ exercise: no occurrence",
            "  exclude: no match",
            "    ✗ title:",
            "      ✗ OR",
            "        ✗ football: no occurrence",
            "        ✗ olympic*: no occurrence",
            "  feeds: only reuters; item has feed 'reuters' → allowed",
            "  enabled: yes",
        ]
    )


def test_explain_says_what_blocked_the_rule() -> None:
    ruleset = compile_text(RULES)
    fields = {"title": "North Korean missiles at the Olympics", "summary": "an exercise"}
    explanation = ruleset.explain("arms", fields, feed_tags=["blogs"])
    assert not explanation.matched
    lines = explanation.render().splitlines()
    assert lines[0] == ("rule arms: NO MATCH (feed not in the rule's feeds; query is false; exclude matched)")
    assert '        ✓ exercise: "exercise"' in lines
    assert "  exclude: matched, rule vetoed" in lines
    assert '        ✓ olympic*: "Olympics"' in lines
    assert "  feeds: only reuters; item has no feed name tags blogs → blocked" in lines
    assert ruleset.explain("disabled", {"title": "Russia"}).render().splitlines()[0] == (
        "rule disabled: NO MATCH (rule is disabled)"
    )


def test_explain_near_shows_the_pairs() -> None:
    ruleset = compile_text(RULES)
    explanation = ruleset.explain("near", {"title": "Russia buys shells; no arms"})
    assert explanation.render().splitlines()[2:6] == [
        '    ✓ NEAR/2: "Russia … shells"',
        '      ✓ Russia: "Russia"',
        "      ✓ OR",
        '        ✓ arms: "arms"',
    ]
    assert explanation.matched == bool(ruleset.match({"title": "Russia buys shells"}))


def test_snippet_prefers_the_title_and_marks_words() -> None:
    ruleset = compile_text(RULES)
    fields = {"title": "Russia’s  arms\ndeal", "summary": "Russia arms", "content": ""}
    (match,) = ruleset.match(fields)
    assert match.snippet == "«Russia»’s «arms» deal"
    assert match.matched_words == ("russia", "arms")


def test_snippet_finds_the_densest_window_in_long_text() -> None:
    filler = "lorem ipsum " * 60
    text = filler + "Russia sold shells " + filler + "Russia and arms here " + filler
    ruleset = compile_text(RULES)
    (match,) = ruleset.match({"title": "Nothing here", "content": text})
    assert "«Russia» sold «shells»" in match.snippet
    assert match.snippet.startswith("…") and match.snippet.endswith("…")
    assert len(match.snippet) <= 240 + 2 + 4 * 2  # width, two ellipses, two marked words
    assert "«Russia» and «arms»" not in match.snippet  # a different, equally dense window
    body = match.snippet.strip("…")
    assert body.startswith("lorem") or body.startswith("ipsum")  # cut at a word boundary


def test_snippet_merges_overlapping_spans_and_handles_no_spans() -> None:
    texts = {"title": "", "summary": "North Korea fires", "content": ""}
    spans = [Span("summary", 0, 11, "North Korea"), Span("summary", 6, 11, "Korea")]
    assert make_snippet(texts, spans) == "«North Korea» fires"
    assert make_snippet(texts, []) == "North Korea fires"
