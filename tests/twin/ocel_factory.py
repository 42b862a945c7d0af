"""Order-management logs with known parameters, as pm4py writes them (test helpers).

There is no public order-management log on this machine, so the tests build their own,
in the vocabulary of the OCEL 2.0 standard's "Order Management" example (object types
``orders``, ``items``, ``packages``, ``customers``, ``products``, ``employees``; activities
``place order``, ``confirm order``, ``pick item``, ``create package``, ``send package``,
``package delivered``, ``pay order`` …):

- :func:`order_management` draws a company from known parameters (:class:`Truth`) with
  numpy alone: orders of several items arrive by a weekday and hourly profile, some are
  paid before they ship, packages carry their items (some orders in two packages), a
  carrier delivers with delays, invoices are paid after the terms. Calibration must
  recover every parameter within its sampling error.
- :func:`from_simulation` writes a run of the model in the same vocabulary (a third
  party's view of the company: no sales contacts, no estimation, no production), so that
  a twin calibrated from it can be validated against it.

Both give a :class:`pm4py.objects.ocel.obj.OCEL`; :func:`write_all` writes it in every
OCEL format pm4py has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ORIGIN = pd.Timestamp("2026-03-02")  # a Monday
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = [0.1] * 7 + [0.6, 1.8, 2.4, 2.4, 2.0, 1.2, 1.8, 2.2, 2.0, 1.4, 0.8, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1]


def _normalised(values):
    values = np.asarray(values, dtype=float)
    return values / values.mean()


@dataclass
class Truth:
    """The known parameters of :func:`order_management` (days unless said)."""

    days: float = 84.0
    rates: dict[str, float] = field(default_factory=lambda: {"regular": 22.0, "strategic": 9.0})
    weekday: dict[str, float] = field(default_factory=lambda: dict(zip(
        WEEKDAYS, _normalised([1.3, 1.3, 1.2, 1.2, 1.0, 0.6, 0.4]), strict=True)))
    hourly: list[float] = field(default_factory=lambda: list(_normalised(HOURS)))
    lines_high: float = 2.6  # lines per order: uniform(0, 2.6) rounded up
    size: tuple[float, float] = (4.0, 0.7)  # units per line: lognormal (mean, cv) rounded up
    mix: dict[str, float] = field(default_factory=lambda: {
        "valve": 0.35, "filter": 0.25, "spare-kit": 0.15, "pump": 0.10, "controller": 0.15})
    confirm: tuple[float, float] = (0.15, 0.6)  # place → confirm: lognormal days
    prepaid_share: float = 0.3
    prepay_delay: float = 2.0  # payment request (at confirmation) → payment: exponential mean
    pick_wait: float = 0.5  # confirmation or payment → first pick: exponential mean
    split: float = 0.4  # an order of several items leaves in two packages
    second_package: float = 3.0  # the second package's extra wait: exponential mean
    transit: tuple[float, float, float] = (1.0, 2.0, 4.0)  # triangular (low, mode, high)
    reliability: float = 0.9
    delay: float = 1.5  # exponential mean, with probability 1 - reliability
    terms: float = 30.0  # payment terms of the regular segment (the baseline's)
    payment_delay: float = 5.0  # days paid after the terms: exponential mean
    carrier: str = "parcel-express"

    @property
    def lines_pmf(self) -> dict[int, float]:
        """P(lines = k) of uniform(0, lines_high) rounded up."""
        edges = np.clip(np.arange(0, 6, dtype=float), 0, self.lines_high) / self.lines_high
        return {k: float(edges[k] - edges[k - 1]) for k in range(1, 6) if edges[k] > edges[k - 1]}


def _lognormal(rng, mean, cv, size=None):
    sigma = math.sqrt(math.log1p(cv**2))
    return rng.lognormal(math.log(mean) - sigma**2 / 2, sigma, size)


def _arrivals(rng, rate, truth: Truth) -> np.ndarray:
    """Poisson arrivals at ``rate`` a day shaped by the weekday and hourly profiles (thinning)."""
    peak = rate * max(truth.weekday.values()) * max(truth.hourly)
    times = np.cumsum(rng.exponential(1 / peak, int(peak * truth.days * 1.3) + 100))
    times = times[times < truth.days]
    weekday = np.array([truth.weekday[WEEKDAYS[(int(t) + ORIGIN.weekday()) % 7]] for t in times])
    hour = np.array([truth.hourly[int((t % 1) * 24)] for t in times])
    return times[rng.uniform(size=len(times)) * peak <= rate * weekday * hour]


class _Log:
    """Rows of the OCEL tables being built."""

    def __init__(self):
        self.events, self.relations, self.objects, self.o2o = [], [], {}, []

    def obj(self, oid, kind, **attributes):
        self.objects[oid] = {"ocel:oid": oid, "ocel:type": kind, **attributes}

    def event(self, activity, time, related, **attributes):
        eid = f"e{len(self.events) + 1}"
        self.events.append({"ocel:eid": eid, "ocel:activity": activity,
                            "ocel:timestamp": ORIGIN + pd.Timedelta(days=float(time)), **attributes})
        self.relations += [(eid, oid, qualifier) for oid, qualifier in related]

    def link(self, source, target, qualifier):
        self.o2o.append((source, target, qualifier))

    def ocel(self, cut: float | None = None):
        from pm4py.objects.ocel.obj import OCEL

        events = pd.DataFrame(self.events)
        if cut is not None:
            events = events[events["ocel:timestamp"] <= ORIGIN + pd.Timedelta(days=cut)]
        events = events.sort_values("ocel:timestamp", kind="stable").reset_index(drop=True)
        objects = pd.DataFrame(list(self.objects.values()))
        relations = pd.DataFrame(self.relations, columns=["ocel:eid", "ocel:oid", "ocel:qualifier"])
        relations = relations.merge(events[["ocel:eid", "ocel:activity", "ocel:timestamp"]], on="ocel:eid")
        relations = relations.merge(objects[["ocel:oid", "ocel:type"]], on="ocel:oid")
        o2o = pd.DataFrame(self.o2o, columns=["ocel:oid", "ocel:oid_2", "ocel:qualifier"])
        return OCEL(events, objects, relations, o2o=o2o)


def order_management(truth: Truth | None = None, seed: int = 0, segments: bool = True, after: float = 0.0):
    """An order-management log drawn from ``truth``; without ``segments`` customers have none.

    Orders arrive over ``truth.days``; the log is extracted ``after`` days later (the later
    events of the orders, no new order).
    """
    truth = truth or Truth()
    rng = np.random.default_rng(seed)
    log = _Log()
    products = list(truth.mix)
    weights = np.array(list(truth.mix.values()))
    for product in products:
        log.obj(product, "products")
    for person, role in (("anna", "sales"), ("ben", "warehouse"), ("cleo", "warehouse"), ("dan", "billing")):
        log.obj(person, "employees", role=role)
    arrivals = sorted((t, name) for name, rate in truth.rates.items() for t in _arrivals(rng, rate, truth))
    item_count = package_count = invoice_count = 0
    for number, (placed, segment) in enumerate(arrivals, start=1):
        order, customer = f"o{number}", f"{segment[:3]}-{rng.integers(1, 60)}"
        log.obj(customer, "customers", **({"segment": segment} if segments else {}))
        log.obj(order, "orders")
        log.link(customer, order, "places")
        lines = min(max(math.ceil(rng.uniform(0, truth.lines_high)), 1), len(products))
        left, items = list(range(len(products))), []
        for _ in range(lines):  # the first line by the mix, each further one among the products left
            chosen = left.pop(rng.choice(len(left), p=weights[left] / weights[left].sum()))
            item_count += 1
            item = f"i{item_count}"
            quantity = max(1, math.ceil(_lognormal(rng, *truth.size)))
            log.obj(item, "items", product=products[chosen], quantity=quantity, price=10.0 * (chosen + 1))
            log.link(order, item, "comprises")
            log.link(item, products[chosen], "is a")
            items.append(item)
        log.event("place order", placed,
                  [(order, "order"), (customer, "customer"), *[(i, "item") for i in items]])
        confirmed = placed + _lognormal(rng, *truth.confirm)
        log.event("confirm order", confirmed, [(order, "order"), ("anna", "sales person")])
        ready = confirmed
        prepaid = rng.uniform() < truth.prepaid_share
        if prepaid:
            log.event("payment request", confirmed, [(order, "order")])
            ready = confirmed + rng.exponential(truth.prepay_delay)
            log.event("pay order", ready, [(order, "order")])
        if rng.uniform() < 0.05:
            log.event("payment reminder", confirmed + 1.0, [(order, "order")])
        groups = [items]
        if len(items) > 1 and rng.uniform() < truth.split:
            groups = [items[:1], items[1:]]
        picked = ready + rng.exponential(truth.pick_wait)
        for k, carried in enumerate(groups):
            package_count += 1
            package = f"p{package_count}"
            log.obj(package, "packages")
            start = picked + (rng.exponential(truth.second_package) if k else 0.0)
            for j, item in enumerate(carried):
                log.link(package, item, "contains")
                log.event("pick item", start + 0.01 * j,
                          [(item, "item"), (package, "package"), ("ben", "picker")])
            log.event("create package", start + 0.05, [(package, "package"), *[(i, "item") for i in carried]])
            sent = start + 0.1
            log.event("send package", sent, [(package, "package"), *[(i, "item") for i in carried]],
                      resource=truth.carrier)
            transit = rng.triangular(*truth.transit)
            if rng.uniform() >= truth.reliability:
                transit += rng.exponential(truth.delay)
                log.event("failed delivery", sent + transit - 0.5, [(package, "package")])
            log.event("package delivered", sent + transit, [(package, "package")])
            if not prepaid:
                invoice_count += 1
                invoice = f"inv{invoice_count}"
                log.obj(invoice, "invoices")
                log.link(invoice, order, "bills")
                issued = sent + 0.02
                log.event("create invoice", issued,
                          [(invoice, "invoice"), (order, "order"), ("dan", "clerk")])
                log.event("pay order", issued + truth.terms + rng.exponential(truth.payment_delay),
                          [(order, "order"), (invoice, "invoice")])
    for k in range(20):  # stock work of products: reaches no order
        log.event("reorder item", 3.0 * k + 1.0, [(products[k % len(products)], "product")])
    return log.ocel(cut=truth.days + after)


# --- a run of the model, as a third party logs it ------------------------------------------------

RELABEL = {
    "inquiry_received": "receive inquiry",
    "quote_sent": "send quotation",
    "quote_accepted": "quotation accepted",
    "quote_lost": "quotation declined",
    "order_entered": "enter order",
    "order_accepted": "confirm order",
    "order_rejected": "reject order",
    "shipment_dispatched": "send package",
    "shipment_delivered": "package delivered",
    "invoice_issued": "create invoice",
    "invoice_disputed": "dispute invoice",
    "payment_received": "pay order",
    "prepayment_received": "pay order",
}
"""Activities of the model kept in the third party's log, and their names there (picking: ``pick item``)."""
RUN_MAPPING = {
    "case_object_type": "orders",
    "columns": {"resource": "resource", "promised_date": "promised_date"},
    "activities": {**{name: activity for activity, name in RELABEL.items()
                      if activity != "prepayment_received"}, "pick item": "picking_started"},
}
"""The mapping of :func:`from_simulation`'s log back to the cycle."""


