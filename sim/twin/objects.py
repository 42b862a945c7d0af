"""Following an object-centric log's objects to the orders they belong to.

An order-management log (the OCEL 2.0 example: *orders*, *items*, *packages*,
*customers*, *products*, *employees*) records much of the cycle on objects other than the
order: an item is picked, a package is created, sent and delivered. :func:`flatten`
gives every event the orders it concerns, through the objects it relates to:

- each object type plays a **role** (:data:`ROLE_NAMES`: ``order``, ``item`` — an order
  line —, ``package`` — a shipment —, ``invoice``, ``return``, ``ticket``, ``job``; or
  ``product``, ``customer``, ``resource``, which are never followed, since they are
  shared by many orders); the mapping's ``object_types`` names them, else the type's
  name does (``orders``, ``order_lines``, ``shipments`` …);
- an **item** belongs to the orders it is linked to (object-to-object, either way); a
  **package** to the orders it is linked to, else to those of its items; an invoice,
  return, ticket or job to its orders, else to those of its packages and items. A log
  without object-to-object relations (OCEL 1.0) links an object to the objects it shares
  events with (``place order`` relates the order and its items) — only objects with no
  relation at all are linked so;
- an event concerns the orders it relates to; one that relates to no order concerns those
  of every item, package, invoice … it relates to: one row per (event, order). Events
  that reach no order are counted per activity, with the reason, never dropped silently.

It also gives the order lines (``items``: product, quantity, price of each) and what each
package carries (``contents``), which calibration fits lines per order, units per line,
the product mix and shipments per order from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ordercycle.sim.twin.ocel import LEGACY_TYPES, OcelTables

PARTS = ("item", "package", "invoice", "return", "ticket", "job")
"""Roles of objects that belong to orders (their events are the orders' events)."""
SHARED = ("product", "customer", "resource")
"""Roles of objects shared by many orders: read for attributes, never followed."""
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "order": ("order", "orders", "sales_order", "sales_orders", "salesorder", "purchase_order"),
    "item": ("item", "items", "line", "lines", "order_line", "order_lines", "orderline", "order_item",
             "order_items", "position", "positions"),
    "package": ("package", "packages", "shipment", "shipments", "delivery", "deliveries", "parcel",
                "parcels"),
    "invoice": ("invoice", "invoices", "bill", "bills", "billing_document"),
    "return": ("return", "returns", "claim", "claims"),
    "ticket": ("ticket", "tickets", "service_ticket"),
    "job": ("job", "jobs", "production_order", "work_order"),
    "product": ("product", "products", "material", "materials", "article", "articles"),
    "customer": ("customer", "customers", "client", "clients"),
    "resource": ("employee", "employees", "resource", "resources", "user", "users", "staff", "worker"),
}
"""Object type names (lower case, spaces as underscores) that play each role unless the mapping says."""
ID_COLUMN = {"package": "shipment_id", "invoice": "invoice_id", "return": "return_id",
             "ticket": "ticket_id", "job": "job_id", "item": "line_id"}
"""The case-log column of each part's id."""


def role_of(kind: str, named: dict[str, str], case_type: str) -> str | None:
    """The role of an object type: the mapping's, the case type's (``order``), else by its name."""
    if kind in named:
        return named[kind]
    kind = LEGACY_TYPES.get(kind, kind)
    if kind == case_type:
        return "order"
    key = kind.strip().lower().replace(" ", "_").replace("-", "_")
    for role, names in ROLE_NAMES.items():
        if key in names:
            return role
    return None


@dataclass
class Flattened:
    """An OCEL log on its orders: event rows, lines, package contents, and what could not be used."""

    rows: pd.DataFrame
    """One row per (event, order): ``ocel_event_id``, ``case_id`` and the parts' id columns."""
    items: pd.DataFrame
    """One row per item reached: ``line_id``, ``case_id`` and its attributes."""
    contents: pd.DataFrame
    """One row per (package, item it carries): ``shipment_id``, ``line_id``, ``case_id``."""
    roles: dict[str, str]
    """Object type -> role."""
    unused_types: dict[str, int] = field(default_factory=dict)
    """Object types with no role -> objects of them."""
    no_order: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    """Events that reach no order, per event type."""
    notes: list[str] = field(default_factory=list)


