"""State snapshots: where the company stands at one moment, and a run that starts from it.

A snapshot (JSON, schema :class:`Snapshot`) lists the open orders with their step and
progress, stock per product, replenishment batches in production, machine states, open
invoices, return claims and repair tickets. Times are **days relative to the snapshot**
(``inquiry_day: -3.5`` is three and a half days before it), work in **hours**, money in
the scenario's currency. :func:`check` refuses a snapshot that contradicts its scenario,
one ``path: reason`` line per problem. :mod:`ordercycle.sim.placement` puts a
snapshot's objects into a :class:`~ordercycle.sim.model.CompanyModel` before the run
starts (simulation time 0 is the snapshot's time) and captures one from a running model.

What the model cannot know about an order placed mid-way is drawn afresh from the
``snapshot.*`` streams: its fates (quote acceptance, entry error, repair, return) and the
remaining time of the task it is in (the task restarts, less ``step_progress`` of an
operation).

Format version 2 (:data:`SCHEMA_VERSION`) adds order lines and shipments
(:mod:`ordercycle.sim.snapshot_lines`): an order may list its ``lines`` and
``shipments`` (an order of several lines must), a one-line order may name its
``line_id``, a return claim its ``shipment_id`` and ``line_id``. A version 1 document
(one line per order) is read as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ordercycle.policies.input_files import InputFileError, read_json
from ordercycle.scenarios.loader import ScenarioError, format_validation_error, override
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.model import cents
from ordercycle.sim.snapshot_lines import LineState, ShipmentState, check_order_lines

SCHEMA_VERSION = 2
VERSIONS = (1, 2)
"""Format versions this code reads (1: one line per order; 2: order lines and shipments)."""
KIND = "ordercycle-state-snapshot"
PRE_ACCEPTANCE = ("inquiry", "estimating", "awaiting_customer", "entry", "selection")
FULFILMENT = ("production", "backordered", "shipping", "in_transit", "installation")
STEPS = (*PRE_ACCEPTANCE, *FULFILMENT, "delivered")
"""Where an open order stands, in the order of the cycle."""
STEP_STATE = {
    "inquiry": ("inquiry", "sales"), "estimating": ("estimating", "estimating"),
    "awaiting_customer": ("awaiting_customer", "customer"), "entry": ("entry", "order_entry"),
    "selection": ("selection", "selection"), "backordered": ("backordered", "warehouse"),
    "shipping": ("picking", "warehouse"),
    "in_transit": ("in_transit", "logistics"), "installation": ("installation_waiting", "service"),
    "delivered": ("delivered", "customer"),
}
_CONFIG = ConfigDict(extra="forbid", frozen=True)
Step = Literal["inquiry", "estimating", "awaiting_customer", "entry", "selection", "production",
               "backordered", "shipping", "in_transit", "installation", "delivered"]


class SnapshotError(ScenarioError):
    """A snapshot that cannot be used; ``problems`` holds one ``path: reason`` line each.

    A :class:`~ordercycle.scenarios.loader.ScenarioError`: a scenario naming a snapshot
    that does not fit it is a bad scenario (the CLI exits with code 2).
    """


class MachineState(BaseModel):
    """One machine at the snapshot."""

    model_config = _CONFIG
    work_centre: str = Field(description="work centre id")
    index: int = Field(ge=0, description="machine index within the work centre, from 0")
    setup_family: str | None = Field(None, description="setup family it is set up for (None: not set up)")
    down_hours: float = Field(0.0, ge=0, description="remaining repair time if it is down, hours")


class ReplenishmentState(BaseModel):
    """A replenishment batch (production for stock) in production at the snapshot."""

    model_config = _CONFIG
    product: str = Field(description="product id")
    units: int = Field(gt=0, description="batch size, units")
    routing_step: int = Field(0, ge=0, description="index of the routing operation it is at, from 0")
    step_progress: float = Field(0.0, ge=0, lt=1, description="fraction of that operation done")


class OrderState(BaseModel):
    """One open order at the snapshot: one line in these fields, or its ``lines`` and ``shipments``."""

    model_config = _CONFIG
    order_id: int = Field(ge=1, description="order id (new orders of the run get larger ids)")
    customer_id: str = Field(min_length=1, description="customer id")
    segment: str = Field(description="customer segment id")
    product: str = Field(description="product id")
    quantity: int = Field(ge=1, description="units ordered")
    step: Step = Field(description="where the order stands (see docs/twin.md)")
    inquiry_day: float = Field(le=0, description="when the inquiry came in, days relative to the snapshot")
    unit_price: float | None = Field(None, gt=0, description="quoted / agreed unit price (from "
                                     "awaiting_customer on)")
    quoted_lead_days: float | None = Field(None, ge=0, description="lead time quoted, days "
                                           "(awaiting_customer and entry)")
    promised_day: float | None = Field(None, description="promised delivery, days relative to the "
                                       "snapshot (from selection on)")
    entered_day: float | None = Field(None, le=0, description="when the order was entered, relative days "
                                      "(default: the inquiry day)")
    entered_units: int | None = Field(None, ge=1, description="units as entered (default: quantity)")
    entered_unit_price: float | None = Field(None, gt=0, description="unit price as entered (default: "
                                             "unit_price)")
    routing_step: int = Field(0, ge=0, description="production: index of the routing operation "
                              "the order is at, from 0")
    step_progress: float = Field(0.0, ge=0, lt=1, description="production: fraction of that operation done")
    transit_days_left: float | None = Field(None, ge=0, description="in_transit: days until delivery "
                                            "(default: a fresh transit draw)")
    expedited: bool = Field(False, description="production was granted an expedite")
    shipped_units: int = Field(0, ge=0, description="units dispatched before the snapshot")
    first_ship_day: float | None = Field(None, le=0, description="first dispatch, relative days")
    delivered_day: float | None = Field(None, le=0, description="delivered: final delivery, relative days")
    invoiced_units: int = Field(0, ge=0, description="of the shipped units, those on invoices already")
    billed: float = Field(0.0, ge=0, description="money invoiced so far, currency")
    paid: float = Field(0.0, ge=0, description="money paid so far, currency")
    refunded: float = Field(0.0, ge=0, description="money refunded so far, currency")
    returned_units: int = Field(0, ge=0, description="units received back so far")
    unattended_hours: float = Field(0.0, ge=0, description="unattended time so far, hours")
    line_id: int | None = Field(None, ge=1, description="id of a one-line order's line (default: a new id)")
    released_day: float | None = Field(None, le=0, description="release to fulfilment, relative days "
                                       "(default: the entered day; orders the resumed back-orders)")
    lines: list[LineState] = Field(default_factory=list, description="its lines, each with where its "
                                   "units are (empty: one line, the fields above; see snapshot_lines)")
    shipments: list[ShipmentState] = Field(default_factory=list, description="with `lines`: every "
                                           "shipment of the order, picked, in transit or delivered")


class InvoiceLine(BaseModel):
    """What an open invoice charges one order."""

    model_config = _CONFIG
    order_id: int = Field(description="order id (one of `orders`)")
    units: int = Field(ge=1, description="shipped units invoiced")
    amount: float = Field(ge=0, description="amount charged, currency")


class InvoiceState(BaseModel):
    """An invoice issued and not yet paid."""

    model_config = _CONFIG
    invoice_id: int = Field(ge=1, description="invoice id")
    customer_id: str = Field(description="customer invoiced")
    issued_day: float = Field(le=0, description="issue date, days relative to the snapshot")
    lines: list[InvoiceLine] = Field(min_length=1, description="one line per order")
    disputed: bool = Field(False, description="the customer disputes it (billing reworks it first)")


class ReturnState(BaseModel):
    """A return claim in progress."""

    model_config = _CONFIG
    return_id: int = Field(ge=1, description="return id")
    order_id: int = Field(description="order id (one of `orders`)")
    units: int = Field(ge=1, description="units claimed back")
    stage: Literal["approval", "pickup", "refund"] = Field(
        description="awaiting approval, approved and awaiting pickup, or received and awaiting the refund")
    reason: Literal["defect", "wrong_shipment"] = Field("defect", description="why the goods come back")
    shipment_id: int | None = Field(None, ge=1, description="the delivered shipment claimed (an order that "
                                    "lists its shipments; default: one that carried enough units)")
    line_id: int | None = Field(None, ge=1, description="the line claimed, when the claim is for one line "
                                "of a shipment (default: the whole shipment)")


class TicketState(BaseModel):
    """A repair ticket open at the snapshot (the crew not yet gathered)."""

    model_config = _CONFIG
    ticket_id: int = Field(ge=1, description="ticket id")
    order_id: int = Field(description="order id (one of `orders`, step delivered)")


class Snapshot(BaseModel):
    """The state of the company at one moment (simulation time 0 of a run started from it)."""

    model_config = _CONFIG
    schema_version: Literal[1, 2] = Field(2, description="version of this format (1: one line per order)")
    kind: Literal["ordercycle-state-snapshot"] = Field(KIND, description="what this document is")
    taken_at_day: float = Field(0.0, ge=0, description="calendar day of the snapshot in the scenario's "
                                "time (phase of arrival trends and seasons), days")
    description: str = Field("", description="free text")
    stock: dict[str, int] = Field(default_factory=dict, description="units on hand per product "
                                  "(products left out keep the scenario's initial stock)")
    shifts: dict[str, int] = Field(default_factory=dict, description="staffed shifts per work centre "
                                   "(left out: the scenario's initial_shifts)")
    machines: list[MachineState] = Field(default_factory=list, description="machines set up or down")
    replenishments: list[ReplenishmentState] = Field(default_factory=list)
    orders: list[OrderState] = Field(default_factory=list)
    invoices: list[InvoiceState] = Field(default_factory=list)
    returns: list[ReturnState] = Field(default_factory=list)
    tickets: list[TicketState] = Field(default_factory=list)


# --- checking against the scenario --------------------------------------------------------


def _duplicates(ids: list[int], path: str, what: str) -> list[str]:
    seen: set[int] = set()
    problems = []
    for i, ident in enumerate(ids):
        if ident in seen:
            problems.append(f"{path}.{i}.{what}: duplicate id {ident}")
        seen.add(ident)
    return problems


def _check_order(i: int, o: OrderState, scenario: Scenario, disputed: set[int],
                 invoices: dict[int, InvoiceState]) -> list[str]:
    """Problems of one order: references, the fields its step needs, units, money and times."""
    at = f"orders.{i}"
    products = {p.id: p for p in scenario.products}
    problems = []
    if o.segment not in {s.id for s in scenario.segments}:
        problems.append(f"{at}.segment: unknown segment {o.segment!r}")
    product = products.get(o.product)
    if product is None:
        return problems + [f"{at}.product: unknown product {o.product!r}"]
    rank = STEPS.index(o.step)
    if o.lines:  # per line and shipment, then what holds for every order
        problems += check_order_lines(at, o, products, invoices, rank, o.order_id in disputed)
    elif o.shipments:
        problems.append(f"{at}.shipments: an order that lists its shipments lists its lines too")
    if rank >= 2 and o.unit_price is None and not o.lines:
        problems.append(f"{at}.unit_price: required from step awaiting_customer on (step {o.step})")
    if o.step in ("awaiting_customer", "entry") and o.quoted_lead_days is None:
        problems.append(f"{at}.quoted_lead_days: required at step {o.step}")
    if rank >= 4 and o.promised_day is None:
        problems.append(f"{at}.promised_day: required from step selection on (step {o.step})")
    if o.step == "production" and not o.lines and o.routing_step >= len(product.routing):
        problems.append(f"{at}.routing_step: {o.routing_step} is beyond the routing of {o.product!r} "
                        f"({len(product.routing)} operations)")
    if o.step == "installation" and not o.lines and not product.installation_skills:
        problems.append(f"{at}.step: product {o.product!r} needs no installation")
    if o.step in PRE_ACCEPTANCE and (o.shipped_units or o.billed or o.paid or o.refunded):
        problems.append(f"{at}: nothing can be shipped or billed before the order is accepted "
                        f"(step {o.step})")
    if o.shipped_units > o.quantity:
        problems.append(f"{at}.shipped_units: {o.shipped_units} > quantity {o.quantity}")
    elif o.step in ("production", "shipping") and o.shipped_units == o.quantity:
        problems.append(f"{at}.shipped_units: every unit is shipped, yet the order is at step {o.step}")
    elif rank >= STEPS.index("in_transit") and o.shipped_units != o.quantity:
        problems.append(f"{at}.shipped_units: step {o.step} needs every unit shipped, "
                        f"got {o.shipped_units} of {o.quantity}")
    if o.invoiced_units > o.shipped_units:
        problems.append(f"{at}.invoiced_units: {o.invoiced_units} > shipped_units {o.shipped_units}")
    if o.returned_units > o.shipped_units:
        problems.append(f"{at}.returned_units: {o.returned_units} > shipped_units {o.shipped_units}")
    if o.paid > o.billed + 1e-9:
        problems.append(f"{at}.paid: {o.paid:g} > billed {o.billed:g}")
    if o.refunded > o.billed + 1e-9:
        problems.append(f"{at}.refunded: {o.refunded:g} > billed {o.billed:g}")
    if o.unit_price is not None and o.order_id not in disputed and not o.lines:
        due = o.invoiced_units * cents(o.unit_price)
        if cents(o.billed) != due:
            problems.append(f"{at}.billed: {o.billed:.2f} differs from invoiced_units x unit_price "
                            f"({due / 100:.2f}) and no open disputed invoice covers the order")
    times = [("inquiry_day", o.inquiry_day), ("entered_day", o.entered_day), ("released_day", o.released_day),
             ("first_ship_day", o.first_ship_day), ("delivered_day", o.delivered_day)]
    known = [(name, t) for name, t in times if t is not None]
    for (name_a, a), (name_b, b) in zip(known, known[1:], strict=False):
        if b < a:
            problems.append(f"{at}.{name_b}: {b:g} is before {name_a} {a:g}")
    if o.unattended_hours > -o.inquiry_day * 24 + 1e-9:
        problems.append(f"{at}.unattended_hours: {o.unattended_hours:g} h > the order's age "
                        f"{-o.inquiry_day * 24:g} h")
    return problems


def check(snapshot: Snapshot, scenario: Scenario) -> list[str]:
    """Every contradiction between ``snapshot`` and ``scenario``, one ``path: reason`` line each."""
    products = {p.id: p for p in scenario.products}
    centres = {w.id: w for w in scenario.work_centres}
    families = {p.setup_family for p in scenario.products}
    problems = [f"stock.{p}: unknown product {p!r}" for p in snapshot.stock if p not in products]
    problems += [f"stock.{p}: must be >= 0, got {n}" for p, n in snapshot.stock.items() if n < 0]
    for centre, n in snapshot.shifts.items():
        if centre not in centres:
            problems.append(f"shifts.{centre}: unknown work centre {centre!r}")
        elif not 1 <= n <= 3:
            problems.append(f"shifts.{centre}: must be 1, 2 or 3, got {n}")
    seen: set[tuple[str, int]] = set()
    for i, machine in enumerate(snapshot.machines):
        spec = centres.get(machine.work_centre)
        if spec is None:
            problems.append(f"machines.{i}.work_centre: unknown work centre {machine.work_centre!r}")
            continue
        if machine.index >= spec.machines:
            problems.append(f"machines.{i}.index: {machine.work_centre} has {spec.machines} machines "
                            f"(0..{spec.machines - 1}), got {machine.index}")
        if (machine.work_centre, machine.index) in seen:
            problems.append(f"machines.{i}: machine {machine.work_centre}:{machine.index} listed twice")
        seen.add((machine.work_centre, machine.index))
        if machine.setup_family is not None and machine.setup_family not in families:
            problems.append(f"machines.{i}.setup_family: no product has setup family "
                            f"{machine.setup_family!r}")
    for i, batch in enumerate(snapshot.replenishments):
        product = products.get(batch.product)
        if product is None:
            problems.append(f"replenishments.{i}.product: unknown product {batch.product!r}")
        elif batch.routing_step >= len(product.routing):
            problems.append(f"replenishments.{i}.routing_step: {batch.routing_step} is beyond the routing "
                            f"of {batch.product!r} ({len(product.routing)} operations)")
    orders = {o.order_id: o for o in snapshot.orders}
    problems += _duplicates([o.order_id for o in snapshot.orders], "orders", "order_id")
    problems += _duplicates([v.invoice_id for v in snapshot.invoices], "invoices", "invoice_id")
    problems += _duplicates([r.return_id for r in snapshot.returns], "returns", "return_id")
    problems += _duplicates([t.ticket_id for t in snapshot.tickets], "tickets", "ticket_id")
    disputed = {line.order_id for v in snapshot.invoices if v.disputed for line in v.lines}
    by_invoice = {v.invoice_id: v for v in snapshot.invoices}
    for i, order in enumerate(snapshot.orders):
        problems += _check_order(i, order, scenario, disputed, by_invoice)
    problems += _check_ids_and_version(snapshot)
    open_units: dict[int, int] = {}
    open_cents: dict[int, int] = {}
    for i, invoice in enumerate(snapshot.invoices):
        segments = set()
        on_invoice: set[int] = set()
        for j, line in enumerate(invoice.lines):
            if line.order_id in on_invoice:
                problems.append(f"invoices.{i}.lines.{j}.order_id: order {line.order_id} has a line already "
                                "(one line per order)")
            on_invoice.add(line.order_id)
            order = orders.get(line.order_id)
            if order is None:
                problems.append(f"invoices.{i}.lines.{j}.order_id: unknown order {line.order_id}")
                continue
            segments.add(order.segment)
            if order.customer_id != invoice.customer_id:
                problems.append(f"invoices.{i}.lines.{j}.order_id: order {line.order_id} is of customer "
                                f"{order.customer_id!r}, the invoice of {invoice.customer_id!r}")
            open_units[line.order_id] = open_units.get(line.order_id, 0) + line.units
            open_cents[line.order_id] = open_cents.get(line.order_id, 0) + cents(line.amount)
            if order.lines:  # the units of the order's shipments this invoice bills
                billed = sum(s.units for s in order.shipments if s.invoice_id == invoice.invoice_id)
                if billed != line.units:
                    problems.append(f"invoices.{i}.lines.{j}.units: {line.units}, but the shipments of order "
                                    f"{line.order_id} on invoice {invoice.invoice_id} carry {billed}")
        if len(segments) > 1:
            problems.append(f"invoices.{i}.lines: orders of several segments {sorted(segments)}")
    for i, order in enumerate(snapshot.orders):
        unpaid = cents(order.billed) - cents(order.paid)
        if unpaid > 0 and unpaid != open_cents.get(order.order_id, 0):
            problems.append(f"orders.{i}.paid: billed - paid = {unpaid / 100:.2f} must be on open invoices, "
                            f"which charge the order {open_cents.get(order.order_id, 0) / 100:.2f}")
    for order_id, units in sorted(open_units.items()):
        order = orders[order_id]
        if units > order.invoiced_units:
            problems.append(f"invoices: {units} units of order {order_id} on open invoices, "
                            f"> its invoiced_units {order.invoiced_units}")
        if open_cents[order_id] > cents(order.billed) - cents(order.paid):
            problems.append(f"invoices: {open_cents[order_id] / 100:.2f} open for order {order_id}, "
                            f"> its billed - paid {order.billed - order.paid:.2f}")
    for i, claim in enumerate(snapshot.returns):
        order = orders.get(claim.order_id)
        if order is None:
            problems.append(f"returns.{i}.order_id: unknown order {claim.order_id}")
            continue
        problems += _check_claimed_shipment(i, claim, order)
        if claim.stage == "refund" and claim.units > order.returned_units:
            problems.append(f"returns.{i}.units: {claim.units} awaiting a refund, > the order's "
                            f"returned_units {order.returned_units}")
        elif claim.stage != "refund" and claim.units > order.shipped_units - order.returned_units:
            problems.append(f"returns.{i}.units: {claim.units} > the order's shipped units not yet "
                            f"returned ({order.shipped_units - order.returned_units})")
    for i, ticket in enumerate(snapshot.tickets):
        order = orders.get(ticket.order_id)
        if order is None:
            problems.append(f"tickets.{i}.order_id: unknown order {ticket.order_id}")
        elif order.step != "delivered":
            problems.append(f"tickets.{i}.order_id: a repair needs a delivered order, "
                            f"order {ticket.order_id} is at step {order.step}")
        elif order.product in products and products[order.product].service_skill is None:
            problems.append(f"tickets.{i}.order_id: product {order.product!r} has no service skill")
    return problems


def _check_ids_and_version(snapshot: Snapshot) -> list[str]:
    """Line and shipment ids are unique across orders; version 1 has none of version 2's fields."""
    lines: list[tuple[int, int, str]] = []  # (line id, order index, path)
    shipment_ids: list[int] = []
    for i, order in enumerate(snapshot.orders):
        if order.line_id is not None:
            lines.append((order.line_id, i, f"orders.{i}.line_id"))
        lines += [(line.line_id, i, f"orders.{i}.lines.{j}.line_id") for j, line in enumerate(order.lines)]
        shipment_ids += [s.shipment_id for s in order.shipments]
    problems = []
    first: dict[int, tuple[int, str]] = {}
    for ident, i, path in lines:
        if ident in first and first[ident][0] != i:  # (twice in one order: check_order_lines says so)
            problems.append(f"{path}: line {ident} is also {first[ident][1]}")
        first.setdefault(ident, (i, path))
    counts = {ident: shipment_ids.count(ident) for ident in set(shipment_ids)}
    problems += [f"orders: shipment {ident} is listed {n} times"
                 for ident, n in sorted(counts.items()) if n > 1]
    if snapshot.schema_version == 1:
        newer = [f"orders.{i}.{name}" for i, o in enumerate(snapshot.orders)
                 for name in ("lines", "shipments", "line_id", "released_day") if getattr(o, name)]
        newer += [f"returns.{i}.{name}" for i, r in enumerate(snapshot.returns)
                  for name in ("shipment_id", "line_id") if getattr(r, name) is not None]
        problems += [f"{path}: needs schema_version 2 (order lines and shipments), the document says 1"
                     for path in newer]
    return problems


