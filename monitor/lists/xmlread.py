"""Streaming, safe reading of list XML: no DTD, no entities, no external references
(defusedxml), namespaces dropped, each record handed over and then freed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from monitor.lists.entries import ListFormatError


def local(tag: str) -> str:
    """``{namespace}name`` → ``name``: OFAC has changed its namespace before."""
    return tag.rsplit("}", 1)[-1]


def root_tag(data: bytes) -> str:
    """The local name of the document element."""
    for _, element in _events(data, ("start",)):
        return local(element.tag)
    raise ListFormatError("empty XML document")


def records(data: bytes, names: frozenset[str]) -> Iterator[Element]:
    """Each element whose local name is in ``names``, complete, then cleared (memory stays
    bounded by one record, whatever the file size)."""
    for _, element in _events(data, ("end",)):
        if local(element.tag) in names:
            yield element
            element.clear()


def text(element: Element, name: str) -> str | None:
    """Text of the first child with this local name, stripped; None when absent or empty."""
    for child in element:
        if local(child.tag) == name:
            value = (child.text or "").strip()
            return value or None
    return None


def children(element: Element, name: str) -> Iterator[Element]:
    """Children (at any depth) with this local name."""
    return (node for node in element.iter() if local(node.tag) == name and node is not element)


def _events(data: bytes, kinds: tuple[str, ...]) -> Iterator[tuple[str, Element]]:
    try:
        yield from iterparse(io.BytesIO(data), events=kinds, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ListFormatError(f"refused XML: {type(exc).__name__} (DTDs and entities are not allowed)") from exc
    except ParseError as exc:
        raise ListFormatError(f"not well-formed XML: {exc}") from exc
