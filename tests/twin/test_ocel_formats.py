"""Reading OCEL as pm4py and the standard write it: 2.0 JSON, XML, SQLite; 1.0 JSON, XML; pm4py's 1.0 SQLite.

The same order-management log (``ocel_factory.order_management``, two weeks) written by
pm4py in each format must read to the same case view: the same events on the same orders,
the same order lines and package contents (OCEL 1.0 has no object-to-object relations: the
objects are linked through the events they share). Hand-written files in the standard's
layouts (initial attribute rows at 1970-01-01 and changes in the SQLite object tables,
objects without attributes in JSON, typed XML values) read as their authors meant, and
malformed ones are refused naming the file, the table or element, and the column.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from ocel_factory import FORMATS, Truth, order_management, write_all

from ordercycle.sim.twin.logs import LogError, Mapping, load_mapping, read_log
from ordercycle.sim.twin.ocel import OcelError, read_ocel

MAPPING = Path(__file__).resolve().parents[2] / "scenarios" / "twin" / "order-management-mapping.yaml"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    truth = Truth(days=14.0, rates={"regular": 12.0, "strategic": 5.0})
    return write_all(order_management(truth, seed=3), tmp_path_factory.mktemp("pm4py"))


@pytest.fixture(scope="module")
def reference(written):
    return read_log(written["ocel2.sqlite"], load_mapping(MAPPING))


def _view(log):
    events = log.events[["case_id", "activity", "timestamp"]]
    # (pm4py's OCEL 1.0 files keep whole seconds)
    events = events.assign(timestamp=events["timestamp"].dt.floor("s")).sort_values(
        ["case_id", "timestamp", "activity"], kind="stable").reset_index(drop=True)
    lines = log.lines.sort_values("line_id").reset_index(drop=True)
    lines = lines[["line_id", "case_id", "product", "quantity"]]
    contents = log.contents.sort_values(["shipment_id", "line_id"]).reset_index(drop=True)
    return events, lines, contents


@pytest.mark.parametrize("name", sorted(set(FORMATS) - {"ocel2.sqlite"}))
def test_every_format_pm4py_writes_reads_alike(written, reference, name):
    log = read_log(written[name], load_mapping(MAPPING))
    events, lines, contents = _view(log)
    want_events, want_lines, want_contents = _view(reference)
    pd.testing.assert_frame_equal(events, want_events)
    pd.testing.assert_frame_equal(lines, want_lines, check_dtype=False)
    if name.startswith("ocel1"):  # linked through shared events: a package not yet created has none
        merged = want_contents.merge(contents, how="outer", indicator=True)
        assert (merged["_merge"] == "both").mean() > 0.99 and (merged["_merge"] != "right_only").all()
    else:
        pd.testing.assert_frame_equal(contents, want_contents)
    assert log.cases["segment"].equals(reference.cases["segment"])
    assert log.source_format.startswith(("OCEL 2.0", "OCEL 1.0"))


def test_events_of_items_and_packages_reach_their_orders(reference):
    """Nothing but the product's own events is left without an order."""
    assert reference.unused.get("reorder item", {}) and all(
        "relates to no order" in reason for reason in reference.unused["reorder item"])
    picks = reference.activity("picking_started")
    assert picks["shipment_id"].notna().all() and picks["case_id"].str.startswith("o").all()
    assert reference.totals["pick item"] > len(picks)  # one pick per item, the first starts the package
    assert reference.unused["pick item"] == {
        "a further event of the same package (its first marks picking_started)":
            reference.totals["pick item"] - len(picks)}


def test_our_export_round_trips_through_pm4py(tmp_path):
    """An ``export-ocel`` file read by pm4py and written back in every format reads as our own file."""
    import pm4py

    from ordercycle.scenarios.loader import load, override
    from ordercycle.sim.run import simulate
    from ordercycle.sim.twin import ocel

    result = simulate(override(load("baseline"), horizon_days=6.0, warmup_days=0.0), seed=1)
    tables = ocel.from_run(result.events, result.orders, pd.Timestamp("2027-01-04"), None, result.lines,
                           result.shipment_lines)
    ocel.write_sqlite(tables, tmp_path / "ours.sqlite")
    ours = read_log(tmp_path / "ours.sqlite")
    again = write_all(pm4py.read_ocel2_sqlite(str(tmp_path / "ours.sqlite")), tmp_path / "pm4py",
                      ("ocel2.sqlite", "ocel2.jsonocel", "ocel2.xmlocel"))
    for path in again.values():
        theirs = read_log(path)
        a, b = ours.events, theirs.events
        # pm4py keeps only objects that have events, and drops events that relate to none
        assert len(b) >= 0.99 * len(a)
        assert set(b["activity"]) == set(a["activity"])
        assert theirs.lines is not None and len(theirs.lines) >= 0.95 * len(ours.lines)


