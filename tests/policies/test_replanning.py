"""The schedule policies: CP-SAT re-planning against its hints and a brute-force optimum."""

from __future__ import annotations

import itertools
import random

import pytest

from ordercycle.policies import replanning
from ordercycle.policies.contexts import CentreQueue, Changeover, JobView, ScheduleContext
from ordercycle.policies.registry import make
from ordercycle.policies.replanning import (
    SolverRun,
    atcs_sequence,
    edd_sequence,
    evaluate,
    moved_jobs,
    objective_rates,
    pool_data,
    previous_plan_sequence,
)

METALS = (Changeover("steel", "brass", 3.0), Changeover("brass", "steel", 1.0),
          Changeover("steel", "alu", 1.0), Changeover("alu", "steel", 2.0),
          Changeover("brass", "alu", 2.0), Changeover("alu", "brass", 4.0))


def one_machine(jobs: tuple[JobView, ...], previous: tuple[int, ...] = (), family: str | None = "steel",
                now: float = 0.0) -> ScheduleContext:
    """One machine staffed around the clock: a machine-hour is 60 whole minutes of the model."""
    return ScheduleContext(now, (CentreQueue("press", 1, 24.0, (family,), METALS, jobs, previous),))


def tight_jobs(seed: int, n: int = 7) -> tuple[JobView, ...]:
    """Whole-hour jobs with whole-hour due dates (days = hours / 24), tight enough to be late."""
    pick = random.Random(seed)
    return tuple(
        JobView(10 + i, 100 + i, pick.choice(["steel", "brass", "alu"]), pick.randint(2, 30) / 24,
                float(pick.choice([0.5, 1, 3])), float(pick.randint(1, 6)), False)
        for i in range(n)
    )


def objective(context: ScheduleContext, job_ids: tuple[int, ...], policy) -> int:
    """The policy's objective of a full sequence of the single centre."""
    queue = context.centres[0]
    data = pool_data(queue, context.now, 0, policy.tardiness_weight)
    by_id = {job.job_id: job for job in queue.jobs}
    rates = objective_rates(policy.setup_weight, policy.plan_change_weight)
    return evaluate(data, [by_id[job_id] for job_id in job_ids], rates).objective


@pytest.mark.parametrize("seed", range(6))
def test_cpsat_plan_is_optimal_and_no_worse_than_edd(seed):
    policy = make("schedule", "cpsat", {"frozen_jobs": 0, "plan_change_weight": 0.0, "setup_weight": 0.2,
                                        "deterministic_time": 5.0})
    context = one_machine(tight_jobs(seed))
    plan = policy.schedule(context).centres[0]
    ids = tuple(job.job_id for job in context.centres[0].jobs)
    assert sorted(plan.job_ids) == sorted(ids)
    best = min(objective(context, order, policy) for order in itertools.permutations(ids))
    edd = tuple(job.job_id for job in edd_sequence(context.centres[0].jobs))
    assert objective(context, plan.job_ids, policy) == best <= objective(context, edd, policy)
    assert plan.status == "optimal"


def test_objective_parts_are_tardiness_and_changeovers():
    # steel (machine's family) 2 h due at 1 h, then alu 1 h after a 1 h changeover, due at 24 h
    jobs = (JobView(1, 11, "steel", 1 / 24, 2.0, 2.0, False), JobView(2, 12, "alu", 1.0, 1.0, 1.0, False))
    plan = make("schedule", "cpsat", {"frozen_jobs": 0}).schedule(one_machine(jobs)).centres[0]
    assert plan.job_ids == (1, 2)
    assert plan.weighted_tardiness == pytest.approx(2.0 * 1 / 24, abs=1e-6)  # reported to 6 decimals
    assert plan.changeover_hours == pytest.approx(1.0)


def test_frozen_and_expedited_jobs_keep_their_place():
    jobs = tight_jobs(3, n=8)
    jobs = (*jobs[:5], JobView(99, 199, "alu", 40.0, 0.5, 2.0, True), *jobs[5:])
    policy = make("schedule", "cpsat", {"frozen_jobs": 3})
    plan = policy.schedule(one_machine(jobs)).centres[0]
    assert plan.job_ids[:4] == (jobs[0].job_id, jobs[1].job_id, jobs[2].job_id, 99)
    assert sorted(plan.job_ids) == sorted(job.job_id for job in jobs)


def test_a_heavy_plan_change_penalty_keeps_the_previous_plan():
    jobs = tight_jobs(4)
    previous = tuple(job.job_id for job in reversed(jobs))
    free = make("schedule", "cpsat", {"frozen_jobs": 0}).schedule(one_machine(jobs, previous)).centres[0]
    sticky = make("schedule", "cpsat", {"frozen_jobs": 0, "plan_change_weight": 1000.0}).schedule(
        one_machine(jobs, previous)).centres[0]
    assert free.moved_jobs > 0
    assert sticky.job_ids == previous and sticky.moved_jobs == 0


