"""Pricing on the whole path and on real idle capacity, policy by policy (no simulation).

``capable-to-promise`` promises dispatch + published transit + safety when the context
carries both; ``list-price`` and ``tier-discount`` add the transit only with
``add_transit``; ``informed-sales`` discounts on ``idle_capacity_hours`` when the context
has it and judges older contexts by ``surplus_capacity_hours`` as version 1 did. Every
context without the new fields is decided exactly as before (version 1's rules,
restated here), and the decision service answers the new example contexts alike.
"""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from ordercycle.policies.bundle import make_bundle, verify_bundle
from ordercycle.policies.contexts import Quote, QuoteContext
from ordercycle.policies.examples import labelled_examples
from ordercycle.policies.registry import make
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.schemas import route_schemas

NEW_FIELDS = ("dispatch_lead_days", "idle_capacity_hours", "transit_quantile", "transit_days")


def context(**changes) -> QuoteContext:
    base = dict(inquiry_id=1, now=10.0, customer_id="strategic-1", segment="strategic", importance=3.0,
                product_id="pump", quantity=8, list_price=950.0, unit_cost=540.0,
                standard_lead_days=8.0, desired_lead_days=14.0)
    return QuoteContext(**{**base, **changes})


PATH = dict(projected_lead_days=5.6, dispatch_lead_days=3.27, transit_quantile=0.9, transit_days=3.42)


# --- the promise ---------------------------------------------------------------------------


def test_capable_to_promise_promises_dispatch_plus_the_published_transit():
    policy = make("pricing", "capable-to-promise")
    quote = policy.quote(context(**PATH))
    assert quote == Quote(950.0, round(3.27 + 3.42 + 1.0, 2),
                          "dispatch in 3.3 d + transit p90 3.42 d, +1 d safety")
    floor = make("pricing", "capable-to-promise", {"safety_days": 0.0, "min_lead_days": 2.0})
    assert floor.quote(context(dispatch_lead_days=0.0, transit_days=0.5, transit_quantile=0.5)
                       ).promised_lead_days == 2.0


def test_capable_to_promise_keeps_the_mean_transit_promise_without_the_published_one():
    policy = make("pricing", "capable-to-promise")
    mean_path = {k: v for k, v in PATH.items() if k not in ("transit_quantile", "transit_days")}
    assert policy.quote(context(**mean_path)) == Quote(950.0, 6.6, "load allows 5.6 d, +1 d safety")
    # transit published but the load not shared: nothing to add it to
    transit_only = policy.quote(context(transit_quantile=0.9, transit_days=3.42))
    assert transit_only == Quote(950.0, 8.0, "load not shared: standard lead time")


def test_list_price_adds_the_transit_only_when_asked():
    default, adding = make("pricing", "list-price"), make("pricing", "list-price", {"add_transit": True})
    known = context(transit_quantile=0.9, transit_days=3.42)
    assert default.quote(known) == default.quote(context()) == Quote(
        950.0, 8.0, "list price 950.00, standard lead 8 d")
    assert adding.quote(known) == Quote(
        950.0, 11.42, "list price 950.00, standard lead 8 d + transit p90 3.42 d")
    assert adding.quote(context()) == default.quote(context())  # nothing known, nothing added
    # the kept reasons tell the transit apart
    other = adding.quote(context(transit_quantile=0.95, transit_days=4.1))
    assert other.reason.endswith("transit p95 4.10 d")


def test_tier_discount_adds_the_transit_only_when_asked():
    default = make("pricing", "tier-discount")
    adding = make("pricing", "tier-discount", {"add_transit": True})
    known = context(transit_quantile=0.9, transit_days=3.42)
    assert default.quote(known) == default.quote(context()) == Quote(
        893.0, 8.0, "tier discount 6% (importance 3)")
    assert adding.quote(known) == Quote(
        893.0, 11.42, "tier discount 6% (importance 3); standard lead 8 d + transit p90 3.42 d")



def test_informed_sales_adds_the_transit_to_either_promise_only_when_asked():
    default = make("pricing", "informed-sales", {"add_transit": False})
    adding = make("pricing", "informed-sales", {"add_transit": True})
    stocked = context(stock_on_hand_units=500, transit_quantile=0.9, transit_days=3.42)
    assert default.quote(stocked).promised_lead_days == 3.0  # the stock promise, ex works
    assert adding.quote(stocked) == Quote(950.0, 6.42, "500 in stock: delivery in 3 d + transit p90 3.42 d")
    standard = context(transit_quantile=0.9, transit_days=3.42)
    assert adding.quote(standard).promised_lead_days == 11.42
    assert adding.quote(context()) == default.quote(context())  # nothing known, nothing added

# --- the discount ---------------------------------------------------------------------------


def test_informed_sales_discounts_only_real_idle_capacity():
    policy = make("pricing", "informed-sales")
    idle = policy.quote(context(surplus_capacity_hours=214.0, idle_capacity_hours=55.0))
    assert idle == Quote(902.5, 8.0, "idle capacity 55 h within 8 d: 5% off")
    busy = policy.quote(context(surplus_capacity_hours=214.0, idle_capacity_hours=12.0))
    assert busy == Quote(950.0, 8.0, "idle capacity 12 h < 40 h: no discount")  # surplus ignored
    overrun = policy.quote(context(surplus_capacity_hours=214.0, idle_capacity_hours=-30.0))
    assert overrun == Quote(950.0, 8.0, "idle capacity 0 h < 40 h: no discount")
    assert policy.quote(context(idle_capacity_hours=40.0)).unit_price == 902.5  # the threshold counts


