"""The forecast game as a mechanism: marketing's and production's figures drive different decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ordercycle.reports.kpis import plan_nervousness
from ordercycle.scenarios.loader import override
from ordercycle.sim.run import simulate


def _planning(scenario, **changes):
    return override(scenario, planning={**scenario.planning.model_dump(), **changes})


@pytest.fixture(scope="module")
def by_figure(plain_short):
    """The 60-day baseline (inflation 20 %, discount 15 %) with stock targets set by each figure."""
    return {figure: simulate(_planning(plain_short, stock_targets_from=figure), seed=3)
            for figure in ("production", "marketing")}


def test_production_figures_are_the_default_and_keep_old_scenarios_unchanged(plain_short, by_figure):
    dumped = plain_short.model_dump(mode="json")["planning"]
    assert "stock_targets_from" not in dumped and "capacity_from" not in dumped  # content hashes kept
    assert simulate(plain_short, seed=3).events.equals(by_figure["production"].events)


def test_stock_targets_follow_the_named_figure(by_figure):
    for figure, run in by_figure.items():
        planning = run.scenario.planning
        last = run.forecasts.sort_values("period").groupby("product_id").last()
        for product in run.scenario.products:
            if product.stocking != "make_to_stock":
                continue
            units = last.loc[product.id, f"{figure}_units" if figure == "marketing" else "planned_units"]
            expected = round(units / planning.period_days * planning.stock_cover_days)
            assert run.model.stock_target[product.id] == expected, (figure, product.id)


def test_marketing_targets_hold_more_stock_when_marketing_inflates(by_figure):
    inflated, planned = by_figure["marketing"].kpis, by_figure["production"].kpis
    # marketing's figure is 1 / (1 − discount) = 1.18 times production's: the targets, and
    # (after the initial stock is worked off) the stock held, are larger
    assert inflated["mean_inventory_units"] > 1.05 * planned["mean_inventory_units"]
    assert inflated["holding_cost"] > planned["holding_cost"]


def test_without_a_game_the_figures_coincide_and_so_do_the_runs(plain_short):
    honest = _planning(plain_short, marketing_inflation=0.0, production_discount=0.0)
    runs = [simulate(_planning(honest, stock_targets_from=f, capacity_from=f), seed=4)
            for f in ("production", "marketing")]
    pd.testing.assert_frame_equal(runs[0].events, runs[1].events)


def test_capacity_is_planned_for_the_named_figure(plain_short):
    run = simulate(_planning(plain_short, capacity_from="marketing"), seed=5)
    forecasts, plans = run.forecasts, run.plans
    period = int(plans["period"].max())
    figures = forecasts[forecasts["period"] == period].set_index("product_id")["marketing_units"]
    for centre in run.scenario.work_centres:
        load = sum(figures[p.id] * op.hours_per_unit.mean
                   for p in run.scenario.products for op in p.routing if op.work_centre == centre.id)
        row = plans[(plans["period"] == period) & (plans["work_centre"] == centre.id)]
        assert float(row["planned_load_hours"].iloc[0]) == pytest.approx(load)
    # production staffs for the larger (marketing) figure: at least as many shifts as for its own
    own = simulate(plain_short, seed=5).plans
    assert plans[plans["period"] >= 1]["shifts"].sum() >= own[own["period"] >= 1]["shifts"].sum()


def test_plan_nervousness_is_the_mean_relative_change_of_the_plan(by_figure):
    run = by_figure["production"]
    warmup = run.scenario.warmup_days
    changes = []
    for _, rows in run.forecasts.sort_values("period").groupby("product_id"):
        planned = rows["planned_units"].to_numpy()
        starts = rows["period_start"].to_numpy()
        changes += [abs(planned[i] - planned[i - 1]) / planned[i - 1]
                    for i in range(1, len(rows)) if starts[i] >= warmup and planned[i - 1] > 0]
    assert run.kpis["plan_nervousness"] == pytest.approx(np.mean(changes))
    assert 0 < run.kpis["plan_nervousness"] < 1
    steady = pd.DataFrame({"product_id": ["a"] * 4, "period": [1, 2, 3, 4], "period_start": [7.0, 14, 21, 28],
                           "planned_units": [10.0, 10.0, 10.0, 10.0]})
    assert plan_nervousness(steady, 0.0) == 0.0
    jumpy = steady.assign(planned_units=[10.0, 20.0, 10.0, 20.0])
    assert plan_nervousness(jumpy, 0.0) == pytest.approx((1.0 + 0.5 + 1.0) / 3)
