"""The CP-SAT order-acceptance optimiser inside the simulation, on an overloaded plant
(the around-the-clock company, whose offices keep up with any load).

The overloaded variant: arrivals × 1.5 (machining runs flat out and its queue keeps
growing) and four senior managers, so that the selections of a senior policy do not
pile up. ``benchmarks/bench_acceptance.py`` measures the same comparison over longer
horizons and several seeds.
"""

from __future__ import annotations

import pytest

from ordercycle.policies.contexts import CapacityOutlook, SelectionContext, from_json, to_json
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import simulate


@pytest.fixture(scope="module")
def overloaded():
    scenario = override(load("around-the-clock"), horizon_days=50, warmup_days=14)
    segments = [segment.model_dump() for segment in scenario.segments]
    for segment in segments:
        segment["arrivals"]["rate_per_day"] *= 1.5
    return override(scenario, segments=segments, staff={**scenario.staff.model_dump(), "senior_managers": 4})


@pytest.fixture(scope="module")
def runs(overloaded):
    return {name: simulate(override(overloaded, policies={"selection": name}), seed=0,
                           trace_decisions=name == "cpsat-acceptance")
            for name in ("accept-all", "cpsat-acceptance")}


def test_optimiser_earns_more_than_accepting_everything(runs):
    accept_all, optimiser = runs["accept-all"], runs["cpsat-acceptance"]
    assert (accept_all.orders["final_state"] == "rejected").sum() == 0
    assert (optimiser.orders["final_state"] == "rejected").sum() > 0
    assert optimiser.kpis["profit"] > accept_all.kpis["profit"]


def test_each_selection_sees_a_consistent_outlook_and_says_why(runs):
    trace = [(context, decision) for kind, context, decision in runs["cpsat-acceptance"].model.trace
             if kind == "selection"]
    assert trace
    centres = {centre.id for centre in runs["cpsat-acceptance"].scenario.work_centres}
    some_pending = some_committed = False
    for context, decision in trace:
        assert isinstance(context, SelectionContext) and context.decider == "senior"
        outlook = context.capacity_outlook
        assert isinstance(outlook, CapacityOutlook) and outlook.order.order_id == context.order_id
        assert {c.work_centre for c in outlook.centres} == centres
        periods = {len(c.capacity_hours) for c in outlook.centres}
        periods |= {len(c.committed_hours) for c in outlook.centres}
        assert len(periods) == 1
        assert periods.pop() >= outlook.order.due_days - 1
        assert all(h >= 0 for c in outlook.centres for h in (*c.capacity_hours, *c.committed_hours))
        assert context.order_id not in {p.order_id for p in outlook.pending}
        assert all(e.order_id < 0 and e.count >= 1 for e in outlook.expected)
        some_pending |= bool(outlook.pending)
        some_committed |= any(any(c.committed_hours) for c in outlook.centres)
        assert decision.reason.startswith("accepted" if decision.accept else "rejected")
    assert some_pending and some_committed
    context = trace[-1][0]
    assert from_json(SelectionContext, to_json(context)) == context


def test_rejected_orders_end_rejected_and_cost_no_production(runs):
    result = runs["cpsat-acceptance"]
    rejected = set(result.orders.loc[result.orders["final_state"] == "rejected", "order_id"])
    decided = {context.order_id for kind, context, decision in result.model.trace
               if kind == "selection" and not decision.accept}
    assert rejected == decided
    produced = set(result.events.loc[result.events["activity"] == "operation_queued", "order_id"])
    assert not rejected & produced
    assert not result.model.awaiting_selection or all(
        order.final_state in ("", "open") for order in result.model.awaiting_selection.values())
