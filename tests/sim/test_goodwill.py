"""Customers remember: grievances lower the acceptance of their later quotes for a while."""

from __future__ import annotations

import numpy as np
import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.invariants import check_run
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.run import simulate

GOODWILL = {"late_delivery": 1.0, "wrong_invoice": 0.5, "slow_refund": 0.5, "slow_refund_days": 10.0,
            "memory_days": 60.0}


@pytest.fixture(scope="module")
def company():
    return override(load("around-the-clock"), horizon_days=120, warmup_days=7)


@pytest.fixture(scope="module")
def remembering(company):
    return simulate(override(company, goodwill=GOODWILL), seed=6)


@pytest.fixture(scope="module")
def forgetting(company):
    return simulate(company, seed=6)


def test_without_goodwill_nothing_changes(company, forgetting):
    assert "goodwill" not in company.model_dump(mode="json")  # content hashes kept
    assert forgetting.kpis["grievances"] == 0 and forgetting.kpis["quotes_lost_to_goodwill"] == 0
    silent = override(company, goodwill={"memory_days": 60.0})  # every penalty 0: no grievance
    assert simulate(silent, seed=6).events.equals(forgetting.events)


def test_each_grievance_has_its_cause(remembering):
    events = remembering.events
    grievances = events[events["activity"] == "customer_grievance"]
    assert set(grievances["resource"]) == {"late_delivery", "wrong_invoice", "slow_refund"}
    orders = remembering.orders.set_index("order_id")
    late = grievances[grievances["resource"] == "late_delivery"]
    delivered = orders.loc[late["order_id"]]
    assert (delivered["delivered_time"].to_numpy() == pytest.approx(late["time"].to_numpy()))
    assert (delivered["delivered_time"] > delivered["promised_date"]).all()
    all_late = orders[orders["delivered_time"] > orders["promised_date"] + 1e-9]
    assert len(late) == len(all_late)
    disputed = events[events["activity"] == "invoice_disputed"]
    wrong = grievances[grievances["resource"] == "wrong_invoice"]
    def pairs(rows):
        return sorted(zip(rows["order_id"], rows["time"], strict=True))

    assert pairs(wrong) == pairs(disputed)
    slow = grievances[grievances["resource"] == "slow_refund"]
    requested = events[events["activity"] == "return_requested"].set_index("return_id")["time"]
    paid = events[events["activity"] == "refund_paid"].set_index("return_id")["time"]
    took = (paid - requested.reindex(paid.index)).dropna()
    assert len(slow) == int((took > GOODWILL["slow_refund_days"]).sum()) > 0
    assert grievances.set_index("resource")["quantity"].groupby(level=0).first().to_dict() == {
        "late_delivery": 1.0, "wrong_invoice": 0.5, "slow_refund": 0.5}
    assert check_run(remembering) == []


def test_quotes_lost_to_goodwill_come_from_customers_with_a_fresh_grievance(remembering):
    events, orders = remembering.events, remembering.orders.set_index("order_id")
    lost = events[(events["activity"] == "quote_lost") & (events["resource"] == "goodwill")]
    assert len(lost) > 20
    grievances = events[events["activity"] == "customer_grievance"]
    customer_of = orders["customer_id"]
    times = {c: rows["time"].to_numpy() for c, rows in
             grievances.assign(customer=customer_of.reindex(grievances["order_id"]).to_numpy()).groupby("customer")}
    for order_id, t in zip(lost["order_id"], lost["time"], strict=True):
        remembered = times.get(customer_of[order_id], np.array([]))
        assert ((remembered <= t) & (remembered > t - GOODWILL["memory_days"])).any(), order_id


def test_goodwill_costs_revenue_and_worse_service_costs_more(company, remembering, forgetting):
    assert remembering.kpis["revenue"] < forgetting.kpis["revenue"]
    assert remembering.kpis["revenue_lost_to_goodwill"] > 0
    # the same company with a machine less at machining delivers later and so loses more
    centres = [c.model_dump() for c in company.work_centres]
    for centre in centres:
        if centre["id"] == "machining":
            centre["machines"] -= 1
    tight = simulate(override(company, goodwill=GOODWILL, work_centres=centres), seed=6)
    assert tight.kpis["on_time_delivery_rate"] < remembering.kpis["on_time_delivery_rate"]
    assert tight.kpis["grievances"] > remembering.kpis["grievances"]
    assert tight.kpis["quotes_lost_to_goodwill"] > remembering.kpis["quotes_lost_to_goodwill"]


def test_grievances_add_up_and_are_forgotten(company):
    model = CompanyModel(override(company, goodwill=GOODWILL), seed=0)
    model.start()

    class Order:
        order_id, customer_id = 1, "strategic-3"

    model.grieve(Order, "late_delivery")
    model.grieve(Order, "wrong_invoice")
    assert model.goodwill_penalty("strategic-3", 0.0) == pytest.approx(1.5)
    assert model.goodwill_penalty("regular-1", 0.0) == 0.0
    assert model.goodwill_penalty("strategic-3", 59.9) == pytest.approx(1.5)
    assert model.goodwill_penalty("strategic-3", 60.0) == 0.0
