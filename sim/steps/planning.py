"""Step 1: order planning — forecast, capacity plan and stock targets each period.

At the start of every planning period (after the first, when there is history),
the forecast policy forecasts each product's demand (units asked for in inquiries)
from the history observed so far, playing the forecast game the scenario sets
(marketing inflation, production discount). With ``information.field_requirements`` the
forecast context also carries the units debriefed service visits reported ahead for the
period (and ahead of past periods); a policy that uses them (``field-informed``) combines
them with its statistics. The two departments' figures drive
different decisions: the figure named by ``planning.capacity_from`` becomes a load per
work centre (mean hours of the routing), for which the capacity policy staffs shifts
(a change of shifts is a plan change); the figure named by
``planning.stock_targets_from`` sets the make-to-stock targets (its daily demand times
the stock cover) and the planned demand the inventory policy sees.

Every ``planning.replan_days`` (default: the period) the schedule policy re-plans the
sequence of the jobs waiting at every work centre, and each centre's queue adopts the
plan; a centre whose plan moves jobs logs ``plan_changed``. With the schedule policy
``none`` no re-planning process exists at all.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import (
    CapacityContext,
    CentreQueue,
    Changeover,
    ForecastContext,
    ScheduleContext,
)
from ordercycle.policies.replanning import NoReplanning, moved_jobs
from ordercycle.sim.clock import Environment
from ordercycle.sim.model import SHIFT_HOURS, CentreState
from ordercycle.sim.steps import production

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel


def planning_cycle(env: Environment, m: CompanyModel) -> Generator[simpy.Event, Any, None]:
    """Close each period's demand, then forecast and plan the next one."""
    planning = m.scenario.planning
    period = planning.period_days
    index = 0
    pending: list[dict[str, Any]] = []
    field = m.field_requirements  # requirements debriefed visits reported ahead (None: none reach planning)
    for centre_id, centre in m.centres.items():
        m.plan_rows.append({
            "period": 0, "period_start": 0.0, "work_centre": centre_id,
            "machines": centre.spec.machines, "shifts": centre.shifts, "planned_load_hours": 0.0,
            "changed": False,
        })
    if not isinstance(m.policies.schedule, NoReplanning):
        env.process(replanning_cycle(env, m))
    while True:
        yield env.timeout(period)
        index += 1
        for product_id in sorted(m.period_demand):
            m.demand_history[product_id].append(m.period_demand[product_id])
            m.period_demand[product_id] = 0.0
        if field is not None:
            field.close_period(index - 1)
        for row in pending:
            row["actual_units"] = m.demand_history[row["product_id"]][-1]
            m.forecast_rows.append(row)
        pending = []
        if env.now + period > m.scenario.horizon_days + 1e-9:
            continue  # the next period would not finish: nothing to plan for
        planned: dict[str, float] = {}
        marketing: dict[str, float] = {}
        for product in m.scenario.products:
            history = m.demand_history[product.id]
            past = tuple(r["planned_units"] for r in m.forecast_rows if r["product_id"] == product.id)
            reported: dict[str, Any] = {}
            if field is not None:
                reported = {"reported_units": field.reported_for(index, product.id),
                            "reported_history": tuple(
                                field.reported_history[product.id][-planning.history_periods:])}
            context = ForecastContext(
                product.id, env.now, period, tuple(history[-planning.history_periods:]),
                planning.marketing_inflation, planning.production_discount,
                past[-planning.history_periods:], **reported,
            )
            forecast = m.decide("forecast", m.policies.forecast.forecast, context)
            planned[product.id] = max(0.0, forecast.planned_units)
            marketing[product.id] = max(0.0, forecast.marketing_units)
            pending.append({
                "period": index, "period_start": env.now, "product_id": product.id,
                "statistical_units": forecast.statistical_units,
                "marketing_units": forecast.marketing_units,
                "planned_units": forecast.planned_units,
                **({} if field is None else {"reported_units": reported["reported_units"]}),
            })
            m.log(env.now, "forecast_made", "planning", product=product.id,
                  quantity=forecast.planned_units)
        figures = {"production": planned, "marketing": marketing}
        _plan_capacity(env, m, figures[planning.capacity_from], index)
        stock_figure = figures[planning.stock_targets_from]
        for product in m.scenario.products:
            if product.stocking == "make_to_stock":
                daily = stock_figure[product.id] / period
                m.planned_daily[product.id] = daily
                m.stock_target[product.id] = round(daily * planning.stock_cover_days)
                production.check_replenishment(env, m, product)


