"""KPIs are pure functions of the tables: checked on small hand-made tables."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from ordercycle.reports.glossary import SEGMENT_KPIS, info, segment_kpi
from ordercycle.reports.kpis import (
    KpiInputs,
    busy_hours,
    compute_kpis,
    mean_inventory,
    segment_kpis,
    staffed_hours,
)
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.experiments import flatten_kpis
from ordercycle.sim.run import simulate

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "baseline-60d-seed0.kpis.json"


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


def segment_inputs(orders: pd.DataFrame, log: pd.DataFrame, segments: tuple[str, ...]) -> KpiInputs:
    empty = pd.DataFrame()
    return KpiInputs(log, orders, empty, empty, 1.0, 10.0, {}, {}, 0.0, 0.0, 0.0, 0.0, segments)


def test_segment_kpis_restrict_the_order_kpis_to_each_segment():
    nan = math.nan
    orders = pd.DataFrame({
        "order_id": [1, 2, 3, 4, 5],
        "segment": ["key", "key", "key", "small", "small"],
        "inquiry_time": [2.0, 3.0, 0.5, 2.0, 4.0],  # order 3 is before the warm-up
        "entered_time": [2.5, 3.5, 0.6, 2.5, 4.5],
        "released_time": [2.6, 3.6, 0.7, nan, 4.6],
        "delivered_time": [4.6, 9.5, 1.0, nan, 6.5],
        "promised_date": [5.0, 6.0, 2.0, nan, 7.0],
        "final_state": ["delivered", "delivered", "delivered", "rejected", "delivered"],
        "unattended_hours": [1.0, 3.0, 50.0, 0.0, 2.0],
        "unit_cost": [10.0, 10.0, 10.0, 10.0, 5.0],
    })
    log = pd.DataFrame({
        "time": [0.9, 4.0, 5.0, 6.0, 7.0],
        "activity": ["invoice_issued", "shipment_dispatched", "invoice_issued", "invoice_issued",
                     "refund_paid"],
        "order_id": pd.array([3, 1, 1, 5, 1], dtype="Int64"),
        "quantity": pd.array([None, 4.0, None, None, None], dtype="Float64"),
        "amount": pd.array([99.0, None, 100.0, 30.0, 20.0], dtype="Float64"),
    })
    by_segment = segment_kpis(segment_inputs(orders, log, ("key", "small", "none")))
    assert list(by_segment) == ["key", "small", "none"]
    key, small, none = by_segment["key"], by_segment["small"], by_segment["none"]
    assert key["inquiries"] == 2 and key["orders_delivered"] == 2
    assert key["on_time_delivery_rate"] == 0.5  # order 1 on time, order 2 late
    assert key["mean_lead_time_days"] == pytest.approx((2.1 + 6.0) / 2)
    assert key["mean_unattended_hours"] == 2.0
    assert key["revenue"] == 80.0 and key["gross_margin"] == 40.0  # 100 invoiced − 20 refunded − 4 × 10
    assert small["acceptance_rate"] == 0.5 and small["orders_rejected"] == 1
    assert small["revenue"] == 30.0
    assert none["inquiries"] == 0 and math.isnan(none["on_time_delivery_rate"])
    assert math.isnan(none["acceptance_rate"]) and none["revenue"] == 0.0


def test_segments_partition_the_golden_run():
    kpis = json.loads(GOLDEN.read_text())
    segments = kpis["by_segment"].values()
    for count in ("inquiries", "orders_received", "orders_accepted", "orders_rejected", "orders_delivered"):
        assert sum(s[count] for s in segments) == kpis[count]
    for money in ("revenue", "gross_margin"):
        assert sum(s[money] for s in segments) == pytest.approx(kpis[money])
    on_time = sum(s["on_time_delivery_rate"] * s["orders_delivered"] for s in segments)
    assert on_time / kpis["orders_delivered"] == pytest.approx(kpis["on_time_delivery_rate"])
    lead = sum(s["mean_lead_time_days"] * s["orders_delivered"] for s in segments)
    assert lead / kpis["orders_delivered"] == pytest.approx(kpis["mean_lead_time_days"])
    unattended = sum(s["mean_unattended_hours"] * s["inquiries"] for s in segments)
    assert unattended / kpis["inquiries"] == pytest.approx(kpis["mean_unattended_hours"])


def test_per_segment_kpis_have_flat_names_the_glossary_knows():
    flat = flatten_kpis(json.loads(GOLDEN.read_text()))
    name = segment_kpi("strategic", "on_time_delivery_rate")
    assert name in flat
    assert {k for k in flat if k.startswith("by_segment.strategic.")} == {
        segment_kpi("strategic", k) for k in SEGMENT_KPIS
    }
    entry = info(name)
    assert entry.better == "higher" and entry.unit == "share" and "strategic" in entry.label


def _prepayment_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two orders entered at day 1: order 1 on credit (invoice 1 of 100 paid 30 days after its issue
    at day 6), order 2 paid in advance (200 asked at day 2, paid at day 5; invoice 2 of 200 issued at
    day 6 and settled against the prepayment at once); order 3 cancelled unpaid."""
    from ordercycle.sim.entities import Order
    from ordercycle.sim.eventlog import Recorder
    from ordercycle.sim.run import orders_table

    recorder = Recorder()
    log = recorder.log
    orders = []
    for order_id in (1, 2, 3):
        order = Order(order_id, f"c-{order_id}", "key", 1.0, "valve", 2, 0.5)
        order.entered_time, order.decision_time = 1.0, 2.0
        order.pays_in_advance = order_id > 1
        orders.append(order)
    log(0.5, "inquiry_received", "sales", 1)
    log(2.0, "prepayment_invoiced", "billing", 2, invoice=3, amount=200.0)
    log(2.0, "prepayment_invoiced", "billing", 3, invoice=4, amount=50.0)
    log(5.0, "prepayment_received", "finance", 2, invoice=3, amount=200.0)
    log(6.0, "invoice_issued", "billing", 1, invoice=1, amount=100.0)
    log(6.0, "invoice_issued", "billing", 2, invoice=2, amount=200.0)
    log(6.0, "prepayment_applied", "finance", 2, invoice=2, amount=200.0)
    log(12.0, "order_cancelled", "sales", 3, "prepayment_unpaid", invoice=4)
    log(36.0, "payment_received", "finance", 1, invoice=1, amount=100.0)
    one, two, three = orders
    one.released_time, two.released_time = 2.0, 5.0
    two.prepayment_invoiced_time, two.prepayment_received_time = 2.0, 5.0
    three.prepayment_invoiced_time, three.final_state = 2.0, "cancelled"
    two.prepaid_cents = two.applied_cents = 20_000
    return recorder.table(), orders_table(orders, 40.0, prepayment=True)


