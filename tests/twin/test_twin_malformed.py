"""Malformed logs: ``ordercycle calibrate`` names what is wrong and where (exit 2) and writes nothing."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from ordercycle.sim.cli import main

CASES = 30
ACTIVITIES = ("inquiry_received", "sales_contact_started", "sales_contact_completed", "quote_sent",
              "quote_accepted")


def _flat_log() -> pd.DataFrame:
    """A small valid flat log: 30 orders of five events each, case by case in time order."""
    rng = np.random.default_rng(5)
    rows = []
    start = pd.Timestamp("2026-03-02 08:00")
    for case in range(1, CASES + 1):
        t = start + pd.Timedelta(hours=float(rng.uniform(0, 24 * 14)))
        for activity in ACTIVITIES:
            rows.append({
                "case_id": f"A-{case}", "activity": activity, "timestamp": t.isoformat(),
                "segment": "regular", "product": "valve", "quantity": str(int(rng.integers(1, 20))),
                "price": "120.0",
            })
            t += pd.Timedelta(hours=float(rng.lognormal(0, 0.5)))
    return pd.DataFrame(rows)


def _calibrate(tmp_path, log_path, capsys):
    """Run the CLI; return exit code, stderr lines and the files in the folder besides the log."""
    before = {p.name for p in tmp_path.rglob("*")}
    out = tmp_path / "out" / "twin.yaml"
    code = main(["calibrate", str(log_path), "--out", str(out)])
    captured = capsys.readouterr()
    created = sorted(p.name for p in tmp_path.rglob("*") if p.name not in before)
    return code, captured.err.strip().splitlines(), created


def _assert_refused(code, lines, created, *expected):
    assert code == 2
    assert lines and all(line.startswith("error: ") for line in lines), lines
    assert not any("Traceback" in line for line in lines)
    text = "\n".join(lines)
    for fragment in expected:
        assert fragment in text, (fragment, text)
    assert created == []  # no scenario, no report, no temporary file, not even the out folder


def test_the_valid_log_calibrates(tmp_path, capsys):
    """The control: the log the other tests break is accepted and gives all three files."""
    path = tmp_path / "log.csv"
    _flat_log().to_csv(path, index=False)
    code, lines, created = _calibrate(tmp_path, path, capsys)
    assert code == 0, lines
    assert created == ["out", "twin.html", "twin.json", "twin.yaml"]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_missing_required_column(tmp_path, capsys, suffix):
    path = tmp_path / f"log.{suffix}"
    log = _flat_log().drop(columns="timestamp")
    log.to_csv(path, index=False) if suffix == "csv" else log.to_parquet(path)
    _assert_refused(*_calibrate(tmp_path, path, capsys), "missing column 'timestamp'", "columns.timestamp",
                    "the log has: case_id, activity, segment")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_unparsable_timestamps(tmp_path, capsys, suffix):
    path = tmp_path / f"log.{suffix}"
    log = _flat_log()
    log.loc[4, "timestamp"] = "2026-13-45 25:00"  # data row 5
    log.loc[11, "timestamp"] = "yesterday"  # data row 12
    log.to_csv(path, index=False) if suffix == "csv" else log.to_parquet(path)
    _assert_refused(*_calibrate(tmp_path, path, capsys), "column 'timestamp': 2 unparsable timestamps",
                    "rows 5 ('2026-13-45 25:00'), 12 ('yesterday')")


def test_empty_timestamp(tmp_path, capsys):
    path = tmp_path / "log.csv"
    log = _flat_log()
    log.loc[7, "timestamp"] = ""
    log.to_csv(path, index=False)
    _assert_refused(*_calibrate(tmp_path, path, capsys), "1 empty timestamps, row 8")


def test_events_out_of_order_within_a_case(tmp_path, capsys):
    path = tmp_path / "log.csv"
    log = _flat_log()
    case = log[log["case_id"] == "A-3"].index  # rows 11..15: swap the times of the 2nd and 4th event
    log.loc[[case[1], case[3]], "timestamp"] = log.loc[[case[3], case[1]], "timestamp"].to_numpy()
    log.to_csv(path, index=False)
    code, lines, created = _calibrate(tmp_path, path, capsys)
    _assert_refused(code, lines, created, "events out of order within a case", "case 'A-3'",
                    f"row {case[2] + 1}")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_non_numeric_quantity_and_price(tmp_path, capsys, suffix):
    path = tmp_path / f"log.{suffix}"
    log = _flat_log()
    log.loc[6, "quantity"] = "twelve"
    log.loc[20, "price"] = "n/a"
    log.to_csv(path, index=False) if suffix == "csv" else log.to_parquet(path)
    _assert_refused(*_calibrate(tmp_path, path, capsys),
                    "column 'quantity' (quantity): 1 values are not numbers, row 7 ('twelve')",
                    "column 'price' (price): 1 values are not numbers, row 21 ('n/a')")


def _ocel_document() -> dict:
    """The valid flat log as OCEL 2.0 JSON: one order object per case with its attributes."""
    log = _flat_log()
    objects = [
        {"id": f"order:{case}", "type": "order", "attributes": [
            {"name": "segment", "time": "1970-01-01T00:00:00Z", "value": "regular"},
            {"name": "quantity", "time": "1970-01-01T00:00:00Z", "value": 5},
        ]}
        for case in log["case_id"].unique()
    ]
    events = [
        {"id": f"e{i}", "type": row.activity, "time": row.timestamp + "Z", "attributes": [],
         "relationships": [{"objectId": f"order:{row.case_id}", "qualifier": "order"}]}
        for i, row in enumerate(log.itertuples())
    ]
    return {
        "objectTypes": [{"name": "order", "attributes": [{"name": "segment", "type": "string"},
                                                         {"name": "quantity", "type": "integer"}]}],
        "eventTypes": [{"name": name, "attributes": []} for name in ACTIVITIES],
        "objects": objects,
        "events": events,
    }


def test_the_valid_ocel_json_calibrates(tmp_path, capsys):
    path = tmp_path / "log.json"
    path.write_text(json.dumps(_ocel_document()))
    code, lines, created = _calibrate(tmp_path, path, capsys)
    assert code == 0, lines
    assert "twin.yaml" in created


def _write_json(tmp_path, document) -> object:
    path = tmp_path / "ocel.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_ocel_json_that_is_not_json(tmp_path, capsys):
    path = _write_json(tmp_path, '{"objectTypes": [')
    _assert_refused(*_calibrate(tmp_path, path, capsys), "not valid JSON", "line 1")


def test_ocel_json_nested_too_deep_or_not_utf8(tmp_path, capsys):
    path = _write_json(tmp_path, "[" * 100_000)
    _assert_refused(*_calibrate(tmp_path, path, capsys), f"{path}: nested deeper than 64 levels")
    path.write_bytes(b'{"objectTypes": "\xff"}')
    _assert_refused(*_calibrate(tmp_path, path, capsys), f"{path}: not UTF-8 text (byte 0xff at offset 17)")


def test_a_log_that_is_not_a_regular_file_is_not_read(tmp_path, capsys):
    import os

    fifo = tmp_path / "log.csv"
    os.mkfifo(fifo)  # pandas would wait for a writer forever
    expected = f"{fifo}: not a regular file (a device, pipe or socket)"
    _assert_refused(*_calibrate(tmp_path, fifo, capsys), expected)


def test_ocel_json_missing_keys(tmp_path, capsys):
    path = _write_json(tmp_path, {"objectTypes": [], "eventTypes": []})
    _assert_refused(*_calibrate(tmp_path, path, capsys), "not OCEL 2.0 JSON, missing key(s) objects, events")


def test_ocel_json_event_without_time(tmp_path, capsys):
    document = _ocel_document()
    del document["events"][3]["time"]
    _assert_refused(*_calibrate(tmp_path, _write_json(tmp_path, document), capsys),
                    "malformed OCEL 2.0 JSON entry", "'time'")


def test_ocel_json_unparsable_time_names_the_event(tmp_path, capsys):
    document = _ocel_document()
    document["events"][8]["time"] = "03/32/2026"
    _assert_refused(*_calibrate(tmp_path, _write_json(tmp_path, document), capsys),
                    "events.time: 1 unparsable or missing timestamps, events 'e8' ('03/32/2026')")


def test_ocel_non_numeric_quantity_names_the_object(tmp_path, capsys):
    document = _ocel_document()
    document["objects"][2]["attributes"][1]["value"] = "lots"
    _assert_refused(*_calibrate(tmp_path, _write_json(tmp_path, document), capsys),
                    "order attribute column 'quantity' (quantity): 1 values are not numbers, "
                    "object 'order:A-3' ('lots')")


def test_ocel_events_of_an_order_before_its_inquiry(tmp_path, capsys):
    """OCEL has no file order; an order's events before its inquiry_received are out of order."""
    document = _ocel_document()
    events = [e for e in document["events"] if e["relationships"][0]["objectId"] == "order:A-4"]
    events[3]["time"] = "2026-01-05T10:00:00Z"  # quote_sent weeks before the inquiry
    code, lines, created = _calibrate(tmp_path, _write_json(tmp_path, document), capsys)
    _assert_refused(code, lines, created, "events out of order", "before the order's inquiry_received",
                    f"events {events[3]['id']!r}", "order 'order:A-4'", "(quote_sent, 2026-01-05 10:00:00)")


