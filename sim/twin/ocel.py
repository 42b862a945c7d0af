"""OCEL 2.0: the object-centric event log standard, as tables, JSON and SQLite.

:class:`OcelTables` holds a log in the relational shape of the OCEL 2.0 SQLite format
(events, objects, event–object and object–object relations, typed attributes);
:func:`from_run` builds it from a run's ``events.parquet`` / ``orders.parquet`` (the
mapping of ``docs/outputs.md``), :func:`write_json` / :func:`write_sqlite` write the
two standard files, :func:`read_ocel` reads them back, and every other OCEL 2.0 and 1.0
file (:mod:`~ordercycle.sim.twin.ocel_read`). Object ids are prefixed with
their type (``order:17``) because OCEL ids are unique across types. Order lines are
``item`` objects and shipments ``package`` objects (:mod:`ordercycle.sim.twin.ocel_lines`);
exports written before them named shipments ``shipment`` (:data:`LEGACY_TYPES`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.sim.twin import ocel_lines

STATIC_TIME = pd.Timestamp("1970-01-01")
"""Time of an attribute value that never changes (OCEL 2.0 convention)."""

ID_TYPES = {
    "order_id": "order",
    "shipment_id": "package",
    "invoice_id": "invoice",
    "return_id": "return",
    "ticket_id": "ticket",
    "job_id": "job",
    "line_id": "item",
}
"""Id columns of ``events.parquet`` and the OCEL object type each names."""
LEGACY_TYPES = {"shipment": "package"}
"""Object types of earlier exports and the type they are read as."""

EVENT_ATTRIBUTES = {
    "step": "string",
    "department": "string",
    "resource": "string",
    "quantity": "float",
    "amount": "float",
}
"""Attributes of every event type (OCEL attribute types)."""

_JSON_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
_SQL_TIME = "%Y-%m-%d %H:%M:%S.%f"


class OcelError(ValueError):
    """An OCEL file that cannot be read; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class OcelTables:
    """An object-centric event log in the relational shape of OCEL 2.0.

    ``events`` has ``ocel_id``, ``ocel_type``, ``ocel_time`` (naive UTC timestamps) and
    one column per event attribute; ``objects`` has ``ocel_id`` and ``ocel_type``;
    ``object_attributes`` holds per object type a frame of ``ocel_id`` and its static
    attributes; ``e2o`` and ``o2o`` are the qualified relations.
    """

    events: pd.DataFrame
    objects: pd.DataFrame
    e2o: pd.DataFrame
    o2o: pd.DataFrame
    object_attributes: dict[str, pd.DataFrame] = field(default_factory=dict)
    event_attribute_types: dict[str, str] = field(default_factory=dict)
    object_attribute_types: dict[str, dict[str, str]] = field(default_factory=dict)
    source_format: str = "OCEL 2.0"
    """The format the log was read from (``OCEL 2.0 SQLite``, ``OCEL 1.0 JSON`` …)."""


def _prefixed(kind: str, values: pd.Series) -> pd.Series:
    return kind + ":" + values.astype("Int64").astype(str)


def _first(frame: pd.DataFrame, activity: str, key: str, column: str) -> pd.Series:
    rows = frame[frame["activity"] == activity].dropna(subset=[key])
    return rows.groupby(key)[column].first()


