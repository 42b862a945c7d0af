"""Placing a state snapshot into a model at time 0, and capturing one from a running model.

:func:`place` is the inverse of :func:`capture`: a snapshot captured at day T of a run
and placed into a new model gives a run that continues from where that one stood (with
fresh random numbers for what a snapshot does not record; see ``docs/twin.md``).
An order of several lines is captured with its lines and shipments (format version 2)
and resumed from them (:func:`ordercycle.sim.steps.fulfilment.resume_lines`); a
one-line order keeps the one-line fields of version 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordercycle.sim.entities import CANCELLED, Backorder, Invoice, Line, Order, Shipment
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
from ordercycle.sim.snapshot_lines import DISPATCHED, pending_units

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
    if o.lines:
        order.lines += [Line(state.line_id, order, number, state.product, state.quantity)
                        for number, state in enumerate(o.lines, start=1)]
    else:  # one line, in the order's own fields
        line_id = o.line_id if o.line_id is not None else m.next_id("line")
        order.lines.append(Line(line_id, order, 1, o.product, o.quantity))
    line = order.lines[0]
    rank = STEPS.index(o.step)
    if o.lines and all(state.unit_price is not None for state in o.lines):
        from ordercycle.sim.steps.sales import set_mean_prices

        for live, state in zip(order.lines, o.lines, strict=True):
            line_product = m.products[state.product]
            live.list_price, live.unit_cost = line_product.list_price, line_product.unit_cost
            live.unit_price = round(state.unit_price or 0.0, 2)
        set_mean_prices(order)
        order.quote_time = o.inquiry_day
    elif o.unit_price is not None and not o.lines:
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
        order.decision_time = order.released_time = (o.released_day if o.released_day is not None
                                                     else order.entered_time)
        order.expedited = o.expedited
        order.routing_step = o.routing_step if o.step == "production" else -1
    if o.shipped_units:
        order.shipped_units = o.shipped_units
        if not o.lines:
            line.shipped_units = line.delivered_units = line.allocated_units = o.shipped_units
        order.first_ship_time = o.first_ship_day if o.first_ship_day is not None else order.entered_time
    if o.step == "delivered":
        order.delivered_time = o.delivered_day if o.delivered_day is not None else order.first_ship_time
        order.final_state = "delivered"
    order.billed_cents, order.paid_cents = cents(o.billed), cents(o.paid)
    order.refunded_cents, order.returned_units = cents(o.refunded), o.returned_units
    order.unattended_days = o.unattended_hours / 24
    making = [state for state in o.lines if state.pending == "production"]
    if o.step == "production" and making:  # at the operation of its first line in production
        order.routing_step = making[0].routing_step
        centre = m.products[making[0].product].routing[making[0].routing_step].work_centre
        order.move(f"queued:{centre}", "production")
    elif o.step == "production":
        centre = product.routing[o.routing_step].work_centre
        order.move(f"queued:{centre}", "production")
    else:
        order.move(*STEP_STATE[o.step])
    return order


def _opening_shipments(m: CompanyModel, order: Order, o: OrderState, settled: bool) -> list[Shipment]:
    """A one-line order's shipped units as (at most) two shipments: invoiced, and awaiting an invoice."""
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


