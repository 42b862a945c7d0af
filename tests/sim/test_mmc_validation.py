"""The engine is honest: a one-stage company reproduces M/M/c queueing theory.

A scenario run with a single stage and exponential times (``mmc_helpers``) is an M/M/c
queue; its mean wait in queue — per job, from ``operation_queued`` to
``operation_started`` in the event log, warm-up deleted — must reproduce the exact
Erlang C value (``ordercycle.reports.queueing``, checked against VALIDATION.md): the
exact value inside the 95 % t confidence interval over replication means, and the
grand mean within ±8 %.

Sample sizes. The relative variance of a replication's mean wait is about k / n for n
jobs: k ≈ 26 for M/M/1 at ρ = 0.5, ≈ 55 for M/M/2 at ρ = 0.6, ≈ 150 for M/M/2 at
ρ = 0.8 (measured over hundreds of replications of the FIFO recursion that
:func:`test_the_engine_is_a_fifo_c_server_queue` proves the engine equal to). The full
model costs about 0.5 ms per order on one core, so the default cases are M/M/1 λ = 0.5
(a VALIDATION.md row; 5 × 6,000 jobs, σ of the grand mean ≈ 2.9 %) and M/M/2 λ = 1.2,
ρ = 0.6 (Wq = 9/16 day; 6 × 12,500 jobs, σ ≈ 2.7 %): ±8 % is ≈ 3 σ, in about 60 s of
CPU shared by up to two worker processes. The VALIDATION.md row M/M/2 λ = 1.6 (ρ = 0.8)
needs 4× the jobs for the same margin; it runs when ``ORDERCYCLE_LONG_VALIDATION`` is
set (about 2.5 min of CPU).

Replications follow the model's own scheme: one root seed, replication index 0 … R−1
(independent streams ``SeedSequence([source, replication, seed])``), fixed in advance,
so the outcome is deterministic.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pytest
from mmc_helpers import Replication, replicate, t_confidence_interval

from ordercycle.reports.queueing import mmc_wq

TOLERANCE = 0.08
"""Largest relative error of the grand mean wait."""
WARMUP_DAYS = 100.0
"""Deleted start-up (the queue starts empty): many relaxation times at ρ ≤ 0.8."""
TAIL_DAYS = 60.0
"""Run on after the measurement window so that every job of the window has started."""
ROOT_SEED = 0
SERVICE_RATE_PER_DAY = 1.0
"""µ: the scenario's processing time is exponential with a mean of 24 hours."""
LONG = bool(os.environ.get("ORDERCYCLE_LONG_VALIDATION"))


@dataclass(frozen=True)
class Case:
    """One M/M/c queue and the replications that test it."""

    label: str
    arrival_rate_per_day: float
    machines: int
    exact_wq_days: float
    """Wq as published (VALIDATION.md) or as an exact fraction."""
    replications: int
    jobs_per_replication: int
    long: bool = False

    @property
    def end_days(self) -> float:
        """End of the measurement window (expected jobs_per_replication arrivals after warm-up)."""
        return WARMUP_DAYS + self.jobs_per_replication / self.arrival_rate_per_day


CASES = (
    Case("M/M/1 lam=0.5", 0.5, 1, 1.000000, replications=5, jobs_per_replication=6_000),
    Case("M/M/2 lam=1.2", 1.2, 2, 9 / 16, replications=6, jobs_per_replication=12_500),
    Case("M/M/2 lam=1.6", 1.6, 2, 1.777778, replications=6, jobs_per_replication=40_000, long=True),
)
RUN_CASES = tuple(case for case in CASES if LONG or not case.long)
PARAMS = [
    pytest.param(case, id=case.label, marks=pytest.mark.skipif(
        case.long and not LONG, reason="long validation: set ORDERCYCLE_LONG_VALIDATION=1"))
    for case in CASES
]


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


