"""Step 8: fulfilment — ship from stock or from the line, deliver, install.

Each line of an order takes what stock covers at release (make-to-stock) and has the
rest produced or back-ordered; a make-to-order line is produced in full. The
``fulfilment`` decision chooses what leaves when only part of the order is ready
(ship-complete, ship-partial, or by-customer: partial only to customers who accept partial
deliveries); a shipment carries lines of one order only. Nothing of an order on prepayment
terms is picked before its prepayment is received. Each shipment is picked
by the warehouse, loaded by the segment's logistics provider (limited loading
capacity, random transit, a reliability below 1 adds a delay) and registered with
billing when it leaves. Products with installation skills need a crew of one
technician per skill at the customer's site after the last delivery. The promised
date is checked against the final delivery (installation included).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import FulfilmentContext, LineStatus
from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import Backorder, Line, Order, Shipment
from ordercycle.sim.model import cents
from ordercycle.sim.steps import aftersales, billing, production

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel


def fulfil_order(env: Environment, m: CompanyModel,
                 order: Order) -> Generator[simpy.Event, Any, None]:
    """From release to final delivery of an accepted order."""
    if len(order.lines) > 1:
        yield from _fulfil_lines(env, m, order)
        return
    line = order.lines[0]
    product = m.products[order.product_id]
    m.log(env.now, "order_prioritized", "production", order.order_id, quantity=order.quantity)
    order.released_time = env.now
    from_stock = 0
    shortage = "make-to-order"
    if product.stocking == "make_to_stock":
        shortage = m.policies.inventory.shortage
        from_stock = min(m.stock[product.id], order.quantity)
        if shortage == "lost-sales" and from_stock < order.quantity:
            _lose_sale(env, m, order, product)
            return
        if from_stock:
            m.stock[product.id] -= from_stock
            m.log(env.now, "stock_issued", "warehouse", order.order_id, product=product.id,
                  quantity=from_stock, line=line.line_id)
            line.from_stock_units = line.ready_units = from_stock
    to_make = order.quantity - from_stock
    backorder = (_backorder(env, m, order, product, to_make, line)
                 if to_make and shortage == "backorder" else None)
    if product.stocking == "make_to_stock":
        production.check_replenishment(env, m, product)  # the position counts the new back-order
    early = _decide_at_release(env, m, order, line) if from_stock and to_make else 0
    held = from_stock - early  # stock units the policy keeps back to ship with the rest
    if backorder is not None:
        stock_delivery = env.process(ship(env, m, order, early, True, ((line, early),))) if early else None
        order.move("backordered", "warehouse")
        order.begin_wait(env.now)
        yield backorder.filled
        order.end_wait(env.now)
        _ready(line, to_make, env.now)
        yield from ship(env, m, order, to_make + held, True, ((line, to_make + held),))
        if stock_delivery is not None:
            yield stock_delivery
    elif not to_make:
        line.ready_time = env.now
        yield from ship(env, m, order, from_stock, True, ((line, from_stock),))
    else:
        # a partial stock shipment leaves at once (unless held back), in parallel with production
        stock_delivery = env.process(ship(env, m, order, early, True, ((line, early),))) if early else None
        yield from production.produce(env, m, product, to_make, order, order.promised_date,
                                      order.importance, line=line)
        order.production_done_time = env.now
        _ready(line, to_make, env.now)
        yield from ship(env, m, order, to_make + held, False, ((line, to_make + held),))
        if stock_delivery is not None:
            yield stock_delivery
    yield from _finish(env, m, order, product)


def _ready(line: Line, units: int, now: float) -> None:
    """``units`` more of the line are ready to ship."""
    line.ready_units += units
    if line.allocated_units + line.ready_units >= line.quantity:
        line.ready_time = now


def _status(order: Order) -> tuple[LineStatus, ...]:
    return tuple(LineStatus(line.line_id, line.product_id, line.quantity, line.ready_units,
                            line.allocated_units) for line in order.lines)


def _decide(env: Environment, m: CompanyModel, order: Order, at_release: bool) -> list[tuple[Line, int]]:
    """What of the order leaves now: everything ready when nothing else is outstanding, else the
    fulfilment policy's choice (checked against what is ready)."""
    lines = order.lines
    if all(line.allocated_units + line.ready_units == line.quantity for line in lines):
        return [(line, line.ready_units) for line in lines if line.ready_units]
    context = FulfilmentContext(order.order_id, env.now, at_release, _status(order),
                                m.segments[order.segment].accepts_partial_deliveries)
    decision = m.decide("fulfilment", m.policies.fulfilment.ship, context)
    by_id = {line.line_id: line for line in lines}
    parts, seen = [], set()
    for item in decision.lines:
        line = by_id.get(item.line_id)
        if line is None or item.line_id in seen or not 0 < item.units <= line.ready_units:
            raise RuntimeError(f"fulfilment policy shipped {item!r} of order {order.order_id}; "
                               f"ready: {[(x.line_id, x.ready_units) for x in lines]}")
        seen.add(item.line_id)
        parts.append((line, item.units))
    return parts


