"""OCEL XML read entry by entry (``sim/twin/ocel_xml.py``): never the whole tree, bounded, typed."""

from __future__ import annotations

import gzip

import pytest

from ordercycle.sim.twin.ocel import OcelError
from ordercycle.sim.twin.ocel_read import read_ocel
from ordercycle.sim.twin.ocel_xml import read_xml

HEAD = "<?xml version='1.0' encoding='UTF-8'?>\n<log>\n"
TYPES = ('<object-types><object-type name="orders"><attributes><attribute name="quantity" type="integer"/>'
         "</attributes></object-type></object-types>\n"
         '<event-types><event-type name="place order"><attributes>'
         '<attribute name="channel" type="string"/></attributes></event-type></event-types>\n')


def _event(k: int, time: bool = True) -> str:
    stamp = f' time="2023-04-03T09:{k % 60:02d}:00"' if time else ""
    return (f'<event id="e{k}" type="place order"{stamp}><attributes><attribute name="channel">web'
            f'</attribute></attributes><objects><relationship object-id="o{k}" qualifier="order"/>'
            "</objects></event>\n")


def _objects(n: int) -> str:
    return "<objects>" + "".join(
        f'<object id="o{k}" type="orders"><attributes><attribute name="quantity" '
        f'time="1970-01-01T00:00:00Z">{k}</attribute></attributes></object>' for k in range(n)
    ) + "</objects>\n"


def test_an_entry_is_read_when_its_end_tag_is_read(tmp_path):
    """The fourth event lacks its time and the file is cut after it: the whole-tree reader could only
    say the XML is unreadable; read entry by entry, the broken event is named before the cut is met."""
    path = tmp_path / "cut.xmlocel"
    path.write_text(HEAD + TYPES + _objects(5) + "<events>" + "".join(_event(k) for k in range(3))
                    + _event(3, time=False) + "<event id='e4' type=")
    with pytest.raises(OcelError) as error:
        read_ocel(path)
    assert "events/event[3] (id 'e3'): <event> without attribute 'time'" in str(error.value)


def test_declarations_after_the_entries_still_type_them(tmp_path):
    path = tmp_path / "late-types.xmlocel"
    path.write_text(HEAD + _objects(3) + "<events>" + "".join(_event(k) for k in range(3)) + "</events>\n"
                    + TYPES + "</log>")
    tables = read_ocel(path)
    quantity = tables.object_attributes["orders"].set_index("ocel_id")["quantity"]
    assert quantity.to_dict() == {"o0": 0, "o1": 1, "o2": 2} and quantity.dtype.kind == "i"
    assert list(tables.events["channel"]) == ["web"] * 3 and tables.source_format == "OCEL 2.0 XML"


def test_gzipped_xml_is_unpacked_as_it_is_read_and_bounded(tmp_path):
    events = "".join(_event(k) for k in range(200))
    text = HEAD + TYPES + _objects(200) + "<events>" + events + "</events></log>"
    path = tmp_path / "log.xmlocel.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert len(read_ocel(path).events) == 200
    with pytest.raises(OcelError, match="more than the 10,000 bytes of XML read"):  # a gzip bomb stops
        read_xml(path, gzipped=True, max_bytes=10_000)