def test_prepayment_kpis_dso_and_order_to_cash_on_hand_made_tables():
    events, orders = _prepayment_tables()
    forecasts = pd.DataFrame(columns=["period_start", "product_id", "planned_units", "actual_units"])
    plans = pd.DataFrame(columns=["period", "period_start", "work_centre", "machines", "shifts", "changed"])
    kpis = compute_kpis(KpiInputs(events, orders, forecasts, plans, 0.0, 40.0, {}, {}, 0.0, 0.0, 0.0, 0.0))
    assert kpis["days_sales_outstanding"] == pytest.approx((30 * 100 + 0 * 200) / 300)  # settled at issue
    assert kpis["mean_order_to_cash_days"] == pytest.approx((35 + 4) / 2)  # cash of order 2 at day 5
    assert kpis["prepaid_order_to_cash_days"] == pytest.approx(4.0)
    assert kpis["prepaid_order_share"] == pytest.approx(2 / 3)  # all three accepted at selection
    assert kpis["orders_accepted"] == 3 and kpis["mean_prepayment_wait_days"] == pytest.approx(3.0)
    assert kpis["orders_cancelled"] == 1 == kpis["final_states"]["cancelled"]
    assert kpis["unsettled_prepayments"] == 0.0
    assert kpis["invoices"] == 2  # a prepayment request is no invoice
