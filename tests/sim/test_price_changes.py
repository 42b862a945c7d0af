"""Wrong invoices from a real cause: prices renegotiated after entry (issue 16, item 8, K6)."""

from __future__ import annotations

import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.invariants import check_run
from ordercycle.sim.run import simulate


@pytest.fixture(scope="module")
def company():
    return override(load("around-the-clock"), horizon_days=90, warmup_days=7)


def _run(company, billing: str, rate: float):
    quality = {**company.quality.model_dump(), "price_change_rate": rate, "entry_error_rate": 0.0}
    return simulate(override(company, quality=quality, policies={"billing": billing}), seed=8)


def test_no_renegotiation_is_the_default_and_changes_nothing(company):
    assert "price_change_rate" not in company.model_dump(mode="json")["quality"]  # hashes kept
    quality = {**company.quality.model_dump(), "price_change": -0.2}
    same = simulate(override(company, quality=quality), seed=8)
    assert same.events.equals(simulate(company, seed=8).events)


def test_renegotiated_prices_make_billing_alone_wrong_and_consulting_catches_them(company):
    alone, consulted = _run(company, "standalone", 0.3), _run(company, "consult-shipping-sales", 0.3)
    honest = _run(company, "standalone", 0.0)
    changed = alone.events[alone.events["activity"] == "price_changed"]
    entered = int((alone.events["activity"] == "order_entered").sum())
    assert len(changed) == pytest.approx(0.3 * entered, rel=0.1)
    orders = alone.orders.set_index("order_id").loc[changed["order_id"]]
    assert orders["unit_price"].to_numpy() == pytest.approx(changed["amount"].to_numpy())
    # billing alone charges the entered (old) price: those invoices are disputed and corrected
    disputed = set(alone.events.loc[alone.events["activity"] == "invoice_disputed", "order_id"])
    issued = alone.events[(alone.events["activity"] == "invoice_issued") & (alone.events["time"] < 60)]
    wrong = set(changed["order_id"]) & set(issued["order_id"])
    # every such invoice is wrong; the customer disputes after ~6 days (exponential), so by the
    # horizon, 30+ days later, nearly all are disputed
    assert len(wrong & disputed) >= 0.97 * len(wrong) > 100
    assert alone.kpis["billing_error_rate"] > honest.kpis["billing_error_rate"] + 0.1
    assert consulted.kpis["billing_error_rate"] == 0.0
    for run in (alone, consulted, honest):
        assert check_run(run) == []