def _decide_at_release(env: Environment, m: CompanyModel, order: Order, line: Line) -> int:
    """Units of a one-line order's stock part that leave at release (the fulfilment policy's choice)."""
    parts = _decide(env, m, order, True)
    return parts[0][1] if parts else 0


def _fulfil_lines(env: Environment, m: CompanyModel, order: Order) -> Generator[simpy.Event, Any, None]:
    """Fulfilment of a multi-line order: stock, back-orders and production per line, shipments
    as the fulfilment policy decides, then installation and final delivery."""
    m.log(env.now, "order_prioritized", "production", order.order_id, quantity=order.quantity)
    order.released_time = env.now
    shortage = m.policies.inventory.shortage
    stock, products = m.stock, m.products
    if shortage == "lost-sales" and any(
            products[line.product_id].stocking == "make_to_stock" and stock[line.product_id] < line.quantity
            for line in order.lines):
        _lose_sale(env, m, order, products[order.product_id])  # a line short: the customer buys elsewhere
        return
    pending: list[simpy.Process] = []
    produced: set[int] = set()
    for line in order.lines:
        product = products[line.product_id]
        from_stock = 0
        if product.stocking == "make_to_stock":
            from_stock = min(stock[product.id], line.quantity)
            if from_stock:
                stock[product.id] -= from_stock
                m.log(env.now, "stock_issued", "warehouse", order.order_id, product=product.id,
                      quantity=from_stock, line=line.line_id)
                line.from_stock_units = from_stock
                _ready(line, from_stock, env.now)
        to_make = line.quantity - from_stock
        if to_make and product.stocking == "make_to_stock" and shortage != "make-to-order":
            backorder = _backorder(env, m, order, product, to_make, line)
            pending.append(env.process(_await_backorder(env, m, order, line, backorder)))
        elif to_make:
            produced.add(line.line_id)
            pending.append(env.process(_produce_line(env, m, order, line, product, to_make)))
        if product.stocking == "make_to_stock":
            production.check_replenishment(env, m, product)
    yield from _ship_as_ready(env, m, order, pending, produced, [], True)


def _ship_as_ready(env: Environment, m: CompanyModel, order: Order, pending: list[simpy.Process],
                   produced: set[int], deliveries: list[simpy.Process],
                   at_release: bool) -> Generator[simpy.Event, Any, None]:
    """Ship a multi-line order's parts as the fulfilment policy decides while its ``pending`` parts
    (back-orders, production) become ready, wait for every shipment (``deliveries``: those already
    under way), then install and deliver. ``produced``: ids of the lines that needed production."""

    def dispatch(at_release: bool) -> None:
        parts = _decide(env, m, order, at_release)
        if parts:
            units = sum(units for _, units in parts)
            from_stock = not any(line.line_id in produced for line, _ in parts)
            for line, shipped in parts:
                line.ready_units -= shipped
                line.allocated_units += shipped  # booked now: the next decision must not offer them
            deliveries.append(env.process(ship(env, m, order, units, from_stock, tuple(parts), booked=True)))

    if any(line.ready_units for line in order.lines):
        dispatch(at_release)
    while pending:
        yield env.any_of(pending)
        pending = [part for part in pending if not part.triggered]
        dispatch(False)
    if deliveries:
        yield env.all_of(deliveries)
    yield from _finish(env, m, order, m.products[order.product_id])