def from_simulation(result, scenario):
    """A run of the model as an order-management system would log it (pm4py OCEL)."""
    from ordercycle.sim.twin import ocel

    start = pd.Timestamp(scenario.calendars.start_date) if scenario.calendars else ORIGIN
    tables = ocel.from_run(result.events, result.orders, start, scenario.model_dump(mode="json")["products"],
                           result.lines, result.shipment_lines)
    kinds = {"order": "orders", "item": "items", "package": "packages", "invoice": "invoices",
             "product": "products"}
    kind_of = tables.objects.set_index("ocel_id")["ocel_type"]
    events = tables.events
    picking = events[events["ocel_type"] == "picking_started"]
    kept = events[events["ocel_type"].isin(list(RELABEL))]
    log = _Log()
    orders = tables.object_attributes["order"].set_index("ocel_id")
    for oid, kind in kind_of.items():
        if kind in kinds and kind != "order":
            attributes = {}
            if kind == "item":
                row = tables.object_attributes["item"].set_index("ocel_id").loc[oid]
                attributes = {"product": row["product"], "quantity": int(row["quantity"]),
                              "price": float(row["price"])}
            log.obj(oid, kinds[kind], **attributes)
    for oid, row in orders.iterrows():
        log.obj(oid, "orders", promised_date=row["promised_date"])
        customer = f"customer:{row['customer']}"
        log.obj(customer, "customers", segment=row["segment"])
        log.link(customer, oid, "places")
    for source, target, qualifier in tables.o2o.itertuples(index=False):
        if kind_of.get(source) in kinds and kind_of.get(target) in kinds:
            log.link(source, target, qualifier)
    e2o = tables.e2o[tables.e2o["ocel_object_id"].map(kind_of).isin(list(kinds))]
    related = e2o.groupby("ocel_event_id")[["ocel_object_id", "ocel_qualifier"]].apply(
        lambda f: list(zip(f["ocel_object_id"], f["ocel_qualifier"], strict=True)))
    customer_of = {oid: f"customer:{row['customer']}" for oid, row in orders.iterrows()}
    comprises = tables.o2o[tables.o2o["ocel_qualifier"] == "comprises"]
    items_of = comprises.groupby("ocel_source_id")["ocel_target_id"].apply(list).to_dict()
    for row in kept.itertuples(index=False):
        extra = {"resource": row.resource} if row.ocel_type == "shipment_dispatched" else {}
        objects = related.get(row.ocel_id, [])
        if row.ocel_type == "inquiry_received":  # the customer asks for these items (as ``place order``;
            orders_here = [o for o, _ in objects if o in customer_of]  # pm4py keeps objects of events only)
            objects = objects + [(customer_of[o], "customer") for o in orders_here]
            objects = objects + [(i, "item") for o in orders_here for i in items_of.get(o, [])]
        log.event(RELABEL[row.ocel_type], (row.ocel_time - ORIGIN) / pd.Timedelta(days=1), objects, **extra)
    for row in picking.itertuples(index=False):  # one pick per item the package carries
        objects = related.get(row.ocel_id, [])
        package = [(o, q) for o, q in objects if kind_of.get(o) == "package"]
        for oid, qualifier in objects:
            if kind_of.get(oid) == "item":
                log.event("pick item", (row.ocel_time - ORIGIN) / pd.Timedelta(days=1),
                          [(oid, qualifier), *package])
    return log.ocel()