def _listed_shipments(order: Order, o: OrderState, disputed: set[int]) -> list[Shipment]:
    """The lines' counters and the shipments of an order that lists them (billed shipments are
    settled unless a disputed open invoice bills them)."""
    lines = {line.line_id: line for line in order.lines}
    for line, state in zip(order.lines, o.lines, strict=True):
        line.from_stock_units, line.backordered_units = state.from_stock_units, state.backordered_units
        line.ready_units, line.returned_units = state.ready_units, state.returned_units
        line.installed = state.installed
        if state.ready_day is not None:
            line.ready_time = state.ready_day
        if state.pending == "production":  # (what fulfilment.resume_lines makes; a capture at time 0 sees it)
            line.making_units, line.routing_step = pending_units(state), state.routing_step
    left = order.first_ship_time if order.first_ship_time == order.first_ship_time else order.entered_time
    for state in o.shipments:
        parts = tuple((lines[part.line_id], part.units) for part in state.lines)
        units = state.units
        amount = (units * cents(order.unit_price) if len(order.lines) == 1
                  else sum(n * cents(line.unit_price) for line, n in parts))
        made = any(line.quantity > line.from_stock_units + line.backordered_units for line, _ in parts)
        shipment = Shipment(state.shipment_id, order, units, not made, amount, parts)
        shipment.billed = state.billed
        if state.billed and state.invoice_id not in disputed:
            shipment.settle()
        if state.stage in DISPATCHED:
            shipment.dispatched_time = state.dispatched_day if state.dispatched_day is not None else left
        if state.transit_days_left is not None:
            shipment.arrival_time = state.transit_days_left
        if state.stage == "delivered":
            shipment.delivered_time = (state.delivered_day if state.delivered_day is not None
                                       else shipment.dispatched_time)
        for line, n in parts:
            line.allocated_units += n
            if state.stage in DISPATCHED:
                line.shipped_units += n
                line.shipments += 1
            if state.stage == "delivered":
                line.delivered_units += n
        order.shipments.append(shipment)
    for line in order.lines:  # the last unit's dispatch and delivery
        carried = [s for s in order.shipments if any(part[0] is line for part in s.lines)]
        if line.shipped_units == line.quantity:
            line.shipped_time = max(s.dispatched_time for s in carried)
        if line.delivered_units == line.quantity:
            line.delivered_time = max(s.delivered_time for s in carried)
    return order.shipments


def _resume_lines(m: CompanyModel, order: Order, o: OrderState, queued: dict[int, Backorder]) -> Any:
    """The process that resumes the fulfilment of an order that lists its lines and shipments."""
    from ordercycle.sim.steps import fulfilment

    making = [(line, pending_units(state), state.routing_step, state.step_progress)
              for line, state in zip(order.lines, o.lines, strict=True) if state.pending == "production"]
    backorders = [(line, queued[line.line_id]) for line in order.lines if line.line_id in queued]
    listed = list(zip(order.shipments, o.shipments, strict=True))
    picking = [live for live, state in listed if state.stage == "picking"]
    moving = [(live, state.transit_days_left) for live, state in listed if state.stage == "in_transit"]
    return fulfilment.resume_lines(m.env, m, order, making, backorders, picking, moving)


def _queue_backorders(m: CompanyModel, snapshot: Snapshot, live: dict[int, Order]) -> dict[int, Backorder]:
    """The open back-orders of the lines of a snapshot, queued in the order their orders were released
    (with what was allocated to them); each logged ``backorder_created`` for the units it still owes."""
    waiting = []
    for o in snapshot.orders:
        order = live[o.order_id]
        for line, state in zip(order.lines, o.lines, strict=False):  # (none for a one-line order)
            if state.pending == "backorder":
                waiting.append((order.released_time, order.order_id, line.number, line,
                                state.backorder_allocated))
    queued = {}
    for _, _, _, line, allocated in sorted(waiting, key=lambda w: w[:3]):
        backorder = Backorder(line.order, line.backordered_units, m.env.event(), line)
        backorder.allocated = allocated
        m.backorders[line.product_id].append(backorder)
        m.log(0.0, "backorder_created", "warehouse", line.order.order_id, product=line.product_id,
              quantity=backorder.open_units, line=line.line_id)
        queued[line.line_id] = backorder
    return queued


