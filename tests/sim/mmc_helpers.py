"""Helpers of the M/M/c validation: a one-stage scenario, per-job waits, a FIFO replay.

The scenario makes the whole company one M/M/c queue: Poisson inquiries that are all
accepted at once (every office task takes 0 hours, staff is plentiful, the customer
answers at once and accepts with probability 1 − 2e-22), one make-to-order product
of one unit whose routing is a single operation at one work centre with ``c``
machines staffed around the clock, exponential processing with a mean of 24 hours
(µ = 1 per day, the clock runs in days), no setups, changeovers, breakdowns or
expedites. Everything after production (shipping, billing) never feeds back into it.

:func:`replicate` runs in worker processes, so it takes plain arguments and returns
a small :class:`Replication` rather than the event log.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.scenarios.loader import parse
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.run import simulate

HOURS_PER_DAY = 24.0
PLENTY = 10_000
"""Headcount of every office department and loading slots of the carrier: nobody queues."""

T_975 = {1: 12.706205, 2: 4.302653, 3: 3.182446, 4: 2.776445, 5: 2.570582, 6: 2.446912,
         7: 2.364624, 8: 2.306004, 9: 2.262157, 10: 2.228139, 11: 2.200985, 12: 2.178813,
         13: 2.160369, 14: 2.144787, 15: 2.131450, 16: 2.119905, 17: 2.109816, 18: 2.100922,
         19: 2.093024, 20: 2.085963}
"""Two-sided 95 % quantile t(0.975, df) of Student's t distribution, by degrees of freedom."""

_OFFICE_TASKS = ("sales_contact", "cost_estimation", "order_entry", "selection_junior",
                 "selection_senior", "expedite_request", "picking", "invoicing",
                 "billing_consultation", "dispute_rework", "return_approval", "refund", "travel",
                 "debrief")
_DEPARTMENTS = ("sales_reps", "estimators", "entry_clerks", "junior_staff", "senior_managers",
                "warehouse_staff", "billing_clerks", "returns_staff", "finance_clerks")


def mmc_scenario_data(arrival_rate_per_day: float, machines: int, horizon_days: float,
                      warmup_days: float) -> dict[str, Any]:
    """The scenario mapping (as it would be read from YAML) of an M/M/c company.

    Args:
        arrival_rate_per_day: λ, constant Poisson rate of inquiries (all become jobs).
        machines: c, machines of the only work centre.
        horizon_days: simulated time, days.
        warmup_days: the scenario's own warm-up (only the KPIs use it).

    Returns:
        A mapping for :func:`ordercycle.scenarios.loader.parse`.
    """
    return {
        "name": f"mm{machines}-validation",
        "description": "one work centre, Poisson arrivals, exponential processing: M/M/c",
        "horizon_days": horizon_days,
        "warmup_days": warmup_days,
        "products": [{
            "id": "unit", "setup_family": "only", "list_price": 100.0, "unit_cost": 0.0,
            "stocking": "make_to_order",
            # a promise never missed: sales never asks for an expedite
            "standard_lead_days": 1e9,
            "routing": [{"work_centre": "station", "setup_hours": 0,
                         "hours_per_unit": {"dist": "exponential", "mean": HOURS_PER_DAY}}],
        }],
        "work_centres": [{
            "id": "station", "machines": machines, "initial_shifts": 3, "max_shifts": 3,
            "machine_hour_cost": 0.0, "changeover_hours": 0, "mtbf_hours": None,
        }],
        "segments": [{
            "id": "market", "customers": 1, "importance": 1.0,
            "arrivals": {"rate_per_day": arrival_rate_per_day, "trend_per_year": 0.0,
                         "seasonality": {"amplitude": 0.0}},
            "order_size_units": 1, "product_mix": {"unit": 1.0},
            "base_utility": 50.0, "price_sensitivity": 0.0, "lead_time_sensitivity": 0.0,
            "desired_lead_days": 1.0, "response_days": 0,
            # one consolidated invoice a month: fewer billing events, same queue
            "invoice_rhythm": "monthly", "payment_terms_days": 0, "payment_delay_days": 0,
            "logistics_provider": "carrier",
        }],
        "logistics_providers": [{"id": "carrier", "pickups_at_once": PLENTY, "handling_hours": 0,
                                 "transit_days": 0, "reliability": 1.0, "delay_days": 0}],
        "staff": dict.fromkeys(_DEPARTMENTS, PLENTY),
        "task_hours": dict.fromkeys(_OFFICE_TASKS, 0),
        "quality": {"entry_error_rate": 0.0, "picking_error_rate": 0.0},
        # 4-week periods and a tiny target utilisation: the load-based plan always wants
        # more than max_shifts, so it keeps 3 shifts (unless a whole period had no
        # inquiry, P = exp(-28 λ)); the tests check the plans table.
        "planning": {"period_days": 28.0, "target_utilization": 0.01},
        "policies": {"priority": "fifo", "dispatch": "priority-first", "expedite": "never",
                     "selection": "accept-all", "pricing": "list-price", "capacity": "load-based",
                     "billing": "standalone"},
    }