def _produce_line(env: Environment, m: CompanyModel, order: Order, line: Line, product: Any, units: int,
                  first_step: int = 0, progress: float = 0.0) -> Generator[simpy.Event, Any, None]:
    """Make ``units`` of one line for the order (one job chain per line; from operation
    ``first_step`` with ``progress`` of it done when a state snapshot resumes it)."""
    line.making_units = units
    yield from production.produce(env, m, product, units, order, order.promised_date, order.importance,
                                  first_step, progress, line=line)
    line.making_units = 0
    order.production_done_time = env.now  # the last line to finish sets it
    _ready(line, units, env.now)
    order.move("awaiting_lines", "warehouse")


def _await_backorder(env: Environment, m: CompanyModel, order: Order, line: Line,
                     backorder: Backorder) -> Generator[simpy.Event, Any, None]:
    """One line's back-order waits for receipts."""
    order.move("backordered", "warehouse")
    order.begin_wait(env.now)
    yield backorder.filled
    order.end_wait(env.now)
    _ready(line, backorder.units, env.now)
    order.move("awaiting_lines", "warehouse")


def _lose_sale(env: Environment, m: CompanyModel, order: Order, product: Any) -> None:
    """Lost sales: stock cannot cover the order in full, so the customer buys elsewhere."""
    order.final_state = "lost_sale"
    order.move("lost_sale", "customer")
    m.log(env.now, "sale_lost", "warehouse", order.order_id, product=product.id, quantity=order.quantity)
    if order.prepaid_cents:  # paid in advance for goods it will not get: the prepayment goes back
        billing.refund_prepayment(env, m, order)


def _backorder(env: Environment, m: CompanyModel, order: Order, product: Any, units: int,
               line: Line) -> Backorder:
    """Back-order ``units`` of an order line: they wait for receipts (first come, first served)."""
    backorder = Backorder(order, units, env.event(), line)
    line.backordered_units += units
    m.backorders[product.id].append(backorder)
    m.log(env.now, "backorder_created", "warehouse", order.order_id, product=product.id, quantity=units,
          line=line.line_id)
    return backorder


def _finish(env: Environment, m: CompanyModel, order: Order,
            product: Any) -> Generator[simpy.Event, Any, None]:
    """Installation (when the product needs one), final delivery, and maybe a later repair call.

    A multi-line order gets one installation visit per line whose product needs one, one
    after another; its repair fate is the first line's product's.
    """
    if len(order.lines) == 1:
        if product.installation_skills and not order.lines[0].installed:
            yield from aftersales.service_visit(env, m, order, "installation",
                                                product.installation_skills, product.installation_hours)
            order.lines[0].installed = True
    else:
        for line in order.lines:
            line_product = m.products[line.product_id]
            if line_product.installation_skills and not line.installed:  # (installed: before a snapshot)
                skills, hours = line_product.installation_skills, line_product.installation_hours
                yield from aftersales.service_visit(env, m, order, "installation", skills, hours)
                line.installed = True
    order.delivered_time = env.now
    if env.now > order.promised_date + 1e-9:
        m.grieve(order, "late_delivery")
    order.final_state = "delivered"
    order.move("delivered", "customer")
    m.log(env.now, "order_delivered", "fulfillment", order.order_id, quantity=order.shipped_units)
    if order.u_repair < product.repair_probability:
        env.process(aftersales.repair_ticket(env, m, order))


RESUMABLE = ("production", "backordered", "shipping", "in_transit", "installation")
"""Steps of fulfilment an accepted order of a state snapshot can resume at."""


