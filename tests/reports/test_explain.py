"""Comparisons say what they compare, whether each policy acted, and where the evidence is weak.

The decision counts by outcome (``decisions.parquet``, the ``decisions`` KPIs) agree with
the events they cause; a set's description names the decisions it changes and the
information its policies miss; the warnings fire on the cases the issue names
(informed pricing without shared information takes the reference's decisions, strategic
selection never rejects, identical runs, few replications, very different throughput)
and stay silent where a policy did act.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ordercycle.policies.contexts import (
    BillingContext,
    BillingLine,
    DispatchContext,
    DispatchDecision,
    InvoiceDecision,
    InvoiceLine,
    JobView,
    Quote,
    QuoteContext,
    SelectionDecision,
)
from ordercycle.policies.outcomes import outcome
from ordercycle.reports import explain
from ordercycle.reports.comparison_report import build_comparison_report, load_comparison
from ordercycle.scenarios.loader import override
from ordercycle.sim.experiments import compare, write_comparison
from ordercycle.sim.experiments.replications import resolve_sets
from ordercycle.sim.experiments.set_notes import set_notes
from ordercycle.sim.run import simulate


def quote_context(list_price: float = 100.0, standard: float = 10.0) -> QuoteContext:
    return QuoteContext(1, 0.0, "c1", "regular", 1.0, "valve", 5, list_price, 60.0, standard, 8.0)


def test_outcome_labels_name_what_the_decision_did():
    assert outcome("pricing", quote_context(), Quote(95.0, 10.0, "")) == "discount, standard lead"
    assert outcome("pricing", quote_context(), Quote(100.0, 13.4, "")) == "list price, longer lead"
    assert outcome("pricing", quote_context(), Quote(100.0, 3.0, "")) == "list price, shorter lead"
    assert outcome("selection", None, SelectionDecision(False, "")) == "reject"
    assert outcome("selection", None, SelectionDecision(True, "", 12.0)) == "accept, lead renegotiated"
    entered = BillingContext("c1", "per-shipment", 1.0, (BillingLine(7, 5, 100.0, 0.0),))
    assert outcome("billing", entered, InvoiceDecision((InvoiceLine(7, 5, 100.0, 500.0),), "")) \
        == "billed as entered"
    assert outcome("billing", entered, InvoiceDecision((InvoiceLine(7, 4, 100.0, 400.0),), "")) \
        == "billed other than entered"
    jobs = (JobView(1, 10, "light", 5.0, 1.0, 2.0, False), JobView(2, 11, "heavy", 4.0, 1.0, 2.0, False))
    context = DispatchContext("cutting", 0, 1.0, "heavy", jobs)
    assert outcome("dispatch", context, DispatchDecision(2, "")) == "same family over priority"
    assert outcome("dispatch", context, DispatchDecision(1, "")) == "first in priority"
    assert outcome("no-such-kind", None, None) == "decided"


def test_decision_counts_agree_with_the_events_they_cause(short_baseline):
    """With no warm-up every decision counts: rejections are the rejected orders, grants the expedites."""
    scenario = override(short_baseline, warmup_days=0.0)
    result = simulate(scenario, seed=1)
    decisions = result.kpis["decisions"]
    table = result.decisions
    assert int(table["count"].sum()) == sum(decisions.values())
    assert decisions.get("selection.reject", 0) == result.kpis["orders_rejected"] > 0
    assert decisions.get("selection.accept", 0) == result.kpis["orders_accepted"]
    assert decisions.get("expedite.grant", 0) == result.kpis["expedites"]
    quotes = sum(n for key, n in decisions.items() if key.startswith("pricing."))
    quoted = result.orders.loc[result.orders["quote_time"].notna(), "order_id"]
    assert quotes == int(result.lines["order_id"].isin(quoted).sum()) > len(quoted)  # one per line quoted
    invoices = sum(n for key, n in decisions.items() if key.startswith("billing."))
    assert invoices == result.kpis["invoices"]
    # a warm-up removes the early days' decisions, and only those
    later = override(short_baseline, warmup_days=20.0)
    warm = simulate(later, seed=1)
    counted = warm.decisions[warm.decisions["day"] >= 20]
    assert sum(warm.kpis["decisions"].values()) == int(counted["count"].sum()) < int(warm.decisions["count"].sum())


def test_set_notes_name_the_changes_and_the_missing_information(short_baseline):
    sets, reference = resolve_sets(short_baseline, {
        "status-quo": {},
        "informed": {"pricing": {"name": "informed-sales", "params": {"add_transit": True}}},
        "edd": {"priority": "edd"},
    })
    notes = set_notes(short_baseline, sets, reference)
    assert notes["changes"]["status-quo"] == []
    (change,) = notes["changes"]["informed"]
    assert change["decision"] == "pricing" and change["policy"] == "informed-sales"
    assert change["reference_policy"] == short_baseline.policies.pricing.name
    assert change["summary"]  # the registry's one-line summary
    (note,) = notes["information"]["informed"]
    assert "information.production_shares_capacity" in note and "as list-price does" in note
    assert notes["information"]["edd"] == []
    shared = override(short_baseline, information={**short_baseline.information.model_dump(),
                                                   "production_shares_capacity": True})
    (partly,) = set_notes(shared, sets, reference)["information"]["informed"]
    assert "information.warehouse_shares_stock" in partly and "as list-price does" not in partly
    both = override(shared, information={**shared.information.model_dump(), "warehouse_shares_stock": True})
    assert set_notes(both, sets, reference)["information"]["informed"] == []
    described = explain.set_descriptions({"sets": sets, "reference": reference, "set_notes": notes})
    assert described["edd"][0].startswith("priority: edd")
    assert any(line.startswith("note — pricing: informed-sales") for line in described["informed"])


def _replications(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def _experiment(changes: dict[str, list[dict]]) -> dict:
    return {"reference": "a", "sets": {name: {} for name in ["a", *changes]},
            "set_notes": {"changes": {"a": [], **changes}, "information": {}}}


SELECTION = {"decision": "selection", "policy": "strategic", "params": {}, "summary": "",
             "reference_policy": "size-threshold", "reference_params": {}}


def test_warnings_fire_when_a_policy_did_not_act_and_stay_silent_when_it_did():
    experiment = _experiment({"b": [SELECTION], "c": [SELECTION]})
    rows = []
    for r in range(3):
        rows.append({"set": "a", "replication": r, "profit": 10.0 + r,
                     "decisions.selection.accept": 90.0, "decisions.selection.reject": 10.0 + r})
        rows.append({"set": "b", "replication": r, "profit": 12.0 + r, "decisions.selection.accept": 100.0 + r})
        rows.append({"set": "c", "replication": r, "profit": 11.0 + r,
                     "decisions.selection.accept": 95.0, "decisions.selection.reject": 5.0})
    warnings = explain.action_warnings(_replications(rows), experiment)
    assert len(warnings) == 1 and warnings[0].startswith("b: every selection decision of strategic was 'accept'")

    same = [dict(row, set=name) for row in rows if row["set"] == "a" for name in ("a", "b")]
    warnings = explain.action_warnings(_replications(same), _experiment({"b": [SELECTION]}))
    assert any("took exactly the decisions of the reference's (size-threshold)" in w for w in warnings)
    assert any(w.startswith("a and b gave identical runs") for w in warnings)


def test_evidence_warnings_for_few_replications_and_different_volumes():
    summary = pd.DataFrame([
        {"set": "a", "kpi": "orders_delivered", "n": 3, "mean": 1000.0},
        {"set": "b", "kpi": "orders_delivered", "n": 3, "mean": 900.0},
        {"set": "c", "kpi": "orders_delivered", "n": 3, "mean": 1010.0},
        {"set": "a", "kpi": "operating_cost_per_order", "n": 3, "mean": 800.0},
        {"set": "b", "kpi": "operating_cost_per_order", "n": 3, "mean": 850.0},
        {"set": "c", "kpi": "operating_cost_per_order", "n": 3, "mean": 790.0},
        {"set": "a", "kpi": "on_time_delivery_rate", "n": 0, "mean": float("nan")},
    ])
    warnings = explain.evidence_warnings(summary, {"reference": "a"})
    assert warnings[0].startswith("only 3 replications per set")
    (volume,) = [w for w in warnings if "delivers" in w]
    assert volume.startswith("b delivers 10% fewer orders than a") and "850 EUR against 800 EUR" in volume
    many = summary.assign(n=12)
    assert not [w for w in explain.evidence_warnings(many, {"reference": "a"}) if w.startswith("only")]


def test_a_set_still_moving_at_the_horizon_is_named():
    rows = [
        {"set": "a", "kpi": "trend.open_orders", "n": 5, "mean": 0.25, "ci_low": 0.15, "ci_high": 0.35},
        {"set": "b", "kpi": "trend.open_orders", "n": 5, "mean": 0.25, "ci_low": -0.05, "ci_high": 0.55},
        {"set": "c", "kpi": "trend.open_orders", "n": 5, "mean": 0.04, "ci_low": 0.02, "ci_high": 0.06},
        {"set": "a", "kpi": "trend.on_time_delivery_rate", "n": 5, "mean": -0.08, "ci_low": -0.1,
         "ci_high": -0.06},
    ]
    warnings = [w for w in explain.evidence_warnings(pd.DataFrame(rows).assign(n=12), {"reference": "a"})]
    assert len(warnings) == 2 and all(w.startswith("a is still moving at the horizon") for w in warnings)
    assert any("orders in progress rises 25.0 %" in w for w in warnings)
    assert any("on-time delivery falls 8.0 points" in w for w in warnings)


def test_the_trend_kpis_see_a_growing_queue(plain_short):
    """One machine per work centre, every order accepted: the plant's queue grows through the run,
    so far more orders are in progress at the end than at mid-window, and on-time falls."""
    normal = simulate(override(plain_short, horizon_days=90.0), seed=2).kpis["trend"]
    data = plain_short.model_dump(mode="python")
    for centre in data["work_centres"]:
        centre["machines"] = 1
    starved = override(plain_short, horizon_days=90.0, work_centres=data["work_centres"],
                       policies={**data["policies"], "selection": {"name": "accept-all", "params": {}}})
    trend = simulate(starved, seed=2).kpis["trend"]
    assert trend["open_orders"] > max(0.3, normal["open_orders"] + 0.25)
    assert trend["on_time_delivery_rate"] < normal["on_time_delivery_rate"] - 0.05


@pytest.fixture(scope="module")
def informed_comparison(short_baseline, tmp_path_factory):
    """The baseline (no information shared) with informed pricing against list price, and a
    set with strategic selection: 2 replications of 40 days."""
    scenario = override(short_baseline, horizon_days=40.0)
    sets = {"status-quo": {},
            "informed": {"pricing": {"name": "informed-sales",
                                     "params": {"add_transit": True}}},
            "strategic": {"selection": "strategic"}}
    comparison = compare(scenario, sets, reps=2, seed=0)
    return write_comparison(comparison, tmp_path_factory.mktemp("explain"))


def test_a_real_comparison_says_what_each_set_is_and_that_informed_pricing_did_nothing(informed_comparison):
    tables = load_comparison(informed_comparison)
    warnings = explain.action_warnings(tables.replications, tables.experiment)
    assert any(w.startswith("informed: its pricing policy (informed-sales) took exactly the decisions")
               for w in warnings)
    assert any(w.startswith("strategic: every selection decision of strategic was 'accept'") for w in warnings)
    page, markdown = build_comparison_report(tables)
    html = page.render()
    for text in ("What each set is", "Did the policies act?", "Read with care", "as list-price does",
                 "instead of size-threshold"):
        assert text in markdown
    assert "What each set is" in html and "Did the policies act?" in html
    rows = explain.decision_rows(tables.replications, tables.experiment, tables.sets)
    rejects = next(row for row in rows if row[:2] == ["selection", "reject"])
    assert float(rejects[2].replace(",", "")) > 0 and rejects[4] == "0.0"  # strategic rejects nothing
