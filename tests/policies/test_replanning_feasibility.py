"""Every plan the CP-SAT re-planner makes during a simulation passes the independent checker.

Each centre's plan is turned into a one-machine job shop (the pooled machine of
``docs/scheduling.md``: durations and changeovers in pool minutes) with the plan's
left-shifted start times, and handed to ``jobshop_io.check_schedule``, which shares no
code with either CP-SAT model: every waiting job scheduled exactly once, no overlap,
the changeover between consecutive jobs respected, and the frozen jobs (the first
``frozen_jobs`` of the queue, then the expedited ones) kept at the starts they have
when they run first in queue order.
"""

from __future__ import annotations

import pytest

from ordercycle.policies.contexts import CentrePlan, CentreQueue, SchedulePlan
from ordercycle.policies.jobshop_io import (
    Job,
    JobShopProblem,
    JobShopResult,
    Operation,
    ScheduledOperation,
    SetupTime,
    check_schedule,
)
from ordercycle.policies.replanning import pool_data
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import simulate

FROZEN_JOBS = 2


def plan_as_jobshop(queue: CentreQueue, plan: CentrePlan, now: float) -> tuple[JobShopProblem, JobShopResult]:
    """The plan of one centre as a pooled-machine job shop and its left-shifted schedule."""
    data = pool_data(queue, now, FROZEN_JOBS, 1.0)
    machines = queue.machines
    by_id = {job.job_id: job for job in queue.jobs}

    def changeover(before: str | None, after: str) -> int:
        return data.minutes(machines * data.changeover_hours(before, after))

    frozen_start, clock, last = {}, 0, None
    for job in data.fixed:  # where the frozen jobs run when they keep their place up front
        clock += changeover(last, job.setup_family) if last is not None else 0
        frozen_start[job.job_id] = clock
        clock += data.duration[job.job_id]
        last = job.setup_family
    operations, clock, last = [], 0, None
    for job_id in plan.job_ids:
        job = by_id.get(job_id)
        if job is None:  # a job that is not waiting: the checker reports it as unknown
            operations.append(ScheduledOperation(job=str(job_id), index=0, machine="pool", start=clock,
                                                 end=clock))
            continue
        clock += changeover(last, job.setup_family) if last is not None else 0
        operations.append(ScheduledOperation(job=str(job_id), index=0, machine="pool", start=clock,
                                             end=clock + data.duration[job_id]))
        clock += data.duration[job_id]
        last = job.setup_family
    families = sorted({job.setup_family for job in queue.jobs})
    problem = JobShopProblem(
        name=f"{queue.work_centre}@{now:g}", machines=["pool"],
        jobs=[Job(name=str(job.job_id), operations=[Operation(
            machine="pool", duration=data.duration[job.job_id], family=job.setup_family,
            frozen_start=frozen_start.get(job.job_id))]) for job in queue.jobs],
        setups=[SetupTime(machine="pool", from_family=a, to_family=b, time=changeover(a, b))
                for a in families for b in families if a != b and changeover(a, b) > 0],
    )
    makespan = max((op.end for op in operations), default=0)
    result = JobShopResult(status="feasible", objective=makespan, bound=None, solve_seconds=0.0,
                           operations=tuple(operations), makespan=makespan)
    return problem, result


@pytest.fixture(scope="module")
def traced_plans():
    """Every (context, plan) of a 40-day baseline at 1.3× load, re-planned every 3.5 days."""
    scenario = override(load("baseline"), horizon_days=40, warmup_days=7)
    segments = [segment.model_dump() for segment in scenario.segments]
    for segment in segments:
        segment["arrivals"]["rate_per_day"] *= 1.3
    planning = {**scenario.planning.model_dump(), "replan_days": 3.5}
    cpsat = {"name": "cpsat", "params": {"deterministic_time": 0.05, "frozen_jobs": FROZEN_JOBS}}
    scenario = override(scenario, segments=segments, planning=planning,
                        policies={"schedule": cpsat, "priority": "edd", "dispatch": "setup-aware"})
    result = simulate(scenario, seed=0, trace_decisions=True)
    return [(context, plan) for kind, context, plan in result.model.trace if kind == "schedule"]


def test_every_plan_made_in_the_simulation_is_feasible(traced_plans):
    assert len(traced_plans) == 11  # t = 3.5, 7, …, 38.5
    checked = 0
    for context, plan in traced_plans:
        assert isinstance(plan, SchedulePlan)
        queues = {queue.work_centre: queue for queue in context.centres}
        assert len({p.work_centre for p in plan.centres}) == len(plan.centres)
        for centre_plan in plan.centres:
            queue = queues[centre_plan.work_centre]
            problem, result = plan_as_jobshop(queue, centre_plan, context.now)
            violations = check_schedule(problem, result)
            assert violations == [], (context.now, centre_plan.work_centre, violations)
            checked += len(queue.jobs) > 1
    assert checked >= 10, "plans with something to sequence"


def test_the_check_catches_a_plan_that_breaks_the_frozen_horizon(traced_plans):
    context, plan = next((c, p) for c, p in traced_plans
                         if any(len(q.jobs) > FROZEN_JOBS + 1 for q in c.centres if q.work_centre in
                                {cp.work_centre for cp in p.centres}))
    centre_plan = next(cp for cp in plan.centres if len(cp.job_ids) > FROZEN_JOBS + 1)
    queue = next(q for q in context.centres if q.work_centre == centre_plan.work_centre)
    moved = CentrePlan(centre_plan.work_centre, centre_plan.job_ids[::-1], 0.0, 0.0, 0, "feasible")
    assert any("frozen at" in v for v in check_schedule(*plan_as_jobshop(queue, moved, context.now)))
    dropped = CentrePlan(centre_plan.work_centre, centre_plan.job_ids[1:], 0.0, 0.0, 0, "feasible")
    assert any("not scheduled" in v for v in check_schedule(*plan_as_jobshop(queue, dropped, context.now)))
    twice = CentrePlan(centre_plan.work_centre, centre_plan.job_ids + centre_plan.job_ids[-1:], 0.0, 0.0, 0,
                       "feasible")
    assert any("scheduled twice" in v for v in check_schedule(*plan_as_jobshop(queue, twice, context.now)))