def place(m: CompanyModel, snapshot: Snapshot) -> None:
    """Put the snapshot's objects into ``m`` at time 0 (called by ``CompanyModel.start``).

    Stock, shifts and machines are set; replenishment batches, open orders (at their
    steps), open invoices, return claims and repair tickets become processes; opening
    balances are logged as ``*_carried_over`` events; ids of new objects continue after
    the snapshot's.
    """
    from ordercycle.sim.steps import aftersales, billing, fulfilment, production, sales

    env = m.env
    line_ids = [o.line_id for o in snapshot.orders if o.line_id is not None]
    line_ids += [line.line_id for o in snapshot.orders for line in o.lines]
    for kind, ids in (("order", [o.order_id for o in snapshot.orders]),
                      ("invoice", [v.invoice_id for v in snapshot.invoices]),
                      ("return", [r.return_id for r in snapshot.returns]),
                      ("ticket", [t.ticket_id for t in snapshot.tickets]),
                      ("line", line_ids),
                      ("shipment", [s.shipment_id for o in snapshot.orders for s in o.shipments])):
        m._ids[kind] = max([m._ids[kind], *ids])
    m.stock.update(snapshot.stock)
    for centre_id, shifts in snapshot.shifts.items():
        m.centres[centre_id].shifts = shifts
    for machine in snapshot.machines:
        live_machine = m.centres[machine.work_centre].machines[machine.index]
        live_machine.family = machine.setup_family
        live_machine.down_until = machine.down_hours / 24
    for batch in snapshot.replenishments:
        m.stock_pipeline[batch.product] += batch.units
        live_batch = production.Replenishment(batch.product, batch.units, batch.routing_step)
        m.replenishing.append(live_batch)  # (a capture at time 0 sees it)
        env.process(production.replenish(env, m, m.products[batch.product], batch.units,
                                          batch.routing_step, batch.step_progress, live_batch))
    fates = [m.streams.uniform(f"snapshot.fate.{name}") for name in ("accept", "entry", "repair", "return")]
    disputed = {line.order_id for v in snapshot.invoices if v.disputed for line in v.lines}
    disputed_invoices = {v.invoice_id for v in snapshot.invoices if v.disputed}
    live: dict[int, Order] = {}
    opening: dict[int, list[Shipment]] = {}
    for o in sorted(snapshot.orders, key=lambda o: o.order_id):
        order = live[o.order_id] = _order(m, o, fates)
        m.orders.append(order)
        opening[o.order_id] = (_listed_shipments(order, o, disputed_invoices) if o.lines
                               else _opening_shipments(m, order, o, o.order_id not in disputed))
        m.log(0.0, "order_carried_over", order.owner, order.order_id, product=order.product_id,
              quantity=order.shipped_units, amount=order.billed_cents / 100)
        if order.paid_cents:
            m.log(0.0, "payment_carried_over", "finance", order.order_id, amount=order.paid_cents / 100)
        if order.refunded_cents or order.returned_units:
            m.log(0.0, "refund_carried_over", "finance", order.order_id, quantity=order.returned_units,
                  amount=order.refunded_cents / 100)
    queued = _queue_backorders(m, snapshot, live)
    listed = {o.order_id: o for o in snapshot.orders if o.lines}
    for invoice_state in snapshot.invoices:
        invoice = Invoice(invoice_state.invoice_id, invoice_state.customer_id, invoice_state.issued_day)
        invoice.disputed = invoice_state.disputed
        for line in invoice_state.lines:
            order, charged = live[line.order_id], cents(line.amount)
            if line.order_id in listed:
                states = listed[line.order_id].shipments
                covered = [live_shipment for live_shipment, state in zip(opening[line.order_id], states,
                                                                        strict=True)
                           if state.invoice_id == invoice.invoice_id]
            else:
                covered = [s for s in opening[line.order_id] if s.billed]
            invoice.shipments += covered
            correct = charged  # what the line should charge: a disputed one, its shipments at agreed prices
            if invoice.disputed:
                correct = (sum(s.amount_cents for s in covered) if line.order_id in listed
                           else line.units * cents(order.unit_price))
            invoice.lines.append((order, line.units, correct))
            invoice.amount_cents += charged
            invoice.charged_cents[line.order_id] = charged
        m.open_invoices[invoice.invoice_id] = invoice
        env.process(billing.resume_invoice(env, m, invoice, invoice.shipments if invoice.disputed else []))
    for o in sorted(snapshot.orders, key=lambda o: o.order_id):
        order = live[o.order_id]
        for shipment in opening[o.order_id]:
            if not shipment.billed and shipment.dispatched_time == shipment.dispatched_time:  # (left)
                billing.register_shipment(env, m, shipment)
        if o.step in PRE_ACCEPTANCE:
            env.process(sales.order_journey(env, m, order, o.step))
        elif o.step in FULFILMENT and o.lines:
            env.process(_resume_lines(m, order, o, queued))
        elif o.step in FULFILMENT:
            last = opening[o.order_id][-1] if opening[o.order_id] else None
            if o.step == "in_transit" and last is not None:
                last.delivered_time = math.nan
            env.process(fulfilment.resume_fulfilment(env, m, order, o.step, o.routing_step,
                                                     o.step_progress, o.transit_days_left, last))
    for claim in snapshot.returns:
        order = live[claim.order_id]
        shipments = opening[claim.order_id]
        named = next((s for s in shipments if s.shipment_id == claim.shipment_id), None)
        shipment = named or next((s for s in shipments if s.billed and s.units >= claim.units),
                                 shipments[-1] if shipments else None)
        if shipment is None:  # nothing shipped before: refused by check(); keep the type checker calm
            continue
        part = next(((line, claim.units) for line, _ in shipment.lines if line.line_id == claim.line_id),
                    None)
        m.open_returns[claim.return_id] = [order, shipment, claim.stage, claim.units, claim.reason, part]
        env.process(aftersales.return_claim(env, m, order, shipment, claim.reason,
                                            (claim.return_id, claim.stage, claim.units), part))
    for ticket in snapshot.tickets:
        m.open_tickets[ticket.ticket_id] = live[ticket.order_id]
        env.process(aftersales.repair_ticket(env, m, live[ticket.order_id], ticket.ticket_id))


