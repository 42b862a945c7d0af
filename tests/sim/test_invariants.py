"""The run invariants hold on the baseline, and each check catches what it is meant to catch."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scenario_factory import returns_race_scenario, run_tables

from ordercycle.scenarios.loader import load, override, parse
from ordercycle.sim.invariants import check_run
from ordercycle.sim.run import RunResult, simulate

BILLING = ("consult-shipping-sales", "standalone")


def _baseline(billing: str) -> RunResult:
    scenario = override(load("baseline"), horizon_days=120, warmup_days=14,
                        policies={"billing": {"name": billing, "params": {}}})
    return simulate(scenario, seed=0)


@pytest.fixture(scope="module")
def consulting() -> RunResult:
    """120 days of the baseline with billing that consults shipping and sales."""
    return _baseline("consult-shipping-sales")


@pytest.fixture(scope="module")
def standalone() -> RunResult:
    """120 days of the baseline with billing alone."""
    return _baseline("standalone")


@pytest.fixture(params=BILLING)
def result(request) -> RunResult:
    return request.getfixturevalue({"consult-shipping-sales": "consulting",
                                    "standalone": "standalone"}[request.param])


def test_every_invariant_holds_with_consulting_billing(consulting):
    assert check_run(consulting) == []


def test_every_invariant_holds_with_standalone_billing(standalone):
    assert check_run(standalone) == []


def test_the_baseline_exercises_what_the_checks_look_at(consulting, standalone):
    for run in (consulting, standalone):
        states = set(run.orders["final_state"])
        assert {"lost_quote", "rejected", "delivered", "open"} <= states
        assert (run.orders["refunded"] > 0).any() and (run.orders["returned_units"] > 0).any()
    activities = set(standalone.events["activity"])
    assert {"invoice_disputed", "invoice_corrected"} <= activities
    assert "invoice_disputed" not in set(consulting.events["activity"])


# --- each check bites -----------------------------------------------------------------


def _with(run: RunResult, orders: pd.DataFrame | None = None,
          events: pd.DataFrame | None = None) -> RunResult:
    return dataclasses.replace(run, orders=run.orders if orders is None else orders,
                               events=run.events if events is None else events)


def _edit(run: RunResult, order_id: int, **values: object) -> RunResult:
    """A copy of ``run`` whose order ``order_id`` has the given column values."""
    orders = run.orders.copy()
    row = orders.index[orders["order_id"] == order_id]
    for column, value in values.items():
        orders.loc[row, column] = value
    return _with(run, orders=orders)


def _tagged(problems: list[str], tag: str, order_id: int | None = None) -> list[str]:
    lines = [p for p in problems if p.startswith(f"({tag})")]
    if order_id is not None:
        lines = [p for p in lines if f"order {order_id}:" in p or f"inquiry {order_id} " in p]
    return lines


def _order(run: RunResult, query: str) -> pd.Series:
    """The first order matching a pandas query."""
    return run.orders.query(query).iloc[0]


def test_a_dropped_order_is_reported(result):
    victim = int(_order(result, "final_state == 'delivered'")["order_id"])
    orders = result.orders[result.orders["order_id"] != victim]
    problems = check_run(_with(result, orders=orders))
    assert f"(a) inquiry {victim} is missing from orders" in problems
    assert f"(a) {len(orders)} orders but {len(result.orders)} inquiry_received events" in problems


def test_a_duplicated_order_is_reported(result):
    orders = pd.concat([result.orders, result.orders.iloc[[5]]], ignore_index=True)
    problems = check_run(_with(result, orders=orders))
    assert f"(a) order {result.orders['order_id'].iloc[5]} appears 2 times in orders" in problems


def test_a_missing_final_state_is_reported(result):
    victim = int(result.orders["order_id"].iloc[3])
    problems = check_run(_edit(result, victim, final_state=np.nan))
    assert _tagged(problems, "a", victim) == [f"(a) order {victim}: final_state nan"]


def test_shipping_more_than_ordered_is_reported(result):
    row = _order(result, "final_state == 'delivered'")
    problems = check_run(_edit(result, int(row["order_id"]), shipped_units=row["quantity"] + 1))
    lines = _tagged(problems, "b", int(row["order_id"]))
    assert any("> quantity" in line for line in lines)
    assert any("dispatched" in line for line in lines)


def test_shipped_units_that_disagree_with_the_dispatches_are_reported(result):
    row = _order(result, "shipped_units >= 2")
    problems = check_run(_edit(result, int(row["order_id"]), shipped_units=row["shipped_units"] - 1))
    assert any("dispatched" in line for line in _tagged(problems, "b", int(row["order_id"])))


def test_a_cent_too_much_billed_is_reported(result):
    row = _order(result, "billed > 0")
    problems = check_run(_edit(result, int(row["order_id"]), billed=row["billed"] + 0.01))
    lines = _tagged(problems, "c", int(row["order_id"]))
    assert any("issued + corrected" in line for line in lines)


def _bill_more(run: RunResult, order_id: int, extra: float) -> RunResult:
    """Charge ``extra`` more on an order's first invoice, consistently in both tables."""
    events = run.events.copy()
    issued = events.index[(events["activity"] == "invoice_issued") & (events["order_id"] == order_id)]
    events.loc[issued[0], "amount"] += extra
    orders = run.orders.copy()
    orders.loc[orders["order_id"] == order_id, "billed"] += extra
    return _with(run, orders=orders, events=events)


