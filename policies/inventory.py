"""Inventory policies: when and how much a make-to-stock product is replenished.

The model asks the inventory policy after every demand on stock and every new plan
(continuous review) or, for a policy with ``review_days > 0``, only every
``review_days`` (periodic review). The decision is how many units to release to
production for stock now. Levels are set per product in units (``levels``,
``reorder_points`` … keyed by product id, the item master a planner keeps) or, for a
product not listed there, in days of the plan's daily demand (days of cover), so that
one policy serves products of very different volume.

What happens to the part of an order that stock cannot cover is the policy's
``shortage`` rule, which the model reads when it releases an order:

- ``make-to-order`` (the plan-driven policy): the shortfall is produced for the order;
- ``backorder``: the shortfall waits for stock (a back-order, filled first come first
  served as replenishments arrive);
- ``lost-sales``: an order that stock cannot cover in full is lost (the customer buys
  elsewhere; nothing is shipped or billed).

Conventions (as in Axsäter, *Inventory Control*): the inventory position is on hand +
on order − back-ordered; base stock orders up to S whenever the position is below S;
(s, S) orders up to S when the position is at or below s; (r, Q) orders as many
batches of Q as bring the position above r.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import InventoryContext, InventoryDecision

Shortage = Literal["backorder", "lost-sales"]
"""What a stock policy does with the part of an order stock cannot cover."""
Units = dict[str, Annotated[int, Field(ge=0)]]
"""Units per product id (an item master); products not listed use days of cover."""
Days = Annotated[float, Field(ge=0, le=3650)]
"""Days of the plan's daily demand."""
ReviewDays = Annotated[float, Field(ge=0, le=365)]
"""Days between reviews; 0 reviews continuously (after every demand and every plan)."""


class InventoryPolicy(Policy):
    """Decides the replenishment of one make-to-stock product at a review."""

    decision = "inventory"
    shortage: ClassVar[str] = "backorder"
    """``make-to-order``, ``backorder`` or ``lost-sales`` (see the module docstring)."""
    review_days: float = 0.0

    def review(self, context: InventoryContext) -> InventoryDecision:
        """Return the units to release to production for stock now."""
        raise NotImplementedError


def position(context: InventoryContext) -> int:
    """The inventory position: on hand + on order − back-ordered."""
    return context.on_hand_units + context.on_order_units - context.backordered_units


def level(units: dict[str, int], days: float, context: InventoryContext) -> int:
    """A level for the context's product: its item-master units, else days of planned demand."""
    if context.product_id in units:
        return units[context.product_id]
    return math.ceil(days * context.planned_daily_units - 1e-9)


def in_batches(units: int, batch: int) -> int:
    """``units`` rounded up to whole replenishment batches."""
    return math.ceil(units / batch) * batch if units > 0 else 0


class PlanDriven(InventoryPolicy):
    """Order up to the plan's target (planned daily demand × stock cover); make the shortfall to order.

    The behaviour of every earlier version: there is no back-order, because the part of
    an order stock cannot cover is produced for that order.
    """

    name = "plan-driven"
    shortage = "make-to-order"
    summary = "order up to the plan's stock target; a shortfall is produced for the order"

    def __init__(self) -> None:
        pass

    def review(self, context: InventoryContext) -> InventoryDecision:
        """Fill the gap to the plan's target in whole batches."""
        gap = context.plan_target_units - position(context)
        units = in_batches(gap, context.batch_units)
        return InventoryDecision(units, f"position {position(context)} vs plan target "
                                        f"{context.plan_target_units}: release {units}")


class BaseStock(InventoryPolicy):
    """Order-up-to S (base stock): whenever the position is below S, order S − position.

    With ``review_days`` > 0 it is the periodic-review order-up-to policy (R, S).
    """

    name = "base-stock"
    summary = "order up to S whenever the inventory position is below it (periodic with review_days)"

    def __init__(self, levels: Units | None = None, cover_days: Days = 7.0,
                 review_days: ReviewDays = 0.0, shortage: Shortage = "backorder"):
        self.levels = levels
        self.cover_days = cover_days
        self.review_days = review_days
        self.shortage = shortage  # type: ignore[misc]

    def review(self, context: InventoryContext) -> InventoryDecision:
        """S − position in whole batches, when the position is below S."""
        target, now = level(self.levels or {}, self.cover_days, context), position(context)
        units = in_batches(target - now, context.batch_units)
        return InventoryDecision(units, f"position {now} vs base stock {target}: release {units}")


