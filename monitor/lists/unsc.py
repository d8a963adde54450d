"""The UN Security Council consolidated list (``CONSOLIDATED_LIST`` XML, as published at
scsanctions.un.org): ``INDIVIDUALS/INDIVIDUAL`` and ``ENTITIES/ENTITY`` records.

An entry's id is its permanent reference number (``KPi.033``, ``KPe.001``), falling back to
``DATAID``. Names: the name parts ``FIRST_NAME`` … ``FOURTH_NAME`` joined in order, the name
in original script, and aliases except those the Committee rates ``Low`` quality. The list
has no vessel records; an IMO number written in an entity's comments is kept.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from monitor.lists.entries import IMO_IN_TEXT, EntryCollector, ListFormatError, ParsedList, clean_names, make_entry
from monitor.lists.xmlread import children, records, root_tag, text
from monitor.rules.lists import ListEntry

ROOT = "CONSOLIDATED_LIST"
_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_KINDS = {"INDIVIDUAL": ("Person", "INDIVIDUAL_ALIAS"), "ENTITY": ("Organization", "ENTITY_ALIAS")}


def read_unsc(data: bytes) -> ParsedList:
    if root_tag(data) != ROOT:
        raise ListFormatError(f"not a UN consolidated list (no {ROOT} element)")
    collector = EntryCollector("un")
    for record in records(data, frozenset(_KINDS)):
        collector.add(_entry(record))
    return collector.result()


def _entry(record: Element) -> ListEntry | None:
    schema, alias_tag = _KINDS[record.tag.rsplit("}", 1)[-1]]
    entry_id = text(record, "REFERENCE_NUMBER") or text(record, "DATAID")
    if entry_id is None:
        return None
    full = " ".join(part for part in (text(record, name) for name in _NAME_PARTS) if part)
    aliases = [text(alias, "ALIAS_NAME") for alias in children(record, alias_tag) if text(alias, "QUALITY") != "Low"]
    names = clean_names([full, text(record, "NAME_ORIGINAL_SCRIPT"), *aliases])
    comments = text(record, "COMMENTS1") or ""
    imo = tuple(dict.fromkeys(IMO_IN_TEXT.findall(comments)))
    return make_entry(entry_id, schema, names, imo)