# --- capturing a snapshot from a running model -------------------------------------------------


def _relative(t: float, now: float) -> float | None:
    return None if math.isnan(t) else min(0.0, t - now)


def _step(order: Order, product: Any, backordered: Collection[int] = ()) -> str | None:
    """Where a live one-line order stands, as a snapshot step (None: finished, nothing left open)."""
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


def _lines_step(m: CompanyModel, order: Order, backordered: dict[int, Backorder]) -> str | None:
    """Where a live order of several lines stands: its busiest part, in the order of the cycle."""
    if order.final_state in ("lost_quote", "rejected", "lost_sale", CANCELLED):
        return None
    if order.delivered:
        return "delivered"
    if not order.accepted:
        return order.state if order.state in PRE_ACCEPTANCE else None
    lines = order.lines
    if any(line.making_units for line in lines):
        return "production"
    if any(line.line_id in backordered for line in lines):
        return "backordered"
    if any(line.ready_units for line in lines) or any(math.isnan(s.dispatched_time) for s in order.shipments):
        return "shipping"
    if any(math.isnan(s.delivered_time) for s in order.shipments):
        return "in_transit"
    if any(m.products[line.product_id].installation_skills and not line.installed for line in lines):
        return "installation"
    return "in_transit"  # delivered in full this instant: the final delivery follows at once


def _line_record(line: Line, accepted: bool, backorder: Backorder | None, now: float) -> dict[str, Any]:
    """A live line as a snapshot's line (fields at their defaults left out when written)."""
    record: dict[str, Any] = {"line_id": line.line_id, "product": line.product_id, "quantity": line.quantity}
    if line.unit_price:
        record["unit_price"] = line.unit_price
    if not accepted:
        return record
    record.update(from_stock_units=line.from_stock_units, backordered_units=line.backordered_units,
                  ready_units=line.ready_units, ready_day=_relative(line.ready_time, now),
                  returned_units=line.returned_units, installed=line.installed)
    if backorder is not None:
        record.update(pending="backorder", backorder_allocated=backorder.allocated)
    elif line.making_units:
        record.update(pending="production", routing_step=max(0, line.routing_step))
    return record


def _shipment_record(shipment: Shipment, invoice_of: dict[int, int], now: float) -> dict[str, Any]:
    """A live shipment as a snapshot's shipment."""
    record: dict[str, Any] = {
        "shipment_id": shipment.shipment_id,
        "lines": [{"line_id": line.line_id, "units": units} for line, units in shipment.lines],
        "stage": "picking",
    }
    if not math.isnan(shipment.dispatched_time):
        record.update(stage="in_transit", dispatched_day=_relative(shipment.dispatched_time, now))
        if math.isnan(shipment.delivered_time):
            if not math.isnan(shipment.arrival_time):
                record["transit_days_left"] = max(0.0, shipment.arrival_time - now)
        else:
            record.update(stage="delivered", delivered_day=_relative(shipment.delivered_time, now))
    if shipment.billed:
        record.update(billed=True, invoice_id=invoice_of.get(id(shipment)))
    return record


