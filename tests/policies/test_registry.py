"""The policy registry, parameter validation and the built-in policies' decisions."""

from __future__ import annotations

import json

import pytest

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.contexts import (
    BillingContext,
    BillingLine,
    CapacityContext,
    ForecastContext,
    OrderView,
    RankingContext,
    SelectionContext,
    from_json,
    to_json,
)
from ordercycle.policies.registry import DECISIONS, make, registry


def all_policies():
    return [(kind, name) for kind, table in registry().items() for name in sorted(table)]


def test_every_decision_has_a_default_policy():
    for kind in DECISIONS:
        assert registry()[kind], f"no policy registered for {kind}"


@pytest.mark.parametrize(("kind", "name"), all_policies())
def test_params_round_trip_and_rebuild_equal(kind, name):
    policy = make(kind, name)
    params = policy.get_params()
    assert json.loads(json.dumps(params)) == params
    assert make(kind, name, params) == policy
    assert type(policy).policy_id().startswith(f"{kind}/{name}@")
    assert type(policy).summary


def test_bad_parameters_name_the_field():
    with pytest.raises(PolicyParameterError) as caught:
        make("expedite", "bounded", {"max_per_period": -2, "colour": "red"})
    assert caught.value.problems == [
        "policies.expedite.params.max_per_period: input should be greater than or equal to 0 (got -2)",
        "policies.expedite.params.colour: unknown parameter",
    ]


def test_a_boolean_is_not_a_number_parameter():
    """``min_units: true`` would be read as 1 by pydantic: refused, naming the parameter; a boolean
    parameter still takes booleans, and a number still builds."""
    with pytest.raises(PolicyParameterError) as error:
        make("selection", "size-threshold", {"min_units": True})
    assert error.value.problems == ["policies.selection.params.min_units: a boolean is not a number (got true)"]
    with pytest.raises(PolicyParameterError) as error:
        make("overtime", "backlog-threshold", {"max_hours_per_day": False, "threshold_hours": 8})
    assert error.value.problems == ["policies.overtime.params.max_hours_per_day: a boolean is not a number (got false)"]
    assert make("selection", "size-threshold", {"min_units": 3}).min_units == 3
    assert make("pricing", "list-price", {"add_transit": True}).add_transit is True


def test_moving_average_plays_the_forecast_game():
    context = ForecastContext("valve", 70.0, 7.0, (100.0, 120.0, 80.0, 100.0, 500.0), 0.2, 0.15)
    forecast = make("forecast", "moving-average", {"window": 4}).forecast(context)
    assert forecast.statistical_units == pytest.approx(200.0)
    assert forecast.marketing_units == pytest.approx(240.0)
    assert forecast.planned_units == pytest.approx(204.0)
    assert "marketing +20%" in forecast.reason


def test_load_based_capacity_staffs_fewest_shifts_that_cover_the_load():
    policy = make("capacity", "load-based", {"backlog_share": 0.5})
    context = CapacityContext("cutting", 2, 3, 2, 8.0, 7.0, 150.0, 40.0, 0.85)
    # 2 machines x 8 h x 7 d x 0.85 = 95.2 h per shift; load 150 + 20 = 170 h -> 2 shifts
    assert policy.plan(context).shifts == 2
    heavy = CapacityContext("cutting", 2, 3, 2, 8.0, 7.0, 400.0, 0.0, 0.85)
    assert policy.plan(heavy).shifts == 3


def test_size_threshold_rejects_small_orders_only():
    policy = make("selection", "size-threshold", {"min_units": 3})
    small = SelectionContext(1, 0.0, "junior", "strategic", "pump", 2, 1900.0)
    assert not policy.select(small).accept
    assert "below the 3-unit threshold" in policy.select(small).reason
    assert policy.select(SelectionContext(2, 0.0, "junior", "regular", "valve", 3, 360.0)).accept


def test_ranking_is_a_permutation_expedites_first():
    orders = (
        OrderView(1, 0.0, 9.0, 1.0, 1, 1.0),
        OrderView(2, 1.0, 3.0, 1.0, 1, 1.0),
        OrderView(3, 2.0, 5.0, 1.0, 1, 1.0, expedited=True),
    )
    ranking = make("priority", "edd").rank(RankingContext(0.0, orders))
    assert ranking.order_ids == (3, 2, 1)
    assert sorted(make("priority", "fifo").rank(RankingContext(0.0, orders)).order_ids) == [1, 2, 3]


