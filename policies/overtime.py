"""Overtime policies: whether a work centre works past its closing, and for how long.

The model asks at every closing of a work centre on a working calendar (the end of the
last staffed shift before a closed time): the decision is how many hours every machine
of the centre goes on working. Machines pause at the end of the overtime as they do at
the end of a shift; overtime costs ``work_centres[].overtime_hour_cost`` per hour granted.
A centre without a calendar never closes mid-job and is never asked.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import OvertimeContext, OvertimeDecision

Hours = Annotated[float, Field(ge=0, le=24)]
"""Hours of a working day."""


class OvertimePolicy(Policy):
    """Decides the overtime of a work centre at its closing."""

    decision = "overtime"

    def extend(self, context: OvertimeContext) -> OvertimeDecision:
        """Return the hours the centre works past its closing now."""
        raise NotImplementedError


class NoOvertime(OvertimePolicy):
    """Never overtime: a centre stops at its shift's end (the model does not even ask)."""

    name = "none"
    summary = "never work past the shift"

    def __init__(self) -> None:
        pass

    def extend(self, context: OvertimeContext) -> OvertimeDecision:
        """No overtime."""
        return OvertimeDecision(0.0, "no overtime")


class BacklogThreshold(OvertimePolicy):
    """Overtime when the backlog per machine exceeds a threshold, up to a cap per day.

    The backlog is the work waiting at the centre plus the work still on its machines,
    per machine. Above ``threshold_hours`` the shift runs on by the excess, rounded up to
    ``step_hours``, at most ``max_hours_per_day`` and never into the next shift — what a
    supervisor does who keeps the crew on when the queue is longer than a day's work.
    """

    name = "backlog-threshold"
    summary = "work past the shift by the backlog per machine above a threshold, up to a daily cap"

    def __init__(self, threshold_hours: Annotated[float, Field(ge=0, le=1000)] = 16.0,
                 max_hours_per_day: Hours = 4.0,
                 step_hours: Annotated[float, Field(gt=0, le=24)] = 0.5):
        self.threshold_hours = threshold_hours
        self.max_hours_per_day = max_hours_per_day
        self.step_hours = step_hours

    def extend(self, context: OvertimeContext) -> OvertimeDecision:
        """The excess backlog per machine, in steps, capped by the day's cap and the next shift."""
        backlog = (context.waiting_hours + context.in_progress_hours) / context.machines
        excess = backlog - self.threshold_hours
        if excess <= 0:
            return OvertimeDecision(0.0, f"backlog {backlog:.1f} h per machine within "
                                    f"{self.threshold_hours:g} h")
        steps = -(-excess // self.step_hours)
        hours = min(steps * self.step_hours, self.max_hours_per_day, context.hours_to_next_shift)
        return OvertimeDecision(float(hours), f"backlog {backlog:.1f} h per machine exceeds "
                                f"{self.threshold_hours:g} h: {hours:g} h overtime "
                                f"(cap {self.max_hours_per_day:g} h)")
