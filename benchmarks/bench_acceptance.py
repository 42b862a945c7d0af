"""Benchmark: the CP-SAT order-acceptance optimiser against accept-all under overload.

The overloaded variant of the baseline: every segment's arrival rate × ``--load``
(default 1.5: machining runs at 98–99 % and its queue keeps growing) and four senior
managers (one could not keep up with the selections a senior policy needs; the
accept-all run does not use them). Runs each selection policy over ``--days``
(default 120, warm-up 28) for each seed and prints the profit (KPI ``profit``),
revenue, gross margin, operating cost, rejected and still-open orders, on-time rate
and wall time; then the mean profit difference to accept-all with its range over the
seeds. Run from the repository root::

    python benchmarks/bench_acceptance.py [--days 120] [--seeds 0 1 2] [--load 1.5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from ordercycle.scenarios.loader import load, override
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.run import simulate

POLICIES: dict[str, Any] = {
    "accept-all": "accept-all",
    "cpsat-acceptance": "cpsat-acceptance",
    "cpsat-acceptance, expected orders reserve": {"name": "cpsat-acceptance",
                                                  "params": {"expected_share": 1.0}},
    "cpsat-acceptance, shipping not counted": {"name": "cpsat-acceptance",
                                               "params": {"count_shipping": False}},
}


def overloaded(days: float, load_factor: float) -> Scenario:
    """The baseline with arrivals × ``load_factor`` and four senior managers."""
    scenario = override(load("baseline"), horizon_days=days, warmup_days=min(28.0, days / 4))
    segments = [segment.model_dump() for segment in scenario.segments]
    for segment in segments:
        segment["arrivals"]["rate_per_day"] *= load_factor
    staff = {**scenario.staff.model_dump(), "senior_managers": 4}
    return override(scenario, segments=segments, staff=staff)


def main(argv: list[str] | None = None) -> int:
    """Run every selection policy on every seed and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=120.0, help="horizon, days (default 120)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    parser.add_argument("--load", type=float, default=1.5, help="arrival-rate multiplier (default 1.5)")
    args = parser.parse_args(argv)
    scenario = overloaded(args.days, args.load)
    print(f"baseline ×{args.load:g} arrivals, 4 senior managers, {args.days:g} days, seeds {args.seeds}")
    header = (f"{'selection':<42} {'seed':>4} {'profit':>10} {'revenue':>10} {'margin':>10} {'op. cost':>10} "
              f"{'rejected':>8} {'open':>5} {'on-time':>7} {'wall s':>6}")
    print(header)
    print("-" * len(header))
    profits: dict[str, list[float]] = {}
    for label, policy in POLICIES.items():
        for seed in args.seeds:
            began = time.perf_counter()
            result = simulate(override(scenario, policies={"selection": policy}), seed=seed)
            kpis, states = result.kpis, result.orders["final_state"]
            profits.setdefault(label, []).append(kpis["profit"])
            print(f"{label:<42} {seed:>4} {kpis['profit']:>10,.0f} {kpis['revenue']:>10,.0f} "
                  f"{kpis['gross_margin']:>10,.0f} {kpis['operating_cost']:>10,.0f} "
                  f"{int((states == 'rejected').sum()):>8} {int((states == 'open').sum()):>5} "
                  f"{kpis['on_time_delivery_rate']:>7.3f} {time.perf_counter() - began:>6.0f}", flush=True)
    print("-" * len(header))
    base = profits["accept-all"]
    for label, values in profits.items():
        gains = [value - reference for value, reference in zip(values, base, strict=True)]
        print(f"{label:<42} profit vs accept-all: mean {statistics.fmean(gains):+,.0f} "
              f"(min {min(gains):+,.0f}, max {max(gains):+,.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