def resume_fulfilment(env: Environment, m: CompanyModel, order: Order, step: str,
                      routing_step: int = 0, step_progress: float = 0.0,
                      transit_days_left: float | None = None,
                      in_transit: Shipment | None = None) -> Generator[simpy.Event, Any, None]:
    """Fulfilment of an order of a state snapshot from ``step`` (one of :data:`RESUMABLE`).

    ``production``: the units not yet shipped are made from operation ``routing_step`` on
    (``step_progress`` of that operation done), then shipped; ``shipping``: they are
    picked and shipped; ``in_transit``: the last shipment (``in_transit``) arrives after
    ``transit_days_left`` (default: a fresh transit draw); ``backordered``: the units not
    yet shipped are back-ordered again (in order id order) and shipped when receipts
    cover them; ``installation``: the crew is
    awaited. Then installation (if any) and final delivery, as for any order.
    """
    product = m.products[order.product_id]
    line = order.lines[0]  # an order of a snapshot has one line
    to_ship = order.quantity - order.shipped_units
    parts = ((line, to_ship),)
    if step == "production":
        yield from production.produce(env, m, product, to_ship, order, order.promised_date,
                                      order.importance, routing_step, step_progress, line=line)
        order.production_done_time = env.now
        _ready(line, to_ship, env.now)
        yield from ship(env, m, order, to_ship, False, parts)
    elif step == "backordered":
        backorder = _backorder(env, m, order, product, to_ship, line)
        order.move("backordered", "warehouse")
        order.begin_wait(env.now)
        yield backorder.filled
        order.end_wait(env.now)
        _ready(line, to_ship, env.now)
        yield from ship(env, m, order, to_ship, True, parts)
    elif step == "shipping":
        _ready(line, to_ship, env.now)
        yield from ship(env, m, order, to_ship, False, parts)
    elif step == "in_transit":
        order.move("in_transit", "logistics")
        if transit_days_left is None:
            provider = m.providers[m.segments[order.segment].logistics_provider]
            transit_days_left = m.carrier_draws[provider.id][1]()
        yield env.wait(transit_days_left)
        if in_transit is not None:
            in_transit.delivered_time = env.now
            m.log(env.now, "shipment_delivered", "logistics", order.order_id,
                  quantity=in_transit.units, shipment=in_transit.shipment_id)
    yield from _finish(env, m, order, product)


def ship(env: Environment, m: CompanyModel, order: Order, units: int, from_stock: bool,
         parts: tuple[tuple[Line, int], ...], booked: bool = False,
         shipment: Shipment | None = None) -> Generator[simpy.Event, Any, None]:
    """Pick, load and transport one shipment of the order's ``parts`` ((line, units));
    register it with billing on dispatch.

    The units are taken off the lines' ready units now, or were when the fulfilment
    decision was taken (``booked``: a multi-line order, whose next decision must not offer
    the same units again); they count as the lines' ``shipped_units`` from dispatch.
    ``shipment``: one of a state snapshot not yet dispatched (already the order's, its
    units booked), picked and loaded again from the start.
    """
    if shipment is None:
        if not booked:
            for line, shipped in parts:
                line.ready_units -= shipped
                line.allocated_units += shipped
        if order.pays_in_advance and order.prepayment_received_time != order.prepayment_received_time:
            # NaN: not paid yet; nothing is picked for an order on prepayment terms before its payment
            order.move("awaiting_prepayment", "customer")
            if order.prepayment_paid is None:
                order.prepayment_paid = env.event()
            yield order.prepayment_paid
        if len(order.lines) == 1:
            amount = units * cents(order.unit_price)
        else:
            amount = sum(shipped * cents(line.unit_price) for line, shipped in parts)
        shipment = Shipment(m.next_id("shipment"), order, units, from_stock, amount, parts)
        order.shipments.append(shipment)
    refs = _refs(shipment)
    yield from m.serve([order], "warehouse", "warehouse_staff",
                       m.task["picking"](), "picking_started", None, "picking", **refs)
    segment = m.segments[order.segment]
    provider = m.providers[segment.logistics_provider]
    handling, transit_days, reliability, delay = m.carrier_draws[provider.id]
    order.move("awaiting_carrier", "logistics")
    calendar = m.calendars.get(provider.id)
    order.begin_wait(env.now, calendar)
    with m.carriers[provider.id].request() as loading:
        yield loading
        opening = m.until_open(calendar)  # the carrier collects in its pickup hours only
        if opening is not None:
            yield opening
        order.end_wait(env.now)
        loading_hours = handling()
        m.busy_hours[f"carrier.{provider.id}"][int(env.now)] += loading_hours
        yield m.working(calendar, loading_hours)
    now = shipment.dispatched_time = env.now
    order.shipped_units += units
    if order.first_ship_time != order.first_ship_time:  # NaN: first shipment
        order.first_ship_time = now
    for line, shipped in parts:
        line.shipped_units += shipped
        line.shipments += 1
        if line.shipped_units == line.quantity:
            line.shipped_time = now
    m.log(now, "shipment_dispatched", "logistics", order.order_id, provider.id,
          quantity=units, **refs)
    billing.register_shipment(env, m, shipment)
    order.move("in_transit", "logistics")
    transit = transit_days()
    if reliability() >= provider.reliability:
        transit += delay()
    shipment.arrival_time = now + transit
    yield env.wait(transit)
    _arrive(env, m, order, shipment, provider.id, refs)


