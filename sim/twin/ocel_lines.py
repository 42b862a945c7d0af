"""Order lines and shipments in the OCEL export: ``item`` and ``package`` objects and their links.

Like the OCEL 2.0 order-management example (objects *orders*, *items*, *packages*; an
order *comprises* items, a package *contains* items, an item *is a* product), each
order line of ``lines.parquet`` is an ``item`` and each shipment a ``package``; what a
package carries comes from ``shipment_lines.parquet``. The inquiry relates to every item
of its order (the lines asked for, as ``place order`` in the example, so that pm4py, which
keeps only objects some event relates to, keeps every item). Events that concern a line
(stock issued, back-orders, a job's ``operation_queued``, a return of one line) relate
to its item through ``events.line_id``; the events of a shipment (picking, dispatch,
delivery, and the return of a whole shipment) relate to every item its package carries.

A run folder written before ``shipment_lines.parquet`` existed still exports: items and
packages come from the event log's ids, and a shipment of several lines (whose events
name no line) then has no items.
"""

from __future__ import annotations

import pandas as pd

COMPRISES = "comprises"
"""Qualifier of order → item (the example's)."""
CONTAINS = "contains"
"""Qualifier of package → item (the example's)."""
IS_A = "is a"
"""Qualifier of item → product (the example's)."""
SHIPMENT_ACTIVITIES = ("picking_started", "shipment_dispatched", "shipment_delivered")
"""A shipment's own events: they name its line when it carries one."""
ITEM_TYPES = {
    "line": "integer",
    "product": "string",
    "quantity": "integer",
    "list_price": "float",
    "price": "float",
    "unit_cost": "float",
}
"""Attributes of an item (from ``lines.parquet``)."""


def _ids(kind: str, values: pd.Series) -> pd.Series:
    return kind + ":" + values.astype("Int64").astype(str)


def _links(sources: pd.Series, targets: pd.Series, qualifier: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ocel_source_id": sources.to_numpy(),
            "ocel_target_id": targets.to_numpy(),
            "ocel_qualifier": qualifier,
        }
    )


def shipment_contents(events: pd.DataFrame, shipment_lines: pd.DataFrame | None) -> pd.DataFrame:
    """(shipment_id, line_id) of every line a shipment carries: the table, else what the log names."""
    if shipment_lines is not None:
        return shipment_lines[["shipment_id", "line_id"]].drop_duplicates().astype("int64")
    own = events[events["activity"].isin(SHIPMENT_ACTIVITIES)]  # (a return names the line it claims)
    named = own[["shipment_id", "line_id"]].dropna().drop_duplicates()
    return named.astype("int64").reset_index(drop=True)


def carried_item_relations(
    events: pd.DataFrame, event_ids: pd.Series, contents: pd.DataFrame
) -> pd.DataFrame:
    """Event → item relations of the events of a shipment that name no line: every item it carries."""
    of_shipment = events["shipment_id"].notna() & events["line_id"].isna()
    rows = pd.DataFrame(
        {"ocel_event_id": event_ids[of_shipment], "shipment_id": events.loc[of_shipment, "shipment_id"]}
    )
    rows = rows.astype({"shipment_id": "int64"}).merge(contents, on="shipment_id", how="inner", sort=False)
    return pd.DataFrame(
        {
            "ocel_event_id": rows["ocel_event_id"],
            "ocel_object_id": _ids("item", rows["line_id"]),
            "ocel_qualifier": "item",
        }
    )


def asked_item_relations(
    events: pd.DataFrame, event_ids: pd.Series, lines: pd.DataFrame | None
) -> pd.DataFrame:
    """Event → item relations of each ``inquiry_received``: every line the customer asks for.

    As ``place order`` in the standard's example, so that every item has an event (pm4py
    keeps only the objects some event relates to).
    """
    if lines is None:
        return pd.DataFrame(columns=["ocel_event_id", "ocel_object_id", "ocel_qualifier"])
    asked = events["activity"] == "inquiry_received"
    rows = pd.DataFrame({"ocel_event_id": event_ids[asked], "order_id": events.loc[asked, "order_id"]})
    rows = rows.dropna().astype({"order_id": "int64"}).merge(
        lines[["order_id", "line_id"]].astype("int64"), on="order_id", sort=False)
    return pd.DataFrame({"ocel_event_id": rows["ocel_event_id"],
                         "ocel_object_id": _ids("item", rows["line_id"]), "ocel_qualifier": "item"})


def items(
    events: pd.DataFrame, lines: pd.DataFrame | None
) -> tuple[pd.DataFrame, dict[str, str], list[pd.DataFrame]]:
    """The item objects (one per line), their attribute types, and order → item, item → product links."""
    if lines is None:  # only the ids the log names: no attributes
        pairs = events[["order_id", "line_id"]].dropna().drop_duplicates("line_id").sort_values("line_id")
        frame = pd.DataFrame({"ocel_id": _ids("item", pairs["line_id"]).to_numpy()})
        return frame, {}, [_links(_ids("order", pairs["order_id"]), frame["ocel_id"], COMPRISES)]
    lines = lines.sort_values("line_id", kind="stable")
    frame = pd.DataFrame(
        {
            "ocel_id": _ids("item", lines["line_id"]).to_numpy(),
            "line": lines["line_number"].astype("int64").to_numpy(),
            "product": lines["product_id"].astype(str).to_numpy(),
            "quantity": lines["quantity"].astype("int64").to_numpy(),
            "list_price": lines["list_price"].astype(float).to_numpy(),
            "price": lines["unit_price"].astype(float).to_numpy(),
            "unit_cost": lines["unit_cost"].astype(float).to_numpy(),
        }
    )
    links = [
        _links(_ids("order", lines["order_id"]), frame["ocel_id"], COMPRISES),
        _links(frame["ocel_id"], "product:" + frame["product"], IS_A),
    ]
    return frame, dict(ITEM_TYPES), links


def package_ids(events: pd.DataFrame, shipment_lines: pd.DataFrame | None) -> pd.Series:
    """Every shipment id: the log's, and the table's (a shipment not yet picked has no event)."""
    ids = set(events["shipment_id"].dropna().astype("int64"))
    if shipment_lines is not None:
        ids |= set(shipment_lines["shipment_id"].astype("int64"))
    return pd.Series(sorted(ids), dtype="Int64")


def package_units(shipment_lines: pd.DataFrame | None) -> pd.Series:
    """Units per shipment id from the table (empty without one)."""
    if shipment_lines is None:
        return pd.Series(dtype=float)
    return shipment_lines.groupby("shipment_id")["units"].sum().astype(float)


def package_links(
    events: pd.DataFrame, shipment_lines: pd.DataFrame | None, contents: pd.DataFrame
) -> list[pd.DataFrame]:
    """Package → item (contains) and, from the table, package → order links."""
    links = [_links(_ids("package", contents["shipment_id"]), _ids("item", contents["line_id"]), CONTAINS)]
    if shipment_lines is not None:
        owners = shipment_lines[["shipment_id", "order_id"]].drop_duplicates()
        links.append(
            _links(_ids("package", owners["shipment_id"]), _ids("order", owners["order_id"]), "order")
        )
    return links
