"""Steps 6–7: prioritisation, scheduling and production.

Released work waits in each work centre's :class:`~ordercycle.sim.resources.JobStore`
(ordered by the priority policy); every machine is a process that pulls its next
job through the dispatch policy, changes over between setup families
(sequence-dependent), works only when a shift is staffed, and breaks down after an
exponential amount of busy time (repair, then the job resumes). Sales asks for an
expedite when an order is projected to miss its promise; the expedite policy decides.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import ExpediteContext, InventoryContext
from ordercycle.scenarios.distributions import Exponential
from ordercycle.scenarios.schema import Product
from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import Job, Line, Order
from ordercycle.sim.model import HOURS_PER_DAY, SHIFT_HOURS, CentreState
from ordercycle.sim.steps import shifts

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel


def machine(env: Environment, m: CompanyModel, centre: CentreState,
            machine: Any) -> Generator[simpy.Event, Any, None]:
    """One machine: pull a job, wait for a shift, change over, process, repeat.

    A changeover that an expedite causes (into an expedited job that breaks the machine's
    sequence, and back to the interrupted family: :meth:`Machine.take_up
    <ordercycle.sim.resources.Machine.take_up>`) is logged as ``changeover_started`` like
    any other, followed by an ``expedite_changeover`` mark with the same fields.
    """
    spec = centre.spec
    failures = None
    if spec.mtbf_hours is not None:
        failures = m.streams.sampler(f"centre.{spec.id}.{machine.index}.failure",
                                     Exponential(dist="exponential", mean=spec.mtbf_hours))
    repairs = m.streams.sampler(f"centre.{spec.id}.{machine.index}.repair", spec.repair_hours)
    budget = failures() if failures is not None else math.inf
    label = machine.label
    if machine.down_until > env.now:  # down in a state snapshot: the repair ends first
        m.log(env.now, "machine_breakdown", "production", -1, label)
        yield env.timeout(machine.down_until - env.now)
        m.log(env.now, "machine_repaired", "production", -1, label)
    if centre.shift_calendars is not None:  # on a working calendar: pause at shift end
        yield from shifts.machine_on_calendar(env, m, centre, machine, failures, repairs, budget)
        return
    while True:
        request = centre.store.get(machine)
        job: Job = yield request
        wait = centre.hours_to_shift(env.now)
        if wait > 0:
            yield env.timeout(wait / HOURS_PER_DAY)
        order_id, changeover = shifts.begin_job(m, centre, machine, job, request)
        if changeover > 0:
            yield env.timeout(changeover / HOURS_PER_DAY)
        machine.family = job.setup_family
        m.log(env.now, "operation_started", "production", order_id, label, job=job.job_id,
              product=job.product_id, quantity=job.quantity)
        hours = job.setup_hours + job.process_hours
        while hours > budget:
            yield env.timeout(budget / HOURS_PER_DAY)
            hours -= budget
            m.log(env.now, "machine_breakdown", "production", order_id, label, job=job.job_id)
            repair = repairs()
            machine.down_until = env.now + repair / HOURS_PER_DAY
            yield env.timeout(repair / HOURS_PER_DAY)
            m.log(env.now, "machine_repaired", "production", order_id, label, job=job.job_id)
            budget = failures() if failures is not None else math.inf
        budget -= hours
        yield env.timeout(hours / HOURS_PER_DAY)
        m.log(env.now, "operation_completed", "production", order_id, label, job=job.job_id,
              product=job.product_id, quantity=job.quantity)
        job.done.succeed()  # type: ignore[attr-defined]


def surplus_capacity_hours(m: CompanyModel, product: Product) -> float:
    """Staffed hours over the next planning period not yet claimed by waiting work,
    at the tightest work centre of the product's routing (what production may share)."""
    period = m.scenario.planning.period_days
    surplus = math.inf
    for op in product.routing:
        centre = m.centres[op.work_centre]
        if centre.shift_calendars is None:
            capacity = len(centre.machines) * centre.shifts * SHIFT_HOURS * period
        else:  # on a calendar: its working days and the overtime granted
            capacity = centre.staffed_hours(m.env.now, m.env.now + period)
        surplus = min(surplus, capacity - centre.store.waiting_hours)
    return surplus