def _fully_paid(run: RunResult) -> int:
    """An order every invoice of which is paid (so billing has settled)."""
    events = run.events
    issued = events[events["activity"] == "invoice_issued"].groupby("order_id").size()
    paid = events[events["activity"] == "payment_received"].groupby("order_id").size()
    settled = issued.index[issued.eq(paid.reindex(issued.index, fill_value=0))]
    return int(settled[0])


def test_consulting_billing_must_charge_exactly_what_shipped_at_the_agreed_price(consulting):
    victim = _fully_paid(consulting)
    problems = check_run(_bill_more(consulting, victim, 0.01))
    lines = _tagged(problems, "c", victim)
    assert not any("issued + corrected" in line for line in lines)  # the ledger itself adds up
    assert any("invoiced shipped units x agreed price" in line for line in lines)
    assert any("every invoice paid" in line for line in lines)


def test_consulting_billing_may_not_bill_beyond_what_shipped(consulting):
    row = _order(consulting, "billed > 0 and shipped_units == quantity and lines == 1")
    problems = check_run(_edit(consulting, int(row["order_id"]), shipped_units=0, billed=row["billed"]))
    assert any("> shipped x agreed price" in line for line in _tagged(problems, "c", int(row["order_id"])))


def test_settled_billing_must_be_correct_under_any_policy(standalone):
    victim = _fully_paid(standalone)
    problems = check_run(_bill_more(standalone, victim, 1.0))
    lines = _tagged(problems, "c", victim)
    assert any("after every dispute settled" in line for line in lines)
    assert any("every invoice paid" in line for line in lines)


def test_billing_under_dispute_at_the_horizon_is_not_a_violation(standalone):
    """Orders billed wrongly and still in dispute at the horizon exist, and are not reported."""
    def correct(order) -> int:
        return sum(s.units for s in order.shipments if s.billed) * round(order.unit_price * 100)

    assert any(order.billed_cents != correct(order) for order in standalone.model.orders)
    assert check_run(standalone) == []


def test_payments_and_refunds_must_match_their_events(result):
    row = _order(result, "refunded > 0")
    problems = check_run(_edit(result, int(row["order_id"]), refunded=row["refunded"] - 0.01,
                               paid=row["paid"] + 0.01))
    lines = _tagged(problems, "c", int(row["order_id"]))
    assert any("refund_paid" in line for line in lines)
    assert any("payment_received" in line for line in lines)


@pytest.mark.parametrize("column", ["refunded", "paid"])
def test_refunding_or_collecting_more_than_billed_is_reported(result, column):
    row = _order(result, "billed > 0")
    problems = check_run(_edit(result, int(row["order_id"]), **{column: row["billed"] + 0.01}))
    assert any(f"{column} " in line and "> billed" in line
               for line in _tagged(problems, "d", int(row["order_id"])))


def test_returning_more_than_shipped_is_reported(result):
    row = _order(result, "shipped_units > 0")
    problems = check_run(_edit(result, int(row["order_id"]), returned_units=row["shipped_units"] + 1))
    assert any("returned_units" in line for line in _tagged(problems, "d", int(row["order_id"])))


@pytest.mark.parametrize("column", ["state_at_horizon", "owner_at_horizon"])
def test_an_order_without_state_or_owner_is_reported(result, column):
    victim = int(_order(result, "final_state == 'open'")["order_id"])
    problems = check_run(_edit(result, victim, **{column: ""}))
    lines = _tagged(problems, "e", victim)
    assert any(column in line for line in lines)
    if column == "owner_at_horizon":
        assert any("open at the horizon with no owner" in line for line in lines)