# --- hand-written files in the standard's layouts -----------------------------------------------

STANDARD_TABLES = """
CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT);
CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT);
CREATE TABLE event_map_type (ocel_type TEXT, ocel_type_map TEXT);
CREATE TABLE object_map_type (ocel_type TEXT, ocel_type_map TEXT);
CREATE TABLE event_PlaceOrder (ocel_id TEXT, ocel_time TIMESTAMP);
CREATE TABLE event_SendPackage (ocel_id TEXT, ocel_time TIMESTAMP, resource TEXT);
CREATE TABLE object_Orders (ocel_id TEXT, ocel_time TIMESTAMP, ocel_changed_field TEXT, priority TEXT);
CREATE TABLE object_Items (ocel_id TEXT, ocel_time TIMESTAMP, ocel_changed_field TEXT, product TEXT,
                           quantity INTEGER, price REAL);
CREATE TABLE object_Packages (ocel_id TEXT, ocel_time TIMESTAMP, ocel_changed_field TEXT);
INSERT INTO event VALUES ('e1', 'place order'), ('e2', 'place order'), ('e3', 'send package');
INSERT INTO object VALUES ('o1', 'orders'), ('o2', 'orders'), ('i1', 'items'), ('i2', 'items'),
                          ('i3', 'items'), ('p1', 'packages');
INSERT INTO event_object VALUES ('e1', 'o1', 'order'), ('e1', 'i1', 'item'), ('e1', 'i2', 'item'),
                                ('e2', 'o2', 'order'), ('e2', 'i3', 'item'), ('e3', 'p1', 'package'),
                                ('e3', 'i1', 'item'), ('e3', 'i2', 'item');
INSERT INTO object_object VALUES ('o1', 'i1', 'comprises'), ('o1', 'i2', 'comprises'),
                                 ('o2', 'i3', 'comprises'), ('p1', 'i1', 'contains'),
                                 ('p1', 'i2', 'contains');
INSERT INTO event_map_type VALUES ('place order', 'PlaceOrder'), ('send package', 'SendPackage');
INSERT INTO object_map_type VALUES ('orders', 'Orders'), ('items', 'Items'), ('packages', 'Packages');
INSERT INTO event_PlaceOrder VALUES ('e1', '2023-04-03 09:00:00'), ('e2', '2023-04-03 10:30:00');
INSERT INTO event_SendPackage VALUES ('e3', '2023-04-04 15:00:00', 'parcel-express');
INSERT INTO object_Orders VALUES ('o1', '1970-01-01 00:00:00', NULL, 'low'),
                                 ('o2', '1970-01-01 00:00:00', NULL, 'low'),
                                 ('o1', '2023-04-03 12:00:00', 'priority', 'high');
INSERT INTO object_Items VALUES ('i1', '1970-01-01 00:00:00', NULL, 'valve', 2, 120.0),
                                ('i2', '1970-01-01 00:00:00', NULL, 'pump', 1, 950.0),
                                ('i3', '1970-01-01 00:00:00', NULL, 'filter', 5, 45.0),
                                ('i3', '2023-04-03 11:00:00', 'quantity', NULL, 6, NULL);
INSERT INTO object_Packages VALUES ('p1', '1970-01-01 00:00:00', NULL);
"""


def _standard_sqlite(path, script=STANDARD_TABLES):
    connection = sqlite3.connect(path)
    connection.executescript(script)
    connection.commit()
    connection.close()
    return path


def test_the_standard_sqlite_layout_with_attribute_changes(tmp_path):
    tables = read_ocel(_standard_sqlite(tmp_path / "standard.sqlite"))
    items = tables.object_attributes["items"].set_index("ocel_id")
    assert items.loc["i3", "quantity"] == 6  # the change row sets the quantity only
    assert items.loc["i3", "product"] == "filter"
    assert tables.object_attributes["orders"].set_index("ocel_id").loc["o1", "priority"] == "high"
    log = read_log(tmp_path / "standard.sqlite", Mapping(activities={"place order": "inquiry_received",
                                                                     "send package": "shipment_dispatched"}))
    sent = log.activity("shipment_dispatched")
    assert list(sent["case_id"]) == ["o1"] and list(sent["shipment_id"]) == ["p1"]
    assert sorted(log.lines["quantity"]) == [1, 2, 6]
    assert log.cases.loc["o1", "quantity"] == 3 and log.cases.loc["o2", "product"] == "filter"


