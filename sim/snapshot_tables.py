"""State snapshots as a folder of CSV tables (what an ERP export gives), read into the JSON form.

One file per section of :class:`~ordercycle.sim.snapshot.Snapshot`, each optional,
a header row naming the fields (the JSON field names); an empty cell is a field left out:

- ``snapshot.csv``: ``field,value`` rows for ``taken_at_day`` and ``description``;
- ``stock.csv`` (``product,units``), ``shifts.csv`` (``work_centre,shifts``);
- ``machines.csv``, ``replenishments.csv``, ``orders.csv``, ``returns.csv``, ``tickets.csv``:
  one row per entry, columns as the JSON fields;
- ``invoices.csv`` (``invoice_id,customer_id,issued_day,disputed``) and
  ``invoice_lines.csv`` (``invoice_id,order_id,units,amount``);
- orders that list their lines (format version 2): ``order_lines.csv`` (``order_id`` and
  the fields of a line), ``shipments.csv`` (``order_id`` and the fields of a shipment but
  its lines) and ``shipment_lines.csv`` (``shipment_id,line_id,units``), rows in the order
  of the lines and shipments.

Problems are reported with the JSON paths (``orders.3.quantity`` is data row 4 of
``orders.csv``; the lines and shipments of an order are ``orders.3.lines.0`` …, in their
files' order); a CSV file of another name is refused rather than ignored.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ordercycle.policies.input_files import InputFileError, read_text
from ordercycle.sim.snapshot import (
    MachineState,
    OrderState,
    ReplenishmentState,
    ReturnState,
    Snapshot,
    SnapshotError,
    TicketState,
)
from ordercycle.sim.snapshot_lines import LineState, ShipmentState

ROW_TABLES = ("machines", "replenishments", "orders", "returns", "tickets")
LINE_TABLES = ("order_lines", "shipments", "shipment_lines")
TABLES = ("snapshot", "stock", "shifts", *ROW_TABLES, "invoices", "invoice_lines", *LINE_TABLES)
NESTED = ("lines", "shipments")
"""Fields of an order that have tables of their own."""


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        text = read_text(path)
    except InputFileError as error:
        raise SnapshotError(error.problems) from None
    return [{key.strip(): (value or "").strip() for key, value in row.items() if key is not None}
            for row in csv.DictReader(io.StringIO(text, newline=""))]


def _filled(row: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in row.items() if value != ""}


def tables_to_data(folder: str | Path) -> dict[str, Any]:
    """The snapshot's JSON form from a folder of CSV tables (not yet validated).

    Raises:
        SnapshotError: unknown files, a file that is not CSV, mapping rows without the
            columns they need.
    """
    folder = Path(folder)
    unknown = sorted(p.name for p in folder.glob("*.csv") if p.stem not in TABLES)
    if unknown:
        raise SnapshotError([f"{folder}: unknown tables {unknown} (known: "
                             f"{', '.join(name + '.csv' for name in TABLES)})"])
    tables: dict[str, list[dict[str, str]]] = {}
    for name in TABLES:
        path = folder / f"{name}.csv"
        if path.exists():
            try:
                tables[name] = _rows(path)
            except csv.Error as error:
                raise SnapshotError([f"{path}: cannot read it as CSV ({error})"]) from None
    problems: list[str] = []
    data: dict[str, Any] = {}
    for row in tables.get("snapshot", []):
        if set(row) != {"field", "value"}:
            problems.append(f"{folder / 'snapshot.csv'}: columns must be field,value, got {','.join(row)}")
            break
        value = row["value"]
        data[row["field"]] = int(value) if row["field"] == "schema_version" and value.isdigit() else value
    for name, key_column, value_column in (("stock", "product", "units"),
                                           ("shifts", "work_centre", "shifts")):
        for row in tables.get(name, []):
            if key_column not in row or value_column not in row:
                problems.append(f"{folder / (name + '.csv')}: columns must be {key_column},{value_column}")
                break
            data.setdefault(name, {})[row[key_column]] = row[value_column]
    for name in ROW_TABLES:
        if name in tables:
            data[name] = [_filled(row) for row in tables[name]]
    if "invoices" in tables or "invoice_lines" in tables:
        invoices = [_filled(row) for row in tables.get("invoices", [])]
        by_id = {row.get("invoice_id"): row for row in invoices}
        for i, line in enumerate(tables.get("invoice_lines", [])):
            invoice = by_id.get(line.get("invoice_id"))
            if invoice is None:
                problems.append(f"invoice_lines.{i}.invoice_id: no invoice {line.get('invoice_id')!r} "
                                "in invoices.csv")
                continue
            fields = {k: v for k, v in _filled(line).items() if k != "invoice_id"}
            invoice.setdefault("lines", []).append(fields)
        data["invoices"] = invoices
    problems += _nest_lines(tables, data)
    if problems:
        raise SnapshotError(problems)
    return data


def _nest_lines(tables: dict[str, list[dict[str, str]]], data: dict[str, Any]) -> list[str]:
    """Put the rows of ``order_lines``, ``shipments`` and ``shipment_lines`` into their orders."""
    problems = []
    orders = {row.get("order_id"): row for row in data.get("orders", [])}
    shipments: dict[str | None, dict[str, Any]] = {}
    for name, key in (("order_lines", "lines"), ("shipments", "shipments")):
        for i, row in enumerate(tables.get(name, [])):
            order = orders.get(row.get("order_id"))
            if order is None:
                problems.append(f"{name}.{i}.order_id: no order {row.get('order_id')!r} in orders.csv")
                continue
            fields = {k: v for k, v in _filled(row).items() if k != "order_id"}
            order.setdefault(key, []).append(fields)
            if name == "shipments":
                shipments[row.get("shipment_id")] = fields
    for i, row in enumerate(tables.get("shipment_lines", [])):
        shipment = shipments.get(row.get("shipment_id"))
        if shipment is None:
            problems.append(f"shipment_lines.{i}.shipment_id: no shipment {row.get('shipment_id')!r} in "
                            "shipments.csv")
            continue
        shipment.setdefault("lines", []).append({k: v for k, v in _filled(row).items() if k != "shipment_id"})
    return problems


def write_tables(snapshot: Snapshot, folder: str | Path) -> Path:
    """Write ``snapshot`` as CSV tables into ``folder`` (every table, with its header)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = snapshot.model_dump(mode="json")

    def write(name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({key: "" if row.get(key) is None else row[key] for key in columns})

    write("snapshot", ["field", "value"], [{"field": "taken_at_day", "value": data["taken_at_day"]},
                                           {"field": "description", "value": data["description"]}])
    write("stock", ["product", "units"], [{"product": k, "units": v} for k, v in data["stock"].items()])
    write("shifts", ["work_centre", "shifts"],
          [{"work_centre": k, "shifts": v} for k, v in data["shifts"].items()])
    models = {"machines": MachineState, "replenishments": ReplenishmentState, "orders": OrderState,
              "returns": ReturnState, "tickets": TicketState}
    for name, model in models.items():
        write(name, [f for f in model.model_fields if f not in NESTED], data[name])
    orders = data["orders"]
    write("order_lines", ["order_id", *LineState.model_fields],
          [{"order_id": o["order_id"], **line} for o in orders for line in o["lines"]])
    write("shipments", ["order_id", *(f for f in ShipmentState.model_fields if f != "lines")],
          [{"order_id": o["order_id"], **s} for o in orders for s in o["shipments"]])
    write("shipment_lines", ["shipment_id", "line_id", "units"],
          [{"shipment_id": s["shipment_id"], **part}
           for o in orders for s in o["shipments"] for part in s["lines"]])
    write("invoices", ["invoice_id", "customer_id", "issued_day", "disputed"], data["invoices"])
    write("invoice_lines", ["invoice_id", "order_id", "units", "amount"],
          [{"invoice_id": v["invoice_id"], **line} for v in data["invoices"] for line in v["lines"]])
    return folder