def _check_claimed_shipment(i: int, claim: ReturnState, order: OrderState) -> list[str]:
    """A claim naming its shipment (and line) names a delivered one of its order, and no more units."""
    at = f"returns.{i}"
    if claim.shipment_id is None:
        return [f"{at}.line_id: name the shipment_id the line was claimed from"] if claim.line_id else []
    if not order.shipments:
        return [f"{at}.shipment_id: order {order.order_id} lists no shipments (give them in its `shipments`)"]
    shipment = next((s for s in order.shipments if s.shipment_id == claim.shipment_id), None)
    if shipment is None or shipment.stage != "delivered":
        return [f"{at}.shipment_id: {claim.shipment_id} is not a delivered shipment of order "
                f"{order.order_id}"]
    units = shipment.units
    if claim.line_id is not None:
        units = sum(part.units for part in shipment.lines if part.line_id == claim.line_id)
        if not units:
            return [f"{at}.line_id: shipment {claim.shipment_id} carries no line {claim.line_id}"]
    if claim.units > units:
        return [f"{at}.units: {claim.units} > the {units} units claimed from (shipment {claim.shipment_id})"]
    return []


def parse_snapshot(data: Any, scenario: Scenario, source: str = "snapshot") -> Snapshot:
    """Validate ``data`` (as read from JSON) into a :class:`Snapshot` that fits ``scenario``.

    Raises:
        SnapshotError: one ``path: reason`` line per problem (``source`` names the file).
    """
    if not isinstance(data, dict):
        raise SnapshotError([f"{source}: must be a JSON object, got {type(data).__name__}"])
    version = data.get("schema_version", SCHEMA_VERSION)
    if version not in VERSIONS:
        raise SnapshotError([f"{source}: schema_version: {version!r} is not a snapshot format this "
                             f"version of ordercycle reads ({', '.join(map(str, VERSIONS))}); write it "
                             "again with `ordercycle run --snapshot-at` or convert it"])
    try:
        snapshot = Snapshot.model_validate(data)
    except ValidationError as error:
        raise SnapshotError([f"{source}: {line}" for line in format_validation_error(error)]) from None
    problems = check(snapshot, scenario)
    if problems:
        raise SnapshotError([f"{source}: {line}" for line in problems])
    return snapshot