def from_run(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    start: pd.Timestamp,
    products: list[dict[str, Any]] | None = None,
    lines: pd.DataFrame | None = None,
    shipment_lines: pd.DataFrame | None = None,
) -> OcelTables:
    """The OCEL tables of one run (see ``docs/outputs.md``, "Mapping to OCEL 2.0").

    Args:
        events: ``events.parquet`` of the run.
        orders: ``orders.parquet`` of the run.
        start: the timestamp of simulated time 0.
        products: the scenario's products (``run.json``), for product attributes.
        lines: ``lines.parquet`` (item attributes; without it, the items the log names).
        shipment_lines: ``shipment_lines.parquet`` (what each package carries; without it,
            only the line a shipment of one line names in the log).
    """
    events = events.reset_index(drop=True)
    for column in ID_TYPES:  # replenishment jobs carry order -1 in some versions: no order
        values = events[column] if column in events else pd.Series(pd.NA, index=events.index, dtype="Int64")
        events[column] = values.where(values.fillna(-1) > 0)
    event_ids = "e" + pd.Series(np.arange(1, len(events) + 1), dtype="int64").astype(str)
    times = start + pd.to_timedelta(events["time"].to_numpy(dtype=float), unit="D")
    table = pd.DataFrame(
        {"ocel_id": event_ids, "ocel_type": events["activity"].astype(str), "ocel_time": times.round("us")}
    )
    for name in EVENT_ATTRIBUTES:
        values = events[name]
        table[name] = (
            values.astype(object).where(values.notna(), None)
            if name in ("step", "department", "resource")
            else values.astype("float64")
        )
    relations = []
    for column, kind in ID_TYPES.items():
        present = events[column].notna()
        relations.append(
            pd.DataFrame(
                {
                    "ocel_event_id": event_ids[present],
                    "ocel_object_id": _prefixed(kind, events.loc[present, column]),
                    "ocel_qualifier": kind,
                }
            )
        )
    contents = ocel_lines.shipment_contents(events, shipment_lines)
    relations.append(ocel_lines.carried_item_relations(events, event_ids, contents))
    relations.append(ocel_lines.asked_item_relations(events, event_ids, lines))
    has_product = events["product_id"].notna()
    relations.append(
        pd.DataFrame(
            {
                "ocel_event_id": event_ids[has_product],
                "ocel_object_id": "product:" + events.loc[has_product, "product_id"].astype(str),
                "ocel_qualifier": "product",
            }
        )
    )
    e2o = pd.concat(relations, ignore_index=True).drop_duplicates(ignore_index=True)
    e2o["_order"] = e2o["ocel_event_id"].str[1:].astype("int64")
    e2o = e2o.sort_values(["_order", "ocel_qualifier"], kind="stable").drop(columns="_order")

    attributes: dict[str, pd.DataFrame] = {}
    attribute_types: dict[str, dict[str, str]] = {}
    links = []
    order_ids = _prefixed("order", orders["order_id"])
    promised = start + pd.to_timedelta(orders["promised_date"].to_numpy(dtype=float), unit="D")
    attributes["order"] = pd.DataFrame(
        {
            "ocel_id": order_ids,
            "customer": orders["customer_id"].astype(str),
            "segment": orders["segment"].astype(str),
            "product": orders["product_id"].astype(str),
            "quantity": orders["quantity"].astype("int64"),
            "list_price": orders["list_price"].astype(float),
            "price": orders["unit_price"].astype(float),
            "unit_cost": orders["unit_cost"].astype(float),
            "promised_date": pd.Series(promised.round("us")),
            "final_state": orders["final_state"].astype(str),
        }
    )
    attribute_types["order"] = {
        "customer": "string",
        "segment": "string",
        "product": "string",
        "quantity": "integer",
        "list_price": "float",
        "price": "float",
        "unit_cost": "float",
        "promised_date": "time",
        "final_state": "string",
    }
    links.append(
        pd.DataFrame(
            {
                "ocel_source_id": order_ids,
                "ocel_target_id": "product:" + orders["product_id"].astype(str),
                "ocel_qualifier": "product",
            }
        )
    )

    def owner_links(kind: str, column: str, target_column: str) -> None:
        target = ID_TYPES[target_column]
        pairs = events[[column, target_column]].dropna().drop_duplicates()
        links.append(
            pd.DataFrame(
                {
                    "ocel_source_id": _prefixed(kind, pairs.iloc[:, 0]),
                    "ocel_target_id": _prefixed(target, pairs.iloc[:, 1]),
                    "ocel_qualifier": target,
                }
            )
        )

    attributes["item"], attribute_types["item"], item_links = ocel_lines.items(events, lines)
    links += item_links
    for kind, column in (
        ("package", "shipment_id"),
        ("invoice", "invoice_id"),
        ("return", "return_id"),
        ("ticket", "ticket_id"),
        ("job", "job_id"),
    ):
        ids = pd.Series(sorted(events[column].dropna().unique()), dtype="Int64")
        if kind == "package":
            ids = ocel_lines.package_ids(events, shipment_lines)
        frame = pd.DataFrame({"ocel_id": _prefixed(kind, ids)})
        keyed = ids.to_numpy()
        if kind == "package":
            dispatched = _first(events, "shipment_dispatched", column, "quantity").astype(float)
            units = dispatched.combine_first(ocel_lines.package_units(shipment_lines))
            frame["units"] = units.reindex(keyed).to_numpy(dtype=float)
            frame["provider"] = (
                _first(events, "shipment_dispatched", column, "resource").reindex(keyed).to_numpy()
            )
            types = {"units": "float", "provider": "string"}
            links += ocel_lines.package_links(events, shipment_lines, contents)
        elif kind == "invoice":
            issued = events[events["activity"] == "invoice_issued"].groupby(column)["amount"].sum()
            frame["amount"] = issued.reindex(keyed).to_numpy(dtype=float)
            types = {"amount": "float"}
        elif kind == "return":
            frame["units"] = _first(events, "return_requested", column, "quantity").reindex(keyed).to_numpy()
            types = {"units": "float"}
            owner_links(kind, column, "shipment_id")
            owner_links(kind, column, "line_id")  # a claim on one line of a shipment
        elif kind == "ticket":
            frame["kind"] = _first(events, "ticket_opened", column, "resource").reindex(keyed).to_numpy()
            types = {"kind": "string"}
        else:
            frame["work_centre"] = (
                _first(events, "operation_queued", column, "resource").reindex(keyed).to_numpy()
            )
            frame["units"] = _first(events, "operation_queued", column, "quantity").reindex(keyed).to_numpy()
            types = {"work_centre": "string", "units": "float"}
            owner_links(kind, column, "line_id")  # the line the job makes
            product = events.dropna(subset=[column, "product_id"]).groupby(column)["product_id"].first()
            links.append(
                pd.DataFrame(
                    {
                        "ocel_source_id": _prefixed(kind, pd.Series(product.index)),
                        "ocel_target_id": ("product:" + product.astype(str)).to_numpy(),
                        "ocel_qualifier": "product",
                    }
                )
            )
        owner_links(kind, column, "order_id")
        attributes[kind] = frame
        attribute_types[kind] = types

    known = {str(p["id"]): p for p in products or []}
    seen = set(events["product_id"].dropna().astype(str)) | set(orders["product_id"].astype(str))
    names = sorted(seen | set(known))
    attributes["product"] = pd.DataFrame(
        {
            "ocel_id": ["product:" + name for name in names],
            "list_price": [float(known[n]["list_price"]) if n in known else None for n in names],
            "unit_cost": [float(known[n]["unit_cost"]) if n in known else None for n in names],
            "stocking": [str(known[n]["stocking"]) if n in known else None for n in names],
        }
    )
    attribute_types["product"] = {"list_price": "float", "unit_cost": "float", "stocking": "string"}
    objects = pd.concat(
        [
            pd.DataFrame({"ocel_id": frame["ocel_id"], "ocel_type": kind})
            for kind, frame in attributes.items()
        ],
        ignore_index=True,
    )
    o2o = pd.concat(links, ignore_index=True).drop_duplicates(ignore_index=True)
    return OcelTables(
        table, objects, e2o.reset_index(drop=True), o2o, attributes, dict(EVENT_ATTRIBUTES), attribute_types
    )