def _pairs(o2o: pd.DataFrame, role: pd.Series, left: str, right: str) -> pd.DataFrame:
    """(left object, right object) pairs linked either way, by their roles."""
    a = o2o[["ocel_source_id", "ocel_target_id"]].set_axis(["x", "y"], axis=1)
    both = pd.concat([a, a.rename(columns={"x": "y", "y": "x"})], ignore_index=True)
    both = both[(both["x"].map(role) == left) & (both["y"].map(role) == right)]
    return both.drop_duplicates().rename(columns={"x": left, "y": right}).reset_index(drop=True)


def _shared_events(e2o: pd.DataFrame, role: pd.Series, left: str, right: str,
                   linked: set[str]) -> pd.DataFrame:
    """(left, right) pairs of objects related to the same events, for left objects with no link."""
    rel = e2o.assign(role=e2o["ocel_object_id"].map(role))
    mine = rel[(rel["role"] == left) & ~rel["ocel_object_id"].isin(linked)]
    other = rel[rel["role"] == right]
    pairs = mine[["ocel_event_id", "ocel_object_id"]].merge(
        other[["ocel_event_id", "ocel_object_id"]], on="ocel_event_id", suffixes=("_l", "_r"))
    return (pairs[["ocel_object_id_l", "ocel_object_id_r"]].drop_duplicates()
            .set_axis([left, right], axis=1).reset_index(drop=True))


def _owners(tables: OcelTables, role: pd.Series, notes: list[str]) -> pd.DataFrame:
    """(object, case_id) for every order and every part object that reaches one.

    Parts are resolved in the order of :data:`PARTS`: items first, then packages (directly,
    else through their items), then invoices, returns, tickets and jobs (directly, else
    through the parts already resolved). A direct link to an order wins over one through
    another part.
    """
    o2o, e2o = tables.o2o, tables.e2o
    linked = set(o2o["ocel_source_id"]) | set(o2o["ocel_target_id"])
    orders = role.index[role == "order"]
    resolved = pd.DataFrame({"object": orders, "case_id": orders})
    by_shared: set[str] = set()

    def reach(part: str, other: str) -> pd.DataFrame:
        shared = _shared_events(e2o, role, part, other, linked)
        by_shared.update(shared[part])
        pairs = pd.concat([_pairs(o2o, role, part, other), shared], ignore_index=True)
        found = pairs.merge(resolved, left_on=other, right_on="object", suffixes=("", "_other"))
        return found[[part, "case_id"]].rename(columns={part: "object"})

    for index, part in enumerate(PARTS):
        direct = reach(part, "order")
        through = [reach(part, other) for other in PARTS[:index]]
        through = [t[~t["object"].isin(direct["object"])] for t in through]
        mine = pd.concat([direct, *through], ignore_index=True).drop_duplicates()
        resolved = pd.concat([resolved, mine], ignore_index=True)
    if by_shared:
        notes.append(f"{len(by_shared)} objects have no object-to-object relation: linked to the orders "
                     "and objects they share events with")
    return resolved.drop_duplicates().reset_index(drop=True)


def _attribute_frame(tables: OcelTables, roles: dict[str, str], wanted: str) -> pd.DataFrame:
    frames = [frame for kind, frame in tables.object_attributes.items() if roles.get(kind) == wanted]
    if not frames:
        return pd.DataFrame({"ocel_id": pd.Series(dtype="string")})
    return pd.concat(frames, ignore_index=True).drop_duplicates("ocel_id")


def _linked_names(tables: OcelTables, role: pd.Series, part: str, target: str) -> pd.Series:
    """Per ``part`` object, the id of a ``target`` object it is linked to (the type prefix dropped)."""
    pairs = _pairs(tables.o2o, role, part, target).drop_duplicates(part)
    names = pairs[target].astype(str)
    kinds = tables.objects.set_index("ocel_id")["ocel_type"].reindex(names).astype(str).to_numpy()
    stripped = [n[len(k) + 1:] if n.startswith(k + ":") else n for n, k in zip(names, kinds, strict=True)]
    return pd.Series(stripped, index=pairs[part].to_numpy(), dtype="string")


