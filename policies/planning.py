"""Planning policies: demand forecasts (with the forecast game) and capacity plans."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import CapacityContext, CapacityPlan, Forecast, ForecastContext


class ForecastPolicy(Policy):
    """Forecasts next period's demand of one product."""

    decision = "forecast"

    def forecast(self, context: ForecastContext) -> Forecast:
        """Return the statistical, marketing and planned figures for the next period."""
        raise NotImplementedError


class MovingAverageGame(ForecastPolicy):
    """Moving average of recent demand, then the forecast game of the essay.

    Marketing inflates the statistical forecast by ``marketing_inflation`` (it knows
    demand will differ and wants enough capacity); production, knowing this,
    discounts marketing's figure by ``production_discount`` and plans on the result.
    Both factors come from the context (the scenario's ``planning`` section).
    """

    name = "moving-average"
    summary = "mean of the last `window` periods; marketing inflates, production discounts"

    def __init__(self, window: Annotated[int, Field(ge=1, le=104)] = 4):
        self.window = window

    def forecast(self, context: ForecastContext) -> Forecast:
        """Moving average, then inflate (marketing) and discount (production)."""
        recent = context.history_units[-self.window :]
        statistical = sum(recent) / len(recent) if recent else 0.0
        marketing = statistical * (1.0 + context.marketing_inflation)
        planned = marketing * (1.0 - context.production_discount)
        reason = (
            f"mean of last {len(recent)} periods {statistical:.1f}; marketing "
            f"+{context.marketing_inflation:.0%} -> {marketing:.1f}; production "
            f"-{context.production_discount:.0%} -> {planned:.1f}"
        )
        return Forecast(statistical, marketing, planned, reason)


class CapacityPolicy(Policy):
    """Decides the staffed shifts of a work centre for the next period."""

    decision = "capacity"

    def plan(self, context: CapacityContext) -> CapacityPlan:
        """Return the shifts per day for the next period."""
        raise NotImplementedError


class LoadBased(CapacityPolicy):
    """Fewest shifts whose capacity covers planned load (plus part of the backlog).

    capacity(s) = machines × s × shift_hours × period_days × target_utilization;
    the load is the planned load plus ``backlog_share`` of the hours already waiting.
    """

    name = "load-based"
    summary = "fewest shifts covering planned load and a share of the backlog at the target utilisation"

    def __init__(self, backlog_share: Annotated[float, Field(ge=0, le=1)] = 0.5):
        self.backlog_share = backlog_share

    def plan(self, context: CapacityContext) -> CapacityPlan:
        """Fewest shifts covering the load; the most allowed when none does."""
        load = context.planned_load_hours + self.backlog_share * context.backlog_hours
        per_shift = (
            context.machines * context.shift_hours * context.period_days * context.target_utilization
        )
        needed = max(1, math.ceil(load / per_shift - 1e-9)) if per_shift > 0 else context.max_shifts
        shifts = min(needed, context.max_shifts)
        reason = (
            f"load {load:.0f} h (plan {context.planned_load_hours:.0f} h + "
            f"{self.backlog_share:.0%} of backlog {context.backlog_hours:.0f} h) needs "
            f"{needed} shift(s) of {per_shift:.0f} h; staffing {shifts}"
        )
        return CapacityPlan(shifts, reason)
