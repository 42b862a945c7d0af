"""Work centres on a working calendar: machines pause at shift end, overtime at the closing.

A work centre that ``calendars.pools`` names works on the calendar's working days only,
its ``shifts`` counted from 06:00 on each (:class:`~ordercycle.sim.calendar.ShiftCalendar`).
Its machines (:func:`machine_on_calendar`) start work only in staffed time and **pause at
the end of the staffed time and resume** at the next shift: changeover and processing are
laid over the open periods, and a breakdown's busy-time budget counts working time only.
Each pause is logged (``operation_paused`` / ``operation_resumed``, with the job), so the
event log shows the gaps. A machine wakes once per staffed stretch of a job (at its end),
and a wait over a weekend is one parked wait (:meth:`Environment.wait
<ordercycle.sim.clock.Environment.wait>`): no event per closed hour.

At every *closing* of the centre (the end of the last shift before closed time) the
overtime policy decides whether the shift runs on (:func:`decide_overtime`); the first of
the centre's closing watch (:func:`closings`) and a machine reaching the closing asks,
once per closing. Overtime granted is logged (``overtime_granted``, hours as quantity)
and keeps every machine of the centre working until it ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import OvertimeContext
from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import Job
from ordercycle.sim.model import HOURS_PER_DAY, SHIFT_HOURS, CentreState

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel

_TINY = 1e-9
"""Days (~0.1 ms): a remainder below this is no work left; ``t − _TINY`` is just before ``t``."""


def asks_overtime(m: CompanyModel) -> bool:
    """Whether the overtime policy is ever asked (not for ``none``: it never grants any)."""
    from ordercycle.policies.overtime import NoOvertime

    return not isinstance(m.policies.overtime, NoOvertime)


def decide_overtime(m: CompanyModel, centre: CentreState, now: float) -> None:
    """At a closing of ``centre``: ask the overtime policy once and open the centre on if granted."""
    if centre.overtime_closing >= now - _TINY:
        return  # this closing is decided
    centre.overtime_closing = now
    calendar = centre.calendar
    assert calendar is not None
    gap = max(0.0, (calendar.next_open(now) - now) * HOURS_PER_DAY)
    context = OvertimeContext(
        centre.spec.id, now, len(centre.machines), centre.shifts, centre.shifts * SHIFT_HOURS,
        max(0.0, centre.store.waiting_hours),  # a running sum: may drift a hair below 0 when empty
        max(0.0, sum(machine.holding_hours for machine in centre.machines)), gap,
    )
    decision = m.decide("overtime", m.policies.overtime.extend, context)
    hours = decision.hours
    if not isinstance(hours, (int, float)) or not 0 <= hours <= gap + 1e-9:
        raise RuntimeError(f"overtime policy granted {hours!r} h at {centre.spec.id}; allowed 0..{gap:g}")
    if hours > 0:
        centre.overtime_until = now + hours / HOURS_PER_DAY
        centre.overtime.append((now, float(hours)))
        m.log(now, "overtime_granted", "production", resource=centre.spec.id, quantity=float(hours))


def _at_closing(centre: CentreState, now: float) -> bool:
    calendar = centre.calendar
    assert calendar is not None
    return not calendar.is_open(now) and calendar.is_open(now - _TINY)


def start_time(m: CompanyModel, centre: CentreState, now: float, ask: bool) -> float:
    """When a machine of ``centre`` holding work at ``now`` may work: now if staffed (a shift or
    overtime), else the next shift (at a closing, after the overtime decision)."""
    if now < centre.overtime_until - _TINY:
        return now
    calendar = centre.calendar
    assert calendar is not None
    if calendar.is_open(now):
        return now
    if ask and _at_closing(centre, now):
        decide_overtime(m, centre, now)
        if now < centre.overtime_until - _TINY:
            return now
    return calendar.next_open(now)


def staffed_until(centre: CentreState, now: float) -> float:
    """End of the staffed stretch holding ``now`` (overtime or the shifts)."""
    if now < centre.overtime_until - _TINY:
        return centre.overtime_until
    calendar = centre.calendar
    assert calendar is not None
    return calendar.open_until(now)


def closings(env: Environment, m: CompanyModel, centre: CentreState) -> Generator[simpy.Event, Any, None]:
    """Wake at every closing of ``centre`` and let the overtime policy decide (one event a day)."""
    while True:
        calendar = centre.calendar
        assert calendar is not None
        now = env.now
        opening = calendar.next_open(now + _TINY)
        closing = calendar.open_until(opening)
        yield env.wait(closing - now)
        if _at_closing(centre, env.now):
            decide_overtime(m, centre, env.now)


def begin_job(m: CompanyModel, centre: CentreState, machine: Any, job: Job,
              request: Any) -> tuple[int, float]:
    """A machine takes up ``job`` now (both machine loops: on a calendar and around the clock).

    The job's order stops waiting and is in production at the centre; the changeover the job
    needs from the machine's setup is logged as ``changeover_started``, followed by an
    ``expedite_changeover`` mark when the expedite owes it (:meth:`Machine.take_up
    <ordercycle.sim.resources.Machine.take_up>`). Returns the order id (-1 for a replenishment)
    and the changeover hours (0: none), which the caller then works.
    """
    now = m.env.now
    order = job.order
    order_id = order.order_id if order is not None else -1
    if order is not None:
        order.end_wait(now)
        order.move(f"production:{centre.spec.id}", "production")
    changeover = centre.changeover_hours(machine.family, job.setup_family)
    owed_to_expedite = machine.take_up(job.setup_family, request.expedited, request.sequence_waiting,
                                       changeover > 0)
    if changeover > 0:
        m.log(now, "changeover_started", "production", order_id, machine.label, job=job.job_id,
              product=job.product_id, quantity=changeover)
        if owed_to_expedite:  # a mark on the changeover just logged, not a second one
            m.log(now, "expedite_changeover", "production", order_id, machine.label, job=job.job_id,
                  product=job.product_id, quantity=changeover)
    return order_id, changeover


def machine_on_calendar(env: Environment, m: CompanyModel, centre: CentreState, machine: Any,
                        failures: Callable[[], float] | None, repairs: Callable[[], float],
                        budget: float) -> Generator[simpy.Event, Any, None]:
    """One machine of a calendared centre: pull a job, wait for a shift, change over, process.

    Work is laid over the staffed time: at its end the machine pauses (``operation_paused``)
    and resumes at the next shift or overtime (``operation_resumed``). Breakdowns come after
    working hours only; a repair takes calendar time (the maintenance crew is on call).
    """
    ask = asks_overtime(m)
    log = m.log
    label = machine.label

    def work(hours: float, job: Job, order_id: int,
             breakdowns: bool) -> Generator[simpy.Event, Any, None]:
        nonlocal budget
        machine.holding_hours = hours
        while hours > _TINY * HOURS_PER_DAY:
            now = env.now
            until = staffed_until(centre, now)
            span = (until - now) * HOURS_PER_DAY
            step = min(hours, span, budget) if breakdowns else min(hours, span)
            yield env.timeout(step / HOURS_PER_DAY)
            hours -= step
            machine.holding_hours = hours
            if breakdowns:
                budget -= step
                if budget <= 0 and hours > _TINY * HOURS_PER_DAY:
                    log(env.now, "machine_breakdown", "production", order_id, label, job=job.job_id)
                    repair = repairs()
                    machine.down_until = env.now + repair / HOURS_PER_DAY
                    yield env.timeout(repair / HOURS_PER_DAY)
                    log(env.now, "machine_repaired", "production", order_id, label, job=job.job_id)
                    budget = failures() if failures is not None else math.inf
            if hours > _TINY * HOURS_PER_DAY:
                start = start_time(m, centre, env.now, ask)
                if start > env.now:
                    log(env.now, "operation_paused", "production", order_id, label, job=job.job_id)
                    yield env.wait(start - env.now)
                    log(env.now, "operation_resumed", "production", order_id, label, job=job.job_id)
        machine.holding_hours = 0.0

    while True:
        request = centre.store.get(machine)
        job: Job = yield request
        start = start_time(m, centre, env.now, ask)
        if start > env.now:
            yield env.wait(start - env.now)
        order_id, changeover = begin_job(m, centre, machine, job, request)
        if changeover > 0:
            yield from work(changeover, job, order_id, False)
            start = start_time(m, centre, env.now, ask)  # a changeover ending at the closing
            if start > env.now:
                yield env.wait(start - env.now)
        machine.family = job.setup_family
        log(env.now, "operation_started", "production", order_id, label, job=job.job_id,
            product=job.product_id, quantity=job.quantity)
        yield from work(job.setup_hours + job.process_hours, job, order_id, True)
        log(env.now, "operation_completed", "production", order_id, label, job=job.job_id,
            product=job.product_id, quantity=job.quantity)
        job.done.succeed()  # type: ignore[attr-defined]
