"""OpenSanctions / FollowTheMoney entities, one JSON object per line.

Each line is read through the ``followthemoney`` model (``model.get_proxy``), which validates
the schema and cleans every property value by its type. Kept: people, organisations, companies
and other legal entities, vessels and aircraft; names from ``name``, ``alias`` and
``previousName`` (not ``weakAlias``: short nicknames that match ordinary words), vessel
identifiers from ``imoNumber`` and ``mmsi``. Entities that OpenSanctions marks ``"target":
false`` (relatives, addresses, owners that are not themselves listed) are skipped.
"""

from __future__ import annotations

import json
from typing import Any

from followthemoney import model
from followthemoney.exc import FollowTheMoneyException

from monitor.lists.entries import EntryCollector, ParsedList, clean_names, digits, make_entry
from monitor.rules.lists import ListEntry

MAX_LINE_BYTES = 1_000_000  # one entity; OpenSanctions' largest are a few tens of kB
_KEPT = tuple(model.get(name) for name in ("LegalEntity", "Vessel", "Airplane"))
_NAME_PROPS = ("name", "alias", "previousName")


def read_ftm(data: bytes) -> ParsedList:
    collector = EntryCollector("ftm")
    for line in data.splitlines():
        if not line.strip():
            continue
        collector.add(_entry(line) if len(line) <= MAX_LINE_BYTES else None)
    return collector.result()


def _entry(line: bytes) -> ListEntry | None:
    try:
        data: Any = json.loads(line)
        if not isinstance(data, dict) or data.get("target") is False:
            return None
        proxy = model.get_proxy(data, cleaned=False)
    except (ValueError, TypeError, FollowTheMoneyException):
        return None
    if proxy.id is None or not any(proxy.schema.is_a(kept) for kept in _KEPT if kept is not None):
        return None
    names = clean_names(v for prop in _NAME_PROPS for v in _values(proxy, prop))
    imo = digits(_values(proxy, "imoNumber"), 7)
    mmsi = digits(_values(proxy, "mmsi"), 9)
    return make_entry(proxy.id, proxy.schema.name, names, imo, mmsi)


def _values(proxy: Any, prop: str) -> list[str]:
    """A property's values, or none when the schema has no such property."""
    if proxy.schema.get(prop) is None:
        return []
    return [str(value) for value in proxy.get(prop)]