def _plan_capacity(env: Environment, m: CompanyModel, planned: dict[str, float],
                   index: int) -> None:
    planning = m.scenario.planning
    load = {centre_id: 0.0 for centre_id in m.centres}
    for product in m.scenario.products:
        for op in product.routing:
            load[op.work_centre] += planned[product.id] * op.hours_per_unit.mean
    for centre_id, centre in m.centres.items():
        spec = centre.spec
        shift_hours = SHIFT_HOURS
        calendar = centre.shift_calendars[1] if centre.shift_calendars is not None else None
        if calendar is not None:  # one shift's hours per calendar day over the period: working days only
            period = planning.period_days
            shift_hours = calendar.open_days(env.now, env.now + period) * 24.0 / period
        context = CapacityContext(
            centre_id, spec.machines, spec.max_shifts, centre.shifts, shift_hours,
            planning.period_days, load[centre_id], centre.store.waiting_hours,
            planning.target_utilization,
        )
        plan = m.decide("capacity", m.policies.capacity.plan, context)
        shifts = plan.shifts
        if not 1 <= shifts <= spec.max_shifts:
            raise RuntimeError(
                f"capacity policy staffed {shifts} shifts at {centre_id}; allowed 1..{spec.max_shifts}"
            )
        changed = shifts != centre.shifts
        centre.shifts = shifts
        m.log(env.now, "capacity_planned", "planning", resource=centre_id, quantity=shifts)
        m.plan_rows.append({
            "period": index, "period_start": env.now, "work_centre": centre_id,
            "machines": spec.machines, "shifts": shifts, "planned_load_hours": load[centre_id],
            "changed": changed,
        })


def replanning_cycle(env: Environment, m: CompanyModel) -> Generator[simpy.Event, Any, None]:
    """Every ``replan_days``, re-plan the sequence of the waiting jobs at every work centre.

    The schedule policy sees each centre's waiting jobs (in the order the queue would
    serve them), its machines' setup families, changeovers, staffed hours and the
    previous plan; each centre's queue adopts its plan. The policy's wall time is kept
    in ``m.replan_seconds``; a centre whose jobs changed relative order logs
    ``plan_changed`` with the number of jobs moved as quantity.
    """
    planning = m.scenario.planning
    every = planning.replan_days if planning.replan_days is not None else planning.period_days
    while env.now + every < m.scenario.horizon_days:
        yield env.timeout(every)
        context = ScheduleContext(env.now, tuple(_centre_queue(centre) for centre in m.centres.values()))
        began = time.perf_counter()
        plan = m.decide("schedule", m.policies.schedule.schedule, context)
        m.replan_seconds.append(time.perf_counter() - began)
        queues = {queue.work_centre: queue for queue in context.centres}
        for centre_plan in plan.centres:
            queue = queues.get(centre_plan.work_centre)
            if queue is None or sorted(job.job_id for job in queue.jobs) != sorted(centre_plan.job_ids):
                raise RuntimeError(
                    f"schedule policy planned {centre_plan.job_ids} at {centre_plan.work_centre!r}, "
                    "not a permutation of the jobs waiting there"
                )
            before = queue.previous_plan or tuple(job.job_id for job in queue.jobs)
            moved = moved_jobs(before, centre_plan.job_ids)
            m.centres[centre_plan.work_centre].store.adopt_plan(
                {job_id: rank for rank, job_id in enumerate(centre_plan.job_ids)})
            if moved:
                m.log(env.now, "plan_changed", "planning", resource=centre_plan.work_centre, quantity=moved)


def _centre_queue(centre: CentreState) -> CentreQueue:
    """What the re-planner sees of one work centre now."""
    jobs = tuple(centre.store.waiting_jobs())
    families = sorted({job.setup_family for job in jobs}
                      | {machine.family for machine in centre.machines if machine.family is not None})
    changeovers = tuple(
        Changeover(a, b, hours) for a in families for b in families
        if a != b and (hours := centre.changeover_hours(a, b)) > 0
    )
    return CentreQueue(
        centre.spec.id, len(centre.machines), centre.hours_per_day(),
        tuple(machine.family for machine in centre.machines), changeovers, jobs,
        tuple(centre.store.planned_jobs()),
    )
