"""After-sales policies: billing, returns and claims, service debriefs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import (
    BillingContext,
    BillingLine,
    DebriefContext,
    DebriefDecision,
    InvoiceDecision,
    InvoiceLine,
    ReturnContext,
    ReturnDecision,
)


class BillingPolicy(Policy):
    """Prepares invoices.

    ``consults`` says whether billing asks shipping (what shipped) and sales (the
    agreed price) before invoicing; the simulation fills those fields of each
    :class:`BillingLine` only then, and charges the consultation time.
    """

    decision = "billing"
    consults: bool = False

    def invoice(self, context: BillingContext) -> InvoiceDecision:
        """Return the invoice lines."""
        raise NotImplementedError


class Standalone(BillingPolicy):
    """Billing alone: charge what order entry recorded, once per order.

    It does not know what shipped, so it bills the whole entered quantity at the
    entered price as soon as anything ships, less what it already billed.
    """

    name = "standalone"
    summary = "bill entered quantity x entered price, without asking shipping or sales"

    def __init__(self) -> None:
        pass

    def invoice(self, context: BillingContext) -> InvoiceDecision:
        """Entered quantity × entered price, minus what was already billed."""
        lines = []
        for line in context.lines:
            total = round(line.entered_units * line.entered_unit_price, 2)
            amount = round(max(0.0, total - line.already_billed), 2)
            units = line.entered_units if amount > 0 else 0
            lines.append(InvoiceLine(line.order_id, units, line.entered_unit_price, amount))
        return InvoiceDecision(tuple(lines), "billed as entered, shipping and sales not consulted")


class ConsultShippingSales(BillingPolicy):
    """Bill exactly what shipped, at the price sales agreed."""

    name = "consult-shipping-sales"
    summary = "bill shipped quantity x agreed price, after consulting shipping and sales"
    consults = True

    def __init__(self) -> None:
        pass

    def invoice(self, context: BillingContext) -> InvoiceDecision:
        """Shipped units × agreed price for every line."""
        lines = [self._line(line) for line in context.lines]
        return InvoiceDecision(tuple(lines), "billed shipped quantity at the agreed price")

    @staticmethod
    def _line(line: BillingLine) -> InvoiceLine:
        if line.shipped_units is None or line.agreed_unit_price is None:
            raise ValueError(
                f"order {line.order_id}: consulting billing needs shipped_units and agreed_unit_price"
            )
        amount = round(line.shipped_units * line.agreed_unit_price, 2)
        return InvoiceLine(line.order_id, line.shipped_units, line.agreed_unit_price, amount)


class ReturnsPolicy(Policy):
    """Approves or refuses return requests and sets the pace of the procedure.

    ``handler_pool`` names the staff who review claims: ``"returns_staff"`` for a
    defined procedure, ``"sales_reps"`` when whoever in sales has time deals with it.
    ``low_priority_followups`` says that the policy may hand follow-ups to the pool at low
    priority (``ReturnDecision.followups_between_other_work``): the model then queues the
    pool's requests by priority.
    """

    decision = "returns"
    handler_pool: str = "returns_staff"
    low_priority_followups: bool = False

    def review_return(self, context: ReturnContext) -> ReturnDecision:
        """Return approve or refuse."""
        raise NotImplementedError


class WithinWindow(ReturnsPolicy):
    """Approve returns requested within the customer's return window (plus grace)."""

    name = "within-window"
    summary = "approve returns requested within the return window plus grace_days"

    def __init__(self, grace_days: Annotated[float, Field(ge=0)] = 0.0):
        self.grace_days = grace_days

    def review_return(self, context: ReturnContext) -> ReturnDecision:
        """Approve when inside the window."""
        limit = context.return_window_days + self.grace_days
        if context.days_since_delivery <= limit:
            return ReturnDecision(
                True, f"approved: {context.days_since_delivery:.1f} d after delivery, window {limit:g} d"
            )
        return ReturnDecision(
            False, f"refused: {context.days_since_delivery:.1f} d after delivery, window {limit:g} d"
        )


class AdHocReturns(ReturnsPolicy):
    """No defined procedure: sales reps handle claims between other work.

    Everything is approved (nobody checks the window). With ``between_other_work`` (the
    mechanism) the reps book the pickup and chase the refund as tasks of their own, taken
    only when no other sales work waits, so claims are slow exactly when sales is busy;
    otherwise (the earlier, assumed form) the pickup is booked ``pickup_booking_days``
    later and finance refunds ``refund_delay_days`` after it may.
    """

    name = "ad-hoc"
    summary = "sales reps handle claims when they can; late pickup booking and refund"
    handler_pool = "sales_reps"

    def __init__(self, pickup_booking_days: Annotated[float, Field(ge=0)] = 3.0,
                 refund_delay_days: Annotated[float, Field(ge=0)] = 7.0,
                 between_other_work: bool = False):
        self.pickup_booking_days = pickup_booking_days
        self.refund_delay_days = refund_delay_days
        self.between_other_work = between_other_work

    @property
    def low_priority_followups(self) -> bool:  # type: ignore[override]
        """Follow-ups at low priority only in the workload form."""
        return self.between_other_work

    def review_return(self, context: ReturnContext) -> ReturnDecision:
        """Approve, slowly: after fixed delays, or between the reps' other work."""
        if self.between_other_work:
            return ReturnDecision(True, "approved without checks; pickup booking and refund chase "
                                        "wait until the reps have no other work", 0.0, 0.0, True)
        return ReturnDecision(
            True,
            f"approved without checks; pickup booked in {self.pickup_booking_days:g} d, "
            f"refund {self.refund_delay_days:g} d after it may be paid",
            self.pickup_booking_days, self.refund_delay_days,
        )


class DebriefPolicy(Policy):
    """Decides whether a technician is debriefed after a visit."""

    decision = "debrief"

    def debrief(self, context: DebriefContext) -> DebriefDecision:
        """Return debrief or not."""
        raise NotImplementedError


class NeverDebrief(DebriefPolicy):
    """No debriefs: what service learns stays with service."""

    name = "never"
    summary = "never debrief service staff"

    def __init__(self) -> None:
        pass

    def debrief(self, context: DebriefContext) -> DebriefDecision:
        """Never."""
        return DebriefDecision(False, "no debrief: not part of the process")


class RoutineDebrief(DebriefPolicy):
    """Debrief after every visit of the listed kinds."""

    name = "routine"
    summary = "debrief after every repair and installation visit"

    def __init__(self) -> None:
        pass

    def debrief(self, context: DebriefContext) -> DebriefDecision:
        """Always."""
        return DebriefDecision(True, f"routine debrief after {context.kind} visit")
