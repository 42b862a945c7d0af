"""The built-in baseline over a full year: size, every step exercised, KPIs present."""

from __future__ import annotations

import math

import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.calendar import scenario_calendars
from ordercycle.sim.eventlog import ACTIVITY_STEP, STEPS
from ordercycle.sim.run import simulate

REQUIRED_KPIS = (
    "orders_received", "orders_accepted", "orders_rejected", "on_time_delivery_rate",
    "mean_lead_time_days", "p95_lead_time_days", "revenue", "gross_margin", "changeovers",
    "plan_changes", "utilization", "mean_inventory_units", "forecast_bias", "forecast_mape",
    "billing_error_rate", "days_sales_outstanding", "return_rate", "mean_refund_days",
    "mean_service_response_days", "mean_unattended_hours", "max_unattended_hours",
    "mean_order_to_cash_days", "staff_cost", "stock_fill_rate", "mean_backorder_units",
)


def test_a_year_has_at_least_ten_thousand_orders(baseline_year):
    assert baseline_year.kpis["orders_received"] >= 10_000


# Activities the baseline's status-quo policies rule out; exercised by the variant below.
POLICY_DEPENDENT = {"debrief_held": "debrief=never", "expedite_refused": "bounded cap rarely reached",
                    "plan_changed": "schedule=none"}
# Activities of mechanisms the baseline leaves off, and the tests that exercise them.
OFF_IN_THE_BASELINE = {
    "sale_lost": "lost-sales inventory policies (tests/sim/test_inventory.py)",
    "pickup_booking_started": "ad-hoc returns between other work (tests/sim/test_returns_workload.py)",
    "refund_chase_started": "ad-hoc returns between other work (tests/sim/test_returns_workload.py)",
    "operation_paused": "work centres on calendars (tests/sim/test_centre_calendars.py)",
    "operation_resumed": "work centres on calendars (tests/sim/test_centre_calendars.py)",
    "overtime_granted": "overtime at calendared work centres (tests/sim/test_centre_calendars.py)",
    # the baseline sells on account: prepayment terms (and cancelling unpaid orders) are a
    # segment's option, exercised in tests/sim/test_prepayment.py
    "prepayment_invoiced": "prepayment terms (tests/sim/test_prepayment.py)",
    "prepayment_received": "prepayment terms (tests/sim/test_prepayment.py)",
    "prepayment_applied": "prepayment terms (tests/sim/test_prepayment.py)",
    "prepayment_refunded": "a prepaid order lost for want of stock (tests/sim/test_prepayment.py)",
    "order_cancelled": "prepayment terms with cancel_after_days (tests/sim/test_prepayment.py)",
    "requirements_reported": "field reports to planning (tests/sim/test_field_information.py)",
}
# Activities of runs that start from a state snapshot (tests/twin/test_snapshot_run.py).
SNAPSHOT_ONLY = {"order_carried_over", "payment_carried_over", "refund_carried_over", "invoice_carried_over"}


def test_every_step_and_activity_is_exercised(baseline_year):
    events = baseline_year.events
    assert set(events["step"].dropna().unique()) == set(STEPS)
    seen = set(events["activity"].unique())
    off = set(POLICY_DEPENDENT) | SNAPSHOT_ONLY | set(OFF_IN_THE_BASELINE)
    missing = sorted(set(ACTIVITY_STEP) - seen - off)
    assert missing == [], f"activities never logged in the baseline year: {missing}"


def test_policy_dependent_activities_appear_under_other_policies():
    scenario = override(
        load("baseline"), horizon_days=120, warmup_days=7,
        policies={"debrief": {"name": "routine"}, "expedite": {"name": "never"},
                  "schedule": {"name": "cpsat", "params": {"deterministic_time": 0.05}},
                  "inventory": {"name": "min-max", "params": {"reorder_cover_days": 1,
                                                              "order_up_to_cover_days": 4}}},
    )
    planning = scenario.planning.model_dump()
    # re-planned every 3 days, not at Monday 00:00 when the weekend has emptied the queues
    scenario = override(scenario, planning={**planning, "expedite_margin_days": 3.0, "replan_days": 3.0})
    seen = set(simulate(scenario, seed=0).events["activity"].unique())
    assert set(POLICY_DEPENDENT) <= seen
    assert "expedite_granted" not in seen


