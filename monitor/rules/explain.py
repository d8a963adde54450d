"""Why a rule did or did not match an item, as a tree a rule author can read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

from monitor.rules.evaluate import WordSpan, evidence, holds, near_pairs
from monitor.rules.itemtext import ItemText
from monitor.rules.segment import NO_SPACES_RE
from monitor.rules.syntax import FIELDS, AliasRef, And, FieldScope, LangIs, Literal, Near, Node, Not, Or
from monitor.rules.syntax import render as render_node


@dataclass(frozen=True, slots=True)
class ExplainNode:
    """One query node: whether it held, and the words that made leaves/aliases/NEARs true."""

    label: str
    matched: bool
    found: tuple[str, ...] = ()
    children: tuple[ExplainNode, ...] = ()
    is_leaf: bool = False

    def lines(self, depth: int) -> list[str]:
        mark = "✓" if self.matched else "✗"
        text = f"{'  ' * depth}{mark} {self.label}"
        if self.found:
            text += ": " + ", ".join(f'"{word}"' for word in self.found)
        elif self.is_leaf:
            text += ": no occurrence"
        return [text] + [line for child in self.children for line in child.lines(depth + 1)]


@dataclass(frozen=True, slots=True)
class Explanation:
    """The verdict for one rule and item, and the reasons."""

    rule_id: str
    matched: bool
    query: ExplainNode
    exclude: ExplainNode | None
    excluded: bool
    enabled: bool
    feeds: tuple[str, ...]
    feed_allowed: bool
    feed_name: str | None
    feed_tags: tuple[str, ...]
    lang: str | None = None
    segmentation: tuple[str, ...] = ()  # "field: word | word | stem+particle …" for non-spaced or Korean text

    def render(self) -> str:
        verdict = "MATCH" if self.matched else "NO MATCH"
        reasons = []
        if not self.enabled:
            reasons.append("rule is disabled")
        if not self.feed_allowed:
            reasons.append("feed not in the rule's feeds")
        if not self.query.matched:
            reasons.append("query is false")
        if self.excluded:
            reasons.append("exclude matched")
        lines = [f"rule {self.rule_id}: {verdict}" + (f" ({'; '.join(reasons)})" if reasons else "")]
        if self.lang is not None or self.segmentation:
            lines.append(f"  language: {self.lang or 'unknown'}")
        lines += [f"  words of {line}" for line in self.segmentation]
        lines.append("  query:")
        lines += self.query.lines(2)
        if self.exclude is None:
            lines.append("  exclude: none")
        else:
            lines.append(f"  exclude: {'matched, rule vetoed' if self.excluded else 'no match'}")
            lines += self.exclude.lines(2)
        lines.append(f"  feeds: {self._feeds_line()}")
        lines.append(f"  enabled: {'yes' if self.enabled else 'no'}")
        return "\n".join(lines)

    def _feeds_line(self) -> str:
        if not self.feeds:
            return "any feed"
        item = f"feed {self.feed_name!r}" if self.feed_name else "no feed name"
        if self.feed_tags:
            item += f" tags {', '.join(self.feed_tags)}"
        verdict = "allowed" if self.feed_allowed else "blocked"
        return f"only {', '.join(self.feeds)}; item has {item} → {verdict}"


def explain_node(node: Node, item: ItemText, scope: tuple[str, ...] = FIELDS) -> ExplainNode:
    """Evaluate ``node`` and record every sub-result."""
    matched = holds(node, item, scope)
    if isinstance(node, Literal):
        words = _texts(item, evidence(node, item, scope))
        return ExplainNode(node.source or render_node(node), matched, words, is_leaf=True)
    if isinstance(node, AliasRef):
        words = _texts(item, evidence(node, item, scope)) if matched else ()
        return ExplainNode("@" + node.name, matched, words, is_leaf=True)
    if isinstance(node, LangIs):
        return ExplainNode(f"lang:{node.code} (item: {item.lang or 'unknown'})", matched)
    if isinstance(node, Not):
        return ExplainNode("NOT", matched, children=(explain_node(node.child, item, scope),))
    if isinstance(node, And | Or):
        label = "AND" if isinstance(node, And) else "OR"
        children = tuple(explain_node(child, item, scope) for child in node.children)
        return ExplainNode(label, matched, children=children)
    if isinstance(node, Near):
        label = f"{'ONEAR' if node.ordered else 'NEAR'}/{node.distance}"
        pairs = tuple(
            " … ".join(_texts(item, {(f, s, e) for s, e in pair[2]}))
            for f in scope
            for pair in near_pairs(node, item, f)
        )
        children = (explain_node(node.left, item, scope), explain_node(node.right, item, scope))
        return ExplainNode(label, matched, tuple(dict.fromkeys(pairs)), children)
    if isinstance(node, FieldScope):
        inner = (node.field,) if node.field in scope else ()
        return ExplainNode(f"{node.field}:", matched, children=(explain_node(node.child, item, inner),))
    assert_never(node)


def _texts(item: ItemText, spans: set[WordSpan] | Sequence[WordSpan]) -> tuple[str, ...]:
    """Distinct matched texts, in field and position order."""
    texts: dict[str, None] = {}
    for field, first, end in sorted(spans, key=lambda s: (FIELDS.index(s[0]), s[1], s[2])):
        text = item.fields[field]
        start, stop = text.char_span(first, end)
        texts.setdefault(text.text[start:stop], None)
    return tuple(texts)


def segmentation(item: ItemText) -> tuple[str, ...]:
    """How each field written without spaces (Chinese, Japanese, Thai…) or in Korean was cut
    into words: "title: 北朝鮮 | が | ロシア", a Korean word with a particle as "북한+이"."""
    lines = []
    for name, field in item.fields.items():
        if not (field.has_stems or NO_SPACES_RE.search(field.text)):
            continue
        stems = field.stems("exact")
        shown = [
            f"{stems[i][0]}+{word[len(stems[i][0]) :]}" if i in stems else word for i, word in enumerate(field.words)
        ]
        lines.append(f"{name}: " + " | ".join(shown))
    return tuple(lines)
