"""Commercial policies: pricing (quote) and order selection."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import Quote, QuoteContext, SelectionContext, SelectionDecision


class PricingPolicy(Policy):
    """Sets the unit price and the promised lead time of a quote."""

    decision = "pricing"

    @classmethod
    def information_used(cls, params: dict[str, Any]) -> tuple[str, ...]:
        """With ``add_transit``, also the carrier's published transit."""
        used = cls.reads_information
        return used + ("carrier_transit_quantile",) if params.get("add_transit") else used

    def quote(self, context: QuoteContext) -> Quote:
        """Return the offer for this inquiry."""
        raise NotImplementedError


REASONS_KEPT = 1024
"""Reason texts a policy keeps formatted (one per product in a simulation)."""


def transit_part(context: QuoteContext) -> str:
    """How a reason names the published transit of a context, e.g. ``transit p90 3.42 d``."""
    return f"transit p{100 * (context.transit_quantile or 0):g} {context.transit_days:.2f} d"


class ListPrice(PricingPolicy):
    """Quote the list price and the product's standard lead time.

    With ``add_transit`` the standard lead time is taken as ex works: the promise adds
    the carrier's published transit when the context carries it (``transit_days``, the
    segment's carrier transit at the level ``transit_quantile``, delays included). By
    default (and in contexts without it) the promise is the standard lead time.
    """

    name = "list-price"
    summary = "list price, standard lead time (plus the published transit with add_transit)"

    def __init__(self, add_transit: bool = False) -> None:
        self.add_transit = add_transit

    def quote(self, context: QuoteContext) -> Quote:
        """List price and standard lead time (plus transit, when asked and known), whatever the load."""
        # the reason per (list price, lead days), formatted once: formatting two floats per
        # quote was 1.4 % of a simulation run (py-spy of a baseline year). At most
        # REASONS_KEPT are kept: a decision service sees whatever prices clients send.
        reasons: dict[tuple[float, ...], str] | None = getattr(self, "reasons_", None)
        if reasons is None:
            reasons = self.reasons_ = {}
        transit = context.transit_days if self.add_transit else None
        if transit is None:
            key: tuple[float, ...] = (context.list_price, context.standard_lead_days)
            lead = context.standard_lead_days
        else:
            key = (context.list_price, context.standard_lead_days, transit, context.transit_quantile or 0.0)
            lead = round(context.standard_lead_days + transit, 2)
        reason = reasons.get(key)
        if reason is None:
            reason = f"list price {key[0]:.2f}, standard lead {key[1]:g} d"
            if transit is not None:
                reason += f" + {transit_part(context)}"
            if len(reasons) < REASONS_KEPT:
                reasons[key] = reason
        return Quote(round(context.list_price, 2), lead, reason)


class SelectionPolicy(Policy):
    """Accepts or rejects an entered order.

    ``decider`` says who takes the decision: ``"junior"`` staff decide fast but see
    only size and value; ``"senior"`` managers are fewer and slower but see margin,
    customer importance, strategic products and the production backlog.
    ``needs_capacity_outlook`` asks the model for the capacity, accepted work and
    competing orders over a rolling horizon (``capacity_outlook``).
    """

    decision = "selection"
    decider: str = "junior"
    needs_capacity_outlook: bool = False
    """Whether the context must carry a :class:`~.contexts.CapacityOutlook` (costly to build)."""

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


class TierDiscount(PricingPolicy):
    """Discount by customer importance: ``discount_per_tier`` per importance point above 1.

    The promise is the standard lead time; with ``add_transit`` plus the published
    transit when the context carries it (as ``list-price``).
    """

    name = "tier-discount"
    summary = "list price less a discount per customer tier, standard lead time"

    def __init__(self, discount_per_tier: Annotated[float, Field(ge=0, lt=1)] = 0.03,
                 max_discount: Annotated[float, Field(ge=0, lt=1)] = 0.10,
                 add_transit: bool = False):
        self.discount_per_tier = discount_per_tier
        self.max_discount = max_discount
        self.add_transit = add_transit

    def quote(self, context: QuoteContext) -> Quote:
        """List price less the tier discount."""
        discount = min(self.max_discount, self.discount_per_tier * max(0.0, context.importance - 1.0))
        price = round(context.list_price * (1 - discount), 2)
        reason = f"tier discount {discount:.0%} (importance {context.importance:g})"
        if self.add_transit and context.transit_days is not None:
            standard = context.standard_lead_days
            return Quote(price, round(standard + context.transit_days, 2),
                         f"{reason}; standard lead {standard:g} d + {transit_part(context)}")
        return Quote(price, context.standard_lead_days, reason)


