"""The model's own objects make no cyclic garbage: reference counting frees them all.

``CompanyModel.run`` raises the collector's first threshold to 500,000 (``relaxed_gc``),
so a baseline year runs without a single collection. That costs no memory only while the
steps free everything by reference counting; a step that starts making reference cycles
would grow memory between collections, and this test names it. The policy sets cover
every built-in policy kind with a non-default choice, the CP-SAT optimisers included, and
prepayment terms (a shipment waiting for its payment waits on an event of its order).
"""

from __future__ import annotations

import gc

import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.model import CompanyModel

POLICY_SETS = {
    "baseline": {},
    "senior, time-dependent, consulting": {
        "selection": {"name": "capacity-aware"}, "priority": {"name": "atc"},
        "dispatch": {"name": "setup-aware"}, "expedite": {"name": "always"},
        "billing": {"name": "consult-shipping-sales"}, "returns": {"name": "ad-hoc"},
        "debrief": {"name": "routine"}, "pricing": {"name": "informed-sales"},
        "forecast": {"name": "holt-winters", "params": {"season_length": 4}},
    },
    "optimisers": {
        "selection": {"name": "cpsat-acceptance", "params": {"time_limit_seconds": 0.2}},
        "schedule": {"name": "cpsat", "params": {"time_limit_seconds": 0.5}},
        "forecast": {"name": "holt-winters", "params": {"season_length": 4}},
    },
    "capable-to-promise, strategic": {
        "selection": {"name": "strategic"}, "pricing": {"name": "capable-to-promise"},
        "priority": {"name": "critical-ratio"}, "returns": {"name": "within-window"},
    },
    "prepayment, by customer": {"fulfilment": {"name": "by-customer"}},
}
PREPAYMENT = {"prepayment, by customer": {
    "regular": {"share": 0.5, "delay_days": 3.0, "cancel_after_days": 10.0},
    "strategic": {"share": 0.5, "delay_days": {"dist": "exponential", "mean": 4.0}, "blocks": "shipment"}}}
"""Policy sets run with prepayment terms in some segments (whose release, or shipments, wait)."""


@pytest.mark.parametrize("name", sorted(POLICY_SETS))
def test_a_run_leaves_nothing_for_the_cyclic_collector(name: str) -> None:
    scenario = override(load("baseline"), horizon_days=40.0, warmup_days=0.0,
                        policies=POLICY_SETS[name])
    if name in PREPAYMENT:
        segments = [{**s, "prepayment": PREPAYMENT[name].get(s["id"]),
                     "accepts_partial_deliveries": s["id"] != "strategic"}
                    for s in scenario.model_dump(mode="json")["segments"]]
        scenario = override(scenario, segments=segments)
    model = CompanyModel(scenario, seed=1)
    model.start()
    gc.collect()
    gc.freeze()  # what exists now (say, an earlier test's model pytest still holds) is not counted
    try:
        model.run()
        unreachable = gc.collect()  # the model is still alive: only garbage the run made is found
    finally:
        gc.unfreeze()
    assert len(model.orders) > 1000
    assert unreachable == 0, f"{name}: the run left {unreachable} objects in reference cycles"
