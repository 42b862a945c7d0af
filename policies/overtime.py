"""Overtime policies: whether a work centre or a staff pool works past its closing, and how long.

Two sibling decisions, so that a planner can keep the plant on without keeping the
office on (and the other way round):

``overtime`` (:class:`OvertimePolicy`) is asked at every closing of a work centre on a
working calendar (the end of the last staffed shift before a closed time): the decision
is how many hours every machine of the centre goes on working. Machines pause at the end
of the overtime as they do at the end of a shift; overtime costs
``work_centres[].overtime_hour_cost`` per hour granted. A centre without a calendar never
closes mid-job and is never asked.

``staff_overtime`` (:class:`StaffOvertimePolicy`) is asked at every closing of a staff
pool that can work overtime (on a calendar, and listed in ``staff.overtime_hour_cost``):
the end of the day's last working period. The decision is how many hours the whole pool
stays on; a task in hand at the closing goes on into the overtime, tasks start in it, and
each person-hour costs the pool's ``staff.overtime_hour_cost``. The context is the pool's
queue (requests and their hours), not a centre's machines, so it is a decision of its own
rather than the centre's context with renamed fields.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import (
    OvertimeContext,
    OvertimeDecision,
    StaffOvertimeContext,
    StaffOvertimeDecision,
)

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


class StaffOvertimePolicy(Policy):
    """Decides the overtime of a staff pool at its closing."""

    decision = "staff_overtime"

    def extend(self, context: StaffOvertimeContext) -> StaffOvertimeDecision:
        """Return the hours the whole pool works past its closing now."""
        raise NotImplementedError


class NoStaffOvertime(StaffOvertimePolicy):
    """Never overtime: a pool goes home at its closing (the model does not even ask)."""

    name = "none"
    summary = "never stay past the closing"

    def __init__(self) -> None:
        pass

    def extend(self, context: StaffOvertimeContext) -> StaffOvertimeDecision:
        """No overtime."""
        return StaffOvertimeDecision(0.0, "no overtime")


class QueueThreshold(StaffOvertimePolicy):
    """Stay on when the queue per person exceeds a threshold, long enough to work it off, up to a cap.

    When more than ``threshold_per_person`` requests wait per person at the closing, the pool
    stays as long as the work in hand per person takes (the queued work plus what is left on
    the tasks that would pause), rounded up to ``step_hours``, at most ``max_hours_per_day`` and
    never into the next opening — "the order desk stays until 18:00 when the queue is long".
    """

    name = "queue-threshold"
    summary = "stay past the closing when the queue per person is long, to work it off, up to a daily cap"

    def __init__(self, threshold_per_person: Annotated[float, Field(ge=0, le=10_000)] = 2.0,
                 max_hours_per_day: Hours = 2.0,
                 step_hours: Annotated[float, Field(gt=0, le=24)] = 0.5):
        self.threshold_per_person = threshold_per_person
        self.max_hours_per_day = max_hours_per_day
        self.step_hours = step_hours

    def extend(self, context: StaffOvertimeContext) -> StaffOvertimeDecision:
        """The work in hand per person, in steps, when the queue is long; capped by the day's cap
        and the next opening."""
        queue = context.waiting / context.people
        if queue <= self.threshold_per_person:
            return StaffOvertimeDecision(0.0, f"queue {queue:.2f} per person within "
                                         f"{self.threshold_per_person:g}")
        work = (context.waiting_hours + context.in_progress_hours) / context.people
        steps = -(-work // self.step_hours)
        hours = float(min(steps * self.step_hours, self.max_hours_per_day, context.hours_to_next_opening))
        return StaffOvertimeDecision(hours, f"queue {queue:.2f} per person exceeds "
                                     f"{self.threshold_per_person:g}: {hours:g} h overtime for "
                                     f"{work:.2f} h of work per person (cap {self.max_hours_per_day:g} h)")
