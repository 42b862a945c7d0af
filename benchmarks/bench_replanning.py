"""Benchmark: CP-SAT re-planning against the best dispatching rule on the baseline.

First screens every priority rule × dispatch policy on the baseline (``--days``,
default 120) and keeps the one with the least weighted tardiness; then runs the
same scenario with the ``cpsat`` schedule policy on top of that rule (jobs released
between re-plans are queued by it), once with the rule's dispatch policy and once with
``priority-first`` (machines follow the plan). Prints per run, summed over the seeds:

* weighted tardiness: Σ customer importance × days late over the accepted orders
  whose inquiry arrived after the warm-up (delivered late, or still undelivered past
  the promise at the horizon, counted to the horizon);
* changeovers and changeover machine-hours, plan changes (KPI), moved jobs;
* on-time delivery rate (mean over seeds);
* solver wall time per re-plan (mean and max, seconds).

``--load`` multiplies every segment's arrival rate (the baseline is lightly loaded;
1.2–1.3 makes the queues long enough for sequencing to matter). Run from the
repository root::

    python benchmarks/bench_replanning.py [--days 120] [--seeds 0 1] [--load 1.0] [--replan-days 1 3.5 7]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from typing import Any

from ordercycle.scenarios.loader import load, override
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.run import RunResult, simulate

PRIORITIES = ("fifo", "edd", "min-slack", "critical-ratio", "wspt", "atc", "importance-capacity")
DISPATCHES = ("priority-first", "setup-aware")


def weighted_tardiness(result: RunResult) -> float:
    """Σ importance × days late over the orders of the KPI cohort (see the module docstring)."""
    scenario = result.scenario
    orders = result.orders
    orders = orders[(orders["inquiry_time"] >= scenario.warmup_days)
                    & orders["final_state"].isin(["delivered", "returned", "open"])]  # accepted orders
    finished = orders["delivered_time"].fillna(scenario.horizon_days)
    late = (finished - orders["promised_date"]).clip(lower=0).fillna(0.0)
    return float((orders["importance"] * late).sum())


def measure(result: RunResult) -> dict[str, Any]:
    """The benchmark's figures of one run."""
    events = result.events
    window = events[events["time"] >= result.scenario.warmup_days]
    changeovers = window[window["activity"] == "changeover_started"]
    moved = window[window["activity"] == "plan_changed"]["quantity"]
    return {
        "weighted_tardiness": weighted_tardiness(result),
        "changeovers": len(changeovers),
        "changeover_hours": float(changeovers["quantity"].sum()),
        "plan_changes": int(result.kpis["plan_changes"]),
        "moved_jobs": int(moved.sum()),
        "on_time": float(result.kpis["on_time_delivery_rate"]),
        "replan_seconds": list(result.model.replan_seconds),
    }


def run(scenario: Scenario, seeds: list[int], policies: dict[str, Any]) -> dict[str, Any]:
    """Figures summed (rates averaged) over ``seeds``, and the wall time of the runs."""
    began = time.perf_counter()
    rows = [measure(simulate(override(scenario, policies=policies), seed=seed)) for seed in seeds]
    total = {key: sum(row[key] for row in rows) for key in
             ("weighted_tardiness", "changeovers", "changeover_hours", "plan_changes", "moved_jobs")}
    total["on_time"] = statistics.fmean(row["on_time"] for row in rows)
    total["replan_seconds"] = [s for row in rows for s in row["replan_seconds"]]
    total["wall"] = time.perf_counter() - began
    return total


def line(label: str, figures: dict[str, Any]) -> str:
    """One printed row."""
    seconds = figures["replan_seconds"]
    per_replan = (f"{statistics.fmean(seconds):8.3f} {max(seconds):7.3f} {len(seconds):5d}"
                  if seconds else f"{'-':>8} {'-':>7} {0:5d}")
    return (f"{label:<44} {figures['weighted_tardiness']:10.1f} {figures['changeovers']:6d} "
            f"{figures['changeover_hours']:8.1f} {figures['plan_changes']:6d} {figures['moved_jobs']:6d} "
            f"{figures['on_time']:7.3f} {per_replan} {figures['wall']:7.1f}")


def main(argv: list[str] | None = None) -> int:
    """Screen the dispatching rules, then re-plan with CP-SAT on top of the best one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=120.0, help="horizon, days (default 120)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (default 0)")
    parser.add_argument("--load", type=float, default=1.0, help="arrival-rate multiplier (default 1)")
    parser.add_argument("--replan-days", type=float, nargs="+", default=[None],
                        help="days between re-plans, one pair of CP-SAT runs per value (default: the period)")
    parser.add_argument("--time-limit", type=float, default=5.0, help="cpsat time_limit_seconds (default 5)")
    parser.add_argument("--deterministic-time", type=float, default=0.1,
                        help="cpsat deterministic_time per centre (default 0.1)")
    args = parser.parse_args(argv)

    scenario = override(load("baseline"), horizon_days=args.days, warmup_days=min(14.0, args.days / 4))
    if args.load != 1.0:
        segments = [segment.model_dump() for segment in scenario.segments]
        for segment in segments:
            segment["arrivals"]["rate_per_day"] *= args.load
        scenario = override(scenario, segments=segments)

    print(f"baseline, {args.days:g} days, load ×{args.load:g}, seeds {args.seeds}; figures summed over seeds")
    header = (f"{'policies':<44} {'w.tardy':>10} {'chgov':>6} {'chg h':>8} {'plan':>6} {'moved':>6} "
              f"{'on-time':>7} {'s/replan':>8} {'max s':>7} {'plans':>5} {'wall s':>7}")
    print(header)
    print("-" * len(header))
    screened = {}
    for priority, dispatch in itertools.product(PRIORITIES, DISPATCHES):
        figures = run(scenario, args.seeds, {"priority": priority, "dispatch": dispatch})
        screened[priority, dispatch] = figures
        print(line(f"{priority} + {dispatch}", figures), flush=True)
    best = min(screened, key=lambda pair: screened[pair]["weighted_tardiness"])
    print("-" * len(header))
    print(line(f"best rule: {best[0]} + {best[1]}", screened[best]))
    cpsat = {"name": "cpsat", "params": {"time_limit_seconds": args.time_limit,
                                         "deterministic_time": args.deterministic_time}}
    for every in args.replan_days:
        planned = scenario
        if every is not None:
            planned = override(scenario, planning={**scenario.planning.model_dump(), "replan_days": every})
        label = "cpsat" if every is None else f"cpsat every {every:g} d"
        for dispatch in dict.fromkeys([best[1], "priority-first"]):
            figures = run(planned, args.seeds, {"priority": best[0], "dispatch": dispatch, "schedule": cpsat})
            print(line(f"{label} + {best[0]} + {dispatch}", figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
