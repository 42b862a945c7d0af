"""Quote acceptance: calibrated on a 90-day simulated log, against the generating segments' logit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ordercycle.scenarios.loader import load, parse
from ordercycle.sim.run import simulate
from ordercycle.sim.steps.sales import acceptance_probability
from ordercycle.sim.twin.calibrate import calibrate
from ordercycle.sim.twin.validate import case_log_from_run

DAYS = 90.0


@pytest.fixture(scope="module")
def long_run():
    """Baseline (list-price policy, no debriefs) over 90 days, calibrated from its own log."""
    data = load("around-the-clock").model_dump(mode="json")
    data.update(horizon_days=DAYS, warmup_days=0.0, name="acceptance-truth")
    truth = parse(data)
    result = simulate(truth, seed=1)
    log = case_log_from_run(result.events, result.orders, pd.Timestamp("2026-01-01"), DAYS)
    fitted, record = calibrate(log, truth)
    return truth, log, fitted, record


def test_acceptance_rate_and_base_utility_recovered(long_run):
    truth, log, fitted, record = long_run
    products = {p.id: p for p in truth.products}
    answers = log.activity("quote_accepted", "quote_lost").drop_duplicates("case_id")
    fitted_segments = {s.id: s for s in fitted.segments}
    for segment in truth.segments:
        stats = record.statistics[f"segments.{segment.id}"]["quote_acceptance"]
        mine = answers[answers["case_id"].map(log.cases["segment"]) == segment.id]
        assert stats["quoted"] == len(mine) >= 500
        product_of = log.cases.loc[mine["case_id"], "product"]
        p = np.array([
            acceptance_probability(segment, products[k].list_price, products[k].list_price,
                                   products[k].standard_lead_days) for k in product_of
        ])
        # the observed rate is a mean of independent Bernoulli(p_i): its error is sqrt(sum p(1-p)) / n
        rate_se = math.sqrt(np.sum(p * (1 - p))) / len(p)
        assert abs(stats["rate"] - p.mean()) <= 3.5 * rate_se, (segment.id, stats["rate"], p.mean())
        # base_utility is the logit's intercept: its ML standard error is 1 / sqrt(sum p(1-p))
        utility_se = 1 / math.sqrt(np.sum(p * (1 - p)))
        assert abs(fitted_segments[segment.id].base_utility - segment.base_utility) <= 3.5 * utility_se
