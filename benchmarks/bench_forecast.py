"""Benchmark: forecast accuracy of each forecast policy on the baseline demand.

Runs the built-in baseline (a simulated year, one seed) once per forecast policy,
everything else unchanged, through the public API::

    s = override(load("baseline"), policies={"forecast": {"name": NAME, "params": {...}}})
    simulate(s, seed=seed)

and prints one row per policy:

* ``forecast_mape`` and ``forecast_bias``: the run's KPIs, on the *planned* figure
  (after the forecast game for the game-playing policies; see ``docs/kpis.md``);
* ``stat MAPE`` and ``stat bias``: the same measures on the *statistical* figure,
  computed here with :mod:`ordercycle.reports.forecast_accuracy` from the run's
  forecast table (periods starting after the warm-up, periods with demand only for
  MAPE; bias relative to total demand, like the KPI);
* ``on_time_delivery_rate`` and ``profit``: what the plan did to service and cost;
* the wall time of the run.

Policies are run with their default parameters, plus a damped Holt and a consensus
on SES. With the same seed every run sees the same inquiries (common random
numbers), but planning changes what follows, so demand is not identical between
runs (lost quotes depend on promised lead times, which depend on load).

Run from the repository root::

    python benchmarks/bench_forecast.py [--seed S] [--horizon DAYS] [--only NAME ...] [--jobs N]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from ordercycle.reports.forecast_accuracy import bias, mape
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import simulate

CANDIDATES: list[tuple[str, str, dict[str, Any]]] = [
    ("moving-average (baseline)", "moving-average", {}),
    ("naive", "naive", {}),
    ("seasonal-naive", "seasonal-naive", {}),
    ("mean", "mean", {}),
    ("ses", "ses", {}),
    ("holt", "holt", {}),
    ("holt damped", "holt", {"damped": True}),
    ("holt-winters", "holt-winters", {}),
    ("croston", "croston", {}),
    ("sba", "sba", {}),
    ("consensus (moving-average)", "consensus", {}),
    ("consensus (ses)", "consensus", {"base": "ses"}),
]
"""(label, registered name, parameters) of every run."""


def run_one(label: str, name: str, params: dict[str, Any], seed: int,
            horizon: float | None) -> dict[str, Any]:
    """Simulate the baseline with one forecast policy; return its row of the table."""
    scenario = load("baseline")
    changes: dict[str, Any] = {"policies": {"forecast": {"name": name, "params": params}}}
    if horizon is not None:
        changes["horizon_days"] = horizon
    scenario = override(scenario, **changes)
    started = time.perf_counter()
    result = simulate(scenario, seed=seed)
    seconds = time.perf_counter() - started
    forecasts = result.forecasts[result.forecasts["period_start"] >= scenario.warmup_days]
    actual = forecasts["actual_units"].to_numpy(dtype=float)
    statistical = forecasts["statistical_units"].to_numpy(dtype=float)
    with_demand = actual > 0
    kpis = result.kpis
    return {
        "label": label,
        "forecast_mape": kpis["forecast_mape"],
        "forecast_bias": kpis["forecast_bias"],
        "stat_mape": mape(actual[with_demand], statistical[with_demand]),
        "stat_bias": bias(actual, statistical) / float(np.mean(actual)),
        "on_time_delivery_rate": kpis["on_time_delivery_rate"],
        "profit": kpis["profit"],
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> None:
    """Run every candidate and print the table (Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--horizon", type=float, default=None, help="days (default: the scenario's year)")
    parser.add_argument("--only", nargs="*", default=None, help="labels or policy names to run")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (timings are noisier)")
    args = parser.parse_args(argv)
    chosen = [c for c in CANDIDATES if args.only is None or c[0] in args.only or c[1] in args.only]
    calls = [(label, name, params, args.seed, args.horizon) for label, name, params in chosen]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(run_one, *zip(*calls, strict=True)))
    else:
        rows = [run_one(*call) for call in calls]
    print(f"baseline, seed {args.seed}; MAPE in %, bias relative to total demand (+ = too high)\n")
    print("| forecast policy | forecast_mape | forecast_bias | stat MAPE | stat bias "
          "| on_time_delivery_rate | profit | run s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['label']} | {row['forecast_mape']:.1f} | {row['forecast_bias']:+.3f} "
              f"| {row['stat_mape']:.1f} | {row['stat_bias']:+.3f} | {row['on_time_delivery_rate']:.3f} "
              f"| {row['profit']:,.0f} | {row['seconds']:.1f} |")


if __name__ == "__main__":
    main()
