"""Steps 10–11: returns and claims, post-sales service.

A delivered shipment comes back as defective (the product's defect rate, lowered by
debriefed service visits) or as a wrong shipment (the picking error rate). The
returns policy approves or refuses the request; the carrier collects the goods;
finance refunds the agreed price of the returned units once the shipment has been
invoiced (never more than was billed). Service visits — installations and repairs —
need technicians with the right skills; response time runs from the ticket to the
crew's arrival. After a visit the debrief policy decides whether what the
technicians learnt reaches sales and planning: a debrief lowers the product's defect
rate, helps sales' quotes to the customer and, with ``information.field_requirements``,
reports the customer's upcoming inquiries to planning
(:mod:`ordercycle.sim.steps.field_requirements`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import DebriefContext, ReturnContext
from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import Line, Order, Shipment
from ordercycle.sim.model import cents

GOLDEN_RATIO = 0.6180339887498949

if TYPE_CHECKING:
    from ordercycle.scenarios.distributions import Distribution
    from ordercycle.sim.model import CompanyModel


def maybe_return(env: Environment, m: CompanyModel, order: Order, shipment: Shipment) -> None:
    """Decide from the order's return fate whether a delivered shipment comes back.

    The k-th shipment of an order uses u_k = frac(u + k·φ) (φ the golden ratio) of the
    order's own uniform u, drawn at the inquiry: shipments get distinct fates and
    every policy set sees the same ones (common random numbers). A shipment of several
    lines is returned per line: line j of it uses u_{k,j} = frac(u + (8k + j)·φ) and its
    own product's defect rate, and a claim returns (and refunds) that line's units only.
    """
    k = order.shipments.index(shipment)
    if len(shipment.lines) > 1:
        for j, part in enumerate(shipment.lines):
            u = (order.u_return + (8 * k + j) * GOLDEN_RATIO) % 1.0
            defect = m.defect_rate(m.products[part[0].product_id])
            if u < defect:
                env.process(return_claim(env, m, order, shipment, "defect", line=part))
            elif u < defect + m.scenario.quality.picking_error_rate:
                env.process(return_claim(env, m, order, shipment, "wrong_shipment", line=part))
        return
    product = m.products[shipment.lines[0][0].product_id if shipment.lines else order.product_id]
    u = (order.u_return + k * GOLDEN_RATIO) % 1.0
    defect = m.defect_rate(product)
    if u < defect:
        env.process(return_claim(env, m, order, shipment, "defect"))
    elif u < defect + m.scenario.quality.picking_error_rate:
        env.process(return_claim(env, m, order, shipment, "wrong_shipment"))


RETURN_STAGES = ("approval", "pickup", "refund")
"""Where a return claim of a state snapshot resumes: awaiting approval, approved and awaiting the
carrier's pickup, received and awaiting its refund."""


def return_claim(env: Environment, m: CompanyModel, order: Order, shipment: Shipment,
                 reason_code: str, resume: tuple[int, str, int] | None = None,
                 line: tuple[Line, int] | None = None) -> Generator[simpy.Event, Any, None]:
    """Request, approval, pickup and refund of one returned shipment (``line``: of that
    (line, units) of a shipment of several lines only).

    The claim moves the order (state and owner) only once fulfilment has finished: a
    returned stock shipment never takes an order away from production. ``resume``
    (return id, stage of :data:`RETURN_STAGES`, units) continues a claim of a state
    snapshot; a resumed claim is approved by the policy as it stands (its request age is
    counted from time 0) and, from ``refund`` on, its units are already received.
    """

    def move(state: str, owner: str) -> None:
        if order.delivered:
            order.move(state, owner)

    if resume is None:
        yield env.wait(m.draw["returns.request"]())
        return_id, stage = m.next_id("return"), "approval"
        units = shipment.units if line is None else line[1]
        requested = env.now
        refs = {"return_": return_id, "shipment": shipment.shipment_id}
        if line is not None:
            refs["line"] = line[0].line_id
        m.log(env.now, "return_requested", "returns", order.order_id, quantity=units, **refs)
    else:
        return_id, stage, units = resume
        requested = 0.0  # a resumed claim's age counts from time 0
        refs = {"return_": return_id, "shipment": shipment.shipment_id}
        if line is not None:
            refs["line"] = line[0].line_id
    claim = m.open_returns[return_id] = [order, shipment, stage, units, reason_code, line]
    policy = m.policies.returns
    refund_delay, chase = 0.0, False
    if stage == "approval":
        yield from m.serve([order], "returns", policy.handler_pool,
                           m.task["return_approval"](), "return_approval_started", None,
                           "return_requested", move=order.delivered, **refs)
        segment = m.segments[order.segment]
        delivered = shipment.delivered_time if shipment.delivered_time == shipment.delivered_time else 0.0
        context = ReturnContext(order.order_id, env.now, reason_code, units,
                                env.now - delivered, segment.return_window_days,
                                order.importance)
        decision = m.decide("returns", policy.review_return, context)
        if not decision.approve:
            del m.open_returns[return_id]
            move("return_refused", "customer")
            m.log(env.now, "return_refused", "returns", order.order_id, **refs)
            return
        m.log(env.now, "return_approved", "returns", order.order_id, **refs)
        claim[2] = "pickup"
        refund_delay = decision.refund_delay_days
        chase = decision.followups_between_other_work
        if chase:  # a rep books the pickup when no other sales work waits
            yield from m.serve([order], "returns", policy.handler_pool, m.task["return_approval"](),
                               "pickup_booking_started", None, "pickup_not_booked",
                               move=order.delivered, low_priority=True, **refs)
        elif decision.pickup_booking_days > 0:  # nobody has booked the pickup yet
            move("pickup_not_booked", "returns")
            order.begin_wait(env.now)
            yield env.wait(decision.pickup_booking_days)
            order.end_wait(env.now)
    if stage in ("approval", "pickup"):
        move("return_pickup", "logistics")
        yield env.wait(m.draw["returns.pickup"]())
        order.returned_units += units
        if line is not None:
            line[0].returned_units += units
        else:  # the whole shipment comes back: each line's units
            for returned, shipped in shipment.lines:
                returned.returned_units += shipped
        claim[2] = "refund"
        m.log(env.now, "return_received", "warehouse", order.order_id, quantity=units, **refs)
    if not shipment.settled:
        # finance refunds only what was invoiced, once any dispute on it is settled
        move("awaiting_invoice", "finance")
        order.begin_wait(env.now)
        if shipment.on_settled is None:
            shipment.on_settled = env.event()
        yield shipment.on_settled  # type: ignore[misc]
        order.end_wait(env.now)
    if refund_delay > 0:  # the refund is not chased
        order.begin_wait(env.now)
        yield env.wait(refund_delay)
        order.end_wait(env.now)
    if chase:  # the rep asks finance for the refund between other work
        yield from m.serve([order], "returns", policy.handler_pool, m.task["return_approval"](),
                           "refund_chase_started", None, "refund_not_chased",
                           move=order.delivered, low_priority=True, **refs)
    yield from m.serve([order], "finance", "finance_clerks", m.task["refund"](),
                       "refund_started", None, "refund", move=order.delivered, **refs)
    if line is not None:
        owed = units * cents(line[0].unit_price)
    else:
        owed = units * cents(order.unit_price) if len(order.lines) <= 1 else shipment.amount_cents
    refund = max(0, min(owed, order.billed_cents - order.refunded_cents))
    order.refunded_cents += refund
    del m.open_returns[return_id]
    move("refunded", "customer")
    m.log(env.now, "refund_paid", "finance", order.order_id, amount=refund / 100, **refs)
    if m.scenario.goodwill is not None and env.now - requested > m.scenario.goodwill.slow_refund_days:
        m.grieve(order, "slow_refund")


