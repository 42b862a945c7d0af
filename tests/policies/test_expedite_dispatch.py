"""The dispatch rule for expedites: an expedited candidate runs first, whatever the policy.

The rule lives in :func:`ordercycle.policies.sequencing.expedited_candidate`; every
built-in dispatch policy applies it before its own choice, and the conformance check
``check_dispatch_expedites_first`` holds every registered (or plug-in) policy to it.
"""

from __future__ import annotations

import pytest

from ordercycle.policies import testing
from ordercycle.policies.contexts import DispatchContext, DispatchDecision, JobView
from ordercycle.policies.registry import DECISIONS, make, registry
from ordercycle.policies.sequencing import expedited_candidate


def _job(job_id: int, family: str, expedited: bool = False) -> JobView:
    return JobView(job_id, 100 + job_id, family, 5.0, 1.0, 2.0, expedited)


def _context(*candidates: JobView, current: str | None = "A") -> DispatchContext:
    return DispatchContext("wc", 0, 3.0, current, candidates)


DISPATCH = sorted(registry()["dispatch"])


def test_no_expedited_candidate_means_no_jump():
    assert expedited_candidate(_context(_job(1, "B"), _job(2, "A"))) is None


def test_the_first_expedited_candidate_is_the_one_that_jumps():
    context = _context(_job(1, "B", True), _job(2, "C", True), _job(3, "A"))
    assert expedited_candidate(context).job_id == 1


def test_an_expedited_candidate_listed_after_others_still_jumps():
    """A caller of the decision service may list the candidates in another order."""
    context = _context(_job(1, "A"), _job(2, "B", True))
    assert expedited_candidate(context).job_id == 2


@pytest.mark.parametrize("name", DISPATCH)
def test_an_expedited_job_of_another_family_beats_the_current_setup(name):
    context = _context(_job(1, "B", True), _job(2, "A"), current="A")
    decision = make("dispatch", name).dispatch(context)
    assert decision.job_id == 1
    assert "expedited job 1 jumps the queue: out of the A sequence into B" in decision.reason


@pytest.mark.parametrize("name", DISPATCH)
def test_an_expedited_job_listed_second_beats_the_current_setup(name):
    context = _context(_job(1, "A"), _job(2, "B", True), current="A")
    assert make("dispatch", name).dispatch(context).job_id == 2


def test_without_expedites_setup_aware_keeps_its_family_and_priority_first_does_not():
    context = _context(_job(1, "B"), _job(2, "A"), current="A")
    assert make("dispatch", "setup-aware").dispatch(context).job_id == 2
    assert make("dispatch", "priority-first").dispatch(context).job_id == 1


class KeepSetupAlways(DECISIONS["dispatch"]):  # type: ignore[misc, valid-type]
    """Never changes over while a job of the current family waits (ignores expedites)."""

    name = "keep-setup-always"
    summary = "stay on the current family, expedite or not"

    def __init__(self) -> None:
        pass

    def dispatch(self, context: DispatchContext) -> DispatchDecision:
        """A same-family candidate, else the first."""
        same = [job for job in context.candidates if job.setup_family == context.current_family]
        job = (same or list(context.candidates))[0]
        return DispatchDecision(job.job_id, f"job {job.job_id}")


def test_the_conformance_check_refuses_a_policy_that_ignores_expedites():
    with pytest.raises(AssertionError, match="not the expedited job .*an expedited job jumps the queue"):
        testing.check_dispatch_expedites_first(KeepSetupAlways)


@pytest.mark.parametrize("name", DISPATCH)
def test_the_conformance_check_passes_the_built_ins(name):
    testing.check_dispatch_expedites_first(registry()["dispatch"][name])
    names = [check for check, _ in testing.all_checks(registry()["dispatch"][name])]
    assert "check_dispatch_expedites_first" in names


def test_the_check_runs_only_for_dispatch_policies():
    fifo = registry()["priority"]["fifo"]
    assert "check_dispatch_expedites_first" not in [name for name, _ in testing.all_checks(fifo)]
