"""The objects that flow through the cycle: orders and their lines, jobs, shipments, invoices.

Every order has, at every moment, a ``state`` and an ``owner`` (the department or
outside party responsible for it). ``unattended_days`` accumulates the time during
which some part of it (the order itself, a shipment, an invoice, a claim, a visit)
waited in an internal queue with nobody working on it; overlapping waits of parallel
parts count once (:meth:`Order.begin_wait` / :meth:`Order.end_wait`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NAN = float("nan")
"""A time that has not happened (yet)."""

FINAL_STATES = ("lost_quote", "rejected", "lost_sale", "delivered", "returned", "open")
"""Every inquiry ends in exactly one of these; ``open`` means still in progress at the horizon
(``lost_sale``: accepted, but lost because stock could not cover it under a lost-sales policy)."""

CANCELLED = "cancelled"
"""Final state of an order on prepayment terms cancelled because its payment did not come in time
(``segments[].prepayment.cancel_after_days``). A category of ``orders.final_state`` only in runs
with prepayment terms, so the outputs of every other scenario keep their bytes."""


class Line:
    """One line of an order: a product in a quantity at a unit price.

    ``ready_units`` are units of the line available to ship (from stock at release, a
    filled back-order or finished production) and not yet shipped; ``shipped_units`` have
    left in a shipment. ``backordered_units`` is what the line ever back-ordered.
    ``making_units`` are being produced for the line (its job chain is at operation
    ``routing_step``); ``installed`` says its installation visit is done (state snapshots
    read these three).
    """

    __slots__ = ("line_id", "order", "number", "product_id", "quantity", "list_price", "unit_price",
                 "unit_cost", "ready_units", "shipped_units", "backordered_units", "from_stock_units",
                 "ready_time", "shipped_time", "delivered_time", "shipments", "returned_units",
                 "delivered_units", "allocated_units", "making_units", "routing_step", "installed")

    def __init__(self, line_id: int, order: Order, number: int, product_id: str, quantity: int):
        self.line_id = line_id
        self.order = order
        self.number = number
        """Position of the line on its order, from 1."""
        self.product_id = product_id
        self.quantity = quantity
        self.list_price = self.unit_price = self.unit_cost = 0.0
        self.ready_units = self.shipped_units = self.backordered_units = self.from_stock_units = 0
        self.returned_units = self.delivered_units = 0
        self.allocated_units = 0
        """Units given to a shipment (being picked, loaded or gone)."""
        self.ready_time = self.shipped_time = self.delivered_time = NAN
        """When the last unit became ready, left, arrived (NaN: not yet)."""
        self.shipments = 0
        """Shipments that carried units of the line."""
        self.making_units = 0
        """Units of the line in production now (0: none)."""
        self.routing_step = -1
        """Index of the routing operation the line's production is at (-1: none released)."""
        self.installed = False
        """The line's installation visit is done (only lines whose product needs one have one)."""