class InformedSales(PricingPolicy):
    """Sales that knows what production and the warehouse share (the essay's step 2).

    When the warehouse shares stock and it covers the order, promise delivery from
    stock (``stock_lead_days``). When production shares its capacity, offer
    ``surplus_discount`` only where capacity is really idle: at least
    ``surplus_threshold_hours`` of ``idle_capacity_hours`` (staffed hours over the
    product's standard lead time at its tightest work centre, less the released work
    still to be done there, the work the recent intake brings over that time and this
    order's own work). A context without ``idle_capacity_hours`` (version 1's, e.g. sent
    by an older client) is judged by ``surplus_capacity_hours`` against the same
    threshold, as version 1 did. Without shared information it quotes like
    ``list-price``. With ``add_transit`` both promises (stock and standard) are taken as
    ex works and add the carrier's published transit when the context carries it, as
    ``list-price`` does with the same parameter.
    """

    name = "informed-sales"
    version = 2
    summary = "promise from stock when stock is shared; discount when capacity is really idle"
    reads_information = ("production_shares_capacity", "warehouse_shares_stock")
    without_information = ("quotes list price and the standard lead (plus the transit with add_transit), "
                           "as list-price does")

    def __init__(self, stock_lead_days: Annotated[float, Field(gt=0)] = 3.0,
                 surplus_discount: Annotated[float, Field(ge=0, lt=1)] = 0.05,
                 surplus_threshold_hours: Annotated[float, Field(ge=0)] = 40.0,
                 add_transit: bool = False):
        self.stock_lead_days = stock_lead_days
        self.surplus_discount = surplus_discount
        self.surplus_threshold_hours = surplus_threshold_hours
        self.add_transit = add_transit

    def quote(self, context: QuoteContext) -> Quote:
        """Stock promise and idle-capacity discount when the information is there."""
        price, lead, why = context.list_price, context.standard_lead_days, []
        stock = context.stock_on_hand_units
        if stock is not None and stock >= context.quantity:
            lead = min(lead, self.stock_lead_days)
            why.append(f"{stock} in stock: delivery in {lead:g} d")
        idle = context.idle_capacity_hours
        if idle is not None:
            if idle >= self.surplus_threshold_hours:
                price = context.list_price * (1 - self.surplus_discount)
                why.append(f"idle capacity {idle:.0f} h within {context.standard_lead_days:g} d: "
                           f"{self.surplus_discount:.0%} off")
            else:
                why.append(f"idle capacity {max(idle, 0.0):.0f} h < {self.surplus_threshold_hours:g} h: "
                           "no discount")
        elif (surplus := context.surplus_capacity_hours) is not None \
                and surplus >= self.surplus_threshold_hours:
            price = context.list_price * (1 - self.surplus_discount)
            why.append(f"surplus capacity {surplus:.0f} h: {self.surplus_discount:.0%} off")
        reason = "; ".join(why) if why else "no shared stock or surplus: list price, standard lead"
        if self.add_transit and context.transit_days is not None:
            lead = round(lead + context.transit_days, 2)
            reason += f" + {transit_part(context)}"
        return Quote(round(price, 2), lead, reason)


class CapableToPromise(PricingPolicy):
    """List price; promise the lead time the current load allows, plus a safety margin.

    Needs production to share its load; without it, falls back to the standard lead
    time. When the context also carries the carrier's published transit
    (``transit_days`` at ``transit_quantile``), the promise is the whole path: the days
    until dispatch (``dispatch_lead_days``: a day's pick from stock, or the work queued
    ahead plus the order's own at the current staffing) plus that transit, plus
    ``safety_days``; otherwise ``projected_lead_days`` (the same path with the mean
    transit, version 1's promise) plus ``safety_days``.
    """

    name = "capable-to-promise"
    version = 2
    summary = "list price; lead time from the current load and the published transit plus a safety margin"
    reads_information = ("production_shares_capacity",)
    without_information = "quotes list price and the standard lead, as list-price does"

    def __init__(self, safety_days: Annotated[float, Field(ge=0)] = 1.0,
                 min_lead_days: Annotated[float, Field(gt=0)] = 1.0):
        self.safety_days = safety_days
        self.min_lead_days = min_lead_days

    def quote(self, context: QuoteContext) -> Quote:
        """Projected lead (or dispatch + published transit) + safety, never below ``min_lead_days``."""
        price = round(context.list_price, 2)
        dispatch, transit = context.dispatch_lead_days, context.transit_days
        if dispatch is not None and transit is not None:
            lead = max(self.min_lead_days, dispatch + transit + self.safety_days)
            return Quote(price, round(lead, 2),
                         f"dispatch in {dispatch:.1f} d + {transit_part(context)}, "
                         f"+{self.safety_days:g} d safety")
        if context.projected_lead_days is None:
            return Quote(price, context.standard_lead_days, "load not shared: standard lead time")
        lead = max(self.min_lead_days, context.projected_lead_days + self.safety_days)
        return Quote(price, round(lead, 2),
                     f"load allows {context.projected_lead_days:.1f} d, +{self.safety_days:g} d safety")