# --- every format pm4py writes ---------------------------------------------------------------------

FORMATS = {
    "ocel2.jsonocel": "write_ocel2_json",
    "ocel2.xmlocel": "write_ocel2_xml",
    "ocel2.sqlite": "write_ocel2_sqlite",
    "ocel1.jsonocel": "write_ocel_json",
    "ocel1.xmlocel": "write_ocel_xml",
    "ocel1.sqlite": "write_ocel_sqlite",
}
"""File name -> the pm4py function that writes it (OCEL 2.0 JSON, XML, SQLite; 1.0 JSON, XML; pm4py's
1.0 SQLite). ``ocel1.*`` are written without object-to-object relations, as OCEL 1.0 has none."""


def write_all(ocel_log, folder: Path, formats=tuple(FORMATS)) -> dict[str, Path]:
    """Write the log with pm4py in each format; the OCEL 1.0 files from a copy without o2o relations."""
    import pm4py
    from pm4py.objects.ocel.obj import OCEL

    folder.mkdir(parents=True, exist_ok=True)
    classic = OCEL(ocel_log.events, ocel_log.objects, ocel_log.relations)
    written = {}
    for name in formats:
        path = folder / name
        getattr(pm4py, FORMATS[name])(classic if name.startswith("ocel1") else ocel_log, str(path))
        written[name] = path
    return written
