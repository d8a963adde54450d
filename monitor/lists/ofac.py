"""OFAC's SDN list in its XML form (``sdnList`` of ``sdnEntry``, the format of sdn.xml).

An entry's id is its ``uid``. Names: ``firstName lastName`` and, for individuals, also
``lastName firstName`` (OFAC files family names first, and news writes Korean and Chinese names
that way), plus every ``strong`` a.k.a. (``weak`` ones are short nicknames). Vessels carry their
IMO number as an ``id`` of type "Vessel Registration Identification" and their MMSI as type
"MMSI". ``sdnType`` maps to FollowTheMoney schemata: Individual → Person, Entity →
Organization, Vessel → Vessel, Aircraft → Airplane.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from monitor.lists.entries import EntryCollector, ListFormatError, ParsedList, clean_names, digits, make_entry
from monitor.lists.xmlread import children, records, root_tag, text
from monitor.rules.lists import ListEntry

ROOT = "sdnList"
_SCHEMATA = {"Individual": "Person", "Entity": "Organization", "Vessel": "Vessel", "Aircraft": "Airplane"}
_IMO_TYPE = "Vessel Registration Identification"


def read_ofac(data: bytes) -> ParsedList:
    if root_tag(data) != ROOT:
        raise ListFormatError(f"not an OFAC SDN list (no {ROOT} element)")
    collector = EntryCollector("ofac")
    for record in records(data, frozenset({"sdnEntry"})):
        collector.add(_entry(record))
    return collector.result()


def _entry(record: Element) -> ListEntry | None:
    uid = text(record, "uid")
    if uid is None:
        return None
    schema = _SCHEMATA.get(text(record, "sdnType") or "", "Organization")
    person = schema == "Person"
    names = _names(record, person)
    for aka in children(record, "aka"):
        if (text(aka, "category") or "strong").lower() != "weak":
            names += _names(aka, person)
    ids = [(text(i, "idType") or "", text(i, "idNumber") or "") for i in children(record, "id")]
    imo = digits([number for kind, number in ids if kind == _IMO_TYPE], 7)
    mmsi = digits([number for kind, number in ids if kind == "MMSI"], 9)
    return make_entry(uid, schema, clean_names(names), imo, mmsi)


def _names(element: Element, person: bool) -> list[str]:
    first, last = text(element, "firstName"), text(element, "lastName")
    if first and last:
        return [f"{first} {last}", f"{last} {first}"] if person else [f"{first} {last}"]
    return [name for name in (last, first) if name]
