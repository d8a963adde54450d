"""Entity lists as alias expansions (pure): ``@list:NAME`` and ``@list:NAME[Schema]``.

A list is data handed to the compiler (``WatchList``), never read here. Each reference becomes
an OR of literals, one per name and per identifier spelling, carrying a TermIndex (syntax.py) so
that a 50,000-name list costs what an item's words reach, and naming the entry behind every
literal so a match can say which entries it found.

Vessel identifiers are matched in the spellings news text uses: ``IMO 9570853``,
``IMO9570853``, ``IMO No. 9570853``, ``IMO number 9570853`` (and the same for MMSI). Punctuation
between words never matters (text.py), so ``IMO: 9570853`` and ``(IMO-9570853)`` are the first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import assert_never

from monitor.rules.evaluate import WordSpan
from monitor.rules.itemtext import ItemText
from monitor.rules.lexer import LIST_REF_RE as REF_RE
from monitor.rules.syntax import (
    FIELDS,
    AliasRef,
    And,
    FieldScope,
    LangIs,
    Literal,
    Near,
    Node,
    Not,
    Or,
    TermIndex,
    WordPattern,
)
from monitor.rules.text import fold, words
from monitor.types import EntityRef

LIST_PREFIX = "list:"
# The words that may stand between the scheme and the number: "IMO 9570853", "IMO No. 9570853".
_IDENTIFIER_WORDS = ("", "no", "nr", "number")
# Names this short match too much running text ("AL", "SUN") to be worth an alert on their own.
MIN_NAME_CHARS = 4


@dataclass(frozen=True, slots=True)
class ListEntry:
    entry_id: str
    caption: str  # the main name, shown in alerts
    schema: str  # FollowTheMoney schema name: Person, Organization, Company, Vessel, …
    schemata: frozenset[str]  # the schema and its ancestors, for [Schema] filters
    names: tuple[str, ...]  # caption, aliases, previous names
    imo: tuple[str, ...] = ()  # 7 digits each
    mmsi: tuple[str, ...] = ()  # 9 digits each


@dataclass(frozen=True, slots=True)
class WatchList:
    name: str
    version: str  # changes whenever the entries do (the store uses the SHA-256 of the content)
    entries: tuple[ListEntry, ...]


def parse_ref(name: str) -> tuple[str, str | None] | None:
    """(list name, schema or None) of an alias name written ``list:NAME[Schema]``, else None."""
    found = REF_RE.fullmatch(name)
    return None if found is None else (found.group(1), found.group(2))


def is_list_ref(name: str) -> bool:
    return name.startswith(LIST_PREFIX)


def list_refs(node: Node) -> Iterator[str]:
    """The ``list:…`` alias names a query tree uses (as written, before resolution)."""
    if isinstance(node, AliasRef):
        if is_list_ref(node.name):
            yield node.name
    elif isinstance(node, Not | FieldScope):
        yield from list_refs(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from list_refs(child)
    elif isinstance(node, Near):
        yield from list_refs(node.left)
        yield from list_refs(node.right)
    elif not isinstance(node, Literal | LangIs):
        assert_never(node)


def expand(ref: str, lists: Mapping[str, WatchList], built: dict[str, Literal | None] | None = None) -> Node | str:
    """The OR a reference stands for, or why it cannot be resolved (an error message).
    ``built``: literals already made for other references to the list, by text."""
    parsed = parse_ref(ref)
    if parsed is None:
        return f'invalid list reference "@{ref}" (write @list:NAME or @list:NAME[Schema])'
    name, schema = parsed
    watch = lists.get(name)
    if watch is None:
        known = ", ".join(sorted(lists)) or "none; import one with `monitor lists import NAME FILE|URL`"
        return f"unknown list @list:{name} (imported lists: {known})"
    entries = watch.entries
    if schema is not None:
        entries = tuple(e for e in entries if _has_schema(e, schema))
        if not entries:
            found = ", ".join(sorted({e.schema for e in watch.entries})) or "none"
            return f"list {name} has no {schema} entries (its schemata: {found})"
    node = entries_node(name, entries, {} if built is None else built)
    return node if node is not None else f"list {name} has no name long enough to match"


def _has_schema(entry: ListEntry, schema: str) -> bool:
    wanted = schema.lower()
    return any(s.lower() == wanted for s in entry.schemata)


def entries_node(list_name: str, entries: tuple[ListEntry, ...], built: dict[str, Literal | None]) -> Or | None:
    """One literal per distinct name or identifier spelling of each entry, with its index."""
    children: list[Node] = []
    owners: list[EntityRef | None] = []
    for entry in entries:
        owner = EntityRef(list_name, entry.entry_id, entry.caption, entry.schema)
        for text in dict.fromkeys(terms(entry)):
            literal = built[text] if text in built else built.setdefault(text, _literal(text))
            if literal is not None:
                children.append(literal)
                owners.append(owner)
    if not children:
        return None
    return Or(tuple(children), 0, index_of(children, owners))


def terms(entry: ListEntry) -> Iterator[str]:
    """The texts an entry is matched by: its names (also without diacritics, since news text
    often drops them) and every spelling of its identifiers."""
    for name in entry.names:
        yield name
        plain = strip_marks(name)
        if plain != name:
            yield plain
    for scheme, numbers in (("IMO", entry.imo), ("MMSI", entry.mmsi)):
        for number in numbers:
            yield from identifier_spellings(scheme, number)


def identifier_spellings(scheme: str, number: str) -> list[str]:
    """``IMO9570853`` (one word), ``IMO 9570853``, ``IMO No 9570853``, ``IMO Nr 9570853`` and
    ``IMO number 9570853``; punctuation around them does not matter."""
    return [f"{scheme}{number}"] + [" ".join(filter(None, (scheme, word, number))) for word in _IDENTIFIER_WORDS]


def strip_marks(text: str) -> str:
    """``Pyŏngyang`` → ``Pyongyang``: combining marks dropped after canonical decomposition."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _literal(text: str) -> Literal | None:
    """A name as a case-insensitive literal of its words (what make_literal builds for the same
    text, without its wildcard and error handling: '*' in a name is data, and a list of 50,000
    names must compile in a few seconds)."""
    found = words(text)
    if sum(map(len, found)) < MIN_NAME_CHARS:
        return None
    return Literal(tuple(WordPattern(fold(word)) for word in found), False, text, 0)


