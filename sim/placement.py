"""Placing a state snapshot into a model at time 0, and capturing one from a running model.

:func:`place` is the inverse of :func:`capture`: a snapshot captured at day T of a run
and placed into a new model gives a run that continues from where that one stood (with
fresh random numbers for what a snapshot does not record; see ``docs/twin.md``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordercycle.sim.entities import CANCELLED, Invoice, Line, Order, Shipment
from ordercycle.sim.model import cents
from ordercycle.sim.snapshot import (
    FULFILMENT,
    KIND,
    PRE_ACCEPTANCE,
    SCHEMA_VERSION,
    STEP_STATE,
    STEPS,
    OrderState,
    Snapshot,
)

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel


# --- placing a snapshot into a model --------------------------------------------------------


def _order(m: CompanyModel, o: OrderState, fates: list[Any]) -> Order:
    """The live order of an order state (fates drawn from the snapshot's streams)."""
    product = m.products[o.product]
    segment = m.segments[o.segment]
    order = Order(o.order_id, o.customer_id, o.segment, segment.importance, o.product, o.quantity,
                  o.inquiry_day)
    order.u_accept, order.u_entry_error, order.u_repair, order.u_return = (draw() for draw in fates)
    line = Line(m.next_id("line"), order, 1, o.product, o.quantity)  # a snapshot's order has one line
    order.lines.append(line)
    rank = STEPS.index(o.step)
    if o.unit_price is not None:
        order.list_price, order.unit_cost = product.list_price, product.unit_cost
        order.unit_price = round(o.unit_price, 2)
        line.list_price, line.unit_cost, line.unit_price = order.list_price, order.unit_cost, order.unit_price
        order.quote_time = o.inquiry_day
    if o.quoted_lead_days is not None:
        order.quoted_lead_days = o.quoted_lead_days
    if rank >= STEPS.index("selection"):
        order.entered_time = o.entered_day if o.entered_day is not None else o.inquiry_day
        order.entered_units = o.entered_units or o.quantity
        order.entered_unit_price = o.entered_unit_price or order.unit_price
        if order.entered_units != o.quantity:
            order.entry_error = "quantity"
        elif order.entered_unit_price != order.unit_price:
            order.entry_error = "price"
        assert o.promised_day is not None
        order.promised_date = o.promised_day
    if rank >= STEPS.index("production"):
        order.accepted = True
        order.decision_time = order.released_time = order.entered_time
        order.expedited = o.expedited
        order.routing_step = o.routing_step if o.step == "production" else -1
    if o.shipped_units:
        order.shipped_units = line.shipped_units = o.shipped_units
        line.delivered_units = line.allocated_units = o.shipped_units
        order.first_ship_time = o.first_ship_day if o.first_ship_day is not None else order.entered_time
    if o.step == "delivered":
        order.delivered_time = o.delivered_day if o.delivered_day is not None else order.first_ship_time
        order.final_state = "delivered"
    order.billed_cents, order.paid_cents = cents(o.billed), cents(o.paid)
    order.refunded_cents, order.returned_units = cents(o.refunded), o.returned_units
    order.unattended_days = o.unattended_hours / 24
    if o.step == "production":
        centre = product.routing[o.routing_step].work_centre
        order.move(f"queued:{centre}", "production")
    else:
        order.move(*STEP_STATE[o.step])
    return order


def _opening_shipments(m: CompanyModel, order: Order, o: OrderState, settled: bool) -> list[Shipment]:
    """The shipped units as (at most) two shipments: invoiced, and awaiting an invoice."""
    shipments = []
    for units, billed in ((o.invoiced_units, True), (o.shipped_units - o.invoiced_units, False)):
        if not units:
            continue
        shipment = Shipment(m.next_id("shipment"), order, units, False, units * cents(order.unit_price),
                            ((order.lines[0], units),))
        shipment.dispatched_time = shipment.delivered_time = order.first_ship_time
        shipment.billed = billed
        if billed and settled:
            shipment.settle()
        order.shipments.append(shipment)
        shipments.append(shipment)
    return shipments


def place(m: CompanyModel, snapshot: Snapshot) -> None:
    """Put the snapshot's objects into ``m`` at time 0 (called by ``CompanyModel.start``).

    Stock, shifts and machines are set; replenishment batches, open orders (at their
    steps), open invoices, return claims and repair tickets become processes; opening
    balances are logged as ``*_carried_over`` events; ids of new objects continue after
    the snapshot's.
    """
    from ordercycle.sim.steps import aftersales, billing, fulfilment, production, sales

    env = m.env
    for kind, ids in (("order", [o.order_id for o in snapshot.orders]),
                      ("invoice", [v.invoice_id for v in snapshot.invoices]),
                      ("return", [r.return_id for r in snapshot.returns]),
                      ("ticket", [t.ticket_id for t in snapshot.tickets])):
        m._ids[kind] = max([m._ids[kind], *ids])
    m.stock.update(snapshot.stock)
    for centre_id, shifts in snapshot.shifts.items():
        m.centres[centre_id].shifts = shifts
    for machine in snapshot.machines:
        live = m.centres[machine.work_centre].machines[machine.index]
        live.family = machine.setup_family
        live.down_until = machine.down_hours / 24
    for batch in snapshot.replenishments:
        m.stock_pipeline[batch.product] += batch.units
        env.process(production.replenish(env, m, m.products[batch.product], batch.units,
                                          batch.routing_step, batch.step_progress))
    fates = [m.streams.uniform(f"snapshot.fate.{name}") for name in ("accept", "entry", "repair", "return")]
    disputed = {line.order_id for v in snapshot.invoices if v.disputed for line in v.lines}
    live: dict[int, Order] = {}
    opening: dict[int, list[Shipment]] = {}
    for o in sorted(snapshot.orders, key=lambda o: o.order_id):
        order = live[o.order_id] = _order(m, o, fates)
        m.orders.append(order)
        opening[o.order_id] = _opening_shipments(m, order, o, o.order_id not in disputed)
        m.log(0.0, "order_carried_over", order.owner, order.order_id, product=order.product_id,
              quantity=order.shipped_units, amount=order.billed_cents / 100)
        if order.paid_cents:
            m.log(0.0, "payment_carried_over", "finance", order.order_id, amount=order.paid_cents / 100)
        if order.refunded_cents or order.returned_units:
            m.log(0.0, "refund_carried_over", "finance", order.order_id, quantity=order.returned_units,
                  amount=order.refunded_cents / 100)
    for invoice_state in snapshot.invoices:
        invoice = Invoice(invoice_state.invoice_id, invoice_state.customer_id, invoice_state.issued_day)
        invoice.disputed = invoice_state.disputed
        for line in invoice_state.lines:
            charged = cents(line.amount)
            invoice.lines.append((live[line.order_id], line.units, charged))
            invoice.amount_cents += charged
            invoice.charged_cents[line.order_id] = charged
        m.open_invoices[invoice.invoice_id] = invoice
        covered = [s for line in invoice_state.lines for s in opening[line.order_id] if s.billed]
        env.process(billing.resume_invoice(env, m, invoice, covered if invoice.disputed else []))
    for o in sorted(snapshot.orders, key=lambda o: o.order_id):
        order = live[o.order_id]
        for shipment in opening[o.order_id]:
            if not shipment.billed:
                billing.register_shipment(env, m, shipment)
        if o.step in PRE_ACCEPTANCE:
            env.process(sales.order_journey(env, m, order, o.step))
        elif o.step in FULFILMENT:
            last = opening[o.order_id][-1] if opening[o.order_id] else None
            if o.step == "in_transit" and last is not None:
                last.delivered_time = math.nan
            env.process(fulfilment.resume_fulfilment(env, m, order, o.step, o.routing_step,
                                                     o.step_progress, o.transit_days_left, last))
    for claim in snapshot.returns:
        order = live[claim.order_id]
        shipments = opening[claim.order_id]
        shipment = next((s for s in shipments if s.billed and s.units >= claim.units),
                        shipments[-1] if shipments else None)
        if shipment is None:  # nothing shipped before: refused by check(); keep the type checker calm
            continue
        m.open_returns[claim.return_id] = [order, shipment, claim.stage, claim.units, claim.reason]
        env.process(aftersales.return_claim(env, m, order, shipment, claim.reason,
                                            (claim.return_id, claim.stage, claim.units)))
    for ticket in snapshot.tickets:
        m.open_tickets[ticket.ticket_id] = live[ticket.order_id]
        env.process(aftersales.repair_ticket(env, m, live[ticket.order_id], ticket.ticket_id))


# --- capturing a snapshot from a running model -------------------------------------------------


def _relative(t: float, now: float) -> float | None:
    return None if math.isnan(t) else min(0.0, t - now)


def _step(order: Order, product: Any, backordered: Collection[int] = ()) -> str | None:
    """Where a live order stands, as a snapshot step (None: finished, nothing left open)."""
    if order.final_state in ("lost_quote", "rejected", "lost_sale", CANCELLED):
        return None
    if order.delivered:
        return "delivered"
    if not order.accepted:
        return order.state if order.state in PRE_ACCEPTANCE else None
    if order.order_id in backordered or order.state == "backordered":  # (placed, not yet re-booked)
        return "backordered"
    if order.routing_step >= 0 and math.isnan(order.production_done_time):
        return "production"
    if order.shipped_units < order.quantity:
        return "shipping"
    if order.state == "in_transit" or not product.installation_skills:
        return "in_transit"
    return "installation"


def _stock_with_allocations(m: CompanyModel) -> dict[str, int]:
    """Stock on hand plus what is allocated to open back-orders: a resumed back-order owes
    all its order's unshipped units again, so its allocated units go back into stock."""
    stock = dict(m.stock)
    for product_id, queue in m.backorders.items():
        stock[product_id] += sum(b.allocated for b in queue)
    return stock


def capture(m: CompanyModel) -> Snapshot:
    """The state of a running model now, as a snapshot (the inverse of :func:`place`).

    Delivered orders are kept only while something about them is open (an invoice, a
    shipment not yet invoiced, a return claim, a repair ticket). Approximations: a task in
    progress restarts from its beginning; an order whose stock shipment is still being
    picked while the rest is produced has all its units produced (or back-ordered, with
    what is allocated to it back in stock); repair calls not yet
    made and the shipments of a return are not kept. Orders of several lines and orders on
    prepayment terms cannot be captured yet (a ``ValueError`` names the first one).
    """
    now = m.env.now
    invoices = sorted(m.open_invoices.values(), key=lambda v: v.invoice_id)
    claims = sorted(m.open_returns.items())
    tickets = sorted(m.open_tickets.items())
    keep = {order.order_id for v in invoices for order, _, _ in v.lines}
    keep |= {claim[0].order_id for _, claim in claims} | {order.order_id for _, order in tickets}
    orders = []
    backorders = [b for queue in m.backorders.values() for b in queue]
    backordered = {b.order.order_id for b in backorders}
    for order in m.orders:
        step = _step(order, m.products[order.product_id], backordered)
        if step is None:
            continue
        unbilled = any(not s.billed for s in order.shipments)
        if step == "delivered" and order.order_id not in keep and not unbilled:
            continue
        if len(order.lines) > 1:
            raise ValueError(f"a state snapshot holds one-line orders only; order {order.order_id} "
                             f"has {len(order.lines)} lines open at day {now:g}")
        if order.pays_in_advance:
            raise ValueError(f"a state snapshot holds no orders on prepayment terms yet; order "
                             f"{order.order_id} is open at day {now:g}")
        record: dict[str, Any] = {
            "order_id": order.order_id, "customer_id": order.customer_id, "segment": order.segment,
            "product": order.product_id, "quantity": order.quantity, "step": step,
            "inquiry_day": min(0.0, order.inquiry_time - now),
            "unattended_hours": order.unattended_until(now) * 24,
        }
        if order.unit_price:
            record["unit_price"] = order.unit_price
        if not math.isnan(order.quoted_lead_days):
            record["quoted_lead_days"] = order.quoted_lead_days
        if STEPS.index(step) >= STEPS.index("selection"):
            record.update(promised_day=order.promised_date - now,
                          entered_day=_relative(order.entered_time, now),
                          entered_units=order.entered_units, entered_unit_price=order.entered_unit_price)
        if step == "production":
            record["routing_step"] = max(0, order.routing_step)
        if STEPS.index(step) >= STEPS.index("production"):
            shipped = sum(s.units for s in order.shipments if not math.isnan(s.dispatched_time))
            record.update(
                expedited=order.expedited, shipped_units=shipped,
                first_ship_day=_relative(order.first_ship_time, now),
                invoiced_units=sum(s.units for s in order.shipments if s.billed),
                billed=order.billed_cents / 100, paid=order.paid_cents / 100,
                refunded=order.refunded_cents / 100, returned_units=order.returned_units,
            )
            if step == "delivered":
                record["delivered_day"] = _relative(order.delivered_time, now)
        orders.append(record)
    kept = {record["order_id"] for record in orders}
    return Snapshot.model_validate({
        "taken_at_day": m.start_day + now,
        "description": f"captured from scenario {m.scenario.name!r}, seed {m.seed}, replication "
                       f"{m.replication} at day {now:g}",
        "stock": dict(sorted(_stock_with_allocations(m).items())),
        "shifts": {centre_id: centre.shifts for centre_id, centre in sorted(m.centres.items())},
        "machines": [
            {"work_centre": centre_id, "index": machine.index, "setup_family": machine.family,
             "down_hours": max(0.0, machine.down_until - now) * 24}
            for centre_id, centre in sorted(m.centres.items()) for machine in centre.machines
        ],
        "replenishments": [{"product": b.product_id, "units": b.units, "routing_step": max(0, b.routing_step)}
                           for b in m.replenishing],
        "orders": orders,
        "invoices": [
            {"invoice_id": v.invoice_id, "customer_id": v.customer_id,
             "issued_day": min(0.0, v.issued_time - now),
             "disputed": any(v.charged_cents[o.order_id] != c for o, _, c in v.lines),
             "lines": [{"order_id": o.order_id, "units": u, "amount": v.charged_cents[o.order_id] / 100}
                       for o, u, _ in v.lines]}
            for v in invoices if all(o.order_id in kept for o, _, _ in v.lines)
        ],
        "returns": [{"return_id": rid, "order_id": c[0].order_id, "units": c[3], "stage": c[2],
                     "reason": c[4]} for rid, c in claims if c[0].order_id in kept],
        "tickets": [{"ticket_id": tid, "order_id": order.order_id} for tid, order in tickets
                    if order.order_id in kept],
    })


def write_snapshot(snapshot: Snapshot, path: str | Path) -> Path:
    """Write a snapshot as JSON, fields at their defaults left out (stable: same state, same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"schema_version": SCHEMA_VERSION, "kind": KIND,
            **snapshot.model_dump(mode="json", exclude_defaults=True)}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path