def mmc_scenario(arrival_rate_per_day: float, machines: int, horizon_days: float,
                 warmup_days: float) -> Scenario:
    """The validated :class:`Scenario` of :func:`mmc_scenario_data`."""
    return parse(mmc_scenario_data(arrival_rate_per_day, machines, horizon_days, warmup_days))


def job_times(events: pd.DataFrame) -> pd.DataFrame:
    """Queued, started and completed time of every job (NaN where it did not happen), by job id."""
    times = {}
    for column, activity in (("queued", "operation_queued"), ("started", "operation_started"),
                             ("completed", "operation_completed")):
        rows = events[events["activity"] == activity]
        times[column] = pd.Series(rows["time"].to_numpy(dtype=float),
                                  index=rows["job_id"].to_numpy(dtype=np.int64))
    return pd.DataFrame(times).sort_values(["queued"], kind="stable")


def fifo_replay_waits(arrivals: np.ndarray, services: np.ndarray, servers: int) -> np.ndarray:
    """Waits of a work-conserving FIFO queue with ``servers`` servers (Kiefer–Wolfowitz).

    Args:
        arrivals: arrival times, non-decreasing.
        services: service time of each arrival.
        servers: number of identical servers.

    Returns:
        The wait before service of each arrival.
    """
    free_at = [0.0] * servers
    waits = np.empty(len(arrivals))
    for i, (arrival, service) in enumerate(zip(arrivals.tolist(), services.tolist(), strict=True)):
        start = max(heapq.heappop(free_at), arrival)
        waits[i] = start - arrival
        heapq.heappush(free_at, start + service)
    return waits


@dataclass(frozen=True)
class Replication:
    """What one replication contributes to the validation (small: crosses processes)."""

    seed: int
    replication: int
    jobs: int
    """Jobs queued inside the measurement window [warm-up, end)."""
    mean_wait_days: float
    """Mean wait in queue of those jobs (queued → started)."""
    unstarted: int
    """Jobs of the window that never started before the horizon (must be 0: no censoring)."""
    mean_service_days: float
    mean_interarrival_days: float
    inquiries: int
    jobs_total: int
    replay_max_error_days: float
    """Largest |logged wait − FIFO c-server replay of the logged arrivals and services|."""
    starts_in_queue_order: bool
    shifts: tuple[int, ...]
    """Distinct shift levels of the capacity plans."""
    other_production_events: int
    """Changeovers, breakdowns and expedite requests (must be 0)."""


def replicate(arrival_rate_per_day: float, machines: int, seed: int, replication: int,
              warmup_days: float, end_days: float, tail_days: float) -> Replication:
    """Run one replication and summarise the waits of jobs queued in [warmup_days, end_days).

    The run lasts ``end_days + tail_days`` so that every job of the window has started.
    """
    scenario = mmc_scenario(arrival_rate_per_day, machines, end_days + tail_days, warmup_days)
    result = simulate(scenario, seed=seed, replication=replication)
    events = result.events
    jobs = job_times(events)
    started = jobs.dropna(subset=["started"])
    # a job still in process at the horizon holds its machine beyond it
    services = (started["completed"] - started["started"]).fillna(math.inf).to_numpy()
    replay = fifo_replay_waits(started["queued"].to_numpy(), services, machines)
    done = started.dropna()
    in_window = jobs[(jobs["queued"] >= warmup_days) & (jobs["queued"] < end_days)]
    waits = (in_window["started"] - in_window["queued"]).dropna().to_numpy()
    measured = done[(done["queued"] >= warmup_days) & (done["queued"] < end_days)]
    started_order = started.sort_values("started", kind="stable").index
    inquiries = events[events["activity"] == "inquiry_received"]["time"].to_numpy(dtype=float)
    others = events["activity"].isin(
        ["changeover_started", "machine_breakdown", "expedite_requested"]).sum()
    return Replication(
        seed=seed,
        replication=replication,
        jobs=len(in_window),
        mean_wait_days=float(waits.mean()) if len(waits) else math.nan,
        unstarted=int(in_window["started"].isna().sum()),
        mean_service_days=float((measured["completed"] - measured["started"]).mean()),
        mean_interarrival_days=float(np.diff(inquiries).mean()),
        inquiries=len(inquiries),
        jobs_total=len(jobs),
        replay_max_error_days=float(
            np.abs(replay - (started["started"] - started["queued"]).to_numpy()).max()),
        starts_in_queue_order=bool((started_order == started.index).all()),
        shifts=tuple(sorted(int(s) for s in result.plans["shifts"].unique())),
        other_production_events=int(others),
    )


def t_confidence_interval(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the two-sided 95 % t confidence interval of the mean."""
    data = np.asarray(values, dtype=float)
    if len(data) < 2 or len(data) - 1 not in T_975:
        raise ValueError(f"need 2..{max(T_975) + 1} values, got {len(data)}")
    half = T_975[len(data) - 1] * data.std(ddof=1) / math.sqrt(len(data))
    return float(data.mean()), float(half)
