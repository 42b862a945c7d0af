"""Inventory policies in the running model, against their closed forms and a Markov chain.

The stock lab is one make-to-stock product with unit demand arriving as a Poisson
process (plenty of staff, no queues before release, every quote accepted) and a
replenishment lead time that is constant (one job of 12 hours' set-up and 3.6 seconds
a unit on a work centre with more machines than jobs, staffed around the clock). Then
inventory theory gives exact answers to check the simulation against:

- base stock S with back-orders: units in the pipeline are Poisson(λL) (M/D/∞), on hand
  is (S − N)⁺, back-orders (N − S)⁺, and an arrival finds stock with P(N ≤ S − 1);
- base stock S with lost sales: M/G/S/S, the share of demand lost is Erlang's B(S, λL);
- (r, Q) with continuous review: the position is uniform on r+1 … r+Q, one order every
  Q demands, on hand (IP − D_L)⁺;
- periodic (s, S): the position before each review is a Markov chain (written below),
  whose stationary law gives the ordering frequency and the mean order size.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.registry import make_all
from ordercycle.scenarios.loader import ScenarioError, load, parse
from ordercycle.sim.invariants import check_run
from ordercycle.sim.run import simulate

LAMBDA = 8.0  # unit demands per day
LEAD_HOURS = 12.0  # replenishment lead time: 0.5 day
A = LAMBDA * LEAD_HOURS / 24  # mean units in the pipeline
HORIZON, WARMUP = 1200.0, 20.0


def stock_lab(inventory: dict, rate: float = LAMBDA, initial: int = 5, **costs: float) -> dict:
    """The one-product company described in the module docstring."""
    data = load("around-the-clock").model_dump(mode="json")
    data["horizon_days"], data["warmup_days"] = HORIZON, WARMUP
    product = next(p for p in data["products"] if p["id"] == "valve")
    product.update(initial_stock_units=initial, defect_rate=0.0, repair_probability=0.0,
                   routing=[{"work_centre": "line", "setup_hours": LEAD_HOURS,  # the same for any batch
                             "hours_per_unit": {"dist": "fixed", "value": 0.001}}])
    data["products"] = [product]
    data["work_centres"] = [{"id": "line", "machines": 200, "initial_shifts": 3, "max_shifts": 3,
                             "machine_hour_cost": 0.0, "changeover_hours": 0.0}]
    segment = data["segments"][1]
    segment.update(product_mix={"valve": 1.0}, order_size_units={"dist": "fixed", "value": 1},
                   base_utility=40.0, return_window_days=0.0)
    segment["arrivals"] = {"rate_per_day": rate, "trend_per_year": 0.0}
    data["segments"] = [segment]
    for pool, n in data["staff"].items():
        if isinstance(n, int):
            data["staff"][pool] = 60
    data["quality"].update(entry_error_rate=0.0, picking_error_rate=0.0)
    # the load-based plan staffs all three shifts at once (a tiny target utilisation)
    data["planning"].update(target_utilization=1e-9, replenishment_batch_units=1)
    data["policies"].update(selection="accept-all", inventory=inventory)
    data["costs"].update(costs)
    return data


def poisson(mean: float, top: int = 80) -> np.ndarray:
    return stats.poisson.pmf(np.arange(top), mean)


@pytest.fixture(scope="module")
def base_stock_run():
    return simulate(parse(stock_lab({"name": "base-stock", "params": {"levels": {"valve": 5}}},
                                    backorder_cost_per_unit_day=2.0, replenishment_order_cost=10.0)),
                    seed=11)


def test_the_lab_has_poisson_demand_and_a_constant_lead_time(base_stock_run):
    events = base_stock_run.events
    released = events[events["activity"] == "replenishment_released"]
    received = events[events["activity"] == "stock_received"]
    assert (released["quantity"] == 1).all()  # one for one
    lead = received["time"].to_numpy()[:1000] - released["time"].to_numpy()[:1000]
    assert lead == pytest.approx(LEAD_HOURS / 24, abs=1e-4)
    gaps = np.diff(events[events["activity"] == "order_prioritized"]["time"].to_numpy())
    assert gaps.mean() == pytest.approx(1 / LAMBDA, rel=0.03)
    assert np.std(gaps) / gaps.mean() == pytest.approx(1.0, abs=0.05)  # exponential gaps
    assert check_run(base_stock_run) == []


def test_base_stock_with_backorders_matches_the_poisson_pipeline(base_stock_run):
    s, k, p = 5, np.arange(80), poisson(A)
    on_hand = float(np.sum(np.maximum(s - k, 0) * p))
    backorders = float(np.sum(np.maximum(k - s, 0) * p))
    fill = float(stats.poisson.cdf(s - 1, A))
    kpis = base_stock_run.kpis
    assert kpis["mean_inventory_units"] == pytest.approx(on_hand, abs=0.08)
    assert kpis["mean_backorder_units"] == pytest.approx(backorders, abs=0.05)
    assert kpis["stock_fill_rate"] == pytest.approx(fill, abs=0.02)
    # Little: back-ordered units wait λ·E[B] in total per day
    assert kpis["mean_backorder_age_days"] > 0
    assert kpis["backorder_cost"] == pytest.approx(
        kpis["mean_backorder_units"] * 2.0 * (HORIZON - WARMUP), abs=0.01)
    assert kpis["ordering_cost"] == pytest.approx(10.0 * kpis["replenishment_orders"])


def test_backorders_are_filled_first_come_first_served(base_stock_run):
    events = base_stock_run.events
    created = events[events["activity"] == "backorder_created"].groupby("order_id")["time"].min()
    filled = events[events["activity"] == "backorder_filled"].groupby("order_id")["time"].max()
    both = created.to_frame("created").join(filled.rename("filled"), how="inner").sort_values("created")
    assert len(both) > 500
    assert np.all(np.diff(both["filled"].to_numpy()) >= -1e-12)
    orders = base_stock_run.orders.set_index("order_id").loc[both.index]
    # a back-ordered order ships only after its back-order is filled, from stock
    assert (orders["first_ship_time"].to_numpy() >= both["created"].to_numpy()).all()
    delivered = orders["delivered_time"].notna().to_numpy()
    assert (orders["delivered_time"].to_numpy()[delivered] >= both["filled"].to_numpy()[delivered]).all()


def erlang_b(servers: int, load: float) -> float:
    inverse = 1.0
    for n in range(1, servers + 1):
        inverse = 1.0 + inverse * n / load
    return 1.0 / inverse


def test_base_stock_with_lost_sales_loses_erlang_b():
    run = simulate(parse(stock_lab({"name": "base-stock",
                                    "params": {"levels": {"valve": 5}, "shortage": "lost-sales"}})), seed=12)
    kpis, orders = run.kpis, run.orders
    window = orders[(orders["inquiry_time"] >= WARMUP) & orders["released_time"].notna()]
    lost = (window["final_state"] == "lost_sale").mean()
    b = erlang_b(5, A)
    assert lost == pytest.approx(b, abs=0.02)
    assert kpis["mean_inventory_units"] == pytest.approx(5 - A * (1 - b), abs=0.08)
    assert kpis["backorder_units"] == 0
    assert (window.loc[window["final_state"] == "lost_sale", "shipped_units"] == 0).all()
    assert check_run(run) == []


def test_r_q_orders_every_q_demands_and_holds_the_uniform_position_stock():
    r, q = 2, 6
    run = simulate(parse(stock_lab({"name": "reorder-point", "params": {"reorder_points": {"valve": r},
                                                               "quantities": {"valve": q}}},
                                   initial=r + q)), seed=13)
    events = run.events
    released = events[events["activity"] == "replenishment_released"]
    assert (released["quantity"] == q).all()
    demand = int((events["activity"] == "order_prioritized").sum())
    assert len(released) == pytest.approx(demand / q, abs=1.5)
    k, p = np.arange(80), poisson(A)
    on_hand = np.mean([np.sum(np.maximum(j - k, 0) * p) for j in range(r + 1, r + q + 1)])
    assert run.kpis["mean_inventory_units"] == pytest.approx(on_hand, abs=0.1)
    assert check_run(run) == []


def s_s_chain(s: int, big_s: int, demand: float, low: int = -60) -> tuple[float, float]:
    """Periodic (s, S) with back-orders: the position X before a review moves to
    Y − D, Y = S if X ≤ s else X, D ~ Poisson(demand per period). Returns the
    stationary probability of ordering at a review and the mean order size."""
    states = np.arange(low, big_s + 1)
    index = {x: i for i, x in enumerate(states)}
    p = poisson(demand, top=big_s - low + 1)
    matrix = np.zeros((len(states), len(states)))
    for x in states:
        y = big_s if x <= s else x
        for d, pd_ in enumerate(p):
            matrix[index[x], index[max(low, y - d)]] += pd_
    matrix /= matrix.sum(axis=1, keepdims=True)
    values, vectors = np.linalg.eig(matrix.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    pi /= pi.sum()
    order = states <= s
    return float(pi[order].sum()), float(np.sum((big_s - states[order]) * pi[order]) / pi[order].sum())


def test_periodic_s_s_orders_as_its_markov_chain_says():
    s, big_s, review = 3, 10, 1.0
    run = simulate(parse(stock_lab({"name": "min-max", "params": {
        "reorder_points": {"valve": s}, "order_up_to": {"valve": big_s}, "review_days": review}},
        rate=4.0, initial=big_s)), seed=14)
    events = run.events
    released = events[events["activity"] == "replenishment_released"]
    assert np.allclose(released["time"] % review, 0.0)  # only at reviews
    late = released[released["time"] >= WARMUP]
    reviews = math.floor(HORIZON - WARMUP) + 1
    p_order, size = s_s_chain(s, big_s, 4.0 * review)
    assert len(late) / reviews == pytest.approx(p_order, abs=0.04)
    assert late["quantity"].mean() == pytest.approx(size, rel=0.04)
    assert check_run(run) == []


def test_plan_driven_is_the_default_and_makes_shortfalls_to_order(plain_short):
    named = simulate(parse({**plain_short.model_dump(mode="json"),
                            "policies": {**plain_short.model_dump(mode="json")["policies"],
                                         "inventory": "plan-driven"}}), seed=2)
    default = simulate(plain_short, seed=2)
    assert named.events.equals(default.events)
    assert named.scenario.model_dump(mode="json") == default.scenario.model_dump(mode="json")
    assert "inventory" not in default.scenario.model_dump(mode="json")["policies"]  # hashes unchanged
    assert not (default.events["activity"] == "backorder_created").any()


@pytest.mark.parametrize(("inventory", "message"), [
    ({"name": "min-max", "params": {"reorder_points": {"valve": 8}, "order_up_to": {"valve": 8}}},
     "policies.inventory.params.order_up_to.valve: must exceed reorder_points.valve = 8, got 8"),
    ({"name": "min-max", "params": {"reorder_points": {"valve": 8}}},
     "policies.inventory.params.order_up_to.valve: missing (given in reorder_points)"),
    ({"name": "min-max", "params": {"reorder_cover_days": 5, "order_up_to_cover_days": 4}},
     "policies.inventory.params.order_up_to_cover_days: must exceed reorder_cover_days"),
    ({"name": "base-stock", "params": {"levels": {"pump": 4}}},
     "policies.inventory.params.levels.pump: not a make-to-stock product"),
    ({"name": "base-stock", "params": {"shortage": "make-to-order"}}, "policies.inventory.params.shortage"),
    ({"name": "reorder-point", "params": {"quantities": {"valve": 0}, "reorder_points": {"valve": 1}}},
     "policies.inventory.params.quantities.valve: must be at least 1"),
])
def test_bad_inventory_parameters_are_named_by_field(inventory, message):
    data = load("around-the-clock").model_dump(mode="json")
    data["policies"]["inventory"] = inventory
    with pytest.raises((ScenarioError, PolicyParameterError)) as error:
        make_all(parse(data).policies.model_dump())  # the scenario's checks, then the policy's
    assert any(message in line for line in error.value.problems), error.value.problems