def route_outlook(m: CompanyModel, product: Product, step: int, units: int) -> tuple[float, float, float]:
    """What production can tell about the rest of a route from operation ``step`` on.

    Returns:
        (work hours, work days at the current staffing, days of work already waiting
        at those centres over their staffed capacity).
    """
    hours = work_days = queue_days = 0.0
    for centre, setup_hours, mean_per_unit in m.routes[product.id][step:]:
        per_day = centre.hours_per_day()
        own = setup_hours + mean_per_unit * units
        hours += own
        work_days += own / per_day
        queue_days += centre.store.waiting_hours / (len(centre.machines) * per_day)
    return hours, work_days, queue_days


def _projected_completion(m: CompanyModel, order: Order, product: Product, step: int, now: float) -> float:
    """Sales' rough promise check: remaining work and queues over staffed hours, plus transit."""
    _, work_days, queue_days = route_outlook(m, product, step, order.quantity)
    return now + m.transit_mean[order.segment] + work_days + queue_days


def projected_lead_days(m: CompanyModel, product: Product, units: int, segment_id: str) -> float:
    """Lead time production could promise now: from stock when it covers the order
    (a day to pick, plus transit), else the route's work and queues plus transit."""
    transit = m.transit_mean[segment_id]
    if product.stocking == "make_to_stock" and m.stock[product.id] >= units:
        return 1.0 + transit
    _, work_days, queue_days = route_outlook(m, product, 0, units)
    return transit + work_days + queue_days


def path_lead_days(m: CompanyModel, product: Product, units: int, segment_id: str) -> tuple[float, float]:
    """(:func:`projected_lead_days`, the days until dispatch on the same path).

    Days until dispatch: a day to pick when stock covers the order, else the work waiting
    ahead on the route plus the order's own work at the current staffing; the projected
    lead adds the carrier's mean transit to it (same arithmetic as
    :func:`projected_lead_days`, one route outlook for both).
    """
    transit = m.transit_mean[segment_id]
    if product.stocking == "make_to_stock" and m.stock[product.id] >= units:
        return 1.0 + transit, 1.0
    _, work_days, queue_days = route_outlook(m, product, 0, units)
    return transit + work_days + queue_days, work_days + queue_days


INTAKE_DAYS = 14.0
"""Sales expects the work released to a centre over this many past days to keep coming."""


def idle_capacity_hours(m: CompanyModel, product: Product, units: int, now: float,
                        horizon_days: float) -> float:
    """Capacity really idle between now and ``horizon_days`` ahead, at the product's tightest centre.

    Per centre of the routing: machine-hours staffed over the horizon at the current
    shifts, less the released work still to be done there (``committed_hours``), less the
    work the last :data:`INTAKE_DAYS` of releases bring over the horizon (their hours per
    day × the horizon), less this order's own work there (setups plus mean hours per
    unit); the smallest over the routing. Zero or less: no idle capacity.
    """
    own: dict[str, float] = {}
    for centre, setup_hours, mean_per_unit in m.routes[product.id]:
        own[centre.spec.id] = own.get(centre.spec.id, 0.0) + setup_hours + mean_per_unit * units
    idle = math.inf
    for centre_id, hours in own.items():
        centre = m.centres[centre_id]
        expected = centre.intake_per_day(now, INTAKE_DAYS) * horizon_days
        idle = min(idle, centre.staffed_hours(now, now + horizon_days) - centre.committed_hours
                   - expected - hours)
    return idle