@pytest.mark.parametrize(("column", "shift"), [("first_ship_time", 1e3), ("entered_time", -1e3),
                                               ("delivered_time", np.nan)])
def test_delivered_orders_must_move_forward_in_time(result, column, shift):
    row = _order(result, "final_state == 'delivered'")
    problems = check_run(_edit(result, int(row["order_id"]), **{column: row[column] + shift}))
    assert any("out of order" in line for line in _tagged(problems, "f", int(row["order_id"])))


def test_an_event_logged_out_of_time_order_is_reported(result):
    events = result.events.copy()
    i = len(events) // 2
    events.loc[i, "time"] = events.loc[i + 1, "time"] + 0.5
    problems = check_run(_with(result, events=events))
    assert any(line.startswith(f"(g) event {i + 1} ") for line in problems)


def test_an_event_after_the_horizon_is_reported(result):
    events = result.events.copy()
    events.loc[len(events) - 1, "time"] = result.scenario.horizon_days + 1
    assert any("outside [0" in line for line in _tagged(check_run(_with(result, events=events)), "g"))


@pytest.mark.parametrize("hours", [-0.5, 1e6])
def test_unattended_time_outside_zero_and_the_age_is_reported(result, hours):
    victim = int(result.orders["order_id"].iloc[10])
    problems = check_run(_edit(result, victim, unattended_hours=hours))
    assert len(_tagged(problems, "h", victim)) == 1


def test_many_violations_are_summarised(result):
    orders = result.orders.assign(unattended_hours=-1.0)
    lines = _tagged(check_run(_with(result, orders=orders)), "h")
    assert len(lines) == 21 and lines[-1] == f"(h) ... and {len(orders) - 20} more"


def test_the_checks_need_only_the_tables_and_the_scenario(result):
    tables = SimpleNamespace(orders=result.orders, events=result.events, scenario=result.scenario)
    assert check_run(tables) == []
    broken = _edit(result, int(result.orders["order_id"].iloc[0]), unattended_hours=-1.0)
    tables.orders = broken.orders
    assert check_run(tables) == [f"(h) order {result.orders['order_id'].iloc[0]}: unattended_hours -1.0"]


# --- regressions of simulator bugs, each with a minimal reproducer -------------------------
# Every test below runs a tiny company (scenario_factory.returns_race_scenario) for a few
# seeds and horizons and expects no violation of one invariant. Each caught a real bug:
# refunds capped by a billed total still in dispute (fixed: the refund waits until the
# shipment's invoice is settled); unattended time summed over parallel waits (fixed:
# overlapping waits count once); a return claim taking an open order away from production
# (fixed: claims move the order only after delivery).


def _violations(tag: str, text: str, seeds: range, horizons: tuple[float, ...],
                **race: object) -> list[str]:
    found = []
    for horizon in horizons:
        scenario = parse(returns_race_scenario(horizon_days=horizon, **race))
        for seed in seeds:
            found += [f"seed {seed}, horizon {horizon:g}: {line}"
                      for line in check_run(run_tables(scenario, seed))
                      if line.startswith(f"({tag})") and text in line]
    return found


def test_refunds_never_exceed_what_is_billed_while_disputes_are_pending():
    assert _violations("d", "> billed", range(3), (22, 24, 26, 28), billing="standalone",
                       dispute_days=20.0, return_request_days=1.0, hours_per_unit=0.5) == []


def test_every_refund_is_the_returned_units_at_the_agreed_price():
    assert _violations("d", "refund of return", range(3), (60,), billing="standalone",
                       dispute_days=20.0, return_request_days=18.0, hours_per_unit=0.5) == []


def test_unattended_time_never_exceeds_the_age_of_the_order():
    assert _violations("h", "> age", range(3), (32, 35), billing="consult-shipping-sales",
                       invoice_rhythm="monthly", dispute_days=2.0, hours_per_unit=0.1) == []


def test_an_open_order_in_production_is_never_owned_by_the_customer():
    assert _violations("e", "owned by the customer", range(4), (12, 15, 19),
                       billing="consult-shipping-sales", dispute_days=2.0, hours_per_unit=0.1,
                       rate_per_day=0.5, busy_machine=True) == []