def flatten(tables: OcelTables, object_types: dict[str, str], case_type: str,
            attribute_names: dict[str, str]) -> Flattened:
    """Every event on the orders it concerns, with the orders' items and packages.

    Args:
        tables: the log.
        object_types: the mapping's object type -> role.
        case_type: the mapping's case object type (its role is ``order``).
        attribute_names: cycle attribute (``product``, ``quantity``, ``price``) -> the log's name.
    """
    kinds = sorted(tables.objects["ocel_type"].astype(str).unique())
    roles = {kind: r for kind in kinds if (r := role_of(kind, object_types, case_type)) is not None}
    counts = tables.objects["ocel_type"].astype(str).value_counts()
    unused = {kind: int(counts[kind]) for kind in kinds if kind not in roles}
    role = tables.objects.drop_duplicates("ocel_id").set_index("ocel_id")["ocel_type"].astype(str).map(roles)
    notes: list[str] = []
    owners = _owners(tables, role, notes)
    e2o = tables.e2o.assign(role=tables.e2o["ocel_object_id"].map(role))
    followed = e2o[e2o["role"].isin(("order", *PARTS))]
    rows = followed.merge(owners, left_on="ocel_object_id", right_on="object")
    # an event that names orders is theirs alone (a dispute of one order's line on a monthly invoice);
    # one that names none reaches the orders of the items, packages, invoices … it names
    direct = set(followed.loc[followed["role"] == "order", "ocel_event_id"])
    reach = rows[(rows["role"] == "order") | ~rows["ocel_event_id"].isin(direct)]
    pairs = reach[["ocel_event_id", "case_id"]].drop_duplicates().reset_index(drop=True)
    for part, column in ID_COLUMN.items():
        # the part of this order the event relates to, when it relates to exactly one
        mine = rows[rows["role"] == part].drop_duplicates(["ocel_event_id", "case_id", "ocel_object_id"])
        single = mine.groupby(["ocel_event_id", "case_id"])["ocel_object_id"].agg(["first", "size"])
        single = single["first"].where(single["size"] == 1)
        pairs[column] = pd.MultiIndex.from_frame(pairs[["ocel_event_id", "case_id"]]).map(single)
        pairs[column] = pairs[column].astype("string")
    items = _items(tables, roles, role, owners, attribute_names)
    contents = _pairs(tables.o2o, role, "package", "item").rename(
        columns={"package": "shipment_id", "item": "line_id"})
    shared = _shared_events(tables.e2o, role, "package", "item",
                            set(tables.o2o["ocel_source_id"]) | set(tables.o2o["ocel_target_id"]))
    contents = pd.concat([contents, shared.rename(columns={"package": "shipment_id", "item": "line_id"})],
                         ignore_index=True).drop_duplicates()
    contents = contents.merge(items[["line_id", "case_id"]], on="line_id")
    # an item-level event (``pick item``) names the package that carries the item, if only one does
    carriers = contents.groupby("line_id")["shipment_id"].agg(["first", "size"])
    carrier = carriers["first"].where(carriers["size"] == 1)
    gap = pairs["shipment_id"].isna() & pairs["line_id"].notna()
    pairs.loc[gap, "shipment_id"] = pairs.loc[gap, "line_id"].map(carrier).astype("string")
    reached = set(pairs["ocel_event_id"])
    types = tables.events.set_index("ocel_id")["ocel_type"]
    lost = tables.events["ocel_id"][~tables.events["ocel_id"].isin(reached)]
    no_order = types.reindex(lost).value_counts().sort_index()
    return Flattened(pairs, items, contents.reset_index(drop=True), roles, unused, no_order, notes)


def _items(tables: OcelTables, roles: dict[str, str], role: pd.Series, owners: pd.DataFrame,
           names: dict[str, str]) -> pd.DataFrame:
    """Items with their order (the first, if several), product, quantity, price and line number."""
    ids = role.index[role == "item"]
    frame = pd.DataFrame({"line_id": ids}).merge(
        owners.rename(columns={"object": "line_id"}), on="line_id", how="inner").drop_duplicates("line_id")
    attributes = _attribute_frame(tables, roles, "item").set_index("ocel_id")
    for attr in ("product", "quantity", "price", "line"):
        column = names.get(attr, attr)
        values = attributes[column].reindex(frame["line_id"]) if column in attributes else None
        frame[attr] = values.to_numpy() if values is not None else np.nan
    linked = _linked_names(tables, role, "item", "product")
    missing = frame["product"].isna()
    frame.loc[missing, "product"] = frame.loc[missing, "line_id"].map(linked)
    frame["product"] = frame["product"].astype("string")
    for attr in ("quantity", "price", "line"):
        frame[attr] = pd.to_numeric(frame[attr], errors="coerce")
    return frame.reset_index(drop=True)
