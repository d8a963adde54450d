"""Load YAML while remembering where every value came from, so errors can name file and line.

Configuration and rule files are untrusted input, so reading them is bounded (docs/operations.md,
"Limits"): a file is read only if it is a regular file of at most ``MAX_YAML_BYTES``; before
anything is built, one streaming pass over the parser's events refuses collections nested deeper
than ``MAX_YAML_DEPTH`` and aliases (``*name``) that would add more than ``YAML_ALIAS_BUDGET``
nodes when followed (a 552-byte "billion laughs" file otherwise expands to billions), and refuses
an alias to a collection that contains it (a cycle that every later walk would follow forever).
Duplicate keys in a mapping are errors instead of the last one silently winning.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

Location = tuple[str | int, ...]

MAX_YAML_BYTES = 2_000_000
MAX_YAML_DEPTH = 64
YAML_ALIAS_BUDGET = 10_000
# libyaml composes ~10x faster than the pure-Python loader and reports the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENERS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSERS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class YamlSourceError(Exception):
    """The file could not be read, is not valid YAML, or exceeds a limit."""

    def __init__(self, file: str, line: int, message: str, column: int = 1) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line
        self.column = column
        self.message = message


@dataclass(frozen=True, slots=True)
class YamlDocument:
    file: str
    data: Any
    lines: dict[Location, int]

    def line_of(self, location: Location) -> int:
        """Line (1-based) of the deepest known node on the path to `location`."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return 1


def read_yaml_text(path: Path) -> str:
    """The text of a regular file of at most MAX_YAML_BYTES. Devices, FIFOs and folders are
    refused before opening: reading ``/dev/zero`` never ends, and opening a FIFO blocks."""
    name = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise YamlSourceError(name, 1, "cannot read file: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise YamlSourceError(name, 1, f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > MAX_YAML_BYTES:
        raise YamlSourceError(name, 1, f"cannot read file: larger than {MAX_YAML_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSourceError(name, 1, f"not UTF-8 text: {exc.reason}") from exc


def load_yaml(path: Path) -> YamlDocument:
    return parse_yaml(read_yaml_text(path), str(path))


def parse_yaml(text: str, file: str) -> YamlDocument:
    node = compose_yaml(text, file)
    lines: dict[Location, int] = {}
    if node is None:
        return YamlDocument(file=file, data=None, lines=lines)
    _index(node, (), lines, file)
    # Built from the checked nodes (not parsed again); the constructor shares aliased values.
    data = SafeConstructor().construct_document(node)
    return YamlDocument(file=file, data=data, lines=lines)


def compose_yaml(text: str, file: str) -> yaml.Node | None:
    """The document's node graph, after the limits check; raises YamlSourceError."""
    try:
        check_limits(text, file)
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        line, column = _position(exc.problem_mark or exc.context_mark)
        raise YamlSourceError(file, line, f"invalid YAML: {exc.problem or exc.context}", column) from exc
    except yaml.YAMLError as exc:
        raise YamlSourceError(file, 1, f"invalid YAML: {exc}") from exc


def check_limits(text: str, file: str) -> None:
    """One pass over the parser's events (constant work per event, nothing built): nesting
    depth, the nodes that aliases would add, and aliases into their own collection."""
    open_sizes: list[int] = []  # nodes so far in each open collection, itself included
    open_anchors: list[str | None] = []
    sizes: dict[str, int] = {}  # anchor → node count of the value it names, aliases expanded
    added = 0
    for event in yaml.parse(text, Loader=_LOADER):
        size = 0
        if isinstance(event, _OPENERS):
            if len(open_sizes) >= MAX_YAML_DEPTH:
                _limit_error(file, event, f"nested more than {MAX_YAML_DEPTH} levels deep")
            open_sizes.append(1)
            open_anchors.append(event.anchor)
        elif isinstance(event, _CLOSERS):
            size = open_sizes.pop()
            anchor = open_anchors.pop()
            if anchor is not None:
                sizes[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                _limit_error(file, event, f"alias *{event.anchor} refers to a collection that contains it")
            size = sizes.get(event.anchor or "", 1)  # an undefined alias is compose's error
            added += size
            if added > YAML_ALIAS_BUDGET:
                message = f"aliases (*{event.anchor}) expand to more than {YAML_ALIAS_BUDGET:,} nodes"
                _limit_error(file, event, message)
        if open_sizes:
            open_sizes[-1] += size


def _limit_error(file: str, event: yaml.Event, message: str) -> None:
    line, column = _position(event.start_mark)
    raise YamlSourceError(file, line, message, column)


def _position(mark: Any) -> tuple[int, int]:
    """1-based (line, column) of a parser mark (pure-Python and libyaml marks differ in type)."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _index(node: yaml.Node, location: Location, lines: dict[Location, int], file: str) -> None:
    """Line of every value by its path; refuses duplicate keys. check_limits bounds the walk:
    aliased values are visited once per alias, at most YAML_ALIAS_BUDGET extra nodes."""
    lines[location] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            key_line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key in first_line:
                    raise YamlSourceError(file, key_line, f'duplicate key "{key}" (first at line {first_line[key]})')
                first_line[key] = key_line
            _index(value_node, (*location, key), lines, file)
            # the key's own line is more useful than the value's for "unknown key" errors
            lines[(*location, key)] = key_line
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _index(child, (*location, index), lines, file)
