"""An OCEL log (2.0 or 1.0) as the case view of calibration: its events on the orders they concern.

:func:`from_ocel` follows every event to its orders through the objects it relates to
(:func:`ordercycle.sim.twin.objects.flatten`: items, packages, invoices … and the
object-to-object links between them), takes the orders' attributes from the order
objects (else from their customers and items), and counts, per activity, the events
that reach no order, so that the calibration report can say why they were not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ordercycle.sim.twin.logs import CaseLog, LogError, Mapping, _case_attributes, _finish
from ordercycle.sim.twin.objects import ID_COLUMN, flatten
from ordercycle.sim.twin.ocel import OcelTables

NO_ORDER = ("relates to no order (neither directly nor through an item, package, invoice, return, ticket "
            "or job)")
"""Why an event that reaches no order is not used."""


def _resource_names(tables: OcelTables, roles: dict[str, str], column: str) -> pd.Series:
    """Per event, who did it: its ``column`` attribute, else the resource object (employee) it relates to."""
    events = tables.events.set_index("ocel_id")
    named = events[column].astype("string") if column in events else pd.Series(pd.NA, index=events.index,
                                                                                  dtype="string")
    kinds = tables.objects.drop_duplicates("ocel_id").set_index("ocel_id")["ocel_type"].astype(str)
    people = tables.e2o[tables.e2o["ocel_object_id"].map(kinds).map(roles) == "resource"]
    first = people.drop_duplicates("ocel_event_id").set_index("ocel_event_id")["ocel_object_id"]
    return named.fillna(first.reindex(named.index).astype("string"))


def _order_attributes(tables: OcelTables, roles: dict[str, str], mapping: Mapping, case_ids: list[str],
                      items: pd.DataFrame, source: str) -> pd.DataFrame:
    """The orders' attributes: the order objects', filled from linked customers and from the items."""
    frames = [frame for kind, frame in tables.object_attributes.items() if roles.get(kind) == "order"]
    attributes = (pd.concat(frames, ignore_index=True).drop_duplicates("ocel_id") if frames
                  else pd.DataFrame({"ocel_id": []}))
    attributes = attributes.rename(columns={"ocel_id": "case_id"})
    problems: list[str] = []
    ids = pd.DataFrame({"case_id": case_ids})
    cases = _case_attributes(ids.merge(attributes, on="case_id", how="left"), mapping, problems,
                             f"{source}: order attribute ", by_id=True)
    if problems:
        raise LogError(problems)
    kinds = tables.objects.drop_duplicates("ocel_id").set_index("ocel_id")["ocel_type"].astype(str)
    role = kinds.map(roles)
    links = pd.concat([tables.o2o[["ocel_source_id", "ocel_target_id"]].set_axis(["a", "b"], axis=1),
                       tables.o2o[["ocel_target_id", "ocel_source_id"]].set_axis(["a", "b"], axis=1)])
    customer_of = links[(links["a"].map(role) == "order") & (links["b"].map(role) == "customer")]
    customer_of = customer_of.drop_duplicates("a").set_index("a")["b"]
    if customer_of.empty:  # OCEL 1.0: the customer an order's events relate to
        rel = tables.e2o.assign(role=tables.e2o["ocel_object_id"].map(role))
        pairs = rel[rel["role"] == "order"].merge(rel[rel["role"] == "customer"], on="ocel_event_id")
        pairs = pairs.drop_duplicates("ocel_object_id_x")
        customer_of = pairs.set_index("ocel_object_id_x")["ocel_object_id_y"]
    if len(customer_of):
        linked = customer_of.reindex(cases.index).astype("string")
        cases["customer"] = cases["customer"].fillna(linked) if "customer" in cases else linked
        customers = [f for k, f in tables.object_attributes.items() if roles.get(k) == "customer"]
        segment_column = mapping.columns.segment
        if customers and (segment_column not in cases or cases.get("segment").isna().all()):
            table = pd.concat(customers, ignore_index=True).drop_duplicates("ocel_id").set_index("ocel_id")
            if segment_column in table:
                cases["segment"] = linked.map(table[segment_column]).astype("string")
    if len(items):
        ordered = items.sort_values(["case_id", "line", "line_id"], kind="stable", na_position="last")
        per_order = ordered.groupby("case_id", sort=False)
        if "quantity" not in cases or cases["quantity"].isna().all():
            cases["quantity"] = per_order["quantity"].sum(min_count=1).reindex(cases.index)
        if "product" not in cases or cases["product"].isna().all():
            cases["product"] = per_order["product"].first().reindex(cases.index).astype("string")
        if "price" not in cases or cases["price"].isna().all():
            value = (ordered["quantity"] * ordered["price"]).groupby(ordered["case_id"]).sum(min_count=1)
            cases["price"] = (value / per_order["quantity"].sum(min_count=1)).reindex(cases.index)
    return cases


def from_ocel(tables: OcelTables, mapping: Mapping, source: str) -> CaseLog:
    """The case view of an OCEL log: one row per (event, order), every event followed to its orders.

    Events that reach no order are counted per activity (:data:`NO_ORDER`); object types
    that play no role (``products``, ``customers``, ``employees`` are read, not followed;
    types the mapping and their names do not place) are listed in the notes.
    """
    names = {attr: getattr(mapping.columns, attr) for attr in ("product", "quantity", "price")}
    flat = flatten(tables, mapping.object_types, mapping.case_object_type, names)
    if "order" not in flat.roles.values():
        found = ", ".join(sorted(tables.objects["ocel_type"].astype(str).unique()))
        raise LogError(
            [
                f"{source}: no object type is an order (set case_object_type or object_types in the "
                f"mapping; object types: {found})"
            ]
        )
    notes = list(flat.notes)
    totals = {str(k): int(v) for k, v in tables.events["ocel_type"].value_counts().sort_index().items()}
    unused = {str(kind): {NO_ORDER: int(count)} for kind, count in flat.no_order.items() if count}
    if len(flat.no_order):
        case_type = next(k for k, r in flat.roles.items() if r == "order")
        notes.append(
            f"{int(flat.no_order.sum())} events relate to no {case_type} and are not used: "
            + ", ".join(f"{k} ({v})" for k, v in flat.no_order.items())
        )
    if flat.unused_types:
        notes.append("object types with no role in the cycle (not followed): "
                     + ", ".join(f"{k} ({v} objects)" for k, v in flat.unused_types.items())
                     + "; name their role in the mapping's object_types")
    events = tables.events.reset_index(drop=True).assign(row=lambda f: np.arange(len(f)))
    frame = flat.rows.merge(events, left_on="ocel_event_id", right_on="ocel_id", how="inner")
    frame = frame.rename(columns={"ocel_type": "source_activity", "ocel_time": "timestamp",
                                  "ocel_event_id": "event_id"})
    resources = _resource_names(tables, flat.roles, mapping.columns.resource)
    frame["resource"] = frame["event_id"].map(resources).astype("string")
    for column in ("quantity", "amount"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce") if column in frame else np.nan
    for column in ID_COLUMN.values():
        frame[column] = frame[column].astype("string")
    case_ids = sorted(frame["case_id"].unique())
    items = flat.items[flat.items["case_id"].isin(case_ids)].reset_index(drop=True)
    cases = _order_attributes(tables, flat.roles, mapping, case_ids, items, source)
    lines = items if len(items) else None
    contents = flat.contents if len(flat.contents) else None
    roles = ", ".join(f"{kind}: {role}" for kind, role in sorted(flat.roles.items()))
    source_format = f"{tables.source_format} ({roles})"
    return _finish(frame, cases, mapping, source, notes, totals, unused, lines, contents, source_format)