def test_jobs_new_since_the_previous_plan_are_added_to_it():
    jobs = tight_jobs(5)
    context = one_machine(jobs, previous=(jobs[3].job_id, jobs[1].job_id))
    data = pool_data(context.centres[0], 0.0, 0, 1.0)
    order = [job.job_id for job in previous_plan_sequence(data)]
    assert order[:2] == [jobs[3].job_id, jobs[1].job_id] and sorted(order) == sorted(j.job_id for j in jobs)


def test_falls_back_to_the_best_hint_when_the_solver_finds_nothing_or_worse(monkeypatch):
    jobs = tight_jobs(1, n=12)
    context = one_machine(jobs)
    policy = make("schedule", "cpsat", {"frozen_jobs": 0})
    data = pool_data(context.centres[0], 0.0, 0, policy.tardiness_weight)
    rates = objective_rates(policy.setup_weight, policy.plan_change_weight)
    hints = [previous_plan_sequence(data), edd_sequence(data.free), atcs_sequence(data)]
    best_hint = min(evaluate(data, hint, rates).objective for hint in hints)

    monkeypatch.setattr(replanning, "solve_pool", lambda *args, **kwargs: SolverRun(None, False))
    plan = policy.schedule(context).centres[0]
    assert plan.status == "hint"
    assert objective(context, plan.job_ids, policy) == best_hint

    def worst(data, hint, costs, **kwargs):
        return SolverRun(sorted(data.free, key=lambda job: -job.due_date), False)

    monkeypatch.setattr(replanning, "solve_pool", worst)
    plan = policy.schedule(context).centres[0]
    assert plan.status == "hint" and objective(context, plan.job_ids, policy) == best_hint


@pytest.mark.parametrize("limits", [(1e-3, 1e-4), (0.05, 1e-3)])
def test_tiny_time_limit_still_gives_a_plan_no_worse_than_the_hints(limits):
    time_limit, deterministic = limits
    pick = random.Random(7)
    jobs = tuple(JobView(i, i, pick.choice(["steel", "brass", "alu"]), pick.uniform(0, 6),
                         pick.choice([0.5, 1.0, 3.0]), pick.uniform(1, 12), False) for i in range(60))
    context = ScheduleContext(1.0, (CentreQueue("press", 2, 16.0, ("steel", "alu"), METALS, jobs),))
    policy = make("schedule", "cpsat", {"frozen_jobs": 0, "time_limit_seconds": time_limit,
                                        "deterministic_time": deterministic})
    plan = policy.schedule(context).centres[0]
    assert sorted(plan.job_ids) == list(range(60))
    data = pool_data(context.centres[0], 1.0, 0, policy.tardiness_weight)
    rates = objective_rates(policy.setup_weight, policy.plan_change_weight)
    hints = [previous_plan_sequence(data), edd_sequence(data.free), atcs_sequence(data)]
    by_id = {job.job_id: job for job in jobs}
    got = evaluate(data, [by_id[job_id] for job_id in plan.job_ids], rates).objective
    assert got <= min(evaluate(data, hint, rates).objective for hint in hints)


@pytest.mark.parametrize("seed", range(4))
def test_plans_are_permutations_of_each_centres_jobs(seed):
    pick = random.Random(seed)
    centres = []
    for c in range(3):
        jobs = tuple(JobView(100 * c + i, i, pick.choice(["steel", "brass"]), pick.uniform(0, 10),
                             pick.choice([0.0, 1.0, 3.0]), pick.uniform(0.5, 8), pick.random() < 0.1)
                     for i in range(pick.randint(0, 25)))
        previous = tuple(job.job_id for job in jobs if pick.random() < 0.5)
        centres.append(CentreQueue(f"wc{c}", pick.randint(1, 4), 8.0 * pick.randint(1, 3),
                                   ("steel",) * 2, METALS, jobs, previous))
    context = ScheduleContext(2.0, tuple(centres))
    plan = make("schedule", "cpsat", {"frozen_jobs": pick.randint(0, 3)}).schedule(context)
    assert [p.work_centre for p in plan.centres] == [c.work_centre for c in centres if c.jobs]
    for centre_plan, queue in zip(plan.centres, [c for c in centres if c.jobs], strict=True):
        assert sorted(centre_plan.job_ids) == sorted(job.job_id for job in queue.jobs)


def test_none_plans_nothing():
    plan = make("schedule", "none").schedule(one_machine(tight_jobs(0)))
    assert plan.centres == () and "priority rule" in plan.reason


@pytest.mark.parametrize(("previous", "new", "moved"), [
    ((1, 2, 3, 4), (1, 2, 3, 4), 0),
    ((1, 2, 3, 4), (2, 1, 3, 4), 1),
    ((1, 2, 3, 4), (4, 3, 2, 1), 3),
    ((1, 2, 3, 4), (9, 1, 8, 2, 3, 4), 0),  # new jobs inserted move nothing
    ((1, 2, 5, 3), (3, 2, 1), 2),  # job 5 has left the queue
    ((), (1, 2), 0),
])
def test_moved_jobs_counts_jobs_out_of_relative_order(previous, new, moved):
    assert moved_jobs(previous, new) == moved
