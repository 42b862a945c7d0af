"""Advance demand information from the field: debriefed visits report the customer's
upcoming inquiries to planning, and the field-informed forecast uses them.

Every comparison runs the baseline company under common random numbers (same seed):
the arrivals are the same whatever the debriefs, so the differences are the mechanism's.
"""

from __future__ import annotations

import math
from typing import Annotated

import pandas as pd
import pytest
from pydantic import Field

from ordercycle.policies.aftersales import DebriefPolicy
from ordercycle.policies.contexts import DebriefContext, DebriefDecision, ForecastContext
from ordercycle.policies.field_informed import FieldInformed, unreported_history
from ordercycle.policies.forecasting import MovingAverageGame
from ordercycle.policies.registry import register, registry
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.invariants import check_run
from ordercycle.sim.run import simulate
from ordercycle.sim.steps.field_requirements import FieldRequirements

HORIZON, WARMUP, SEED = 112, 42, 0
"""16 weeks, the first 6 (the field's reports ramping up as installations begin) left out."""
SHORT = 56
"""Runs compared event by event: 8 weeks are enough."""
FIELD = {"share_heard": 1.0, "periods_ahead": 2}
FIELD_INFORMED = {"name": "field-informed",
                  "params": {"base": "moving-average", "base_params": {"window": 4}}}


class EveryThirdVisit(DebriefPolicy):
    """Test policy: debrief the visits whose ticket id is a multiple of three (a third of them)."""

    name = "every-third-visit"
    summary = "debrief every third visit (tests)"

    def __init__(self, every: Annotated[int, Field(ge=1, description="debrief one visit in this many")] = 3):
        self.every = every

    def debrief(self, context: DebriefContext) -> DebriefDecision:
        """Debrief when the ticket id is a multiple of ``every``."""
        return DebriefDecision(context.ticket_id % self.every == 0, f"ticket {context.ticket_id}")


def _run(field: bool, debrief: str, informed: bool, horizon: float = HORIZON, warmup: float = WARMUP):
    baseline = load("baseline")
    information = baseline.information.model_dump()
    if field:
        information["field_requirements"] = FIELD
    policies = {"debrief": {"name": debrief, "params": {}}}
    if informed:
        policies["forecast"] = FIELD_INFORMED
    scenario = override(baseline, horizon_days=horizon, warmup_days=warmup, policies=policies,
                        information=information)
    return simulate(scenario, seed=SEED)


@pytest.fixture(scope="module")
def runs():
    register(EveryThirdVisit)
    try:
        return {
            "off": _run(False, "routine", False),
            "on": _run(True, "routine", True),
            "a third debriefed": _run(True, "every-third-visit", True),
            "no debriefs, on": _run(True, "never", True),
        }
    finally:
        registry()["debrief"].pop("every-third-visit")


@pytest.fixture(scope="module")
def short_runs():
    return {
        "off": _run(False, "routine", False, SHORT, 14),
        "heard, unused": _run(True, "routine", False, SHORT, 14),
        "no debriefs, on": _run(True, "never", True, SHORT, 14),
        "no debriefs, off": _run(False, "never", False, SHORT, 14),
    }


# --- the combining rule, by hand ------------------------------------------------------------


def test_the_combining_rule_against_hand_computed_figures():
    # demand 100, 120, 80, 100; reported ahead 0, 30, 20, 40 (the first report in period 2)
    context = ForecastContext("pump", 28.0, 7.0, (100.0, 120.0, 80.0, 100.0), 0.2, 0.15, (),
                              reported_units=45.0, reported_history=(0.0, 30.0, 20.0, 40.0))
    forecast = FieldInformed("moving-average", {"window": 4}).forecast(context)
    # unreported demand from the first report on: 90, 60, 60 -> mean 70; plus the 45 reported
    assert forecast.statistical_units == pytest.approx(45 + 70)
    assert forecast.marketing_units == pytest.approx(45 + 70 * 1.2)  # the game plays on the 70 only
    assert forecast.planned_units == pytest.approx(45 + 70 * 1.2 * 0.85)
    assert unreported_history((5.0, 3.0), (9.0, 2.0)) == (0.0, 1.0)  # reports above demand: 0
    # a shorter reported history is aligned with the end of the demand history
    assert unreported_history((50.0, 100.0, 120.0), (0.0, 30.0)) == (90.0,)