@pytest.fixture(scope="module")
def replications() -> dict[str, list[Replication]]:
    """Every replication of every case to run, in up to two worker processes."""
    tasks = [(case, r) for case in RUN_CASES for r in range(case.replications)]
    tasks.sort(key=lambda task: -task[0].jobs_per_replication)  # longest first
    args = [(case.arrival_rate_per_day, case.machines, ROOT_SEED, r, WARMUP_DAYS, case.end_days,
             TAIL_DAYS) for case, r in tasks]
    workers = _workers()
    if workers == 1:
        results = [replicate(*arg) for arg in args]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(replicate, *zip(*args, strict=True)))
    by_case: dict[str, list[Replication]] = {case.label: [] for case in RUN_CASES}
    for (case, _r), result in zip(tasks, results, strict=True):
        by_case[case.label].append(result)
    return {label: sorted(runs, key=lambda run: run.replication) for label, runs in by_case.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_the_closed_form_is_the_expected_value(case):
    exact = mmc_wq(case.arrival_rate_per_day, SERVICE_RATE_PER_DAY, case.machines)
    assert exact == pytest.approx(case.exact_wq_days, abs=5e-7)


@pytest.mark.parametrize("case", PARAMS)
def test_the_scenario_is_an_mmc_queue(case, replications):
    runs = replications[case.label]
    for run in runs:
        assert run.shifts == (3,), f"replication {run.replication}: the plan staffed {run.shifts} shifts"
        assert run.other_production_events == 0, (
            f"replication {run.replication}: changeovers, breakdowns or expedites")
        assert run.jobs_total == run.inquiries, (
            f"replication {run.replication}: not every inquiry became a job")
        assert run.unstarted == 0, (
            f"replication {run.replication}: {run.unstarted} jobs of the window never started")
    jobs = sum(run.jobs for run in runs)
    assert jobs == pytest.approx(case.replications * case.jobs_per_replication, rel=0.03)
    service = sum(run.mean_service_days * run.jobs for run in runs) / jobs
    inquiries = sum(run.inquiries for run in runs)
    gap = sum(run.mean_interarrival_days * run.inquiries for run in runs) / inquiries
    assert service == pytest.approx(1 / SERVICE_RATE_PER_DAY, rel=0.03)
    assert gap == pytest.approx(1 / case.arrival_rate_per_day, rel=0.03)


@pytest.mark.parametrize("case", PARAMS)
def test_the_engine_is_a_fifo_c_server_queue(case, replications):
    """Exact: the logged waits are those of a FIFO c-server queue fed the logged arrivals
    and processing times, so a statistical miss could only come from the inputs."""
    for run in replications[case.label]:
        assert run.starts_in_queue_order, f"replication {run.replication}: jobs started out of FIFO order"
        assert run.replay_max_error_days < 1e-6, (
            f"replication {run.replication}: logged waits differ from the FIFO replay by "
            f"{run.replay_max_error_days:.3g} days"
        )


@pytest.mark.parametrize("case", PARAMS)
def test_mean_wait_reproduces_erlang_c(case, replications):
    runs = replications[case.label]
    exact = mmc_wq(case.arrival_rate_per_day, SERVICE_RATE_PER_DAY, case.machines)
    mean, half_width = t_confidence_interval([run.mean_wait_days for run in runs])
    summary = (
        f"{case.label}: Wq exact {exact:.6f} d, simulated {mean:.6f} ± {half_width:.6f} d "
        f"(95 % t CI over {len(runs)} replications of ~{case.jobs_per_replication} jobs; "
        f"per replication {[round(run.mean_wait_days, 4) for run in runs]})"
    )
    print(summary)  # shown with ``pytest -rP``
    assert mean - half_width <= exact <= mean + half_width, f"exact value outside the CI. {summary}"
    assert abs(mean / exact - 1) <= TOLERANCE, f"grand mean off by more than {TOLERANCE:.0%}. {summary}"
