"""The keynote suite's stopping rule and equivalence margins, on synthetic replication tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ordercycle.reports.keynotes import KeynoteFile, claim_verdict, evaluate, load_keynote, open_checks
from ordercycle.reports.stopping import (
    RELATIVE_MARGIN,
    claim_reason,
    default_margin,
    looks,
    replications_needed,
    within_margin,
)

COST = 1_000_000.0


def _table(effect: float, noise: float, reps: int = 30, cost_effect: float = 0.0,
           seed: int = 3) -> pd.DataFrame:
    """Sets A and B over ``reps`` replications: a common part per replication (common random
    numbers), B's on-time delivery shifted by ``effect`` and its cost by ``cost_effect``, each set
    with its own noise of standard deviation ``noise`` (points of on-time / 1 % of cost)."""
    rng = np.random.default_rng(seed)
    common_on_time = rng.normal(0.93, 0.02, reps)
    common_cost = rng.normal(COST, 40_000, reps)
    rows = []
    for name, shift, cost_shift in (("A", 0.0, 0.0), ("B", effect, cost_effect)):
        for r in range(reps):
            rows.append({
                "set": name, "replication": r, "seed": 0, "warmup_days": 0.0,
                "on_time_delivery_rate": common_on_time[r] + shift + rng.normal(0, noise / 100),
                "operating_cost": common_cost[r] + cost_shift + rng.normal(0, noise * COST / 100),
            })
    return pd.DataFrame(rows)


def _keynote(**check) -> KeynoteFile:
    return KeynoteFile.model_validate({
        "id": "K1", "claim": "B beats A", "horizon_days": 30, "warmup_days": 5, "reference": "A",
        "sets": {"A": {}, "B": {"forecast": "consensus"}},
        "checks": [{"set": "B", "against": "A", "kpi": "on_time_delivery_rate", **check}],
    })


def _first(table: pd.DataFrame, n: int) -> pd.DataFrame:
    return table[table["replication"] < n]


def _stop(keynote: KeynoteFile, table: pd.DataFrame, start: int, step: int, cap: int) -> int:
    """The replication count the rule stops at, looking at the table's first n replications."""
    for n in looks(start, step, cap):
        if not open_checks(keynote, _first(table, n), 0.95):
            return n
    return cap


def test_default_margins_are_one_point_for_shares_and_two_percent_of_the_reference_otherwise():
    assert default_margin("on_time_delivery_rate", 0.9) == 0.01
    assert default_margin("utilization.assembly", 0.5) == 0.01
    assert default_margin("forecast_mape", 11.0) == 1.0
    assert default_margin("operating_cost", -4e6) == pytest.approx(RELATIVE_MARGIN * 4e6)
    assert default_margin("orders_received", 8_450) == pytest.approx(169)
    assert default_margin("mean_refund_days", 6.0) == pytest.approx(0.12)


def test_the_interval_must_lie_wholly_inside_the_margin():
    assert within_margin(-0.004, 0.009, 0.01)
    assert not within_margin(-0.004, 0.011, 0.01)
    assert within_margin(0.0, 0.0, 0.0)  # identical runs: inside any margin
    assert not within_margin(math.nan, 0.0, 0.01)


def test_a_clear_effect_is_decided_at_the_first_look():
    table = _table(effect=0.05, noise=0.3)
    row = evaluate(_keynote(), _first(table, 5), 0.95).iloc[0]
    assert row["verdict"] == "supported" and bool(row["decided"]) and not bool(row["within_margin"])
    assert row["reason"] == "the interval excludes zero"
    assert _stop(_keynote(), table, 5, 5, 20) == 5


def test_a_difference_inside_the_margin_is_no_practical_difference_and_stops_the_rule():
    table = _table(effect=0.0005, noise=0.2)
    checks = evaluate(_keynote(), _first(table, 5), 0.95)
    row = checks.iloc[0]
    assert row["verdict"] == "inconclusive" and bool(row["within_margin"]) and bool(row["decided"])
    assert row["reason"] == "no practical difference: within ±1.0 points"
    assert claim_verdict(list(checks["verdict"])) == "inconclusive"  # not a new verdict word
    assert claim_reason(checks, "inconclusive") == "no practical difference on any check"
    assert _stop(_keynote(), table, 5, 5, 20) == 5


