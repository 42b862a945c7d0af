"""Commercial policies: pricing (quote) and order selection."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import Quote, QuoteContext, SelectionContext, SelectionDecision


class PricingPolicy(Policy):
    """Sets the unit price and the promised lead time of a quote."""

    decision = "pricing"

    def quote(self, context: QuoteContext) -> Quote:
        """Return the offer for this inquiry."""
        raise NotImplementedError


class ListPrice(PricingPolicy):
    """Quote the list price and the product's standard lead time."""

    name = "list-price"
    summary = "list price, standard lead time"

    def __init__(self) -> None:
        pass

    def quote(self, context: QuoteContext) -> Quote:
        """List price and standard lead time, whatever the load or stock."""
        return Quote(
            round(context.list_price, 2),
            context.standard_lead_days,
            f"list price {context.list_price:.2f}, standard lead {context.standard_lead_days:g} d",
        )


class SelectionPolicy(Policy):
    """Accepts or rejects an entered order.

    ``decider`` says who takes the decision: ``"junior"`` staff decide fast but see
    only size and value; ``"senior"`` managers are fewer and slower but see margin,
    customer importance, strategic products and the production backlog.
    """

    decision = "selection"
    decider: str = "junior"

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Return accept or reject, with the reason."""
        raise NotImplementedError


class AcceptAll(SelectionPolicy):
    """Accept every order."""

    name = "accept-all"
    summary = "accept every entered order (junior staff)"

    def __init__(self) -> None:
        pass

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Always accept."""
        return SelectionDecision(True, "accepted: every order is accepted")


class SizeThreshold(SelectionPolicy):
    """What junior staff do: accept orders of at least ``min_units`` units."""

    name = "size-threshold"
    summary = "accept orders of at least min_units units (junior staff)"

    def __init__(self, min_units: Annotated[int, Field(ge=0)] = 5):
        self.min_units = min_units

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Accept by size only."""
        if context.quantity >= self.min_units:
            return SelectionDecision(True, f"accepted: {context.quantity} units >= {self.min_units}")
        return SelectionDecision(
            False, f"rejected: {context.quantity} units below the {self.min_units}-unit threshold"
        )


class MarginFloor(SelectionPolicy):
    """A senior manager's rule: reject orders whose unit margin is below a floor.

    Customers at or above ``protect_importance`` are always accepted (the strategy
    keeps its best customers even on thin margins).
    """

    name = "margin-floor"
    summary = "senior managers reject orders below a margin floor, except for key customers"
    decider = "senior"

    def __init__(self, min_margin_rate: Annotated[float, Field(ge=-1, le=1)] = 0.3,
                 protect_importance: Annotated[float, Field(gt=0)] = 3.0):
        self.min_margin_rate = min_margin_rate
        self.protect_importance = protect_importance

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Accept key customers; otherwise accept when the margin reaches the floor."""
        if context.unit_margin_rate is None or context.importance is None:
            raise ValueError("margin-floor needs a senior context (margin and importance)")
        if context.importance >= self.protect_importance:
            return SelectionDecision(True, f"accepted: key customer (importance {context.importance:g})")
        if context.unit_margin_rate >= self.min_margin_rate:
            return SelectionDecision(
                True, f"accepted: margin {context.unit_margin_rate:.0%} >= {self.min_margin_rate:.0%}"
            )
        return SelectionDecision(
            False,
            f"rejected: margin {context.unit_margin_rate:.0%} below the {self.min_margin_rate:.0%} floor",
        )
