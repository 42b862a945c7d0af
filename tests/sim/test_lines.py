"""Order lines and shipments: lines drawn at the inquiry, fulfilment policies, line KPIs.

The variants are the baseline with every segment's ``lines_per_order`` set (1–3 lines,
uniform), run for 60 days; the one-line baseline is the reference for common random
numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ordercycle.reports.kpis import fulfilment_kpis
from ordercycle.scenarios.loader import ScenarioError, load, parse
from ordercycle.sim.invariants import check_lines, check_run
from ordercycle.sim.run import simulate

THREE_LINES = {"dist": "uniform", "low": 0.0, "high": 3.0}
"""ceil(U(0, 3)): one, two or three lines, each a third of the orders."""


def variant(lines_per_order: object = THREE_LINES, make_to_order: bool = False,
            no_partial_deliveries: tuple[str, ...] = (), **policies: object):
    """The 60-day baseline with multi-line orders (and, optionally, no stock at all, and segments
    whose customers do not accept partial deliveries)."""
    data = load("around-the-clock").model_dump(mode="json")
    data["horizon_days"], data["warmup_days"] = 60, 7
    for segment in data["segments"]:
        segment["lines_per_order"] = lines_per_order
        if segment["id"] in no_partial_deliveries:
            segment["accepts_partial_deliveries"] = False
    if make_to_order:
        for product in data["products"]:
            product.update(stocking="make_to_order", initial_stock_units=0)
    data.update({key: policies.pop(key) for key in ("horizon_days",) if key in policies})
    data["policies"].update(policies)
    return parse(data)


@pytest.fixture(scope="module")
def one_line():
    return simulate(variant(1.0), seed=0)


@pytest.fixture(scope="module")
def partial():
    return simulate(variant(fulfilment="ship-partial", billing="consult-shipping-sales"), seed=0)


@pytest.fixture(scope="module")
def complete_once():
    return simulate(variant(fulfilment={"name": "ship-complete", "params": {"ship_stock_at_release": False}}),
                    seed=0)


def test_a_fixed_single_line_is_the_default_and_leaves_the_scenario_unchanged():
    assert load("around-the-clock").segments[0].lines_per_order.value == 1.0
    explicit = variant(1.0).model_dump(mode="json")
    implicit = parse({**explicit, "segments": [
        {k: v for k, v in s.items() if k != "lines_per_order"} for s in explicit["segments"]]})
    assert implicit == variant(1.0)


def test_more_lines_do_not_shift_the_other_random_streams(one_line, partial):
    """Common random numbers: the extra lines come from streams of their own."""
    a, b = one_line.orders, partial.orders
    assert len(a) == len(b)
    for column in ("order_id", "inquiry_time", "customer_id", "segment", "product_id"):
        assert a[column].equals(b[column]), column
    first = partial.lines[partial.lines["line_number"] == 1].set_index("order_id")["quantity"]
    assert (first.reindex(a["order_id"]).to_numpy() == a["quantity"].to_numpy()).all()


def test_lines_are_distinct_products_of_the_mix_in_the_drawn_number(partial):
    lines, orders = partial.lines, partial.orders
    scenario = partial.scenario
    per_order = lines.groupby("order_id")
    assert (per_order["product_id"].nunique() == per_order.size()).all()  # no product twice
    counts = per_order.size()
    assert set(counts) == {1, 2, 3}
    shares = counts.value_counts(normalize=True)
    assert np.allclose(shares.sort_index().to_numpy(), [1 / 3] * 3, atol=0.03), shares
    mix = {s.id: set(s.product_mix) for s in scenario.segments}
    segment = lines["order_id"].map(orders.set_index("order_id")["segment"])
    assert all(p in mix[s] for p, s in zip(lines["product_id"], segment, strict=True))
    assert (lines["quantity"] >= 1).all()
    assert (orders.set_index("order_id")["quantity"] == per_order["quantity"].sum()).all()
    assert (orders["lines"].to_numpy() == counts.reindex(orders["order_id"]).to_numpy()).all()


def test_ship_complete_without_a_stock_part_ships_every_order_once(complete_once):
    delivered = complete_once.orders[complete_once.orders["delivered_time"].notna()]
    assert len(delivered) > 500
    assert (delivered["shipments"] == 1).all()
    lines = complete_once.lines[complete_once.lines["order_id"].isin(delivered["order_id"])]
    assert (lines["shipments"] == 1).all() and (lines["delivered_units"] == lines["quantity"]).all()
    assert complete_once.kpis["order_fill_rate"] == 1.0 == complete_once.kpis["line_fill_rate"]
    assert check_run(complete_once) == []


def test_ship_partial_without_stock_ships_each_line_when_it_is_made():
    run = simulate(variant(make_to_order=True, fulfilment="ship-partial"), seed=0)
    delivered = run.orders[run.orders["delivered_time"].notna()]
    lines_per_order = run.lines.groupby("order_id").size().reindex(delivered["order_id"]).to_numpy()
    assert (delivered["shipments"].to_numpy() == lines_per_order).all()  # one shipment per line
    counted = (delivered["inquiry_time"] >= run.scenario.warmup_days).to_numpy()  # the KPI's window
    assert run.kpis["shipments_per_order"] > 1.5
    assert run.kpis["shipments_per_order"] == pytest.approx(lines_per_order[counted].mean())
    assert check_run(run) == []


REFUSING = ("strategic", "occasional")
"""Segments whose customers do not accept partial deliveries (regular's do)."""


def shipments_by_flag(run) -> dict[bool, pd.Series]:
    """Shipments of the delivered multi-line orders, by whether their customer accepts partial deliveries."""
    delivered = run.orders[run.orders["delivered_time"].notna() & (run.orders["lines"] > 1)]
    accepts = ~delivered["segment"].isin(REFUSING)
    return {True: delivered.loc[accepts, "shipments"], False: delivered.loc[~accepts, "shipments"]}


def test_by_customer_ships_partial_only_to_customers_who_accept_it():
    run = simulate(variant(no_partial_deliveries=REFUSING, fulfilment="by-customer"), seed=0)
    assert check_run(run) == []
    shipments = shipments_by_flag(run)
    assert len(shipments[True]) > 200 and len(shipments[False]) > 200
    assert (shipments[True] > 1).mean() > 0.2  # the stock part, and each line as it is made
    assert (shipments[False] == 1).all()
    refusing = run.orders[run.orders["segment"].isin(REFUSING) & run.orders["delivered_time"].notna()]
    assert (refusing["shipments"] == 1).all()  # one-line orders too: no stock part first
    traced = simulate(variant(no_partial_deliveries=REFUSING, fulfilment="by-customer", horizon_days=20),
                      seed=0, trace_decisions=True)
    segment = traced.orders.set_index("order_id")["segment"]
    asked = [(c.accepts_partial_deliveries, segment[c.order_id]) for kind, c, _ in traced.model.trace
             if kind == "fulfilment"]
    assert asked and all(flag == (seg not in REFUSING) for flag, seg in asked)  # the segment's flag


def test_the_flag_changes_nothing_under_a_company_wide_rule(partial):
    flagged = simulate(variant(no_partial_deliveries=REFUSING, fulfilment="ship-partial",
                               billing="consult-shipping-sales"), seed=0)
    pd.testing.assert_frame_equal(flagged.events, partial.events)
    assert (shipments_by_flag(flagged)[False] > 1).any()  # ship-partial ignores the flag


def test_ship_partial_ships_earlier_but_fewer_orders_in_full(partial, complete_once):
    first = {name: run.orders.loc[run.orders["delivered_time"].notna()]
             for name, run in (("partial", partial), ("complete", complete_once))}
    assert partial.kpis["shipments_per_order"] > 1.2 > complete_once.kpis["shipments_per_order"]
    assert partial.kpis["order_fill_rate"] < 0.9
    wait = {name: (o["first_ship_time"] - o["released_time"]).mean() for name, o in first.items()}
    assert wait["partial"] < wait["complete"]


def test_fill_rate_kpis_match_a_hand_count_from_the_shipments(partial):
    kpis, model = partial.kpis, partial.model
    warmup = partial.scenario.warmup_days
    delivered = [o for o in model.orders if o.inquiry_time >= warmup and o.delivered]
    shipments_of = {}
    for order in delivered:
        for shipment in order.shipments:
            for line, _ in shipment.lines:
                shipments_of[line.line_id] = shipments_of.get(line.line_id, 0) + 1
    lines = [line for order in delivered for line in order.lines]
    disputed = set(partial.events.loc[partial.events["activity"].isin(
        ["invoice_disputed", "return_requested"]), "order_id"].astype(int))
    otif = [len(o.shipments) == 1 and o.delivered_time <= o.promised_date + 1e-9 for o in delivered]
    assert kpis["line_fill_rate"] == pytest.approx(
        sum(shipments_of[line.line_id] == 1 for line in lines) / len(lines))
    in_full = sum(len(o.shipments) == 1 for o in delivered)
    assert kpis["order_fill_rate"] == pytest.approx(in_full / len(delivered))
    assert kpis["otif_rate"] == pytest.approx(sum(otif) / len(delivered))
    perfect = sum(ok and o.order_id not in disputed for ok, o in zip(otif, delivered, strict=True))
    assert kpis["perfect_order_rate"] == pytest.approx(perfect / len(delivered))
    assert kpis["shipments_per_order"] == pytest.approx(np.mean([len(o.shipments) for o in delivered]))
    assert 0 < kpis["perfect_order_rate"] <= kpis["otif_rate"] <= kpis["order_fill_rate"]
    assert kpis["order_fill_rate"] < kpis["line_fill_rate"] < 1  # filled only if all its lines are


def test_multi_line_orders_are_billed_line_by_line_at_the_agreed_prices(partial):
    orders, lines = partial.orders.set_index("order_id"), partial.lines
    due = (lines["shipped_units"] * (lines["unit_price"] * 100).round()).groupby(lines["order_id"]).sum()
    paid = orders[(orders["lines"] > 1) & (orders["paid"] > 0) & (orders["paid"] == orders["billed"])]
    assert len(paid) > 200
    billed = (paid["billed"] * 100).round()
    assert (billed == due.reindex(paid.index)).all()  # consulting billing: exactly the lines' amounts
    # the order's unit price is the mean per unit over its lines
    mean = (lines["quantity"] * (lines["unit_price"] * 100).round()).groupby(lines["order_id"]).sum() / 100
    assert np.allclose(orders["unit_price"] * orders["quantity"], mean.reindex(orders.index))


def test_back_orders_belong_to_lines():
    run = simulate(variant(inventory={"name": "base-stock", "params": {"cover_days": 1}},
                           fulfilment="ship-partial"), seed=0)
    created = run.events[run.events["activity"] == "backorder_created"]
    assert len(created) > 20 and created["line_id"].notna().all()
    per_line = created.groupby("line_id")["quantity"].sum()
    lines = run.lines.set_index("line_id")
    owed = lines.loc[per_line.index.astype("int64"), "backordered_units"].to_numpy()
    assert (per_line.to_numpy() == owed).all()
    multi = run.orders.set_index("order_id")["lines"].reindex(created["order_id"]) > 1
    assert multi.any()
    assert check_run(run) == []


def test_the_line_invariants_catch_a_lost_line_and_an_overshipped_one(partial):
    assert check_lines(partial.orders, partial.events, partial.lines, partial.model) == []
    multi = partial.lines[partial.lines["order_id"].isin(partial.orders.loc[partial.orders["lines"] > 1,
                                                                             "order_id"])]
    lost = partial.lines.drop(index=multi.index[0])
    problems = check_lines(partial.orders, partial.events, lost, None)
    order_id = multi.iloc[0]["order_id"]
    assert any(f"order {order_id}:" in p and "lines in orders" in p for p in problems), problems
    over = partial.lines.copy()
    over.loc[multi.index[1], "shipped_units"] = over.loc[multi.index[1], "quantity"] + 1
    problems = check_lines(partial.orders, partial.events, over, None)
    assert any(f"line {multi.iloc[1]['line_id']}: shipped" in p for p in problems), problems


def test_fulfilment_kpis_on_tables_without_lines():
    orders = pd.DataFrame({"order_id": [1, 2], "delivered_time": [5.0, np.nan], "promised_date": [6.0, 7.0],
                           "shipments": [1, 0]})
    events = pd.DataFrame({"activity": pd.Series([], dtype=object), "order_id": pd.Series([], dtype=float)})
    kpis = fulfilment_kpis(orders, None, events)
    assert kpis["order_fill_rate"] == 1.0 and kpis["otif_rate"] == 1.0 and np.isnan(kpis["line_fill_rate"])


@pytest.mark.parametrize(("lines", "reason"), [
    ({"dist": "fixed", "value": 9}, "segments.0.lines_per_order: a fixed number of lines must be in 1..5 "
                                    "(the products of product_mix with a share > 0), got 9"),
    (0, "segments.0.lines_per_order: a fixed number of lines must be in 1..5"),
    ({"dist": "fixed", "value": -1}, "segments.0.lines_per_order.value: input should be greater than or "
                                     "equal to 0 (got -1)"),
])
def test_a_bad_number_of_lines_is_refused_naming_the_field(lines, reason):
    data = load("around-the-clock").model_dump(mode="json")
    data["segments"][0]["lines_per_order"] = lines
    with pytest.raises(ScenarioError) as error:
        parse(data)
    assert reason in str(error.value)


def test_a_shipment_of_several_lines_is_returned_line_by_line(complete_once):
    events, lines = complete_once.events, complete_once.lines.set_index("line_id")
    received = events[events["activity"] == "return_received"]
    multi = received[received["line_id"].notna()]
    assert len(multi) > 20  # shipments of several lines: every claim names its line
    per_line = multi.groupby("line_id")["quantity"].sum()
    returned = lines.loc[per_line.index.astype("int64"), "returned_units"].to_numpy()
    assert (per_line.to_numpy() == returned).all()
    # one line back, the order's other lines kept: the order is not returned as a whole
    back = lines[lines["returned_units"] > 0]
    orders = complete_once.orders.set_index("order_id")
    partly = back["order_id"].unique()
    partly = [o for o in partly if orders.at[o, "returned_units"] < orders.at[o, "shipped_units"]]
    assert partly and (orders.loc[partly, "final_state"].astype(object) == "delivered").all()
    refunds = events[(events["activity"] == "refund_paid") & events["line_id"].notna()]
    price = lines.loc[refunds["line_id"].astype("int64"), "unit_price"].to_numpy()
    units = received.set_index("return_id").loc[refunds["return_id"], "quantity"].to_numpy(dtype=float)
    assert np.allclose(refunds["amount"].to_numpy(dtype=float), units * price)
    assert check_run(complete_once) == []
