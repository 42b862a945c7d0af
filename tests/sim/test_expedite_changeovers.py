"""Expedites that break the sequence: the changeovers into an expedited job and back.

A tiny company starts from a state snapshot: one machine set up for family A, seven
A orders and a B order waiting, and another B order whose promise is already at risk,
so sales asks for an expedite before its only operation. Under ``setup-aware`` dispatch the refused
expedite leaves B behind the A sequence (no changeover before the horizon); the
granted one makes the machine change over to B next and back to A after it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from ordercycle.scenarios.loader import load, override, parse
from ordercycle.sim.invariants import check_run
from ordercycle.sim.resources import Machine
from ordercycle.sim.run import simulate
from ordercycle.sim.snapshot import Snapshot, starting_from

CHANGEOVER_HOURS = 2.0
CHANGEOVER_COST = 500.0
PLAN_CHANGE_COST = 70.0
JOB_HOURS = 10.0
HORIZON_DAYS = 2.5  # 60 h: six jobs of 10 h start; without the expedite B would start at 70 h
A_ORDERS = 7


def _company(expedite: str) -> Any:
    """One machine around the clock, families A and B, costs only for changeovers and plan changes."""
    product = {"list_price": 100.0, "unit_cost": 50.0, "stocking": "make_to_order",
               "standard_lead_days": 5, "routing": [{"work_centre": "wc", "hours_per_unit": JOB_HOURS}]}
    departments = ("sales_reps", "estimators", "entry_clerks", "junior_staff", "senior_managers",
                   "warehouse_staff", "billing_clerks", "returns_staff", "finance_clerks")
    tasks = ("sales_contact", "cost_estimation", "order_entry", "selection_junior", "selection_senior",
             "picking", "invoicing", "dispute_rework", "return_approval", "refund", "expedite_request")
    data = {
        "name": "expedite-breaks-sequence", "horizon_days": 60, "warmup_days": 0,
        "products": [{**product, "id": "a", "setup_family": "A"},
                     {**product, "id": "b", "setup_family": "B"}],
        "work_centres": [{"id": "wc", "machines": 1, "initial_shifts": 3, "max_shifts": 3,
                          "machine_hour_cost": 1.0, "changeover_hours": CHANGEOVER_HOURS}],
        "segments": [{"id": "s", "customers": 1, "importance": 1.0,
                      "arrivals": {"rate_per_day": 1e-6}, "order_size_units": 1,
                      "product_mix": {"a": 1.0}, "desired_lead_days": 5, "logistics_provider": "lp"}],
        "logistics_providers": [{"id": "lp", "pickups_at_once": 5, "transit_days": 1.0}],
        "staff": dict.fromkeys(departments, 5),
        "task_hours": dict.fromkeys(tasks, 0.1),
        "planning": {"period_days": 100.0, "expedite_margin_days": 0.0},
        "costs": {"changeover_cost": CHANGEOVER_COST, "plan_change_cost": PLAN_CHANGE_COST},
        "policies": {"priority": "fifo", "dispatch": "setup-aware", "expedite": expedite,
                     "selection": "accept-all"},
    }
    return parse(data)


def _order(order_id: int, product: str, promised_day: float) -> dict[str, Any]:
    return {"order_id": order_id, "customer_id": "s-0", "segment": "s", "product": product,
            "quantity": 1, "step": "production", "inquiry_day": -1.0, "unit_price": 100.0,
            "promised_day": promised_day}


def _run(expedite: str) -> Any:
    """Seven A orders and one B order (promised far ahead) waiting, the machine set up for A;
    another B order promised in an hour (the one sales asks to expedite)."""
    orders = [_order(i, "a", 50.0) for i in range(1, A_ORDERS + 1)]
    orders += [_order(A_ORDERS + 1, "b", 1 / 24), _order(A_ORDERS + 2, "b", 50.0)]
    snapshot = Snapshot.model_validate({
        "machines": [{"work_centre": "wc", "index": 0, "setup_family": "A"}], "orders": orders})
    return simulate(starting_from(_company(expedite), snapshot, HORIZON_DAYS), seed=0)


@pytest.fixture(scope="module")
def granted():
    return _run("always")


@pytest.fixture(scope="module")
def refused():
    return _run("never")


def _machine_log(result: Any) -> pd.DataFrame:
    events = result.events
    return events[events["resource"] == "wc:0"].reset_index(drop=True)


def _family_of_jobs(result: Any) -> list[str]:
    started = _machine_log(result)
    started = started[started["activity"] == "operation_started"]
    return ["B" if product == "b" else "A" for product in started["product_id"]]


def test_the_scenario_is_the_intended_one(granted, refused):
    for result in (granted, refused):
        assert check_run(result) == []
        assert not (result.events["activity"] == "inquiry_received").any()  # only the snapshot's orders
    assert granted.kpis["expedites"] == 1 and refused.kpis["expedites"] == 0
    assert (refused.events["activity"] == "expedite_refused").sum() == 1


def test_without_the_expedite_the_sequence_keeps_b_waiting(refused):
    assert _family_of_jobs(refused) == ["A"] * 6
    assert refused.kpis["changeovers"] == 0
    assert refused.kpis["expedite_changeovers"] == 0


def test_the_expedited_job_is_taken_next_and_the_machine_goes_back(granted):
    # the first A job was running when B was expedited; B jumps the other six A jobs, and then
    # the machine goes back to the interrupted A sequence although another B job waits
    assert _family_of_jobs(granted) == ["A", "B", "A", "A", "A", "A"]
    log = _machine_log(granted)
    changeovers = log[log["activity"] == "changeover_started"]
    marks = log[log["activity"] == "expedite_changeover"]
    assert len(changeovers) == 2 and len(marks) == 2
    # each mark repeats a changeover exactly: into B (the expedited order's job), then back to A
    columns = ["time", "resource", "order_id", "job_id", "product_id", "quantity"]
    pd.testing.assert_frame_equal(marks[columns].reset_index(drop=True),
                                  changeovers[columns].reset_index(drop=True))
    assert list(marks["product_id"]) == ["b", "a"]
    assert marks["order_id"].iloc[0] == A_ORDERS + 1
    assert list(marks["quantity"]) == [CHANGEOVER_HOURS, CHANGEOVER_HOURS]
    assert marks["time"].iloc[0] == pytest.approx(JOB_HOURS / 24)  # when the first A job is done
    assert marks["time"].iloc[1] == pytest.approx((2 * JOB_HOURS + CHANGEOVER_HOURS) / 24)


def test_the_kpis_count_both_once_and_cost_them_as_changeovers(granted, refused):
    assert granted.kpis["changeovers"] == 2
    assert granted.kpis["expedite_changeovers"] == 2
    assert granted.kpis["plan_changes"] == refused.kpis["plan_changes"] + 1  # the expedite, as before
    extra = granted.kpis["operating_cost"] - refused.kpis["operating_cost"]
    assert extra == pytest.approx(2 * CHANGEOVER_COST + PLAN_CHANGE_COST)


def test_an_expedite_with_nothing_of_the_setup_waiting_causes_no_expedite_changeover():
    """Only the B order waits: the machine would change over for it anyway."""
    snapshot = Snapshot.model_validate({
        "machines": [{"work_centre": "wc", "index": 0, "setup_family": "A"}],
        "orders": [_order(1, "b", 1 / 24), _order(2, "a", 50.0)]})
    # order 2 (A) is queued at once and runs first; B, expedited, then finds no A job waiting
    result = simulate(starting_from(_company("always"), snapshot, HORIZON_DAYS), seed=0)
    assert result.kpis["expedites"] == 1
    assert result.kpis["changeovers"] == 1
    assert result.kpis["expedite_changeovers"] == 0


@pytest.fixture(scope="module")
def baseline_pair():
    """The around-the-clock company over 60 days under setup-aware dispatch, expedite always
    vs never (same seed).

    Sales asks for an expedite when the projected completion is within 3 days of the
    promise (the company's 1 day gives about one request a fortnight).
    """
    runs = {}
    for expedite in ("always", "never"):
        scenario = override(load("around-the-clock"), horizon_days=60, warmup_days=7,
                            policies={"dispatch": {"name": "setup-aware"}, "expedite": {"name": expedite}})
        planning = {**scenario.planning.model_dump(), "expedite_margin_days": 3.0}
        scenario = override(scenario, planning=planning)
        runs[expedite] = simulate(scenario, seed=0)
    return runs


def test_on_the_baseline_expediting_everything_breaks_sequences(baseline_pair):
    always, never = baseline_pair["always"].kpis, baseline_pair["never"].kpis
    assert always["expedites"] > 50 and never["expedites"] == 0
    assert never["expedite_changeovers"] == 0
    assert always["expedite_changeovers"] > 0
    assert always["changeovers"] > never["changeovers"]
    assert always["expedite_changeovers"] <= always["changeovers"]


def test_every_expedite_changeover_is_one_logged_changeover(baseline_pair):
    events = baseline_pair["always"].events
    keys = ["time", "resource", "job_id"]
    marks = events[events["activity"] == "expedite_changeover"][keys]
    changeovers = events[events["activity"] == "changeover_started"][keys]
    matched = marks.merge(changeovers, on=keys, how="inner")
    assert len(marks) > 0 and len(matched) == len(marks)
    assert not marks.duplicated().any()


# --- the accounting on one machine (Machine.take_up) ---------------------------------------------


def _take_up(jobs: list[tuple[str, bool, bool]]) -> tuple[list[bool], str | None]:
    """Feed (family, expedited, a sequence job waiting) to a machine set up for A: marks, what it owes."""
    machine = Machine("wc", 0)
    machine.family = "A"
    marks = []
    for family, expedited, waiting in jobs:
        marks.append(machine.take_up(family, expedited, waiting, family != machine.family))
        machine.family = family
    return marks, machine.interrupted_family


@pytest.mark.parametrize(("jobs", "marks", "owed"), [
    # into B and back to A
    ([("B", True, True), ("A", False, False)], [True, True], None),
    # the dispatch took a C job after the expedite: the interruption ends, nothing owed to it
    ([("B", True, True), ("C", False, True)], [True, False], None),
    # two expedites in a row (B, then C) and back: three changeovers, all the expedites'
    ([("B", True, True), ("C", True, True), ("A", False, False)], [True, True, True], None),
    # a second expedited B job needs no changeover; the machine still owes the return to A
    ([("B", True, True), ("B", True, True)], [True, False], "A"),
    # an expedite of the interrupted family itself leads back: counted once, nothing owed
    ([("B", True, True), ("A", True, False)], [True, True], None),
    # nothing of the setup waits: the changeover would happen anyway
    ([("B", True, False), ("A", False, False)], [False, False], None),
    # an ordinary changeover is nobody's expedite
    ([("B", False, True)], [False], None),
])
def test_which_changeovers_are_the_expedites(jobs, marks, owed):
    assert _take_up(jobs) == (marks, owed)
