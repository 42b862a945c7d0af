"""Exact traces of the policy-driven work-centre queue (JobStore)."""

from __future__ import annotations

import simpy

from ordercycle.policies.registry import make
from ordercycle.sim.entities import Job
from ordercycle.sim.resources import JobStore, Machine


def run_queue(priority: str, dispatch: str, jobs: list[tuple[int, str, float, bool]],
              machine_family: str | None = None) -> tuple[list[int], list]:
    """Queue ``jobs`` (id, family, due, expedited) at t=0, then let one machine pull them all."""
    env = simpy.Environment()
    decisions: list = []

    def decide(kind, method, context):
        decision = method(context)
        decisions.append((kind, context, decision))
        return decision

    store = JobStore(env, "wc", make("priority", priority), make("dispatch", dispatch), decide)
    machine = Machine("wc", 0)
    machine.family = machine_family
    for job_id, family, due, expedited in jobs:
        job = Job(job_id, None, "p", 1, family, 0.0, 1.0, due, 1.0, released_at=float(job_id))
        job.expedited = expedited
        store.put(job)
    served: list[int] = []

    def pull():
        while store.waiting or store.get_queue:
            job = yield store.get(machine)
            served.append(job.job_id)
            machine.family = job.setup_family
            yield env.timeout(1)

    env.run(env.process(pull()))
    return served, decisions


JOBS = [(1, "A", 9.0, False), (2, "B", 3.0, False), (3, "A", 5.0, False), (4, "B", 8.0, False)]


def test_fifo_priority_first_serves_in_release_order():
    served, _ = run_queue("fifo", "priority-first", JOBS)
    assert served == [1, 2, 3, 4]


def test_edd_priority_first_serves_by_due_date():
    served, _ = run_queue("edd", "priority-first", JOBS)
    assert served == [2, 3, 4, 1]


def test_setup_aware_stays_on_family_and_counts_fewer_changeovers():
    served, decisions = run_queue("edd", "setup-aware", JOBS, machine_family="A")
    assert served == [3, 1, 2, 4]
    # the machine was asked with the head of each family, in priority order
    kind, context, decision = decisions[0]
    assert kind == "dispatch"
    assert [c.job_id for c in context.candidates] == [2, 3]
    assert decision.job_id == 3 and "no changeover" in decision.reason


def test_expedited_job_jumps_the_queue_and_overrides_setup_preference():
    jobs = [*JOBS, (5, "B", 30.0, True)]
    served, _ = run_queue("edd", "setup-aware", jobs, machine_family="A")
    assert served[0] == 5


def test_single_family_needs_no_dispatch_decision():
    served, decisions = run_queue("fifo", "priority-first", [(1, "A", 1.0, False), (2, "A", 2.0, False)])
    assert served == [1, 2]
    assert decisions == []


def test_waiting_hours_are_tracked():
    env = simpy.Environment()
    store = JobStore(env, "wc", make("priority", "fifo"), make("dispatch", "priority-first"),
                     lambda kind, method, context: method(context))
    for job_id in (1, 2):
        store.put(Job(job_id, None, "p", 1, "A", 0.5, 2.0, 1.0, 1.0, 0.0))
    env.run()
    assert store.waiting == 2 and store.waiting_hours == 5.0


def test_time_dependent_rule_is_ranked_when_the_machine_asks():
    """Critical ratio changes while jobs wait: the store ranks them at each pull."""
    env = simpy.Environment()
    store = JobStore(env, "wc", make("priority", "critical-ratio"), make("dispatch", "priority-first"),
                     lambda kind, method, context: method(context))
    machine = Machine("wc", 0)
    # job 1: due 10, 4 days of work; job 2: due 5, 1 day of work (same family)
    for job_id, due, work_days in ((1, 10.0, 4.0), (2, 5.0, 1.0)):
        job = Job(job_id, None, "p", 1, "A", 0.0, 1.0, due, 1.0, released_at=0.0)
        job.remaining_days = work_days
        store.put(job)
    served = []

    def pull(start):
        yield env.timeout(start)
        job = yield store.get(machine)
        served.append(job.job_id)

    env.process(pull(6.0))  # at t=6 job 2 is past due: it goes first
    env.run()
    assert served == [2]
    assert store.waiting == 1