def test_with_nothing_reported_the_figures_are_the_base_methods_exactly():
    context = ForecastContext("valve", 35.0, 7.0, (100.0, 120.0, 80.0, 100.0, 110.0), 0.2, 0.15,
                              reported_units=0.0, reported_history=(0.0,) * 5)
    informed, base = FieldInformed("moving-average", {"window": 3}).forecast(context), \
        MovingAverageGame(window=3).forecast(context)
    assert (informed.statistical_units, informed.marketing_units, informed.planned_units) == (
        base.statistical_units, base.marketing_units, base.planned_units)


# --- the simulation -----------------------------------------------------------------------------


def test_what_the_field_hears_is_the_demand_the_model_generates(runs):
    """The field's second pass over the arrival streams draws exactly the model's inquiries."""
    model = runs["on"].model
    ahead = FieldRequirements(model)  # a fresh pass over the same seeds
    for segment_id, segment in ahead._segments.items():
        segment.draw_until(math.inf)
        seen = [(i.time, i.customer_id, i.lines) for i in segment.upcoming]
        generated = [(o.inquiry_time, o.customer_id, [(line.product_id, line.quantity) for line in o.lines])
                     for o in model.orders if o.segment == segment_id]
        assert seen == generated, segment_id
    assert any(len(lines) > 1 for _, _, lines in seen), "the baseline's orders have several lines"


def test_the_field_informed_forecast_has_a_lower_error(runs):
    off, on = runs["off"].kpis, runs["on"].kpis
    assert on["inquiries"] == off["inquiries"]  # common random numbers: the same demand
    assert on["reported_demand_share"] > 0.3
    assert on["forecast_mape"] < 0.85 * off["forecast_mape"], (on["forecast_mape"], off["forecast_mape"])
    assert abs(on["forecast_bias"]) < 0.05


def test_more_debriefs_report_more_demand(runs):
    levels = ("no debriefs, on", "a third debriefed", "on")
    debriefs = [int((runs[label].events["activity"] == "debrief_held").sum()) for label in levels]
    assert debriefs[0] == 0 and debriefs[0] < debriefs[1] < debriefs[2], debriefs
    shares = [runs[label].kpis["reported_demand_share"] for label in levels]
    assert shares[0] == 0.0 and shares[0] < shares[1] < shares[2], shares
    # and a better-informed plan: the forecast error falls with the information
    mape = [runs[label].kpis["forecast_mape"] for label in levels]
    assert mape[0] > mape[1] > mape[2], mape


def test_without_debriefs_the_run_is_the_run_without_the_mechanism(short_runs):
    on, off = short_runs["no debriefs, on"], short_runs["no debriefs, off"]
    pd.testing.assert_frame_equal(on.events, off.events)
    pd.testing.assert_frame_equal(on.forecasts.drop(columns="reported_units"), off.forecasts)
    assert (on.forecasts["reported_units"] == 0).all()
    assert {k: v for k, v in on.kpis.items() if k != "reported_demand_share"} == off.kpis


def test_reports_a_forecast_policy_ignores_change_nothing_but_the_log(short_runs):
    heard, off = short_runs["heard, unused"], short_runs["off"]
    events = heard.events[heard.events["activity"] != "requirements_reported"].reset_index(drop=True)
    pd.testing.assert_frame_equal(events, off.events)
    assert heard.kpis["reported_demand_share"] > 0.2
    assert {k: v for k, v in heard.kpis.items() if k != "reported_demand_share"} == off.kpis


def test_every_report_follows_a_debrief_and_the_invariants_hold(runs):
    assert check_run(runs["on"]) == []
    for label in ("on", "a third debriefed"):
        result = runs[label]
        events = result.events
        reports = events[events["activity"] == "requirements_reported"]
        debriefs = events[events["activity"] == "debrief_held"]
        assert len(reports) > 0
        held = set(zip(debriefs["ticket_id"], debriefs["time"], strict=True))
        assert set(zip(reports["ticket_id"], reports["time"], strict=True)) <= held
        # every unit planning saw as reported was reported by a visit before its period
        assert reports["quantity"].sum() >= result.forecasts["reported_units"].sum() > 0
