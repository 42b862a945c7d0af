"""Planning policies: capacity plans (demand forecasts are in :mod:`.forecasting`)."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import CapacityContext, CapacityPlan


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