class Order:
    """One customer inquiry, and the order it may become (one or more order lines).

    ``product_id`` and ``quantity`` are the first line's product and the order's total
    units; ``list_price``, ``unit_price`` and ``unit_cost`` are per unit over all lines
    (quantity-weighted means, so units × price is the order's amount); a one-line order's
    are its line's.
    """

    __slots__ = (
        "order_id", "customer_id", "segment", "importance", "product_id", "quantity",
        "inquiry_time", "state", "owner", "unattended_days", "u_accept", "u_entry_error",
        "u_return", "u_repair", "list_price", "unit_price", "promised_date", "quote_time",
        "entered_time", "entered_units", "entered_unit_price", "entry_error", "decision_time",
        "accepted", "released_time", "expedited", "production_done_time", "remaining_hours",
        "shipped_units", "first_ship_time", "delivered_time", "shipments",
        "billed_cents", "paid_cents", "refunded_cents", "returned_units", "final_state",
        "invoices", "unit_cost", "waits", "waiting_since", "quoted_lead_days", "routing_step",
        "closed_wait_days", "wait_calendar", "lines", "pays_in_advance", "prepayment_cents",
        "prepaid_cents", "applied_cents", "advance_refunded_cents", "prepayment_invoiced_time",
        "prepayment_received_time", "prepayment_paid",
    )

    def __init__(self, order_id: int, customer_id: str, segment: str, importance: float,
                 product_id: str, quantity: int, inquiry_time: float):
        self.order_id = order_id
        self.customer_id = customer_id
        self.segment = segment
        self.importance = importance
        self.product_id = product_id
        self.quantity = quantity
        self.inquiry_time = inquiry_time
        self.state = "inquiry"
        self.owner = "sales"
        self.unattended_days = 0.0
        self.waits = 0
        self.waiting_since = 0.0
        self.closed_wait_days = 0.0
        """Of ``unattended_days``, the part during which the queue's owner was closed (its calendar)."""
        self.wait_calendar: Any = None
        """Working calendar of the queue the current wait began in (None: open around the clock)."""
        self.u_accept = self.u_entry_error = self.u_return = self.u_repair = 0.0
        self.list_price = self.unit_price = self.unit_cost = 0.0
        self.promised_date = self.quote_time = NAN
        self.entered_time = self.decision_time = self.released_time = NAN
        self.production_done_time = self.first_ship_time = self.delivered_time = NAN
        self.entered_units = 0
        self.entered_unit_price = 0.0
        self.entry_error = ""
        self.accepted = False
        self.expedited = False
        self.remaining_hours = 0.0
        self.shipped_units = 0
        self.shipments: list[Shipment] = []
        self.invoices: list[int] = []
        self.billed_cents = self.paid_cents = self.refunded_cents = 0
        self.returned_units = 0
        self.final_state = ""
        self.quoted_lead_days = NAN
        """Lead time of the quote sent to the customer, days (the promise once the order is entered)."""
        self.routing_step = -1
        """Index of the routing operation the order's production is at (-1: none released)."""
        self.lines: list[Line] = []
        """The order's lines (at least one once the inquiry is complete)."""
        self.pays_in_advance = False
        """On prepayment terms (the inquiry's prepayment fate fell below its segment's share)."""
        self.prepayment_cents = self.prepaid_cents = self.applied_cents = self.advance_refunded_cents = 0
        """Prepayment asked for (the order's value at the agreed prices), received, settled against
        its invoices (also in ``paid_cents``), and paid back (a prepaid order lost for want of stock)."""
        self.prepayment_invoiced_time = self.prepayment_received_time = NAN
        self.prepayment_paid: Any = None
        """The event a shipment waiting for the prepayment waits on (made only then)."""

    def move(self, state: str, owner: str) -> None:
        """Change state and owner together (an order is never ownerless)."""
        self.state = state
        self.owner = owner

    @property
    def delivered(self) -> bool:
        """Whether fulfilment has finished (final delivery, installation included)."""
        return self.delivered_time == self.delivered_time  # not NaN

    def begin_wait(self, now: float, calendar: Any = None) -> None:
        """A part of the order starts waiting in an internal queue.

        ``calendar`` is the working calendar of the queue's owner (None: open around the
        clock); when overlapping waits of parallel parts are merged, the calendar of the
        wait that began the merged interval decides how much of it was closed time.
        """
        if self.waits == 0:
            self.waiting_since = now
            self.wait_calendar = calendar
        self.waits += 1

    def end_wait(self, now: float) -> None:
        """A part of the order stops waiting (someone works on it now)."""
        self.waits -= 1
        if self.waits == 0:
            self.unattended_days += now - self.waiting_since
            calendar = self.wait_calendar
            if calendar is not None:
                self.closed_wait_days += calendar.closed_days(self.waiting_since, now)

    def unattended_until(self, now: float) -> float:
        """Unattended days so far, counting a wait still open at ``now``."""
        return self.unattended_days + (now - self.waiting_since if self.waits else 0.0)

    def closed_wait_until(self, now: float) -> float:
        """Of :meth:`unattended_until`, the days the queue's owner was closed."""
        if self.waits and self.wait_calendar is not None:
            return self.closed_wait_days + self.wait_calendar.closed_days(self.waiting_since, now)
        return self.closed_wait_days