def test_flat_events_before_the_inquiry_in_file_order(tmp_path, capsys):
    """The same precedence check on a flat log sorted by time (so the file-order check passes)."""
    path = tmp_path / "log.csv"
    log = _flat_log()
    rows = log.index[log["case_id"] == "A-4"]
    log.loc[rows[3], "timestamp"] = "2026-01-05T10:00:00"
    log.sort_values("timestamp", kind="stable").to_csv(path, index=False)
    _assert_refused(*_calibrate(tmp_path, path, capsys), "come before the order's inquiry_received",
                    "order 'A-4'", "row 1")


def test_sqlite_without_the_ocel_tables(tmp_path, capsys):
    path = tmp_path / "ocel.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE event (ocel_id TEXT, ocel_type TEXT)")
    connection.commit()
    connection.close()
    _assert_refused(*_calibrate(tmp_path, path, capsys),
                    "not OCEL 2.0 SQLite, missing table(s) event_map_type, event_object, object, "
                    "object_map_type, object_object")


def test_a_file_that_is_not_sqlite(tmp_path, capsys):
    path = tmp_path / "ocel.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    _assert_refused(*_calibrate(tmp_path, path, capsys), "ocel.sqlite")


def test_a_csv_cut_inside_a_row_is_refused(tmp_path, capsys):
    path = tmp_path / "log.csv"
    _flat_log().to_csv(path, index=False)
    text = path.read_text()
    path.write_text(text[: len(text) - 25])  # the export stopped in the middle of the last row
    _assert_refused(*_calibrate(tmp_path, path, capsys), "ends inside data row", "looks cut off")