def test_informed_sales_judges_a_context_without_idle_capacity_as_version_1():
    policy = make("pricing", "informed-sales")
    assert policy.quote(context(surplus_capacity_hours=214.0)) == Quote(
        902.5, 8.0, "surplus capacity 214 h: 5% off")
    assert policy.quote(context(surplus_capacity_hours=39.0)).unit_price == 950.0
    stock = policy.quote(context(stock_on_hand_units=20, idle_capacity_hours=80.0))
    assert stock == Quote(902.5, 3.0, "20 in stock: delivery in 3 d; idle capacity 80 h within 8 d: 5% off")
    assert policy.quote(context()) == Quote(
        950.0, 8.0, "no shared stock or surplus: list price, standard lead")


# --- nothing changed where nothing new is known ---------------------------------------------


def version_1(name: str, c: QuoteContext) -> tuple[float, float]:
    """(unit price, promised lead) of the version-1 rules at their default parameters."""
    if name == "list-price":
        return round(c.list_price, 2), c.standard_lead_days
    if name == "tier-discount":
        discount = min(0.10, 0.03 * max(0.0, c.importance - 1.0))
        return round(c.list_price * (1 - discount), 2), c.standard_lead_days
    if name == "informed-sales":
        price, lead = c.list_price, c.standard_lead_days
        if c.stock_on_hand_units is not None and c.stock_on_hand_units >= c.quantity:
            lead = min(lead, 3.0)
        if c.surplus_capacity_hours is not None and c.surplus_capacity_hours >= 40.0:
            price = c.list_price * 0.95
        return round(price, 2), lead
    assert name == "capable-to-promise"
    if c.projected_lead_days is None:
        return round(c.list_price, 2), c.standard_lead_days
    return round(c.list_price, 2), round(max(1.0, c.projected_lead_days + 1.0), 2)


@pytest.mark.parametrize("name", ["list-price", "tier-discount", "informed-sales", "capable-to-promise"])
def test_contexts_without_the_new_fields_are_decided_as_before(name):
    policy = make("pricing", name)
    examples = labelled_examples("pricing")
    stripped = [dataclasses.replace(c, **dict.fromkeys(NEW_FIELDS)) for c in examples.values()]
    for c in stripped:
        quote = policy.quote(c)
        assert (quote.unit_price, quote.promised_lead_days) == version_1(name, c), c


def test_the_new_example_contexts_carry_the_new_fields():
    examples = labelled_examples("pricing")
    with_path = [c for c in examples.values() if c.transit_days is not None]
    assert len(with_path) >= 3
    assert any(c.idle_capacity_hours is not None and c.idle_capacity_hours < 0 for c in with_path)
    assert any(c.idle_capacity_hours is not None and c.idle_capacity_hours >= 40 for c in with_path)
    assert any(c.dispatch_lead_days is None for c in with_path)


def test_the_service_decides_the_new_examples_alike(tmp_path):
    token = "t" * 20
    schema = route_schemas()["pricing"]
    examples = [c for c in labelled_examples("pricing").values() if c.transit_days is not None]
    deployed = [("capable-to-promise", {}), ("informed-sales", {}), ("list-price", {"add_transit": True})]
    for name, params in deployed:
        policies = {"pricing": {"name": name, "params": params}}
        bundle = verify_bundle(make_bundle(
            policies, scenario={"name": "test"}, scenario_name="test", scenario_hash="0" * 64,
            evidence={"source": "test"}, package_version="0.1.0", created_at="2025-01-01T00:00:00Z"))
        app = create_app(bundle, ServiceSettings(db_path=str(tmp_path / f"{name}.sqlite"), token=token))
        policy = make("pricing", name, params)
        with TestClient(app) as client:
            for c in examples:
                response = client.post(schema.path, json=schema.context_dict(c),
                                       headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, response.text
                assert schema.decision_from_json(response.json()) == policy.quote(c)


def test_the_service_refuses_a_transit_level_out_of_bounds(tmp_path):
    token = "t" * 20
    bundle = verify_bundle(make_bundle(
        {"pricing": {"name": "capable-to-promise", "params": {}}}, scenario={"name": "test"},
        scenario_name="test", scenario_hash="0" * 64, evidence={"source": "test"}, package_version="0.1.0",
        created_at="2025-01-01T00:00:00Z"))
    app = create_app(bundle, ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=token))
    schema = route_schemas()["pricing"]
    body = schema.context_dict(context(**PATH))
    with TestClient(app) as client:
        for level in (0.0, 1.0, 1.5):
            response = client.post(schema.path, json={**body, "transit_quantile": level},
                                   headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 422 and "transit_quantile" in response.text
        response = client.post(schema.path, json={**body, "transit_days": -1.0},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422 and "transit_days" in response.text