class Job:
    """One operation of an order (``order`` None: a stock replenishment) at a work centre."""

    __slots__ = ("job_id", "order", "product_id", "quantity", "setup_family", "setup_hours",
                 "process_hours", "due_date", "importance", "released_at", "expedited", "done",
                 "remaining_hours", "remaining_days", "route_load_days")

    def __init__(self, job_id: int, order: Order | None, product_id: str, quantity: int,
                 setup_family: str, setup_hours: float, process_hours: float, due_date: float,
                 importance: float, released_at: float):
        self.job_id = job_id
        self.order = order
        self.product_id = product_id
        self.quantity = quantity
        self.setup_family = setup_family
        self.setup_hours = setup_hours
        self.process_hours = process_hours
        self.due_date = due_date
        self.importance = importance
        self.released_at = released_at
        self.expedited = False
        self.done: object = None
        self.remaining_hours = process_hours + setup_hours
        self.remaining_days = 0.0
        self.route_load_days = 0.0


@dataclass(eq=False, slots=True)  # identity: a shipment is one object, never compared by value
class Shipment:
    """Goods that leave together for one order (lines of that order only)."""

    shipment_id: int
    order: Order
    units: int
    from_stock: bool
    amount_cents: int = 0
    """What the shipped units cost the customer at the agreed prices (Σ line units × line price)."""
    lines: tuple[tuple[Line, int], ...] = ()
    """(line, units) carried."""
    dispatched_time: float = float("nan")
    delivered_time: float = float("nan")
    arrival_time: float = float("nan")
    """When the carrier delivers it, known from dispatch (a state snapshot's transit left)."""
    settled: bool = False
    """Its invoice line charges what it should (issued right, or corrected): a refund may be paid."""
    billed: bool = False
    on_settled: object = None
    """The event a refund waits on while the shipment is not settled; made only then (most
    shipments never come back, and an event succeeded for each cost ~1 % of a run)."""

    def settle(self) -> None:
        """Mark the shipment settled and wake the refund waiting for it, if any."""
        self.settled = True
        if self.on_settled is not None:
            self.on_settled.succeed()  # type: ignore[attr-defined]


class Backorder:
    """The part of a make-to-stock order that stock could not cover, waiting for stock.

    Receipts are allocated to back-orders first come first served; ``filled`` succeeds
    when ``allocated`` reaches ``units``.
    """

    __slots__ = ("order", "units", "allocated", "filled", "line")

    def __init__(self, order: Order, units: int, filled: Any, line: Line | None = None):
        self.order = order
        self.units = units
        self.allocated = 0
        self.filled = filled
        self.line = line
        """The order line the back-order belongs to (None: the order's only line)."""

    @property
    def open_units(self) -> int:
        """Units still owed."""
        return self.units - self.allocated


@dataclass(eq=False, slots=True)
class Invoice:
    """An invoice to one customer, covering one or more orders."""

    invoice_id: int
    customer_id: str
    issued_time: float
    lines: list[tuple[Order, int, int]] = field(default_factory=list)  # order, units, cents
    amount_cents: int = 0
    correct_cents: int = 0
    disputed: bool = False
    paid_time: float = float("nan")
    charged_cents: dict[int, int] = field(default_factory=dict)  # order id -> cents its line charges now
    settled_orders: set[int] = field(default_factory=set)
    """Orders whose line is settled against their prepayment while the invoice is open for others."""
    shipments: list[Shipment] = field(default_factory=list)
    """The shipments it bills (what a state snapshot needs to know which shipments an open invoice covers)."""
