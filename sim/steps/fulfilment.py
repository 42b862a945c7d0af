"""Step 8: fulfilment — ship from stock or from the line, deliver, install.

A make-to-stock order takes what stock covers at once (one shipment) and has the
rest produced; a make-to-order order is produced in full. Each shipment is picked
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

from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import Backorder, Order, Shipment
from ordercycle.sim.steps import aftersales, billing, production

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel


def fulfil_order(env: Environment, m: CompanyModel,
                 order: Order) -> Generator[simpy.Event, Any, None]:
    """From release to final delivery of an accepted order."""
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
                  quantity=from_stock)
    to_make = order.quantity - from_stock
    backorder = _backorder(env, m, order, product, to_make) if to_make and shortage == "backorder" else None
    if product.stocking == "make_to_stock":
        production.check_replenishment(env, m, product)  # the position counts the new back-order
    if backorder is not None:
        stock_delivery = env.process(ship(env, m, order, from_stock, True)) if from_stock else None
        order.move("backordered", "warehouse")
        order.begin_wait(env.now)
        yield backorder.filled
        order.end_wait(env.now)
        yield from ship(env, m, order, to_make, True)
        if stock_delivery is not None:
            yield stock_delivery
    elif not to_make:
        yield from ship(env, m, order, from_stock, True)
    else:
        # a partial stock shipment leaves at once, in parallel with production
        stock_delivery = env.process(ship(env, m, order, from_stock, True)) if from_stock else None
        yield from production.produce(env, m, product, to_make, order, order.promised_date,
                                      order.importance)
        order.production_done_time = env.now
        yield from ship(env, m, order, to_make, False)
        if stock_delivery is not None:
            yield stock_delivery
    yield from _finish(env, m, order, product)


def _lose_sale(env: Environment, m: CompanyModel, order: Order, product: Any) -> None:
    """Lost sales: stock cannot cover the order in full, so the customer buys elsewhere."""
    order.final_state = "lost_sale"
    order.move("lost_sale", "customer")
    m.log(env.now, "sale_lost", "warehouse", order.order_id, product=product.id, quantity=order.quantity)


def _backorder(env: Environment, m: CompanyModel, order: Order, product: Any, units: int) -> Backorder:
    """Back-order ``units`` of the order: they wait for receipts (first come, first served)."""
    backorder = Backorder(order, units, env.event())
    m.backorders[product.id].append(backorder)
    m.log(env.now, "backorder_created", "warehouse", order.order_id, product=product.id, quantity=units)
    return backorder


def _finish(env: Environment, m: CompanyModel, order: Order,
            product: Any) -> Generator[simpy.Event, Any, None]:
    """Installation (when the product needs one), final delivery, and maybe a later repair call."""
    if product.installation_skills:
        yield from aftersales.service_visit(env, m, order, "installation",
                                            product.installation_skills, product.installation_hours)
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
    to_ship = order.quantity - order.shipped_units
    if step == "production":
        yield from production.produce(env, m, product, to_ship, order, order.promised_date,
                                      order.importance, routing_step, step_progress)
        order.production_done_time = env.now
        yield from ship(env, m, order, to_ship, False)
    elif step == "backordered":
        backorder = _backorder(env, m, order, product, to_ship)
        order.move("backordered", "warehouse")
        order.begin_wait(env.now)
        yield backorder.filled
        order.end_wait(env.now)
        yield from ship(env, m, order, to_ship, True)
    elif step == "shipping":
        yield from ship(env, m, order, to_ship, False)
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


def ship(env: Environment, m: CompanyModel, order: Order, units: int,
         from_stock: bool) -> Generator[simpy.Event, Any, None]:
    """Pick, load and transport one shipment; register it with billing on dispatch."""
    shipment = Shipment(m.next_id("shipment"), order, units, from_stock)
    order.shipments.append(shipment)
    refs = {"shipment": shipment.shipment_id}
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
    shipment.dispatched_time = env.now
    order.shipped_units += units
    if order.first_ship_time != order.first_ship_time:  # NaN: first shipment
        order.first_ship_time = env.now
    m.log(env.now, "shipment_dispatched", "logistics", order.order_id, provider.id,
          quantity=units, **refs)
    billing.register_shipment(env, m, shipment)
    order.move("in_transit", "logistics")
    transit = transit_days()
    if reliability() >= provider.reliability:
        transit += delay()
    yield env.wait(transit)
    shipment.delivered_time = env.now
    m.log(env.now, "shipment_delivered", "logistics", order.order_id, provider.id,
          quantity=units, **refs)
    aftersales.maybe_return(env, m, order, shipment)