STANDARD_JSON = {
    "objectTypes": [{"name": "orders", "attributes": []},
                    {"name": "items", "attributes": [{"name": "product", "type": "string"},
                                                     {"name": "quantity", "type": "integer"}]},
                    {"name": "customers", "attributes": [{"name": "segment", "type": "string"}]}],
    "eventTypes": [{"name": "place order", "attributes": []}, {"name": "confirm order", "attributes": []}],
    "objects": [
        {"id": "o1", "type": "orders", "relationships": [{"objectId": "i1", "qualifier": "comprises"}]},
        {"id": "i1", "type": "items", "attributes": [
            {"name": "product", "time": "1970-01-01T00:00:00Z", "value": "valve"},
            {"name": "quantity", "time": "1970-01-01T00:00:00Z", "value": "4"},
            {"name": "quantity", "time": "2023-04-03T10:00:00+00:00", "value": "5"}]},
        {"id": "c1", "type": "customers", "attributes": [
            {"name": "segment", "time": "1970-01-01T00:00:00Z", "value": "regular"}],
         "relationships": [{"objectId": "o1", "qualifier": "places"}]},
    ],
    "events": [
        {"id": "e1", "type": "place order", "time": "2023-04-03T09:00:00+00:00",
         "relationships": [{"objectId": "o1", "qualifier": "order"},
                           {"objectId": "c1", "qualifier": "customer"}]},
        {"id": "e2", "type": "confirm order", "time": "2023-04-03T11:00:00Z",
         "relationships": [{"objectId": "o1", "qualifier": "order"}]},
    ],
}
MAP_EXAMPLE = Mapping(activities={"place order": "inquiry_received", "confirm order": "order_accepted"})


def test_the_standard_json_layout(tmp_path):
    path = tmp_path / "example.jsonocel"
    path.write_text(json.dumps(STANDARD_JSON))
    log = read_log(path, MAP_EXAMPLE)
    assert list(log.activity("order_accepted")["case_id"]) == ["o1"]
    assert log.lines.set_index("line_id").loc["i1", "quantity"] == 5  # the latest value
    assert log.cases.loc["o1", "segment"] == "regular" and log.cases.loc["o1", "customer"] == "c1"


def test_xml_2_typed_values_and_xml_1(tmp_path):
    xml2 = tmp_path / "example.xmlocel"
    xml2.write_text(textwrap.dedent("""\
        <?xml version='1.0' encoding='UTF-8'?>
        <log>
          <object-types>
            <object-type name="orders"><attributes><attribute name="quantity" type="integer"/></attributes>
            </object-type>
          </object-types>
          <event-types><event-type name="place order"><attributes/></event-type></event-types>
          <objects>
            <object id="o1" type="orders"><attributes>
              <attribute name="quantity" time="1970-01-01T00:00:00Z">7</attribute></attributes></object>
          </objects>
          <events>
            <event id="e1" type="place order" time="2023-04-03T09:00:00">
              <objects><relationship object-id="o1" qualifier="order"/></objects></event>
          </events>
        </log>"""))
    log = read_log(xml2, MAP_EXAMPLE)
    assert log.cases.loc["o1", "quantity"] == 7 and log.source_format.startswith("OCEL 2.0 XML")
    xml1 = tmp_path / "classic.xmlocel"
    xml1.write_text(textwrap.dedent("""\
        <?xml version='1.0' encoding='UTF-8'?>
        <log>
          <global scope="log"><string key="version" value="1.0"/></global>
          <events>
            <event><string key="id" value="e1"/><date key="timestamp" value="2023-04-03T09:00:00"/>
              <string key="activity" value="place order"/>
              <list key="omap"><string key="object-id" value="o1"/><string key="object-id" value="i1"/></list>
              <list key="vmap"/></event>
          </events>
          <objects>
            <object><string key="id" value="o1"/><string key="type" value="orders"/>
              <list key="ovmap"/></object>
            <object><string key="id" value="i1"/><string key="type" value="items"/>
              <list key="ovmap"><int key="quantity" value="3"/></list></object>
          </objects>
        </log>"""))
    log = read_log(xml1, MAP_EXAMPLE)
    assert log.source_format.startswith("OCEL 1.0 XML")
    assert list(log.lines["case_id"]) == ["o1"] and list(log.lines["quantity"]) == [3]