def test_an_undecided_check_adds_replications_until_it_is_decided():
    """A 1.2-point effect with 1-point noise per set: undecided at 5, decided before the cap of 30."""
    table = _table(effect=0.012, noise=1.0, seed=7)
    assert open_checks(_keynote(), _first(table, 5), 0.95) == ["B − A: on_time_delivery_rate"]
    stop = _stop(_keynote(), table, 5, 5, 30)
    assert 5 < stop <= 30 and (stop - 5) % 5 == 0
    assert not open_checks(_keynote(), _first(table, stop), 0.95)
    assert open_checks(_keynote(), _first(table, stop - 5), 0.95)  # the look before was still open


def test_the_rule_stops_at_the_cap_and_says_how_many_replications_would_decide():
    table = _table(effect=0.01, noise=3.0)
    assert _stop(_keynote(), table, 5, 5, 15) == 15
    row = evaluate(_keynote(), _first(table, 15), 0.95).iloc[0]
    assert not bool(row["decided"]) and row["reason"].endswith(": undecided")
    needed = int(row["replications_needed"])
    assert needed > 15
    # at the present mean and spread, `needed` replications give a half-width below the room left
    room = max(abs(row["diff_mean"]), 0.01 - abs(row["diff_mean"]))
    half = stats.t.ppf(0.975, needed - 1) * row["std"] / math.sqrt(needed)
    assert half < room <= stats.t.ppf(0.975, needed - 2) * row["std"] / math.sqrt(needed - 1)


def test_the_margin_override_decides_in_the_kpis_units():
    table = _first(_table(effect=0.002, noise=0.6), 8)
    default = evaluate(_keynote(), table, 0.95).iloc[0]
    wide = evaluate(_keynote(margin=0.05), table, 0.95).iloc[0]
    none = evaluate(_keynote(margin=0.0), table, 0.95).iloc[0]
    assert default["margin"] == 0.01 and default["margin_source"] == "±1 point"
    assert wide["margin"] == 0.05 and wide["margin_source"] == "file" and bool(wide["within_margin"])
    assert wide["reason"] == "no practical difference: within ±5.0 points"
    assert not bool(none["within_margin"])
    assert default["diff_ci_low"] == wide["diff_ci_low"]  # the margin never moves the interval


def test_money_margins_follow_the_against_sets_mean():
    keynote = KeynoteFile.model_validate({
        "id": "K1", "claim": "B costs less", "horizon_days": 30, "warmup_days": 5, "reference": "A",
        "sets": {"A": {}, "B": {}}, "checks": [{"set": "B", "against": "A", "kpi": "operating_cost"}],
    })
    row = evaluate(keynote, _first(_table(0.0, 0.1, cost_effect=1_000.0), 5), 0.95).iloc[0]
    assert row["margin"] == pytest.approx(RELATIVE_MARGIN * row["against_mean"])
    assert row["margin_source"] == "±2 % of the reference mean"
    assert bool(row["within_margin"]) and row["verdict"] != "contradicted"


def test_a_margin_in_the_keynote_file_is_validated(tmp_path):
    good = tmp_path / "K1.yaml"
    text = ("id: K1\nclaim: x\nhorizon_days: 30\nwarmup_days: 5\nsets: {A: {}, B: {}}\n"
            "checks:\n  - {set: B, against: A, kpi: on_time_delivery_rate, margin: MARGIN}\n")
    good.write_text(text.replace("MARGIN", "0.005"))
    assert load_keynote(good).checks[0].margin == 0.005
    bad = tmp_path / "K2.yaml"
    bad.write_text(text.replace("MARGIN", "-1"))
    with pytest.raises(Exception, match=r"checks\.0\.margin"):
        load_keynote(bad)


def test_looks_step_up_to_the_cap():
    assert looks(5, 5, 15) == [5, 10, 15]
    assert looks(5, 4, 15) == [5, 9, 13, 15]
    assert looks(5, 5, 5) == [5]


def test_replications_needed_is_the_smallest_n_that_decides():
    assert replications_needed(1.0, 2.0, 0.0, 0.95) == next(
        n for n in range(2, 100) if stats.t.ppf(0.975, n - 1) * 2.0 / math.sqrt(n) < 1.0)
    assert replications_needed(0.0, 0.0, 0.1, 0.95) is None  # no spread: nothing to project
    assert replications_needed(0.0, 1.0, 0.0, 0.95) > 1000  # zero effect, zero margin: never
