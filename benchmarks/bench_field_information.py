"""Benchmark: what advance demand information from debriefed visits does to the plan.

Runs the built-in baseline (a simulated year by default) with routine debriefs under
several ways of passing what the visits hear to planning, everything else unchanged,
through the public API::

    s = override(load("baseline"), information={..., "field_requirements": {...}},
                 policies={"debrief": ..., "forecast": {"name": "field-informed", ...}})
    simulate(s, seed=seed)

and prints one row per configuration, each KPI the mean over the seeds (same seeds for
every row: common random numbers):

* ``forecast_mape`` / ``forecast_bias`` (KPIs of the planned figure, ``docs/kpis.md``);
* ``MTS MAPE``: the same MAPE over the make-to-stock products only (the figure that
  sets the stock targets), from the run's forecast table;
* ``reported_demand_share``: the share of demand the field reported ahead;
* ``stock_fill_rate``, ``mean_backorder_units``, ``mean_inventory_units``,
  ``on_time_delivery_rate`` and ``profit``: what the plan did to stock and service.

Run from the repository root::

    python benchmarks/bench_field_information.py [--seeds N] [--horizon DAYS] [--jobs N]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import simulate

INFORMED = {"name": "field-informed", "params": {"base": "moving-average", "base_params": {"window": 4}}}
def _heard(share: float, periods: int) -> dict[str, Any]:
    return {"share_heard": share, "periods_ahead": periods}


CONFIGURATIONS: list[tuple[str, str, dict[str, Any] | None, bool]] = [
    ("no debriefs (baseline)", "never", None, False),
    ("routine debriefs, nothing reaches planning", "routine", None, False),
    ("routine, field reports, plan ignores them", "routine", _heard(1.0, 1), False),
    ("routine, field-informed, heard 50 %, 1 period", "routine", _heard(0.5, 1), True),
    ("routine, field-informed, heard 100 %, 1 period", "routine", _heard(1.0, 1), True),
    ("routine, field-informed, heard 100 %, 2 periods", "routine", _heard(1.0, 2), True),
]
"""(label, debrief policy, information.field_requirements or None, field-informed forecast)."""
KPIS = ("forecast_mape", "forecast_bias", "reported_demand_share", "stock_fill_rate", "mean_backorder_units",
        "mean_inventory_units", "on_time_delivery_rate", "profit")


def run_one(index: int, seed: int, horizon: float) -> tuple[int, int, dict[str, float]]:
    """KPIs of configuration ``index`` with ``seed`` (and the make-to-stock MAPE)."""
    _, debrief, field, informed = CONFIGURATIONS[index]
    baseline = load("baseline")
    information = {**baseline.information.model_dump(), "field_requirements": field}
    policies: dict[str, Any] = {"debrief": {"name": debrief, "params": {}}}
    if informed:
        policies["forecast"] = INFORMED
    scenario = override(baseline, horizon_days=horizon, policies=policies, information=information)
    result = simulate(scenario, seed=seed)
    kpis = {name: float(result.kpis.get(name, 0.0)) for name in KPIS}
    stocked = {p.id for p in scenario.products if p.stocking == "make_to_stock"}
    rows = result.forecasts[(result.forecasts["period_start"] >= scenario.warmup_days)
                            & result.forecasts["product_id"].isin(stocked)
                            & (result.forecasts["actual_units"] > 0)]
    kpis["mts_mape"] = float(np.mean(100 * (rows["planned_units"] - rows["actual_units"]).abs()
                                     / rows["actual_units"]))
    return index, seed, kpis


def main() -> None:
    """Run every configuration on every seed and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--horizon", type=float, default=365.0)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    tasks = [(i, seed, args.horizon) for i in range(len(CONFIGURATIONS)) for seed in range(args.seeds)]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run_one, *zip(*tasks, strict=True)))
    else:
        results = [run_one(*task) for task in tasks]
    print(f"baseline, {args.horizon:g} days, seeds 0..{args.seeds - 1} (means)\n")
    print("| configuration | forecast_mape | MTS MAPE | forecast_bias | reported share | stock fill | "
          "mean back-orders | mean stock | on time | profit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for index, (label, *_) in enumerate(CONFIGURATIONS):
        runs = [k for i, _, k in sorted(results) if i == index]

        def mean(name: str, runs: list[dict[str, float]] = runs) -> float:
            return float(np.mean([k[name] for k in runs]))

        print(f"| {label} | {mean('forecast_mape'):.2f} | {mean('mts_mape'):.2f} "
              f"| {mean('forecast_bias'):+.3f} | {mean('reported_demand_share'):.3f} "
              f"| {mean('stock_fill_rate'):.3f} "
              f"| {mean('mean_backorder_units'):.1f} | {mean('mean_inventory_units'):,.0f} "
              f"| {mean('on_time_delivery_rate'):.3f} | {mean('profit'):,.0f} |")


if __name__ == "__main__":
    main()