def _stock_with_allocations(m: CompanyModel) -> dict[str, int]:
    """Stock on hand plus what is allocated to the open back-orders of one-line orders: such a resumed
    back-order owes all its order's unshipped units again, so its allocated units go back into stock
    (the back-order of a line of an order of several lines keeps its allocation)."""
    stock = dict(m.stock)
    for product_id, queue in m.backorders.items():
        stock[product_id] += sum(b.allocated for b in queue if len(b.order.lines) == 1)
    return stock


def capture(m: CompanyModel) -> Snapshot:
    """The state of a running model now, as a snapshot (the inverse of :func:`place`).

    Delivered orders are kept only while something about them is open (an invoice, a
    shipment not yet invoiced, a return claim, a repair ticket). An order of several
    lines is captured with its lines (units from stock, back-ordered, in production,
    ready, returned; installed) and every shipment (being picked, in transit with the
    transit left, delivered; billed, on which open invoice). Approximations: a task in
    progress restarts from its beginning (a shipment being picked or loaded is picked
    again); for a one-line order, an order whose stock shipment is still being picked
    while the rest is produced has all its units produced (or back-ordered, with what is
    allocated to it back in stock) and its shipments are not kept; repair calls not yet
    made are not kept. Orders on prepayment terms cannot be captured yet (a ``ValueError``
    names the first one).
    """
    now = m.env.now
    invoices = sorted(m.open_invoices.values(), key=lambda v: v.invoice_id)
    claims = sorted(m.open_returns.items())
    tickets = sorted(m.open_tickets.items())
    keep = {order.order_id for v in invoices for order, _, _ in v.lines}
    keep |= {claim[0].order_id for _, claim in claims} | {order.order_id for _, order in tickets}
    invoice_of = {id(s): v.invoice_id for v in invoices for s in v.shipments}
    orders = []
    backorders = [b for queue in m.backorders.values() for b in queue]
    backordered = {b.order.order_id for b in backorders}
    line_backorders = {b.line.line_id: b for b in backorders if b.line is not None and len(b.order.lines) > 1}
    for order in m.orders:
        several = len(order.lines) > 1
        step = (_lines_step(m, order, line_backorders) if several
                else _step(order, m.products[order.product_id], backordered))
        if step is None:
            continue
        unbilled = any(not s.billed for s in order.shipments)
        if step == "delivered" and order.order_id not in keep and not unbilled:
            continue
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
        if step == "production" and not several:
            record["routing_step"] = max(0, order.routing_step)
        accepted = STEPS.index(step) >= STEPS.index("production")
        if accepted:
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
        if several:
            record["lines"] = [_line_record(line, accepted, line_backorders.get(line.line_id), now)
                               for line in order.lines]
            if accepted:
                record["released_day"] = _relative(order.released_time, now)
                record["shipments"] = [_shipment_record(s, invoice_of, now) for s in order.shipments]
        else:
            record["line_id"] = order.lines[0].line_id
        orders.append(record)
    kept = {record["order_id"] for record in orders}
    listed = {record["order_id"] for record in orders if "lines" in record}
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
                     "reason": c[4], **_claimed(c, c[0].order_id in listed)}
                    for rid, c in claims if c[0].order_id in kept],
        "tickets": [{"ticket_id": tid, "order_id": order.order_id} for tid, order in tickets
                    if order.order_id in kept],
    })


def _claimed(claim: list[Any], listed: bool) -> dict[str, int]:
    """The shipment (and line) a claim is on, for an order whose shipments the snapshot lists."""
    if not listed:
        return {}
    part = claim[5] if len(claim) > 5 else None
    return {"shipment_id": claim[1].shipment_id, **({"line_id": part[0].line_id} if part else {})}


def write_snapshot(snapshot: Snapshot, path: str | Path) -> Path:
    """Write a snapshot as JSON, fields at their defaults left out (stable: same state, same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"schema_version": SCHEMA_VERSION, "kind": KIND,
            **snapshot.model_dump(mode="json", exclude_defaults=True)}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return path
