"""The three list formats, read from hand-written excerpts; hostile XML is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.lists.entries import ListFormatError
from monitor.lists.formats import detect_format, read_list

SAMPLES = Path(__file__).parent / "samples"


def entries(name: str) -> dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    parsed = read_list((SAMPLES / name).read_bytes())
    return {e.entry_id: (e.schema, e.names, e.imo, e.mmsi) for e in parsed.entries}


def test_ofac_sdn_xml() -> None:
    found = entries("ofac_sdn.xml")
    assert found["90001"] == ("Vessel", ("SEA PIONEER 7", "OCEAN BRIGHT"), ("9570853",), ("667001234",))
    # individuals in both name orders; the weak a.k.a. "KIM" is left out
    assert found["90002"] == ("Person", ("Chol Su KIM", "KIM Chol Su"), (), ())
    assert found["90004"][0] == "Airplane"


def test_un_consolidated_xml() -> None:
    found = entries("un_consolidated.xml")
    assert found["KPi.901"] == ("Person", ("RI MYONG HO", "리명호", "Ri Myong-ho"), (), ())  # no Low-quality "Ri"
    assert found["KPe.901"][2] == ("8306345",)  # the IMO number written in the comments


def test_opensanctions_followthemoney_lines() -> None:
    parsed = read_list((SAMPLES / "opensanctions.ftm.json").read_bytes())
    found = {e.entry_id: e for e in parsed.entries}
    assert set(found) == {"os-vessel-1", "os-person-1", "os-company-1"}  # no non-targets, no broken lines
    assert parsed.skipped == 5
    vessel = found["os-vessel-1"]
    assert (vessel.imo, vessel.mmsi, "Vessel" in vessel.schemata) == (("9321483",), ("613001234",), True)
    assert "Pak" not in found["os-person-1"].names  # weakAlias
    assert "LegalEntity" in found["os-company-1"].schemata


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<sdnList><sdnEntry><uid>1</uid><lastName>&b;</lastName></sdnEntry></sdnList>",
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<CONSOLIDATED_LIST><ENTITIES><ENTITY><DATAID>1</DATAID><FIRST_NAME>&x;</FIRST_NAME></ENTITY></ENTITIES>"
        b"</CONSOLIDATED_LIST>",
        b"<sdnList><sdnEntry><uid>1</uid><lastName>unclosed",
        b"<html><body>not a list</body></html>",
        b"plain text",
        b"<sdnList></sdnList>",
    ],
)
def test_hostile_or_wrong_files_are_refused(document: bytes) -> None:
    with pytest.raises(ListFormatError):
        read_list(document)


def test_format_detection() -> None:
    found = [detect_format((SAMPLES / n).read_bytes()) for n in ("ofac_sdn.xml", "un_consolidated.xml")]
    assert found == ["ofac", "un"]
    assert detect_format(b'\xef\xbb\xbf {"id": "x"}') == "ftm"
