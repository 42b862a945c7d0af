"""Returns procedures and service debriefs change what the model does, as documented."""

from __future__ import annotations

import pytest

from ordercycle.policies.aftersales import WithinWindow
from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.registry import register, registry
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.run import simulate
from ordercycle.sim.steps.sales import acceptance_probability


@pytest.fixture(scope="module")
def base():
    return override(load("baseline"), horizon_days=150, warmup_days=14)


def test_a_defined_returns_procedure_refunds_faster_than_ad_hoc(base):
    defined = simulate(override(base, policies={"returns": {"name": "within-window"}}), seed=2)
    ad_hoc = simulate(override(base, policies={"returns": {"name": "ad-hoc"}}), seed=2)
    assert defined.kpis["inquiries"] == ad_hoc.kpis["inquiries"]
    assert ad_hoc.kpis["mean_refund_days"] > defined.kpis["mean_refund_days"] + 5
    handled_by = set(ad_hoc.events[ad_hoc.events["activity"] == "return_approval_started"]["resource"])
    assert handled_by == {"sales_reps"}


def test_debriefed_customers_accept_more_quotes():
    segment = load("baseline").segments[0]
    assert acceptance_probability(segment, 100.0, 100.0, 10.0, bonus=0.3) > acceptance_probability(
        segment, 100.0, 100.0, 10.0)


def test_debriefs_reach_sales(base):
    routine = simulate(override(base, policies={"debrief": {"name": "routine"}}), seed=2)
    model = routine.model
    assert model.debriefed_until, "no customer was debriefed"
    assert sum(model.debriefs.values()) == int((routine.events["activity"] == "debrief_held").sum())


def test_a_returns_policy_naming_an_unknown_staff_pool_is_refused(base):
    class Lawyers(WithinWindow):
        name = "lawyers"
        handler_pool = "lawyers"

    register(Lawyers)
    try:
        with pytest.raises(PolicyParameterError, match="unknown staff pool 'lawyers'"):
            CompanyModel(override(base, policies={"returns": {"name": "lawyers"}}))
    finally:
        registry()["returns"].pop("lawyers")
