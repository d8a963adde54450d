"""What every list reader shares: bounds on hostile input, identifiers, schemata."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from followthemoney import model

from monitor.rules.lists import ListEntry

# A list file is input from the network: each bound ends the read with an error, or drops the
# excess, in bounded time and memory.
MAX_ENTRIES = 500_000  # OFAC SDN ~18,000 entries, the OpenSanctions sanctions collection ~70,000
MAX_NAMES_PER_ENTRY = 100
MAX_NAME_CHARS = 200
MAX_IDENTIFIERS = 20
_DIGITS = re.compile(r"\d+")
# An IMO number in free text: "IMO 9187629", "IMO number: 9187629", "IMO No. 9187629".
IMO_IN_TEXT = re.compile(r"\bIMO(?:\s*(?:No\.?|Nr\.?|number))?\s*[:#]?\s*(\d{7})\b", re.IGNORECASE)


class ListFormatError(ValueError):
    """The file is not a list in the expected format (or breaks one of the bounds)."""


@dataclass(frozen=True, slots=True)
class ParsedList:
    format: str  # ftm | un | ofac
    entries: tuple[ListEntry, ...]
    skipped: int  # records that were not usable (no name, unknown schema, malformed)


@cache
def schemata_of(schema: str) -> frozenset[str]:
    """The FollowTheMoney schema and its ancestors (Vessel → Vessel, Vehicle, Asset, Thing, …)."""
    found = model.get(schema)
    return frozenset(s.name for s in found.schemata) if found is not None else frozenset({schema})


def digits(values: Iterable[str], length: int) -> tuple[str, ...]:
    """Identifiers of exactly ``length`` digits, in order, once each ("IMO 9187629" → 9187629)."""
    found = dict.fromkeys(run for value in values for run in _DIGITS.findall(value) if len(run) == length)
    return tuple(found)[:MAX_IDENTIFIERS]


def clean_names(names: Iterable[str | None]) -> tuple[str, ...]:
    """Distinct non-empty names, whitespace collapsed, each at most MAX_NAME_CHARS."""
    cleaned = (" ".join(name.split())[:MAX_NAME_CHARS] for name in names if name)
    return tuple(dict.fromkeys(name for name in cleaned if name))[:MAX_NAMES_PER_ENTRY]


def make_entry(entry_id: str, schema: str, names: tuple[str, ...], imo: tuple[str, ...] = (),
               mmsi: tuple[str, ...] = ()) -> ListEntry | None:  # fmt: skip
    """An entry, or None when it has nothing to match by."""
    if not names and not imo and not mmsi:
        return None
    caption = names[0] if names else f"IMO {imo[0]}" if imo else f"MMSI {mmsi[0]}"
    return ListEntry(entry_id[:200], caption, schema, schemata_of(schema), names, imo, mmsi)


class EntryCollector:
    """Entries in file order, one per id (the first wins), bounded by MAX_ENTRIES."""

    def __init__(self, fmt: str) -> None:
        self.format = fmt
        self._entries: dict[str, ListEntry] = {}
        self.skipped = 0

    def add(self, entry: ListEntry | None) -> None:
        if entry is None or entry.entry_id in self._entries:
            self.skipped += 1
            return
        if len(self._entries) >= MAX_ENTRIES:
            raise ListFormatError(f"more than {MAX_ENTRIES:,} entries")
        self._entries[entry.entry_id] = entry

    def result(self) -> ParsedList:
        if not self._entries:
            raise ListFormatError(f"no usable entry in the {self.format} file")
        return ParsedList(self.format, tuple(self._entries.values()), self.skipped)
