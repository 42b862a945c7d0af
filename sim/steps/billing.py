"""Step 9: billing — invoices in the customer's rhythm, disputes, payment.

A shipment is registered with billing when it leaves: customers billed per shipment
get an invoice at once; monthly customers get one consolidated invoice at the end
of each 30-day month. The billing policy decides each invoice line; when it
consults shipping and sales it sees what shipped and the agreed price (and takes
the consultation time). An invoice whose lines differ from shipped quantity ×
agreed price is wrong: the customer disputes it, billing reworks it (the corrected
invoice charges exactly that), and the payment clock restarts.

An order on prepayment terms (``segments[].prepayment``) gets a prepayment request (a
pro-forma invoice) with its confirmation; the customer pays it after its own delay, and
only then is the order released (or are its shipments picked). Its shipment invoices are
issued, disputed and corrected as any, and each correct line is settled against the
prepayment at once (``prepayment_applied``): the customer never pays twice.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import BillingContext, BillingLine
from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import CANCELLED, Invoice, Order, Shipment
from ordercycle.sim.model import cents

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel

MONTH_DAYS = 30.0


def register_shipment(env: Environment, m: CompanyModel, shipment: Shipment) -> None:
    """Hand a dispatched shipment to billing (at once, or for the monthly run)."""
    order = shipment.order
    if m.segments[order.segment].invoice_rhythm == "per_shipment":
        env.process(invoice_run(env, m, order.customer_id, "per_shipment", [shipment]))
    else:
        m.pending_invoices.setdefault(order.customer_id, []).append(shipment)


def monthly_billing(env: Environment, m: CompanyModel) -> Generator[simpy.Event, Any, None]:
    """Every month, one consolidated invoice per customer with shipments to bill."""
    while True:
        yield env.timeout(MONTH_DAYS)
        pending, m.pending_invoices = m.pending_invoices, {}
        for customer_id in sorted(pending):
            env.process(invoice_run(env, m, customer_id, "monthly", pending[customer_id]))


def invoice_run(env: Environment, m: CompanyModel, customer_id: str, rhythm: str,
                shipments: list[Shipment]) -> Generator[simpy.Event, Any, None]:
    """Prepare, issue, dispute if wrong, and collect one invoice."""
    by_order: dict[int, tuple[Order, int]] = {}
    due: dict[int, int] = {}  # order id -> what its shipments on this invoice cost at the agreed prices
    for shipment in shipments:
        order, units = by_order.get(shipment.order.order_id, (shipment.order, 0))
        by_order[order.order_id] = (order, units + shipment.units)
        due[order.order_id] = due.get(order.order_id, 0) + shipment.amount_cents
    orders = [by_order[k][0] for k in sorted(by_order)] if len(by_order) > 1 else [shipments[0].order]
    invoice = Invoice(m.next_id("invoice"), customer_id, float("nan"), shipments=shipments)
    invoice_id = invoice.invoice_id
    policy = m.policies.billing
    consults = policy.consults
    hours = m.task["invoicing"]()
    if consults:
        hours += m.task["billing_consultation"]()
    yield from m.serve(orders, "billing", "billing_clerks", hours,
                       "invoice_started", None, "invoicing", move=False, invoice=invoice_id)
    lines = tuple(
        BillingLine(
            order.order_id, order.entered_units, order.entered_unit_price,
            order.billed_cents / 100,
            by_order[order.order_id][1] if consults else None,
            _agreed_unit_price(order, by_order[order.order_id][1], due) if consults else None,
        )
        for order in orders
    )
    decision = m.decide("billing", policy.invoice, BillingContext(customer_id, rhythm, env.now, lines))
    charged = {line.order_id: cents(line.amount) for line in decision.lines}
    invoice.charged_cents = charged
    if charged.keys() != by_order.keys():
        raise RuntimeError(
            f"billing policy returned lines for {sorted(charged)}, expected {sorted(by_order)}"
        )
    now = env.now
    invoice.issued_time = now
    m.open_invoices[invoice_id] = invoice
    log = m.log
    wrong: list[Order] = []
    for order in orders:
        units = by_order[order.order_id][1]
        correct = due[order.order_id]  # what the line should charge: shipped × agreed price
        line_cents = charged[order.order_id]
        invoice.lines.append((order, units, correct))
        invoice.amount_cents += line_cents
        invoice.correct_cents += correct
        order.billed_cents += line_cents
        order.invoices.append(invoice_id)
        log(now, "invoice_issued", "billing", order.order_id, invoice=invoice_id, amount=line_cents / 100,
            quantity=units)  # the units it bills: their cost of goods is booked with the revenue
        if line_cents != correct:
            wrong.append(order)
    segment = m.segments[orders[0].segment]
    delay = m.segment_draws[segment.id][1]
    wrong_ids = {order.order_id for order in wrong}
    for shipment in shipments:  # correct lines are settled at once; wrong ones after correction
        shipment.billed = True
        if shipment.order.order_id not in wrong_ids:
            shipment.settle()
    advance = {order.order_id for order in orders if order.pays_in_advance}
    if advance:  # lines of prepaid orders are settled against the prepayment once correct
        _apply_prepayment(env, m, invoice, advance - wrong_ids)
    if wrong:
        invoice.disputed = True
        yield env.wait(m.draw["billing.dispute"]())
        for order in wrong:
            m.log(env.now, "invoice_disputed", "customer", order.order_id, invoice=invoice_id)
            m.grieve(order, "wrong_invoice")
        yield from m.serve(wrong, "billing", "billing_clerks",
                           m.task["dispute_rework"](), "dispute_rework_started", None, "dispute",
                           move=False, invoice=invoice_id)
        for order in wrong:
            correction = due[order.order_id] - charged[order.order_id]
            order.billed_cents += correction
            invoice.amount_cents += correction
            charged[order.order_id] += correction
            m.log(env.now, "invoice_corrected", "billing", order.order_id, amount=correction / 100,
                  invoice=invoice_id)
        for shipment in shipments:  # the corrected lines now charge exactly what they should
            if shipment.order.order_id in wrong_ids:
                shipment.settle()
        if advance:
            _apply_prepayment(env, m, invoice, advance & wrong_ids)
    if len(advance) == len(by_order):  # nothing left for the customer to pay
        invoice.paid_time = env.now
        del m.open_invoices[invoice_id]
        return
    yield env.wait(segment.payment_terms_days + delay())
    _collect(env, m, invoice, advance)


def _collect(env: Environment, m: CompanyModel, invoice: Invoice, settled: set[int] | None = None) -> None:
    """The customer pays the (correct) lines of an invoice (but those of the ``settled``
    orders: settled against their prepayment already)."""
    invoice.paid_time = env.now
    del m.open_invoices[invoice.invoice_id]
    invoice_id, now, log = invoice.invoice_id, env.now, m.log
    for order, _, line_cents in invoice.lines:  # one line per order
        if settled and order.order_id in settled:
            continue
        order.paid_cents += line_cents
        log(now, "payment_received", "finance", order.order_id, invoice=invoice_id, amount=line_cents / 100)


# --- prepayment ---------------------------------------------------------------------------


def order_value_cents(order: Order) -> int:
    """What the whole order costs the customer at the agreed prices (Σ line units × line price)."""
    if len(order.lines) <= 1:
        return order.quantity * cents(order.unit_price)
    return sum(line.quantity * cents(line.unit_price) for line in order.lines)


def prepayment(env: Environment, m: CompanyModel, order: Order) -> Generator[simpy.Event, Any, bool]:
    """The prepayment of an order on prepayment terms, from its request to its receipt.

    The request (a pro-forma invoice for the order's value at the agreed prices) is issued
    with the order confirmation, by the ERP (no clerk's work). The customer pays after a
    draw of ``prepayment.delay_days``; if that is later than ``cancel_after_days``, the
    order is cancelled at that limit instead and nothing is paid. While the release waits
    (``blocks: release``) the customer owns the order, in state ``awaiting_prepayment``;
    when only the shipments wait, the order stays with fulfilment (and a shipment that is
    ready first waits in that state, :func:`~ordercycle.sim.steps.fulfilment.ship`). With
    ``promise_from_payment`` the promised date moves by the days from confirmation to payment.

    Returns whether the payment came (False: cancelled, or the order was lost for want of
    stock at its release before the request went out).
    """
    if order.final_state:  # lost at release (a lost-sales policy) before this process began
        return False
    segment = m.segments[order.segment]
    terms = segment.prepayment
    assert terms is not None  # only orders of segments with prepayment terms pay in advance
    invoice_id = m.next_id("invoice")
    refs = {"invoice": invoice_id}
    confirmed = order.prepayment_invoiced_time = env.now
    amount = order.prepayment_cents = order_value_cents(order)
    m.log(confirmed, "prepayment_invoiced", "billing", order.order_id, amount=amount / 100, **refs)
    if terms.blocks == "release":
        order.move("awaiting_prepayment", "customer")
    wait = m.draw[f"segment.{segment.id}.prepayment"]()
    limit = terms.cancel_after_days
    if limit is not None and wait > limit:  # not paid in time: sales cancels the order
        yield env.wait(limit)
        order.final_state = CANCELLED
        order.move(CANCELLED, "sales")
        m.log(env.now, "order_cancelled", "sales", order.order_id, "prepayment_unpaid", **refs)
        return False
    yield env.wait(wait)
    order.prepaid_cents = amount
    order.prepayment_received_time = env.now
    m.log(env.now, "prepayment_received", "finance", order.order_id, amount=amount / 100, **refs)
    if terms.promise_from_payment:  # 'delivery N days after payment'
        order.promised_date += env.now - confirmed
    if order.prepayment_paid is not None:
        order.prepayment_paid.succeed()
    return True


def _apply_prepayment(env: Environment, m: CompanyModel, invoice: Invoice, order_ids: set[int]) -> None:
    """Settle the (correct) lines of ``order_ids`` on ``invoice`` against their prepayment."""
    for order, _, line_cents in invoice.lines:
        if order.order_id not in order_ids:
            continue
        if order.applied_cents + line_cents > order.prepaid_cents:
            raise RuntimeError(f"order {order.order_id}: invoice {invoice.invoice_id} charges "
                               f"{line_cents / 100:.2f}, more than is left of its prepayment "
                               f"({(order.prepaid_cents - order.applied_cents) / 100:.2f})")
        order.applied_cents += line_cents
        order.paid_cents += line_cents
        invoice.settled_orders.add(order.order_id)
        m.log(env.now, "prepayment_applied", "finance", order.order_id, invoice=invoice.invoice_id,
              amount=line_cents / 100)


def refund_prepayment(env: Environment, m: CompanyModel, order: Order) -> None:
    """Pay back what is left of a prepayment (a prepaid order lost for want of stock at its release)."""
    left = order.prepaid_cents - order.applied_cents - order.advance_refunded_cents
    if left > 0:
        order.advance_refunded_cents += left
        m.log(env.now, "prepayment_refunded", "finance", order.order_id, amount=left / 100)


def resume_invoice(env: Environment, m: CompanyModel, invoice: Invoice,
                   shipments: list[Shipment]) -> Generator[simpy.Event, Any, None]:
    """An invoice of a state snapshot, issued before time 0 and not yet paid.

    ``invoice.lines`` hold (order, units, cents the line should charge) and
    ``invoice.charged_cents`` what each line charges; a disputed invoice is reworked first
    (its lines then charge what they should) and its payment clock restarts; otherwise
    the customer pays when the payment terms plus the segment's payment delay, counted
    from the issue date, have run out (at once if they already have). The ``shipments``
    it covers are settled when the lines are correct.
    """
    orders = list(dict.fromkeys(order for order, _, _ in invoice.lines))
    m.open_invoices[invoice.invoice_id] = invoice
    segment = m.segments[orders[0].segment]
    delay = m.segment_draws[segment.id][1]
    refs = {"invoice": invoice.invoice_id}
    charged = invoice.charged_cents
    for order, _, _ in invoice.lines:
        m.log(env.now, "invoice_carried_over", "billing", order.order_id,
              amount=charged[order.order_id] / 100, **refs)
    if not invoice.disputed:
        for shipment in shipments:
            shipment.settle()
        due = invoice.issued_time + segment.payment_terms_days + delay()
        yield env.wait(max(0.0, due - env.now))
    else:
        yield from m.serve(orders, "billing", "billing_clerks", m.task["dispute_rework"](),
                           "dispute_rework_started", None, "dispute", move=False, **refs)
        for order, _, correct in invoice.lines:
            correction = correct - charged[order.order_id]
            order.billed_cents += correction
            invoice.amount_cents += correction
            charged[order.order_id] = correct
            m.log(env.now, "invoice_corrected", "billing", order.order_id, amount=correction / 100, **refs)
        for shipment in shipments:
            shipment.settle()
        yield env.wait(segment.payment_terms_days + delay())
    _collect(env, m, invoice)


def _agreed_unit_price(order: Order, units: int, due: dict[int, int]) -> float:
    """The agreed price per unit of what an invoice covers: the order's, or for a
    multi-line order the mean over the shipped lines (so units × it is their amount)."""
    if len(order.lines) <= 1:
        return order.unit_price
    return due[order.order_id] / 100 / units