def test_billing_policies_differ_exactly_where_entry_was_wrong():
    line = BillingLine(7, entered_units=5, entered_unit_price=110.0, already_billed=0.0,
                       shipped_units=3, agreed_unit_price=100.0)
    context = BillingContext("regular-1", "per_shipment", 10.0, (line,))
    consult = make("billing", "consult-shipping-sales").invoice(context)
    alone = make("billing", "standalone").invoice(context)
    assert consult.lines[0].amount == 300.0
    assert alone.lines[0].amount == 550.0


def test_contexts_round_trip_through_json():
    context = BillingContext("c", "monthly", 1.5, (BillingLine(1, 2, 3.5, 0.0, None, None),))
    data = to_json(context)
    assert json.loads(json.dumps(data)) == data
    assert from_json(BillingContext, data) == context


def test_margin_floor_is_a_senior_rule_that_protects_key_customers():
    policy = make("selection", "margin-floor", {"min_margin_rate": 0.4, "protect_importance": 3.0})
    assert type(policy).decider == "senior"
    thin = SelectionContext(1, 0.0, "senior", "regular", "pump", 2, 1900.0, 2.0, 0.3, True, 10.0, 8.0)
    assert not policy.select(thin).accept
    key = SelectionContext(2, 0.0, "senior", "strategic", "pump", 2, 1900.0, 3.0, 0.3, True, 10.0, 8.0)
    assert policy.select(key).accept
    with pytest.raises(ValueError, match="senior context"):
        policy.select(SelectionContext(3, 0.0, "junior", "regular", "pump", 2, 1900.0))


def view(order_id, due, importance=1.0, operation_hours=1.0, remaining_days=0.0, route_load_days=0.0):
    return OrderView(order_id, float(order_id), due, importance, 1, operation_hours, False,
                     operation_hours, remaining_days, route_load_days)


@pytest.mark.parametrize(
    ("rule", "params", "orders", "now", "expected"),
    [
        ("spt", {}, [view(1, 5, operation_hours=3), view(2, 9, operation_hours=1)], 0.0, (2, 1)),
        ("min-slack", {}, [view(1, 10, remaining_days=1), view(2, 10, remaining_days=4)], 0.0, (2, 1)),
        # at t=6: order 1 has 4 days left for 4 days of work (ratio 1); order 2 is 1 day past due
        ("critical-ratio", {}, [view(1, 10, remaining_days=4), view(2, 5, remaining_days=1)], 6.0, (2, 1)),
        # at t=0: 1 has ratio 10/4 = 2.5, 2 has 5/1 = 5
        ("critical-ratio", {}, [view(1, 10, remaining_days=4), view(2, 5, remaining_days=1)], 0.0, (1, 2)),
        ("wspt", {},
         [view(1, 5, importance=1, operation_hours=1), view(2, 5, importance=3, operation_hours=2)],
         0.0, (2, 1)),
        # equal importance/hours: the one whose slack is gone comes first
        ("atc", {"lookahead_hours": 24}, [view(1, 30, operation_hours=2), view(2, 1, operation_hours=2)],
         0.0, (2, 1)),
        # same due date; order 2 has 3 days of work waiting on its route
        ("importance-capacity", {"importance_weight_days": 1.0},
         [view(1, 10), view(2, 10, route_load_days=3)], 0.0, (2, 1)),
        # an important customer beats 1.5 days of extra slack
        ("importance-capacity", {"importance_weight_days": 1.0},
         [view(1, 10, importance=1), view(2, 11.5, importance=3)], 0.0, (2, 1)),
    ],
)
def test_priority_rules_rank_as_defined(rule, params, orders, now, expected):
    ranking = make("priority", rule, params).rank(RankingContext(now, tuple(orders)))
    assert ranking.order_ids == expected


def quote_context(**changes):
    from ordercycle.policies.contexts import QuoteContext

    base = dict(inquiry_id=1, now=0.0, customer_id="c", segment="regular", importance=2.0,
                product_id="valve", quantity=5, list_price=100.0, unit_cost=60.0,
                standard_lead_days=7.0, desired_lead_days=10.0)
    return QuoteContext(**{**base, **changes})