def test_every_required_kpi_is_present_and_finite(baseline_year):
    kpis = baseline_year.kpis
    for key in REQUIRED_KPIS:
        assert key in kpis, key
        values = kpis[key].values() if isinstance(kpis[key], dict) else [kpis[key]]
        for value in values:
            assert math.isfinite(value), key
    assert set(kpis["utilization"]) == {c.id for c in baseline_year.scenario.work_centres}
    assert all(0 < u <= 1 for u in kpis["utilization"].values())


def test_final_states_add_up(baseline_year):
    orders = baseline_year.orders
    kpis = baseline_year.kpis
    assert orders["order_id"].is_unique
    assert orders["final_state"].notna().all()
    warm = orders[orders["inquiry_time"] >= baseline_year.scenario.warmup_days]
    assert sum(kpis["final_states"].values()) == len(warm) == kpis["inquiries"]
    # orders entered but not yet selected at the horizon (juniors keep office hours: an order
    # entered late on the last working day waits over the weekend) are neither
    undecided = warm[warm["entered_time"].notna() & warm["released_time"].isna()
                     & (warm["final_state"] == "open")]
    assert kpis["orders_accepted"] + kpis["orders_rejected"] + len(undecided) == kpis["orders_received"]
    assert len(undecided) < 60  # at most about a day's orders


def test_who_selects_changes_delay_and_information():
    """Seniors are fewer and slower, and see margins: different rejections, longer waits."""
    base = override(load("baseline"), horizon_days=60, warmup_days=7)
    junior = simulate(base, seed=4)
    senior = simulate(override(base, policies={"selection": {"name": "margin-floor",
                                                             "params": {"min_margin_rate": 0.45}}}), seed=4)
    pools = senior.events[senior.events["activity"] == "selection_started"]["resource"].unique()
    assert list(pools) == ["senior_managers"]
    assert list(junior.events[junior.events["activity"] == "selection_started"]["resource"].unique()) == [
        "junior_staff"
    ]

    def selection_wait(result):
        o = result.orders.dropna(subset=["decision_time"])
        return (o["decision_time"] - o["entered_time"]).mean()

    assert selection_wait(senior) > selection_wait(junior)
    rejected = senior.orders[senior.orders["final_state"] == "rejected"]
    assert len(rejected) > 0 and (rejected["segment"] != "strategic").all()


def test_a_refund_waits_only_for_its_own_invoice_line(baseline_year):
    """A claim on a correctly invoiced shipment is not held up by a dispute about another
    order on the same consolidated invoice (regression: it waited for the whole invoice)."""
    events = baseline_year.events
    by = {name: events[events["activity"] == name] for name in
          ("return_received", "refund_started", "invoice_issued", "invoice_disputed")}
    disputed_orders = set(by["invoice_disputed"]["order_id"].dropna())
    single = baseline_year.orders.query("shipments == 1").set_index("order_id")
    received = by["return_received"].set_index("return_id")[["time", "order_id"]]
    started = by["refund_started"].set_index("return_id")["time"]
    invoiced = by["invoice_issued"].groupby("order_id")["time"].min()
    finance = scenario_calendars(baseline_year.scenario)["finance_clerks"]
    waits = []
    for return_id, (time_received, order_id) in received.iterrows():
        if order_id in disputed_orders or order_id not in single.index or return_id not in started.index:
            continue
        ready = max(time_received, invoiced[order_id])
        waits.append(started[return_id] - ready - finance.closed_days(ready, started[return_id]))
    assert len(waits) > 50
    # in finance's working time: a weekend or a holiday in between is no hold-up
    assert max(waits) < 1.0, f"a refund waited {max(waits):.1f} working days after its invoice"


def test_order_to_cash_runs_from_entry_to_the_orders_last_payment(baseline_year):
    """Recounted by hand from the tables, and no shorter than its parts: an order is paid
    after delivery (no prepayment), and never before its segment's terms have run."""
    orders = baseline_year.orders
    window = orders[orders["inquiry_time"] >= baseline_year.scenario.warmup_days].set_index("order_id")
    payments = baseline_year.events[baseline_year.events["activity"] == "payment_received"]
    last = payments.groupby("order_id")["time"].max()
    paid = window.join(last.rename("paid_time"), how="inner").dropna(subset=["entered_time"])
    days = paid["paid_time"] - paid["entered_time"]
    assert len(paid) > 5000
    assert baseline_year.kpis["mean_order_to_cash_days"] == pytest.approx(days.mean(), rel=1e-12)
    assert (paid["paid_time"] >= paid["delivered_time"]).all()
    terms = {s.id: s.payment_terms_days for s in baseline_year.scenario.segments}
    assert (paid["paid_time"] - paid["first_ship_time"] >= paid["segment"].map(terms) - 1e-9).all()