def read_snapshot(path: str | Path, scenario: Scenario) -> Snapshot:
    """Read and check a snapshot against ``scenario`` (:class:`SnapshotError` if it does not fit).

    ``path`` is a JSON file or a folder of CSV tables (:mod:`ordercycle.sim.snapshot_tables`).
    """
    path = Path(path)
    if path.is_dir():
        from ordercycle.sim.snapshot_tables import tables_to_data

        return parse_snapshot(tables_to_data(path), scenario, str(path))
    try:
        data = read_json(path)
    except InputFileError as error:
        raise SnapshotError(error.problems) from None
    return parse_snapshot(data, scenario, str(path))


_CHECKED: dict[int, tuple[Scenario, Snapshot]] = {}
"""The last few scenarios whose snapshot was checked, by id (the scenario is kept, so the id stays its)."""
CHECKED_KEPT = 4


def snapshot_of_scenario(scenario: Scenario) -> Snapshot:
    """The snapshot a scenario names (``start``), checked against it.

    Replications of one scenario object (promise risk, what-if in one process) check it
    once: scenarios are immutable, so the answer for the same object cannot change.
    """
    assert scenario.start is not None
    cached = _CHECKED.get(id(scenario))
    if cached is not None and cached[0] is scenario:
        return cached[1]
    if scenario.start.state is None:
        raise SnapshotError([f"start.snapshot: {scenario.start.snapshot} was not loaded (load the scenario "
                             "from its file, or use `starting_from`)"])
    bare = scenario.model_copy(update={"start": None})
    snapshot = parse_snapshot(scenario.start.state, bare, f"start.snapshot ({scenario.start.snapshot})")
    while len(_CHECKED) >= CHECKED_KEPT:
        del _CHECKED[next(iter(_CHECKED))]
    _CHECKED[id(scenario)] = (scenario, snapshot)
    return snapshot


def starting_from(scenario: Scenario, snapshot: Snapshot, days: float | None = None,
                  source: str = "snapshot.json") -> Scenario:
    """``scenario`` started from ``snapshot`` (over ``days`` from it, no warm-up, when given)."""
    changes: dict[str, Any] = {"start": {"snapshot": source, "state": snapshot.model_dump(mode="json")}}
    if days is not None:
        changes.update(horizon_days=days, warmup_days=0.0)
    return override(scenario, **changes)