def repair_ticket(env: Environment, m: CompanyModel, order: Order,
                  ticket: int | None = None) -> Generator[simpy.Event, Any, None]:
    """A repair call some time after delivery (``ticket``: a snapshot's ticket already open)."""
    product = m.products[order.product_id]
    if ticket is None:
        yield env.wait(m.draw[f"service.{product.id}.repair_after"]())
    assert product.service_skill is not None  # checked by the scenario schema
    yield from service_visit(env, m, order, "repair", [product.service_skill], product.service_hours, ticket)
    order.move("serviced", "customer")


def service_visit(env: Environment, m: CompanyModel, order: Order, kind: str, skills: list[str],
                  hours: Distribution, ticket: int | None = None) -> Generator[simpy.Event, Any, None]:
    """Gather one technician per skill, travel, work, maybe debrief (``ticket``: already open)."""
    if ticket is None:
        ticket = m.next_id("ticket")
        m.log(env.now, "ticket_opened", "service", order.order_id, kind, ticket=ticket)
    refs = {"ticket": ticket}
    if kind == "repair":
        m.open_tickets[ticket] = order
    order.move(f"{kind}_waiting", "service")
    calendar = m.calendars.get("technicians")
    order.begin_wait(env.now, calendar)
    requests = []
    for skill in sorted(set(skills)):  # fixed order: crews never deadlock
        request = m.technicians[skill].request()
        requests.append((skill, request))
        yield request
    opening = m.until_open(calendar)  # a crew gathered while the technicians are off starts at the opening
    if opening is not None:
        yield opening
    order.end_wait(env.now)
    crew = [m.busy_hours[f"technicians.{skill}"] for skill, _ in requests]
    try:
        travel = m.task["travel"]()
        for busy in crew:
            busy[int(env.now)] += travel
        yield m.working(calendar, travel)
        started = "installation_started" if kind == "installation" else "service_started"
        completed = "installation_completed" if kind == "installation" else "service_completed"
        m.log(env.now, started, "service", order.order_id, kind, **refs)
        order.move(kind, "service")
        work = m.draw[f"service.{order.product_id}.{kind}"]()
        for busy in crew:
            busy[int(env.now)] += work
        yield m.working(calendar, work)
        m.log(env.now, completed, "service", order.order_id, kind, quantity=work, **refs)
        context = DebriefContext(ticket, env.now, kind, order.product_id, order.segment, work)
        decision = m.decide("debrief", m.policies.debrief.debrief, context)
        if decision.debrief:
            debrief = m.task["debrief"]()
            for busy in crew:
                busy[int(env.now)] += debrief
            yield m.working(calendar, debrief)
            m.debriefs[order.product_id] += 1
            memory = m.scenario.quality.debrief_memory_days
            m.debriefed_until[order.customer_id] = env.now + memory
            m.log(env.now, "debrief_held", "service", order.order_id, kind, **refs)
            if m.field_requirements is not None:  # what the visit heard of the customer's next inquiries
                heard = m.field_requirements.hear(env.now, order.customer_id, order.segment)
                for product_id in sorted(heard):
                    m.log(env.now, "requirements_reported", "service", order.order_id, kind,
                          product=product_id, quantity=heard[product_id], **refs)
    finally:
        for skill, request in requests:
            m.technicians[skill].release(request)
        m.open_tickets.pop(ticket, None)