def _column_values(values: pd.Series, kind: str, time_format: str = _JSON_TIME) -> list[Any]:
    """A column as a list of plain values of the OCEL attribute type (None when missing)."""
    missing = values.isna().to_numpy()
    if kind == "time":
        converted = pd.to_datetime(values).dt.strftime(time_format)
    elif kind == "integer":
        converted = values.astype("Float64").fillna(0).astype("int64")
    elif kind == "float":
        converted = values.astype("float64")
    else:
        converted = values.astype(object).map(str)
    return [None if gone else value for value, gone in zip(converted.tolist(), missing, strict=True)]


def _grouped(
    sources: pd.Series, targets: pd.Series, qualifiers: pd.Series
) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for source, target, qualifier in zip(
        sources.tolist(), targets.tolist(), qualifiers.tolist(), strict=True
    ):
        grouped.setdefault(source, []).append({"objectId": target, "qualifier": qualifier})
    return grouped


def to_json(tables: OcelTables) -> dict[str, Any]:
    """The OCEL 2.0 JSON document (``objectTypes``, ``eventTypes``, ``objects``, ``events``)."""
    event_attrs = tables.event_attribute_types
    event_types = sorted(tables.events["ocel_type"].unique())
    document: dict[str, Any] = {
        "objectTypes": [
            {"name": kind, "attributes": [{"name": n, "type": t} for n, t in types.items()]}
            for kind, types in tables.object_attribute_types.items()
        ],
        "eventTypes": [
            {"name": name, "attributes": [{"name": n, "type": t} for n, t in event_attrs.items()]}
            for name in event_types
        ],
    }
    o2o = _grouped(tables.o2o["ocel_source_id"], tables.o2o["ocel_target_id"], tables.o2o["ocel_qualifier"])
    static = STATIC_TIME.strftime(_JSON_TIME)
    objects = []
    for kind, frame in tables.object_attributes.items():
        types = tables.object_attribute_types[kind]
        columns = {name: _column_values(frame[name], t) for name, t in types.items()}
        for i, object_id in enumerate(frame["ocel_id"].tolist()):
            attrs = [
                {"name": n, "time": static, "value": columns[n][i]}
                for n in types
                if columns[n][i] is not None
            ]
            objects.append(
                {"id": object_id, "type": kind, "attributes": attrs, "relationships": o2o.get(object_id, [])}
            )
    document["objects"] = objects
    e2o = _grouped(tables.e2o["ocel_event_id"], tables.e2o["ocel_object_id"], tables.e2o["ocel_qualifier"])
    events = tables.events
    columns = {name: _column_values(events[name], t) for name, t in event_attrs.items()}
    times = _column_values(events["ocel_time"], "time")
    document["events"] = [
        {
            "id": event_id,
            "type": event_type,
            "time": times[i],
            "attributes": [
                {"name": n, "value": columns[n][i]} for n in event_attrs if columns[n][i] is not None
            ],
            "relationships": e2o.get(event_id, []),
        }
        for i, (event_id, event_type) in enumerate(
            zip(events["ocel_id"].tolist(), events["ocel_type"].tolist(), strict=True)
        )
    ]
    return document