def index_of(children: list[Node], owners: list[EntityRef | None]) -> TermIndex:
    by_word: dict[str, list[int]] = {}
    always: list[int] = []
    for position, child in enumerate(children):
        if not isinstance(child, Literal) or child.words[0].prefix:
            always.append(position)
            continue
        first = child.words[0].text
        by_word.setdefault(fold(first) if child.case_sensitive else first, []).append(position)
    frozen = {word: tuple(positions) for word, positions in by_word.items()}
    return TermIndex(frozen, tuple(always), tuple(owners))


MAX_ENTITIES_PER_MATCH = 50  # evidence stays bounded when a text names half a list


def entity_ors(node: Node) -> tuple[Or, ...]:
    """The list expansions in a resolved query (each once), for naming the entries it found."""
    found: dict[int, Or] = {}
    _collect(node, found)
    return tuple(found.values())


def _collect(node: Node, found: dict[int, Or]) -> None:
    if isinstance(node, AliasRef):
        expansion = node.expansion
        if is_list_ref(node.name) and isinstance(expansion, Or) and expansion.index is not None:
            found.setdefault(id(expansion), expansion)
    elif isinstance(node, Not):
        return  # nothing under NOT is evidence
    elif isinstance(node, FieldScope):
        _collect(node.child, found)
    elif isinstance(node, And | Or):
        for child in node.children:
            _collect(child, found)
    elif isinstance(node, Near):
        _collect(node.left, found)
        _collect(node.right, found)


def entities_found(ors: tuple[Or, ...], item: ItemText, evidence: set[WordSpan]) -> tuple[EntityRef, ...]:
    """The entries whose literals occur exactly where the match's evidence is."""
    found: dict[EntityRef, None] = {}
    for node in ors:
        index = node.index
        assert index is not None
        for position in index.members(item.present):
            owner, child = index.owners[position], node.children[position]
            if owner is None or owner in found or not isinstance(child, Literal):
                continue
            size = len(child.words)
            if any((field, start, start + size) in evidence for field in FIELDS for start in item.starts(child, field)):
                found[owner] = None
                if len(found) >= MAX_ENTITIES_PER_MATCH:
                    return tuple(found)
    return tuple(found)
