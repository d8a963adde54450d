"""The compiled, immutable set of rules that the pipeline matches items against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from monitor.rules.evaluate import WordSpan, evidence
from monitor.rules.explain import Explanation, explain_node, segmentation
from monitor.rules.itemtext import ItemText
from monitor.rules.lists import entities_found, entity_ors
from monitor.rules.model import Rule
from monitor.rules.prefilter import Prefilter
from monitor.rules.program import ProgramCompiler
from monitor.rules.snippet import make_snippet
from monitor.rules.syntax import FIELDS, Node, Or
from monitor.rules.text import fold
from monitor.types import RuleMatch, Span


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    query: Node  # aliases resolved
    exclude: Node | None

    def feed_allowed(self, feed_name: str | None, feed_tags: Sequence[str]) -> bool:
        """No ``feeds`` list: every feed. Otherwise the item's feed name or one of its tags
        must be listed (case-insensitive); an item without feed name and tags is blocked."""
        if not self.rule.feeds:
            return True
        wanted = {fold(name) for name in self.rule.feeds}
        offered = ([feed_name] if feed_name else []) + list(feed_tags)
        return any(fold(name) in wanted for name in offered)


class RuleSet:
    """Compiled rules. Immutable after construction, so one instance can serve many threads;
    every call works on its own per-item state."""

    __slots__ = ("_active", "_by_id", "_entity_ors", "_feeds", "_prefilter", "_tests", "rules")

    def __init__(self, compiled: Sequence[CompiledRule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(c.rule for c in compiled)
        self._by_id = {c.rule.id: c for c in compiled}
        self._active = tuple(sorted((c for c in compiled if c.rule.enabled), key=lambda c: c.rule.id))
        self._prefilter = Prefilter([c.query for c in self._active])
        self._feeds = [frozenset(fold(name) for name in c.rule.feeds) for c in self._active]
        self._entity_ors: dict[str, tuple[Or, ...]] = {c.rule.id: entity_ors(c.query) for c in self._active}
        compiler = ProgramCompiler()
        self._tests = [
            (compiler.compile(c.query), compiler.compile(c.exclude) if c.exclude else None) for c in self._active
        ]

    def __len__(self) -> int:
        return len(self.rules)

    def muted_on(self, today: date) -> frozenset[str]:
        """Ids of the rules muted on ``today``: they still match and store hits, but alert no one."""
        return frozenset(rule.id for rule in self.rules if rule.is_muted(today))

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError if there is none."""
        return self._by_id[rule_id].rule

    def match(
        self,
        fields: Mapping[str, str],
        *,
        feed_name: str | None = None,
        feed_tags: Sequence[str] = (),
        lang: str | None = None,
    ) -> tuple[RuleMatch, ...]:
        """Enabled rules whose query holds, whose exclude does not, and whose feeds filter lets
        the item through; sorted by rule id. ``fields``: title/summary/content plain text;
        ``lang``: the item's detected language (monitor.langid), for ``lang:`` scopes."""
        item = ItemText(fields, lang)
        return tuple(
            _rule_match(compiled.rule, item, evidence(compiled.query, item), self._entity_ors[compiled.rule.id])
            for compiled in self._decide(item, feed_name, feed_tags)
        )

    def match_ids(
        self,
        fields: Mapping[str, str],
        *,
        feed_name: str | None = None,
        feed_tags: Sequence[str] = (),
        lang: str | None = None,
    ) -> tuple[str, ...]:
        """The ids ``match`` would return, without building evidence and snippets."""
        item = ItemText(fields, lang)
        return tuple(c.rule.id for c in self._decide(item, feed_name, feed_tags))

    def prospects(
        self,
        fields: Mapping[str, str],
        *,
        feed_name: str | None = None,
        feed_tags: Sequence[str] = (),
        partial: bool = False,
        lang: str | None = None,
    ) -> tuple[str, ...]:
        """Ids of the enabled rules (feeds filter applied) that pass the prefilter on these
        fields, whether or not they match: every requirement group it checks, or with
        ``partial`` any one of them. A rule that is no prospect cannot match unless more text
        brings its words (full text is fetched for prospects only)."""
        item = ItemText(fields, lang)
        keys, texts = item.prefilter_input(self._prefilter.loose)
        found = sorted(self._prefilter.touched(keys, texts)) if partial else self._prefilter.candidates(keys, texts)
        return tuple(self._active[i].rule.id for i in self._feed_allowed(found, feed_name, feed_tags))

    def _feed_allowed(self, indexes: Sequence[int], feed_name: str | None, feed_tags: Sequence[str]) -> list[int]:
        offered = {fold(name) for name in ([feed_name] if feed_name else []) + list(feed_tags)}
        feeds = self._feeds
        return [i for i in indexes if not feeds[i] or not feeds[i].isdisjoint(offered)]

    def _decide(self, item: ItemText, feed_name: str | None, feed_tags: Sequence[str]) -> list[CompiledRule]:
        keys, texts = item.prefilter_input(self._prefilter.loose)
        found = []
        candidates = self._prefilter.candidates(keys, texts)
        for index in self._feed_allowed(candidates, feed_name, feed_tags):
            query, exclude = self._tests[index]
            if query(item) and not (exclude is not None and exclude(item)):
                found.append(self._active[index])
        return found

    def explain(
        self,
        rule_id: str,
        fields: Mapping[str, str],
        *,
        feed_name: str | None = None,
        feed_tags: Sequence[str] = (),
        lang: str | None = None,
    ) -> Explanation:
        """Why ``rule_id`` did or did not match; ``matched`` equals what match() decides."""
        compiled = self._by_id[rule_id]
        item = ItemText(fields, lang)
        query = explain_node(compiled.query, item)
        exclude = explain_node(compiled.exclude, item) if compiled.exclude is not None else None
        excluded = exclude is not None and exclude.matched
        allowed = compiled.feed_allowed(feed_name, feed_tags)
        enabled = compiled.rule.enabled
        return Explanation(
            rule_id=rule_id,
            matched=enabled and allowed and query.matched and not excluded,
            query=query,
            exclude=exclude,
            excluded=excluded,
            enabled=enabled,
            feeds=compiled.rule.feeds,
            feed_allowed=allowed,
            feed_name=feed_name,
            feed_tags=tuple(feed_tags),
            lang=lang,
            segmentation=segmentation(item),
        )

    def query_tree(self, rule_id: str) -> Node:
        """The compiled query (aliases resolved), e.g. for tools that display rules."""
        return self._by_id[rule_id].query

    def exclude_tree(self, rule_id: str) -> Node | None:
        """The compiled exclude query, if the rule has one."""
        return self._by_id[rule_id].exclude


def spans_of(item: ItemText, found: set[WordSpan]) -> tuple[Span, ...]:
    """Word stretches → character spans, in field order then position."""
    spans = []
    for field, first, end in sorted(found, key=lambda s: (FIELDS.index(s[0]), s[1], s[2])):
        text = item.fields[field]
        start, stop = text.char_span(first, end)
        spans.append(Span(field, start, stop, text.text[start:stop]))
    return tuple(spans)


def _rule_match(rule: Rule, item: ItemText, found: set[WordSpan], ors: tuple[Or, ...]) -> RuleMatch:
    spans = spans_of(item, found)
    texts = {name: field.text for name, field in item.fields.items()}
    return RuleMatch(
        rule_id=rule.id,
        rule_title=rule.title,
        severity=rule.severity,
        notify=rule.notify,
        spans=spans,
        snippet=make_snippet(texts, spans),
        entities=entities_found(ors, item, found) if ors else (),
    )