def _book_release(m: CompanyModel, product: Product, units: int, first_step: int, progress: float,
                  now: float) -> list[float]:
    """Book released work at every centre still ahead on the route (committed and intake).

    Done only when production shares its capacity (the only use of the bookings). Returns
    the mean hours booked per routing step (0 before ``first_step``), which the
    completion of each operation takes off its centre's ``committed_hours`` again.
    """
    booked = []
    for step, (centre, setup_hours, mean_per_unit) in enumerate(m.routes[product.id]):
        hours = 0.0
        if step >= first_step:
            hours = setup_hours + mean_per_unit * units
            if step == first_step and progress > 0:
                hours *= 1.0 - progress
            centre.committed_hours += hours
            centre.intake.append((now, hours))
            centre.intake_hours += hours
        booked.append(hours)
    return booked


def _promise_at_risk(m: CompanyModel, order: Order, product: Product, step: int, now: float) -> float | None:
    """The projected completion when sales would ask for an expedite (the promise is at risk), else None."""
    if order.expedited:
        return None
    projected = _projected_completion(m, order, product, step, now)
    if projected <= order.promised_date - m.scenario.planning.expedite_margin_days:
        return None
    return projected


def _request_expedite(env: Environment, m: CompanyModel, order: Order,
                      projected: float) -> Generator[simpy.Event, Any, None]:
    """Sales asks for an expedite (taking a rep's time); the expedite policy decides."""
    yield from m.serve([order], "sales", "sales_reps", m.task["expedite_request"](),
                       "expedite_requested", None, "expedite_request")
    now = env.now
    context = ExpediteContext(order.order_id, now, order.importance, order.promised_date,
                              projected, m.expedites_in_window(now),
                              m.scenario.planning.period_days)
    decision = m.decide("expedite", m.policies.expedite.expedite, context)
    if decision.grant:
        order.expedited = True
        m.expedite_times.append(now)
        m.log(now, "expedite_granted", "production", order.order_id)
    else:
        m.log(now, "expedite_refused", "production", order.order_id)


def produce(env: Environment, m: CompanyModel, product: Product, units: int,
            order: Order | None, due_date: float, importance: float, first_step: int = 0,
            progress: float = 0.0, batch: Replenishment | None = None,
            line: Line | None = None) -> Generator[simpy.Event, Any, None]:
    """Take ``units`` of ``product`` through its routing, one job per operation.

    ``line`` is the order line the units are for (its id goes into the event log; it
    keeps the index of the operation its units are at).

    A state snapshot resumes production at operation ``first_step`` with ``progress``
    (a fraction) of it done; the order (or the replenishment ``batch``) keeps the index
    of the operation it is at, for the next snapshot.
    """
    draws = m.process_draws[product.id]
    booked = (_book_release(m, product, units, first_step, progress, env.now)
              if m.scenario.information.production_shares_capacity else None)
    for step, op in enumerate(product.routing):
        if step < first_step:
            continue
        if order is not None:
            order.routing_step = step
            if line is not None:
                line.routing_step = step
            projected = _promise_at_risk(m, order, product, step, env.now)
            if projected is not None:
                yield from _request_expedite(env, m, order, projected)
        elif batch is not None:
            batch.routing_step = step
        hours = draws[step]() * units
        setup = op.setup_hours
        if step == first_step and progress > 0:
            hours, setup = hours * (1.0 - progress), setup * (1.0 - progress)
        job = Job(m.next_id("job"), order, product.id, units, product.setup_family,
                  setup, hours, due_date, importance, env.now)
        job.expedited = order.expedited if order is not None else False
        job.remaining_hours, job.remaining_days, job.route_load_days = route_outlook(
            m, product, step, units
        )
        job.done = env.event()
        m.log(env.now, "operation_queued", "production", order.order_id if order else -1,
              op.work_centre, job=job.job_id, product=product.id, quantity=units,
              line=line.line_id if line is not None else -1)
        centre = m.centres[op.work_centre]
        if order is not None:
            order.move(f"queued:{op.work_centre}", "production")
            order.begin_wait(env.now, centre.calendar)
        centre.store.put(job)  # unbounded store: the put never waits
        yield job.done  # type: ignore[misc]
        if booked is not None:
            centre.committed_hours -= booked[step]