def test_a_csv_cut_at_a_row_boundary_is_said(tmp_path, capsys):
    """Still valid CSV: the file lists its cases one after another, the last one stops short, the
    arrivals stop long before the log's end. Calibrated, with warnings naming the row and the days."""
    path = tmp_path / "log.csv"
    log = _flat_log().sort_values(["timestamp"], kind="stable")
    log = log.assign(first=log.groupby("case_id")["timestamp"].transform("min"))
    log = log.sort_values(["first", "timestamp"], kind="stable").drop(columns="first")  # case by case
    rows = log.to_csv(index=False).splitlines(keepends=True)
    path.write_text("".join(rows[: len(rows) - 3]))  # the last case lost its last three events
    before = {p.name for p in tmp_path.rglob("*")}
    code = main(["calibrate", str(path), "--out", str(tmp_path / "out" / "twin.yaml")])
    out = capsys.readouterr().out
    assert code == 0 and "twin.yaml" in {p.name for p in tmp_path.rglob("*")} - before
    assert "warning: " in out and "may be truncated after row" in out


@pytest.mark.parametrize("value", ["2026-03", "2026", "März 2026"])
def test_timestamps_that_name_no_day_are_refused(tmp_path, capsys, value):
    path = tmp_path / "log.csv"
    log = _flat_log()
    log.loc[9, "timestamp"] = value  # data row 10
    log.to_csv(path, index=False)
    code, lines, created = _calibrate(tmp_path, path, capsys)
    if value == "März 2026":  # not a date pandas reads: unparsable
        _assert_refused(code, lines, created, "1 unparsable timestamps", f"row 10 ({value!r})")
    else:
        _assert_refused(code, lines, created, "1 timestamps name no day", f"row 10 ({value!r})")


def test_a_timestamp_format_without_a_day_is_refused(tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("timestamp_format: '%Y-%m'\n")
    path = tmp_path / "log.csv"
    _flat_log().to_csv(path, index=False)
    code = main(["calibrate", str(path), "--mapping", str(mapping), "--out", str(tmp_path / "t.yaml")])
    assert code == 2 and "names no day" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_log_with_a_header_only_is_refused(tmp_path, capsys, suffix):
    path = tmp_path / f"log.{suffix}"
    empty = _flat_log().iloc[:0]
    empty.to_csv(path, index=False) if suffix == "csv" else empty.to_parquet(path)
    _assert_refused(*_calibrate(tmp_path, path, capsys), "no data rows", "columns: case_id, activity")


def test_an_ocel_file_without_events_is_refused(tmp_path, capsys):
    document = _ocel_document()
    document["events"] = []
    _assert_refused(*_calibrate(tmp_path, _write_json(tmp_path, document), capsys), "no events")