class MinMax(InventoryPolicy):
    """(s, S): when the position is at or below s, order up to S."""

    name = "min-max"
    summary = "when the inventory position is at or below s, order up to S (min-max)"

    def __init__(self, reorder_points: Units | None = None, order_up_to: Units | None = None,
                 reorder_cover_days: Days = 3.0, order_up_to_cover_days: Days = 10.0,
                 review_days: ReviewDays = 0.0, shortage: Shortage = "backorder"):
        self.reorder_points = reorder_points
        self.order_up_to = order_up_to
        self.reorder_cover_days = reorder_cover_days
        self.order_up_to_cover_days = order_up_to_cover_days
        self.review_days = review_days
        self.shortage = shortage  # type: ignore[misc]

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        """Item-master levels in pairs with s < S; S's days of cover above s's."""
        points, levels = params.get("reorder_points") or {}, params.get("order_up_to") or {}
        problems = _paired("reorder_points", points, "order_up_to", levels)
        problems += [f"order_up_to.{p}: must exceed reorder_points.{p} = {s}, got {levels[p]}"
                     for p, s in sorted(points.items()) if p in levels and levels[p] <= s]
        low, high = params.get("reorder_cover_days", 3.0), params.get("order_up_to_cover_days", 10.0)
        if high <= low:
            problems.append(f"order_up_to_cover_days: must exceed reorder_cover_days = {low}, got {high}")
        return problems

    def review(self, context: InventoryContext) -> InventoryDecision:
        """S − position in whole batches, when the position is at or below s."""
        s = level(self.reorder_points or {}, self.reorder_cover_days, context)
        big_s = max(s + 1, level(self.order_up_to or {}, self.order_up_to_cover_days, context))
        now = position(context)
        units = in_batches(big_s - now, context.batch_units) if now <= s else 0
        return InventoryDecision(units, f"position {now} vs s = {s}, S = {big_s}: release {units}")


class ReorderPointQuantity(InventoryPolicy):
    """(r, Q): when the position is at or below r, order batches of Q until it is above r."""

    name = "reorder-point"
    summary = "when the inventory position is at or below r, order fixed quantities Q"

    def __init__(self, reorder_points: Units | None = None, quantities: Units | None = None,
                 reorder_cover_days: Days = 3.0, quantity_cover_days: Days = 7.0,
                 shortage: Shortage = "backorder"):
        self.reorder_points = reorder_points
        self.quantities = quantities
        self.reorder_cover_days = reorder_cover_days
        self.quantity_cover_days = quantity_cover_days
        self.shortage = shortage  # type: ignore[misc]

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        """Item-master levels in pairs, each quantity at least one unit."""
        points, quantities = params.get("reorder_points") or {}, params.get("quantities") or {}
        return _paired("reorder_points", points, "quantities", quantities) + [
            f"quantities.{p}: must be at least 1, got {q}" for p, q in sorted(quantities.items()) if q < 1]

    def review(self, context: InventoryContext) -> InventoryDecision:
        """n × Q with the smallest n that brings the position above r (0 when it is above)."""
        r = level(self.reorder_points or {}, self.reorder_cover_days, context)
        q = max(context.batch_units, level(self.quantities or {}, self.quantity_cover_days, context))
        q = in_batches(q, context.batch_units)
        now = position(context)
        units = (r - now) // q * q + q if now <= r else 0
        return InventoryDecision(units, f"position {now} vs r = {r}, Q = {q}: release {units}")


def _paired(first: str, a: dict[str, int], second: str, b: dict[str, int]) -> list[str]:
    """Item-master levels come in pairs: a product listed in one table must be in the other."""
    return ([f"{second}.{p}: missing (given in {first})" for p in sorted(set(a) - set(b))]
            + [f"{first}.{p}: missing (given in {second})" for p in sorted(set(b) - set(a))])