def review_stock(env: Environment, m: CompanyModel, product: Product) -> None:
    """Ask the inventory policy how much of ``product`` to release to production for stock now."""
    if product.stocking != "make_to_stock":
        return
    product_id = product.id
    context = InventoryContext(
        product_id, env.now, m.stock[product_id],
        sum(b.open_units for b in m.backorders[product_id]), m.stock_pipeline[product_id],
        m.planned_daily[product_id], m.stock_target[product_id],
        m.scenario.planning.replenishment_batch_units,
    )
    units = m.decide("inventory", m.policies.inventory.review, context).order_units
    if not isinstance(units, int) or units < 0:
        raise RuntimeError(f"inventory policy released {units!r} units of {product_id}; expected an int >= 0")
    if units:
        m.stock_pipeline[product_id] += units
        m.log(env.now, "replenishment_released", "planning", product=product_id, quantity=units)
        env.process(replenish(env, m, product, units))


def check_replenishment(env: Environment, m: CompanyModel, product: Product) -> None:
    """A continuous review (after a demand on stock or a new plan); periodic policies wait for theirs."""
    if m.policies.inventory.review_days <= 0:
        review_stock(env, m, product)


def periodic_review(env: Environment, m: CompanyModel) -> Generator[simpy.Event, Any, None]:
    """Every ``review_days`` of the inventory policy (from day 0), review each make-to-stock product."""
    every = m.policies.inventory.review_days
    while True:
        for product in m.scenario.products:
            review_stock(env, m, product)
        yield env.timeout(every)


def allocate(env: Environment, m: CompanyModel, product_id: str) -> None:
    """Give stock on hand to the oldest back-orders first; wake each one that is complete."""
    queue = m.backorders[product_id]
    while queue and m.stock[product_id]:
        backorder = queue[0]
        take = min(m.stock[product_id], backorder.open_units)
        m.stock[product_id] -= take
        backorder.allocated += take
        order_id = backorder.order.order_id
        line_id = backorder.line.line_id if backorder.line is not None else -1
        m.log(env.now, "stock_issued", "warehouse", order_id, product=product_id, quantity=take, line=line_id)
        m.log(env.now, "backorder_filled", "warehouse", order_id, product=product_id, quantity=take,
              line=line_id)
        if backorder.open_units:
            return
        queue.popleft()
        backorder.filled.succeed()


class Replenishment:
    """A replenishment batch in production (kept by the model for state snapshots)."""

    __slots__ = ("product_id", "units", "routing_step")

    def __init__(self, product_id: str, units: int, routing_step: int = 0):
        self.product_id = product_id
        self.units = units
        self.routing_step = routing_step


def replenish(env: Environment, m: CompanyModel, product: Product, units: int,
              first_step: int = 0, progress: float = 0.0,
              batch: Replenishment | None = None) -> Generator[simpy.Event, Any, None]:
    """Make a batch of ``units`` for stock (from operation ``first_step`` when resumed: ``batch``, the
    state snapshot's batch, already among the model's), then stock it."""
    due = env.now + m.scenario.planning.stock_cover_days
    if batch is None:
        batch = Replenishment(product.id, units, first_step)
        m.replenishing.append(batch)
    yield from produce(env, m, product, units, None, due, 0.0, first_step, progress, batch)
    m.replenishing.remove(batch)
    m.stock_pipeline[product.id] -= units
    m.stock[product.id] += units
    m.log(env.now, "stock_received", "warehouse", product=product.id, quantity=units)
    if m.backorders[product.id]:
        allocate(env, m, product.id)
