"""The typed query tree. Every node records ``pos``, its character offset in the query text,
so that later stages (alias resolution, validation) can point errors at the right spot.

To add an operator: add a frozen dataclass here, include it in ``Node``, and handle it in
parser.py, evaluate.py, naive.py, prefilter.py (``requirements``) and explain.py; mypy's
exhaustiveness checks (``assert_never``) point at every place that needs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import TypeAlias

from monitor.types import EntityRef

FIELDS = ("title", "summary", "content")


@dataclass(frozen=True, slots=True)
class WordPattern:
    """One word of a literal; ``text`` is case-folded unless the literal is case-sensitive."""

    text: str
    prefix: bool = False  # trailing * : any word starting with text

    def __str__(self) -> str:
        return self.text + ("*" if self.prefix else "")


@dataclass(frozen=True, slots=True)
class Literal:
    """A word or a phrase (consecutive words). ``loose`` (written ``~``): the words are
    compared accent-, width- and case-insensitively (segment.loose folds ``words`` that way)."""

    words: tuple[WordPattern, ...]
    case_sensitive: bool = False
    source: str = ""  # as written, for explanations
    pos: int = 0
    loose: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def mode(self) -> str:
        """How words are compared: "exact", "folded" (case-insensitive) or "loose"."""
        return "loose" if self.loose else "exact" if self.case_sensitive else "folded"

    def key(self) -> tuple[tuple[WordPattern, ...], str]:
        """Identity for caching: two literals with equal keys always match the same words."""
        return (self.words, self.mode)


@dataclass(frozen=True, slots=True)
class AliasRef:
    """``@name``; ``expansion`` (an Or of the members) is filled in when aliases are resolved."""

    name: str
    pos: int = 0
    expansion: Node | None = None


@dataclass(frozen=True, slots=True)
class LangIs:
    """``lang:ko``: true when the item's detected language is ``code`` (no word position)."""

    code: str
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    pos: int = 0


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True, slots=True)
class TermIndex:
    """Which members of a very large OR (an entity list's names) can occur in an item at all.

    A literal can only occur where its first word does, so members are filed under their
    case-folded first word; members starting with a prefix, and members that are not literals,
    are always looked at. Evaluating such an OR then costs what the item's words reach, not
    what the list holds. ``owners`` names the list entry behind each member (None: none)."""

    by_word: Mapping[str, tuple[int, ...]]
    always: tuple[int, ...] = ()
    owners: tuple[EntityRef | None, ...] = ()

    def members(self, present: Set[str]) -> list[int]:
        """Positions of the members worth evaluating for an item with these folded words,
        ascending (so results do not depend on set order)."""
        by_word = self.by_word
        found = [i for word in present if word in by_word for i in by_word[word]]
        return sorted({*found, *self.always})


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    pos: int = 0
    # Only on ORs built from entity lists (rules/lists.py); evaluation is the same without it.
    index: TermIndex | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Near:
    """``left NEAR/distance right``: at most ``distance`` other words between the two, in the same
    field; ``ordered`` (ONEAR) also requires left to come first."""

    left: Node
    right: Node
    distance: int
    ordered: bool = False
    pos: int = 0


@dataclass(frozen=True, slots=True)
class FieldScope:
    """``title:(...)``: the child is evaluated against one field only."""

    field: str
    child: Node
    pos: int = 0


Node: TypeAlias = Literal | AliasRef | LangIs | Not | And | Or | Near | FieldScope

DEFAULT_NEAR = 10


def children(node: Node) -> tuple[Node, ...]:
    """The operands of an operator node as written (an alias's expansion is not one)."""
    if isinstance(node, Literal | AliasRef | LangIs):
        return ()
    if isinstance(node, Not | FieldScope):
        return (node.child,)
    if isinstance(node, Near):
        return (node.left, node.right)
    return node.children


def is_positional(node: Node) -> bool:
    """Whether the node yields word positions, i.e. may be an operand of NEAR/ONEAR."""
    if isinstance(node, Literal | AliasRef | Near):
        return True
    if isinstance(node, Or):
        return all(is_positional(child) for child in node.children)
    if isinstance(node, FieldScope):
        return is_positional(node.child)
    return False


def matches_empty(node: Node) -> bool:
    """Whether the query would match a text containing none of its words (e.g. ``NOT x``,
    ``lang:ko``)."""
    if isinstance(node, LangIs):
        return True
    if isinstance(node, Literal | AliasRef | Near):
        return False
    if isinstance(node, Not):
        return not matches_empty(node.child)
    if isinstance(node, And):
        return all(matches_empty(child) for child in node.children)
    if isinstance(node, Or):
        return any(matches_empty(child) for child in node.children)
    return matches_empty(node.child)


def literals(node: Node) -> list[Literal]:
    """Every literal in the tree, alias expansions included, in order."""
    if isinstance(node, Literal):
        return [node]
    if isinstance(node, AliasRef):
        return literals(node.expansion) if node.expansion is not None else []
    if isinstance(node, LangIs):
        return []
    if isinstance(node, Not | FieldScope):
        return literals(node.child)
    if isinstance(node, Near):
        return literals(node.left) + literals(node.right)
    return [lit for child in node.children for lit in literals(child)]


def render(node: Node) -> str:
    """Canonical text of a node (fully parenthesised), for explanations and tests."""
    if isinstance(node, Literal):
        body = " ".join(str(w) for w in node.words)
        text = f'"{body}"' if node.is_phrase else body
        return ("=" if node.case_sensitive else "~" if node.loose else "") + text
    if isinstance(node, AliasRef):
        return "@" + node.name
    if isinstance(node, LangIs):
        return "lang:" + node.code
    if isinstance(node, Not):
        return f"NOT {render(node.child)}"
    if isinstance(node, And | Or):
        op = " AND " if isinstance(node, And) else " OR "
        return "(" + op.join(render(c) for c in node.children) + ")"
    if isinstance(node, Near):
        op = "ONEAR" if node.ordered else "NEAR"
        return f"({render(node.left)} {op}/{node.distance} {render(node.right)})"
    return f"{node.field}:({render(node.child)})"
