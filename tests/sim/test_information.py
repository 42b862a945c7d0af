"""Who knows what: shared information reaches the deciding department only when shared."""

from __future__ import annotations

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import simulate


def pricing_contexts(result):
    return [context for kind, context, _ in result.model.trace if kind == "pricing"]


def scenario(shared: bool, **policies):
    base = override(load("around-the-clock"), horizon_days=20, warmup_days=2,
                    information={"production_shares_capacity": shared, "warehouse_shares_stock": shared})
    return override(base, policies=policies) if policies else base


def test_sales_is_blind_unless_production_and_warehouse_share():
    blind = pricing_contexts(simulate(scenario(False), seed=0, trace_decisions=True))
    assert blind and all(c.surplus_capacity_hours is None and c.stock_on_hand_units is None
                         and c.projected_lead_days is None for c in blind)
    informed = pricing_contexts(simulate(scenario(True), seed=0, trace_decisions=True))
    assert all(c.surplus_capacity_hours is not None and c.stock_on_hand_units is not None
               for c in informed)
    assert any(c.stock_on_hand_units > 0 for c in informed)


def test_informed_sales_promises_from_stock_and_wins_more_quotes():
    blind = simulate(scenario(False, pricing={"name": "informed-sales"}), seed=0)
    informed = simulate(scenario(True, pricing={"name": "informed-sales"}), seed=0)
    assert informed.kpis["inquiries"] == blind.kpis["inquiries"]  # same demand (CRN)
    assert informed.kpis["quotes_lost"] < blind.kpis["quotes_lost"]


def test_renegotiated_dates_become_the_promise():
    result = simulate(scenario(True, selection={"name": "capacity-aware",
                                                "params": {"safety_days": 5.0, "max_delay_days": 30.0}}),
                      seed=0, trace_decisions=True)
    renegotiated = {c.order_id: (c, d) for kind, c, d in result.model.trace
                    if kind == "selection" and d.renegotiated_lead_days is not None}
    assert renegotiated, "expected some renegotiated orders"
    orders = result.orders.set_index("order_id")
    for order_id, (context, decision) in renegotiated.items():
        promised = orders.loc[order_id, "promised_date"]
        assert abs(promised - (context.now + decision.renegotiated_lead_days)) < 1e-9
        assert promised > context.now + context.promised_lead_days  # later than first promised
