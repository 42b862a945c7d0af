"""KPIs are pure functions of the tables: checked on small hand-made tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ordercycle.reports.kpis import busy_hours, mean_inventory, staffed_hours
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import simulate


def events(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ("job_id", "order_id"):
        if column not in frame:
            frame[column] = pd.NA
    if "resource" not in frame:
        frame["resource"] = None
    frame["resource"] = frame["resource"].astype("string")
    if "step" not in frame:
        frame["step"] = "production"
    return frame


def test_mean_inventory_is_time_weighted_over_the_window():
    log = events([
        {"time": 0.0, "activity": "stock_initial", "quantity": 10.0},
        {"time": 2.0, "activity": "stock_issued", "quantity": 4.0},
        {"time": 6.0, "activity": "stock_received", "quantity": 8.0},
    ])
    # window [1, 9]: 10 for 1 day, 6 for 4 days, 14 for 3 days -> (10 + 24 + 42) / 8
    assert mean_inventory(log, 1.0, 9.0) == pytest.approx(76 / 8)
    assert mean_inventory(log.iloc[0:0], 0.0, 5.0) == 0.0


def test_staffed_hours_follow_the_plan_periods():
    plans = pd.DataFrame({
        "period_start": [0.0, 7.0, 0.0], "work_centre": ["a", "a", "b"],
        "machines": [2, 2, 1], "shifts": [1, 3, 2],
    })
    # a: days 3..7 at 2x1x8 = 64 h, days 7..10 at 2x3x8 = 144 h; b: 7 days x 16 h
    assert staffed_hours(plans, 3.0, 10.0) == {"a": pytest.approx(64 + 144), "b": pytest.approx(112)}


def test_busy_hours_count_operations_and_changeovers_from_the_window():
    log = events([
        {"time": 0.5, "activity": "operation_started", "job_id": 1, "resource": "a:0"},
        {"time": 0.75, "activity": "operation_completed", "job_id": 1, "resource": "a:0"},
        {"time": 1.0, "activity": "changeover_started", "job_id": 2, "resource": "a:1", "quantity": 2.0},
        {"time": 1.5, "activity": "operation_started", "job_id": 2, "resource": "a:1"},
        {"time": 2.0, "activity": "operation_completed", "job_id": 2, "resource": "a:1"},
    ])
    assert busy_hours(log, 1.0) == {"a": pytest.approx(2.0 + 12.0)}
    assert busy_hours(log, 0.0) == {"a": pytest.approx(6.0 + 2.0 + 12.0)}


def test_kpis_of_a_run_where_nothing_ships_are_defined():
    scenario = override(load("baseline"), horizon_days=20, warmup_days=2)
    tasks = scenario.task_hours.model_dump()
    scenario = override(scenario, task_hours={**tasks, "picking": 1e6})
    kpis = simulate(scenario, seed=0).kpis
    assert kpis["orders_delivered"] == 0
    assert math.isnan(kpis["on_time_delivery_rate"])
    assert kpis["revenue"] == 0