def _refs(shipment: Shipment) -> dict[str, int]:
    """The ids a shipment's events carry: the shipment, and its line when it carries one."""
    refs = {"shipment": shipment.shipment_id}
    if len(shipment.lines) == 1:
        refs["line"] = shipment.lines[0][0].line_id
    return refs


def _arrive(env: Environment, m: CompanyModel, order: Order, shipment: Shipment, provider_id: str,
            refs: dict[str, int]) -> None:
    """The carrier delivers ``shipment`` now; it may come back (returns)."""
    now = shipment.delivered_time = env.now
    for line, shipped in shipment.lines:
        line.delivered_units += shipped
        if line.delivered_units == line.quantity:
            line.delivered_time = now
    m.log(now, "shipment_delivered", "logistics", order.order_id, provider_id,
          quantity=shipment.units, **refs)
    aftersales.maybe_return(env, m, order, shipment)


def resume_lines(env: Environment, m: CompanyModel, order: Order, making: list[tuple[Line, int, int, float]],
                 backorders: list[tuple[Line, Backorder]], picking: list[Shipment],
                 in_transit: list[tuple[Shipment, float | None]]) -> Generator[simpy.Event, Any, None]:
    """Fulfilment of an order of a state snapshot that lists its lines and shipments.

    ``making``: (line, units, routing step, progress of that operation) of each line in
    production; ``backorders``: each line's open back-order (already queued);
    ``picking``: shipments not yet dispatched (picked and loaded again); ``in_transit``:
    (shipment, days until delivery or None for a fresh transit draw). Ready units not in
    a shipment are offered to the fulfilment policy at once; then, as for any order of
    several lines, shipments as the policy decides while the pending parts become ready,
    installation of the lines not yet installed, final delivery.
    """
    products = m.products
    pending = [env.process(_await_backorder(env, m, order, line, backorder))
               for line, backorder in backorders]
    pending += [env.process(_produce_line(env, m, order, line, products[line.product_id], units, step,
                                          progress))
                for line, units, step, progress in making]
    produced = {line.line_id for line in order.lines
                if line.quantity > line.from_stock_units + line.backordered_units}
    deliveries = [env.process(ship(env, m, order, s.units, s.from_stock, s.lines, shipment=s))
                  for s in picking]
    deliveries += [env.process(_carry(env, m, order, s, left)) for s, left in in_transit]
    yield from _ship_as_ready(env, m, order, pending, produced, deliveries, False)


def _carry(env: Environment, m: CompanyModel, order: Order, shipment: Shipment,
           days_left: float | None) -> Generator[simpy.Event, Any, None]:
    """A shipment of a state snapshot in transit: delivered after ``days_left`` (None: a fresh draw)."""
    provider = m.providers[m.segments[order.segment].logistics_provider]
    if days_left is None:
        days_left = m.carrier_draws[provider.id][1]()
    shipment.arrival_time = env.now + days_left
    yield env.wait(days_left)
    _arrive(env, m, order, shipment, provider.id, _refs(shipment))