def test_json_1(tmp_path):
    path = tmp_path / "classic.jsonocel"
    path.write_text(json.dumps({
        "ocel:global-log": {"ocel:version": "1.0"},
        "ocel:events": {"e1": {"ocel:activity": "place order", "ocel:timestamp": "2023-04-03T09:00:00",
                               "ocel:omap": ["o1", "i1"], "ocel:vmap": {"channel": "web"}}},
        "ocel:objects": {"o1": {"ocel:type": "orders", "ocel:ovmap": {}},
                         "i1": {"ocel:type": "items", "ocel:ovmap": {"product": "pump", "quantity": 2}}},
    }))
    log = read_log(path, MAP_EXAMPLE)
    assert log.cases.loc["o1", "product"] == "pump" and log.cases.loc["o1", "quantity"] == 2


# --- refused, naming where ----------------------------------------------------------------------


def test_sqlite_missing_column_names_table_and_column(tmp_path):
    script = STANDARD_TABLES.replace("CREATE TABLE event_PlaceOrder (ocel_id TEXT, ocel_time TIMESTAMP);",
                                     "CREATE TABLE event_PlaceOrder (ocel_id TEXT, time TIMESTAMP);")
    script = script.replace("INSERT INTO event_PlaceOrder VALUES",
                            "INSERT INTO event_PlaceOrder (ocel_id, time) VALUES")
    path = _standard_sqlite(tmp_path / "broken.sqlite", script)
    with pytest.raises(OcelError, match=r"broken.sqlite: table 'event_PlaceOrder': no column 'ocel_time' "
                                        r"\(columns: ocel_id, time\)"):
        read_ocel(path)


def test_sqlite_missing_type_table(tmp_path):
    script = STANDARD_TABLES.replace("CREATE TABLE object_Packages (ocel_id TEXT, ocel_time TIMESTAMP, "
                                     "ocel_changed_field TEXT);", "")
    script = script.replace("INSERT INTO object_Packages VALUES ('p1', '1970-01-01 00:00:00', NULL);", "")
    with pytest.raises(OcelError, match=r"table 'object_Packages' \(objects of type 'packages', named in "
                                        r"object_map_type\) is missing"):
        read_ocel(_standard_sqlite(tmp_path / "broken.sqlite", script))


def test_xml_event_without_time_names_the_element(tmp_path):
    path = tmp_path / "broken.xmlocel"
    path.write_text("<log><object-types/><event-types/><objects/><events>"
                    "<event id='e1' type='place order'/></events></log>")
    with pytest.raises(OcelError, match=r"broken.xmlocel: events/event\[0\] \(id 'e1'\): <event> without "
                                        r"attribute 'time'"):
        read_ocel(path)


def test_json_1_event_without_timestamp(tmp_path):
    path = tmp_path / "broken.jsonocel"
    path.write_text(json.dumps({"ocel:events": {"e1": {"ocel:activity": "x", "ocel:omap": []}},
                                "ocel:objects": {}}))
    with pytest.raises(OcelError, match=r"malformed OCEL 1.0 JSON entry ocel:events\['e1'\]: "
                                        r".*ocel:timestamp"):
        read_ocel(path)


def test_partial_event_times_are_refused(tmp_path):
    document = json.loads(json.dumps(STANDARD_JSON))
    document["events"][1]["time"] = "2023-04"
    path = tmp_path / "month.jsonocel"
    path.write_text(json.dumps(document))
    with pytest.raises(OcelError, match=r"1 timestamps that name no day, events 'e2' \('2023-04'\)"):
        read_ocel(path)


def test_pm4py_csv_is_refused_with_what_to_do(written, tmp_path):
    import pm4py

    log = pm4py.read_ocel2_sqlite(str(written["ocel2.sqlite"]))
    pm4py.write_ocel_csv(log, str(tmp_path / "flat.csv"), str(tmp_path / "objects.csv"))
    with pytest.raises(LogError, match="an OCEL CSV .* write it as OCEL 2.0 JSON, XML or SQLite"):
        read_log(tmp_path / "flat.csv")


def test_importing_ordercycle_never_imports_pm4py():
    """pm4py is a test-time writer of logs: the package, its twin and its CLI do without it."""
    code = ("import sys, ordercycle.sim.cli, ordercycle.sim.twin.calibrate, ordercycle.sim.twin.validate, "
            "ordercycle.sim.twin.ocel_read, ordercycle.sim.twin.ocel_log; print('pm4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
