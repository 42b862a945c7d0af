"""Overtime of staff pools: the office or the warehouse stays on past its closing.

A staff pool can work overtime when it is on a working calendar, ``staff.overtime_hour_cost``
lists it and the ``staff_overtime`` policy is not ``none``. Such a pool gets its own copy of
its calendar (:class:`~ordercycle.sim.calendar.OvertimeCalendar`: pools may share one) and a
closing process (:func:`closings`): at the end of each day's last working period the policy
decides how many hours the whole pool stays (:func:`decide`); the hours extend the pool's
calendar for that day, are logged (``overtime_granted``, the pool as resource, hours as
quantity) and paid at the pool's overtime rate per person-hour.

Exactness: a task is laid over the calendar when it starts (:meth:`PoolOvertime.work`). One
that would run past a closing not yet decided waits on that closing's event instead (one
SimPy event per pool and closing, triggered by the closing process after the decision) and
then lays its remaining hours over the calendar as the decision left it: into the overtime
when some was granted, else paused to the next opening as without overtime. Tasks starting
during the overtime use it; a seat granted at the closing itself waits for the decision
(:meth:`PoolOvertime.until_open`), one granted while the pool is closed waits for the
opening. Each task waits at most once per day it spans, never once per closed hour.

Pools without overtime keep the model's ordinary path (:meth:`CompanyModel.serve
<ordercycle.sim.model.CompanyModel.serve>` checks one dictionary).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import StaffOvertimeContext
from ordercycle.sim.calendar import OvertimeCalendar
from ordercycle.sim.clock import Environment

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel

HOURS_PER_DAY = 24.0
_TINY = 1e-9
"""Days (~0.1 ms): a task ending this close to a closing ends at it."""

DEPARTMENT = {
    "sales_reps": "sales", "estimators": "estimating", "entry_clerks": "order_entry",
    "junior_staff": "selection", "senior_managers": "selection", "warehouse_staff": "warehouse",
    "billing_clerks": "billing", "returns_staff": "returns", "finance_clerks": "finance",
}
"""Staff pool -> the department its ``overtime_granted`` events name."""


@dataclass
class PoolOvertime:
    """A staff pool that can work overtime, while the simulation runs."""

    pool: str
    resource: simpy.Resource
    calendar: OvertimeCalendar
    decided: simpy.Event
    """Succeeds at :attr:`closing`, once the overtime there is decided."""
    closing: float
    """The next closing not yet decided (days; ``inf``: the calendar never closes)."""
    waiting_hours: float = 0.0
    """Work of the requests queued for the pool (a running sum)."""
    held_hours: float = 0.0
    """Work left on the tasks waiting for :attr:`decided` (reset at every closing)."""
    grants: list[tuple[float, float]] = field(default_factory=list)
    """(closing time, hours) of every overtime granted."""

    def until_open(self, env: Environment, hours: float) -> Generator[simpy.Event, Any, None]:
        """Wait until the pool works, for a task of ``hours`` whose seat was granted now: at a
        closing still to be decided, the decision first; then the next opening (or overtime)."""
        calendar = self.calendar
        now = env.now
        if calendar.is_open(now):
            return
        if now >= self.closing - _TINY:  # the seat came free at the closing: overtime may be granted
            self.held_hours += hours
            yield self.decided
            now = env.now
        opening = calendar.next_open(now)
        if opening > now:
            yield env.wait(opening - now)

    def work(self, env: Environment, hours: float) -> Generator[simpy.Event, Any, None]:
        """``hours`` of work from now, on through the overtime granted at the closings it meets."""
        calendar = self.calendar
        now = env.now
        end = calendar.finish(now, hours)
        while end > self.closing + _TINY:  # runs past a closing still to be decided: wait for it
            left = max(0.0, hours - calendar.open_days(now, self.closing) * HOURS_PER_DAY)
            self.held_hours += left
            yield self.decided
            now, hours = env.now, left
            end = calendar.finish(now, hours)
        yield env.wait(end - now)


def asks_staff_overtime(m: CompanyModel) -> bool:
    """Whether the staff overtime policy is ever asked (not for ``none``: it never grants any)."""
    from ordercycle.policies.overtime import NoStaffOvertime

    return not isinstance(m.policies.staff_overtime, NoStaffOvertime)


def pools_with_overtime(m: CompanyModel) -> dict[str, PoolOvertime]:
    """Staff pool -> its overtime state, for the pools that can work overtime; gives each its own
    calendar copy in ``m.calendars`` (so the ``pools`` table and unattended time see the overtime)."""
    if not m.scenario.staff.overtime_hour_cost or not asks_staff_overtime(m):
        return {}
    states: dict[str, PoolOvertime] = {}
    for pool in sorted(m.scenario.staff.overtime_hour_cost):
        base = m.calendars[pool]  # the scenario checks that the pool is on a calendar
        calendar = OvertimeCalendar(base)
        m.calendars[pool] = calendar
        states[pool] = PoolOvertime(pool, m.departments[pool], calendar, m.env.event(),
                                    calendar.next_closing(m.env.now))
    return states


def decide(m: CompanyModel, state: PoolOvertime, now: float) -> float:
    """At a closing of the pool: ask the policy and extend the pool's calendar by the hours granted."""
    calendar = state.calendar
    gap = max(0.0, (calendar.next_open(now) - now) * HOURS_PER_DAY)
    resource = state.resource
    context = StaffOvertimeContext(
        state.pool, now, resource.capacity, len(resource.queue), max(0.0, state.waiting_hours),
        resource.count, max(0.0, state.held_hours), gap,
    )
    decision = m.decide("staff_overtime", m.policies.staff_overtime.extend, context)
    hours = decision.hours
    if not isinstance(hours, (int, float)) or not 0 <= hours <= gap + 1e-9:
        raise RuntimeError(f"staff overtime policy granted {hours!r} h to {state.pool}; allowed 0..{gap:g}")
    if hours <= 0:
        return 0.0
    hours = min(float(hours), gap)
    calendar.extend(now, hours)
    state.grants.append((now, hours))
    m.log(now, "overtime_granted", DEPARTMENT[state.pool], resource=state.pool, quantity=hours)
    return hours


def closings(env: Environment, m: CompanyModel, state: PoolOvertime) -> Generator[simpy.Event, Any, None]:
    """Wake at every closing of the pool, decide its overtime, then wake the tasks waiting on it
    (one wait and one event per working day)."""
    while state.closing < math.inf:
        yield env.wait(state.closing - env.now)
        now = env.now
        hours = decide(m, state, now)
        event, state.decided = state.decided, env.event()
        state.held_hours = 0.0
        state.closing = state.calendar.next_closing(now + hours / HOURS_PER_DAY)
        event.succeed()