def test_informed_sales_uses_shared_stock_and_surplus_only_when_shared():
    policy = make("pricing", "informed-sales", {"stock_lead_days": 2.0, "surplus_discount": 0.1,
                                                "surplus_threshold_hours": 40.0})
    blind = policy.quote(quote_context())
    assert (blind.unit_price, blind.promised_lead_days) == (100.0, 7.0)
    informed = policy.quote(quote_context(stock_on_hand_units=50, surplus_capacity_hours=80.0))
    assert (informed.unit_price, informed.promised_lead_days) == (90.0, 2.0)
    short = policy.quote(quote_context(stock_on_hand_units=3, surplus_capacity_hours=10.0))
    assert (short.unit_price, short.promised_lead_days) == (100.0, 7.0)


def test_tier_discount_and_capable_to_promise():
    tier = make("pricing", "tier-discount", {"discount_per_tier": 0.03, "max_discount": 0.05})
    assert tier.quote(quote_context(importance=3.0)).unit_price == 95.0  # 6 % capped at 5 %
    assert tier.quote(quote_context(importance=1.0)).unit_price == 100.0
    ctp = make("pricing", "capable-to-promise", {"safety_days": 1.0, "min_lead_days": 2.0})
    assert ctp.quote(quote_context(projected_lead_days=4.5)).promised_lead_days == 5.5
    assert ctp.quote(quote_context(projected_lead_days=0.2)).promised_lead_days == 2.0
    assert ctp.quote(quote_context()).promised_lead_days == 7.0


def senior_context(**changes):
    base = dict(order_id=1, now=0.0, decider="senior", segment="regular", product_id="pump",
                quantity=2, order_value=1900.0, importance=2.0, unit_margin_rate=0.4,
                strategic_product=False, backlog_hours=10.0, promised_lead_days=8.0,
                projected_lead_days=6.0)
    return SelectionContext(**{**base, **changes})


def test_strategic_selection_scores_margin_tier_product_and_capacity():
    policy = make("selection", "strategic", {"margin_weight": 1.0, "importance_weight": 0.5,
                                             "strategic_weight": 0.3, "capacity_weight": 0.3,
                                             "min_score": 0.9})
    # 0.4 + 0.5*2/3 + 0 + 0.3*1 = 1.03 -> accept
    assert policy.select(senior_context()).accept
    # capacity fit 0 (projection twice the promise): 0.4 + 0.333 = 0.73 -> reject
    assert not policy.select(senior_context(projected_lead_days=16.0)).accept


def test_capacity_aware_accepts_renegotiates_or_rejects():
    policy = make("selection", "capacity-aware", {"safety_days": 1.0, "max_delay_days": 5.0})
    fits = policy.select(senior_context(projected_lead_days=6.0))
    assert fits.accept and fits.renegotiated_lead_days is None
    later = policy.select(senior_context(projected_lead_days=10.0))
    assert later.accept and later.renegotiated_lead_days == 11.0
    assert not policy.select(senior_context(projected_lead_days=20.0)).accept


def test_expedite_policies():
    from ordercycle.policies.contexts import ExpediteContext

    def ctx(importance, count):
        return ExpediteContext(1, 0.0, importance, 5.0, 7.0, count, 7.0)

    assert make("expedite", "always").expedite(ctx(1.0, 99)).grant
    assert not make("expedite", "never").expedite(ctx(3.0, 0)).grant
    top = make("expedite", "top-tier", {"min_importance": 3.0, "max_per_period": 2})
    assert top.expedite(ctx(3.0, 1)).grant
    assert not top.expedite(ctx(2.0, 0)).grant
    assert not top.expedite(ctx(3.0, 2)).grant


def test_one_table_of_decision_kinds():
    from ordercycle.policies import examples, testing
    from ordercycle.policies.registry import DECISION_SPECS

    assert DECISIONS == {kind: spec.base for kind, spec in DECISION_SPECS.items()}
    assert examples.DECISION_SPECS is testing.DECISION_SPECS is DECISION_SPECS
    for kind, spec in DECISION_SPECS.items():
        assert callable(getattr(spec.base, spec.method)), kind
        assert spec.base.decision == kind
