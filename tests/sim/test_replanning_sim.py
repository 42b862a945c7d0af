"""Periodic re-planning in the simulation: queues adopt plans; runs stay valid and reproducible."""

from __future__ import annotations

import pandas as pd
import pytest
import simpy

from ordercycle.policies.registry import make
from ordercycle.scenarios.loader import override
from ordercycle.sim.entities import Job
from ordercycle.sim.invariants import check_run
from ordercycle.sim.resources import JobStore, Machine
from ordercycle.sim.run import kpis_json, simulate

CPSAT = {"name": "cpsat", "params": {"time_limit_seconds": 5.0, "deterministic_time": 0.05}}


@pytest.fixture(scope="module")
def replanned(short_baseline):
    """The 60-day baseline re-planned by CP-SAT every 3.5 days."""
    planning = {**short_baseline.planning.model_dump(), "replan_days": 3.5}
    return override(short_baseline, planning=planning, policies={"schedule": CPSAT})


def test_cpsat_replanning_run_is_valid_and_logs_plan_changes(replanned):
    result = simulate(replanned, seed=0)
    assert check_run(result) == []
    events = result.events
    changes = events[events["activity"] == "plan_changed"]
    assert len(changes) > 0
    assert (changes["step"] == "scheduling").all()
    assert (changes["quantity"] >= 1).all()
    assert set(changes["resource"]) <= {c.id for c in replanned.work_centres}
    assert len(result.model.replan_seconds) == 17  # t = 3.5, 7, …, 59.5
    window = events[events["time"] >= replanned.warmup_days]
    expected = ((window["activity"] == "expedite_granted").sum()
                + (window["activity"] == "plan_changed").sum()
                + result.plans[result.plans["period_start"] >= replanned.warmup_days]["changed"].sum())
    assert result.kpis["plan_changes"] == expected


def test_cpsat_replanning_is_reproducible(replanned):
    first, second = simulate(replanned, seed=3), simulate(replanned, seed=3)
    pd.testing.assert_frame_equal(first.events, second.events)
    assert kpis_json(first.kpis) == kpis_json(second.kpis)  # as written (NaN never equals NaN)


def test_no_replanning_starts_no_process(short_baseline):
    result = simulate(override(short_baseline, horizon_days=20, warmup_days=0), seed=0)
    assert result.model.replan_seconds == []
    assert "plan_changed" not in set(result.events["activity"])


def serve_with_plan(priority: str, plan: list[int], later: list[tuple[int, bool]]) -> list[int]:
    """Queue jobs 1-4 at t=0, adopt ``plan``, queue ``later`` (id, expedited), then serve all."""
    env = simpy.Environment()
    store = JobStore(env, "wc", make("priority", priority), make("dispatch", "priority-first"),
                     lambda kind, method, context: method(context))
    machine = Machine("wc", 0)

    def put(job_id: int, due: float, expedited: bool = False) -> None:
        job = Job(job_id, None, "p", 1, "A" if job_id % 2 else "B", 0.0, 1.0, due, 1.0, float(job_id))
        job.expedited = expedited
        store.put(job)

    for job_id, due in ((1, 9.0), (2, 3.0), (3, 5.0), (4, 8.0)):
        put(job_id, due)
    store.adopt_plan({job_id: rank for rank, job_id in enumerate(plan)})
    assert [view.job_id for view in store.waiting_jobs()] == plan
    assert store.planned_jobs() == plan
    for job_id, expedited in later:
        put(job_id, 0.5, expedited)
    served: list[int] = []

    def pull():
        while store.waiting:
            job = yield store.get(machine)
            served.append(job.job_id)
            yield env.timeout(1)

    env.run(env.process(pull()))
    assert store.planned_jobs() == []
    return served


@pytest.mark.parametrize("priority", ["fifo", "edd", "atc", "critical-ratio"])
def test_queue_serves_the_plan_then_later_jobs_by_priority(priority):
    served = serve_with_plan(priority, [4, 1, 3, 2], [(5, False), (6, True)])
    assert served == [6, 4, 1, 3, 2, 5]  # a later expedite first, the plan, then the rest


def test_adopting_a_plan_with_unknown_jobs_is_refused():
    env = simpy.Environment()
    store = JobStore(env, "wc", make("priority", "fifo"), make("dispatch", "priority-first"),
                     lambda kind, method, context: method(context))
    with pytest.raises(ValueError, match="not waiting"):
        store.adopt_plan({7: 0})
