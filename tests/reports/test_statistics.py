"""Statistics of experiments on inputs whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ordercycle.reports.statistics import (
    mser5,
    needs_more,
    paired_difference,
    rank_sets,
    summarise,
    t_interval,
    warmup_series,
)


def test_t_interval_matches_the_textbook_formula():
    values = [2.0, 4.0, 6.0, 8.0]
    interval = t_interval(values, 0.95)
    std = float(np.std(values, ddof=1))
    expected = stats.t.ppf(0.975, 3) * std / 2
    assert interval.mean == 5.0
    assert interval.half_width == pytest.approx(expected)
    assert (interval.low, interval.high) == pytest.approx((5 - expected, 5 + expected))


def test_t_interval_of_one_value_has_no_width_and_nans_are_dropped():
    assert math.isnan(t_interval([3.0], 0.95).half_width)
    assert t_interval([1.0, math.nan, 3.0], 0.9).n == 2


def test_paired_difference_agrees_with_scipys_paired_t_test():
    rng = np.random.default_rng(1)
    common = rng.normal(100, 10, 12)
    a = common + rng.normal(1.0, 1.0, 12)
    b = common
    diff = paired_difference(a, b, 0.95)
    assert diff.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert diff.interval.mean == pytest.approx(float(np.mean(a - b)))
    # pairing removes the common noise: the interval is far narrower than the spread of either set
    assert diff.interval.half_width < 0.2 * t_interval(a, 0.95).half_width
    assert diff.excludes_zero()


def test_identical_columns_have_a_zero_difference_that_is_not_significant():
    diff = paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 0.95)
    assert diff.interval.mean == 0 and diff.p_value == 1.0 and not diff.excludes_zero()


def _replications(columns: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    rows = []
    for name, kpis in columns.items():
        for r in range(len(next(iter(kpis.values())))):
            rows.append({"set": name, "replication": r, **{k: v[r] for k, v in kpis.items()}})
    return pd.DataFrame(rows)


def test_summary_has_paired_differences_to_the_reference_only():
    table = _replications({"A": {"profit": [10.0, 12.0, 11.0]}, "B": {"profit": [13.0, 15.0, 14.5]}})
    summary = summarise(table, "A", 0.95)
    a = summary[summary["set"] == "A"].iloc[0]
    b = summary[summary["set"] == "B"].iloc[0]
    assert math.isnan(a["diff_mean"]) and math.isnan(a["p_value"])
    assert b["diff_mean"] == pytest.approx(3.1666667)
    assert b["diff_ci_low"] > 0  # B beats A in every pair
    assert a["n"] == 3 and a["mean"] == pytest.approx(11.0)


def test_ranking_clear_win_tie_and_infeasible_set():
    table = _replications({
        "A": {"profit": [10.0, 12.0, 11.0, 13.0], "on_time": [0.99, 0.98, 0.99, 0.97]},
        "B": {"profit": [20.0, 22.0, 21.0, 23.5], "on_time": [0.96, 0.97, 0.95, 0.96]},
        "C": {"profit": [10.2, 11.9, 11.1, 12.8], "on_time": [0.99, 0.99, 0.98, 0.99]},
        "D": {"profit": [99.0, 98.0, 97.0, 99.0], "on_time": [0.5, 0.4, 0.6, 0.5]},
    })
    ranking = rank_sets(table, {"profit": 1.0}, [("on_time", 0.95, None)], 0.95)
    assert list(ranking["set"]) == ["B", "A", "C", "D"]
    assert list(ranking["rank"]) == [1, 2, 3, 4]
    groups = dict(zip(ranking["set"], ranking["group"], strict=True))
    assert groups["B"] != groups["A"]  # a clear win
    assert groups["A"] == groups["C"]  # cannot be told apart
    assert groups["D"] not in (groups["A"], groups["B"])  # infeasible: ranked last, alone
    assert ranking.set_index("set").loc["D", "violated"] == "on_time"


def test_mser5_finds_a_known_transient():
    rng = np.random.default_rng(7)
    transient = np.linspace(50, 10, 100)
    steady = 10 + rng.normal(0, 1, 900)
    series = np.concatenate([transient + rng.normal(0, 1, 100), steady])
    cut = mser5(series)
    assert 60 <= cut <= 150
    # a stationary series needs (almost) no truncation
    assert mser5(10 + rng.normal(0, 1, 1000)) <= 100
    # too short to judge
    assert mser5([1.0, 2.0, 3.0]) == 0


def test_needs_more_lists_the_pairs_above_the_target():
    summary = pd.DataFrame([
        {"set": "A", "kpi": "profit", "n": 5, "mean": 100.0, "std": 1.0, "half_width": 1.0},
        {"set": "B", "kpi": "profit", "n": 5, "mean": 100.0, "std": 10.0, "half_width": 10.0},
        {"set": "B", "kpi": "other", "n": 5, "mean": 1.0, "std": 10.0, "half_width": 10.0},
        {"set": "C", "kpi": "profit", "n": 1, "mean": 100.0, "std": math.nan, "half_width": math.nan},
    ])
    assert needs_more(summary, ["profit"], 0.05) == ["B:profit", "C:profit"]


def test_warmup_series_counts_orders_in_process_and_daily_lead_times():
    orders = pd.DataFrame({
        "entered_time": [0.5, 1.5, 2.5, math.nan],
        "decision_time": [0.6, 1.6, 2.6, math.nan],
        "delivered_time": [3.5, math.nan, 2.9, math.nan],
        "final_state": ["delivered", "rejected", "delivered", "lost_quote"],
    })
    series = warmup_series(orders, 5)
    # end of day 1: order 0 in process; day 2: order 1 was rejected at 1.6; day 3: order 2 delivered at 2.9
    assert list(series["work_in_process"]) == [1, 1, 1, 0, 0]
    assert series["lead_time_days"].tolist() == pytest.approx([0, 0, 0.4, 3.0, 3.0])