def write_json(tables: OcelTables, path: str | Path) -> None:
    """Write the OCEL 2.0 JSON file (compact, keys in the standard's order)."""
    Path(path).write_text(json.dumps(to_json(tables), separators=(",", ":")), encoding="utf-8")


def type_table_name(name: str) -> str:
    """The SQLite table suffix of a type name: words capitalised, non-alphanumerics removed."""
    parts = [part for part in "".join(c if c.isalnum() else " " for c in name).split() if part]
    return "".join(part[:1].upper() + part[1:] for part in parts) or "Type"


_SQL_TYPES = {
    "string": "TEXT",
    "time": "TIMESTAMP",
    "integer": "INTEGER",
    "float": "REAL",
    "boolean": "INTEGER",
}


def write_sqlite(tables: OcelTables, path: str | Path) -> None:
    """Write the OCEL 2.0 SQLite file (tables ``event``, ``object``, ``event_object``,
    ``object_object``, ``event_map_type``, ``object_map_type``, ``event_<type>``, ``object_<type>``)."""
    connection = sqlite3.connect(path)
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
        cursor.execute("CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT)")
        cursor.execute(
            "CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, "
            "ocel_qualifier TEXT, PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier))"
        )
        cursor.execute(
            "CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, "
            "ocel_qualifier TEXT, PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier))"
        )
        cursor.execute("CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT)")
        cursor.execute("CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT)")
        events = tables.events
        cursor.executemany(
            "INSERT INTO event VALUES (?, ?)",
            events[["ocel_id", "ocel_type"]].itertuples(index=False, name=None),
        )
        cursor.executemany(
            "INSERT INTO object VALUES (?, ?)",
            tables.objects[["ocel_id", "ocel_type"]].itertuples(index=False, name=None),
        )
        cursor.executemany(
            "INSERT INTO event_object VALUES (?, ?, ?)", tables.e2o.itertuples(index=False, name=None)
        )
        cursor.executemany(
            "INSERT INTO object_object VALUES (?, ?, ?)", tables.o2o.itertuples(index=False, name=None)
        )
        attrs = tables.event_attribute_types
        columns = ", ".join(f'"{name}" {_SQL_TYPES[kind]}' for name, kind in attrs.items())
        for event_type, rows in events.groupby("ocel_type", sort=True):
            table = "event_" + type_table_name(str(event_type))
            cursor.execute(
                "INSERT INTO event_map_type VALUES (?, ?)", (event_type, type_table_name(str(event_type)))
            )
            cursor.execute(
                f'CREATE TABLE "{table}" (ocel_id TEXT PRIMARY KEY, ocel_time TIMESTAMP, {columns})'
            )
            columns_out = [rows["ocel_id"].tolist(), _column_values(rows["ocel_time"], "time", _SQL_TIME)]
            columns_out += [_column_values(rows[name], kind, _SQL_TIME) for name, kind in attrs.items()]
            values = list(zip(*columns_out, strict=True))
            cursor.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * (len(attrs) + 2))})', values)
        static = STATIC_TIME.strftime(_SQL_TIME)
        for kind, frame in tables.object_attributes.items():
            types = tables.object_attribute_types[kind]
            table = "object_" + type_table_name(kind)
            cursor.execute("INSERT INTO object_map_type VALUES (?, ?)", (kind, type_table_name(kind)))
            columns = "".join(f', "{name}" {_SQL_TYPES[t]}' for name, t in types.items())
            cursor.execute(
                f'CREATE TABLE "{table}" (ocel_id TEXT, ocel_time TIMESTAMP, '
                f"ocel_changed_field TEXT{columns})"
            )
            columns_out = [frame["ocel_id"].tolist(), [static] * len(frame), [None] * len(frame)]
            columns_out += [_column_values(frame[name], t, _SQL_TIME) for name, t in types.items()]
            values = list(zip(*columns_out, strict=True))
            cursor.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * (len(types) + 3))})', values)
        connection.commit()
    finally:
        connection.close()


def read_ocel(path: str | Path) -> OcelTables:
    """Read an OCEL 2.0 or 1.0 file, JSON, XML or SQLite (:func:`ordercycle.sim.twin.ocel_read.read_ocel`)."""
    from ordercycle.sim.twin.ocel_read import read_ocel as read

    return read(path)