class StrategicSelection(SelectionPolicy):
    """Senior managers score each order against the strategy and accept good fits.

    Score = w_margin · margin rate + w_importance · importance / 3 + w_strategic ·
    [strategic product] + w_capacity · capacity fit, where capacity fit = 1 when the
    projected lead time is within the promise and falls to 0 at twice the promise.
    Accept when the score reaches ``min_score``. The weights are the scenario's
    strategy, set as this policy's parameters.
    """

    name = "strategic"
    summary = "senior managers accept orders whose strategy score (margin, tier, product, capacity) is high"
    decider = "senior"

    def __init__(self, margin_weight: Annotated[float, Field(ge=0)] = 1.0,
                 importance_weight: Annotated[float, Field(ge=0)] = 0.5,
                 strategic_weight: Annotated[float, Field(ge=0)] = 0.3,
                 capacity_weight: Annotated[float, Field(ge=0)] = 0.3,
                 min_score: float = 0.6):
        self.margin_weight = margin_weight
        self.importance_weight = importance_weight
        self.strategic_weight = strategic_weight
        self.capacity_weight = capacity_weight
        self.min_score = min_score

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Weighted strategy score against the threshold."""
        if context.unit_margin_rate is None or context.importance is None:
            raise ValueError("strategic selection needs a senior context (margin and importance)")
        fit = 1.0
        if context.projected_lead_days is not None and context.promised_lead_days:
            over = context.projected_lead_days / context.promised_lead_days - 1.0
            fit = min(1.0, max(0.0, 1.0 - over))
        score = (self.margin_weight * context.unit_margin_rate
                 + self.importance_weight * context.importance / 3.0
                 + self.strategic_weight * float(bool(context.strategic_product))
                 + self.capacity_weight * fit)
        verdict = "accepted" if score >= self.min_score else "rejected"
        return SelectionDecision(
            score >= self.min_score,
            f"{verdict}: strategy score {score:.2f} vs {self.min_score:.2f} (margin "
            f"{context.unit_margin_rate:.0%}, importance {context.importance:g}, capacity fit {fit:.2f})",
        )


class CapacityAware(SelectionPolicy):
    """Accept what capacity can deliver; renegotiate the date or reject otherwise.

    When the projected lead time exceeds the promise, renegotiate to the projection
    plus ``safety_days`` if that is at most ``max_delay_days`` later; else reject.
    """

    name = "capacity-aware"
    summary = "accept orders capacity can meet; renegotiate the date within max_delay_days, else reject"
    decider = "senior"

    def __init__(self, safety_days: Annotated[float, Field(ge=0)] = 1.0,
                 max_delay_days: Annotated[float, Field(ge=0)] = 7.0):
        self.safety_days = safety_days
        self.max_delay_days = max_delay_days

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Compare the projection with the promise."""
        promised, projected = context.promised_lead_days, context.projected_lead_days
        if promised is None or projected is None:
            raise ValueError("capacity-aware selection needs a senior context (promise and projection)")
        if projected <= promised:
            return SelectionDecision(True, f"accepted: {projected:.1f} d fits the {promised:.1f} d promise")
        renegotiated = projected + self.safety_days
        if renegotiated - promised <= self.max_delay_days:
            return SelectionDecision(
                True, f"accepted at {renegotiated:.1f} d instead of {promised:.1f} d", round(renegotiated, 2)
            )
        return SelectionDecision(
            False,
            f"rejected: capacity needs {projected:.1f} d, {projected - promised:.1f} d past the promise",
        )
