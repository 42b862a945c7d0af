"""Fulfilment policies and the customers' partial-delivery flag (``by-customer``)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ordercycle.policies.contexts import FulfilmentContext, LineStatus, ShipmentLine
from ordercycle.policies.examples import labelled_examples
from ordercycle.policies.fulfilment import ByCustomer, ShipComplete, ShipPartial
from ordercycle.policies.registry import make
from ordercycle.policies.service.schemas import route_schemas


def order(accepts: bool, *lines: tuple[int, int, int, int], at_release: bool = False) -> FulfilmentContext:
    """An order of ``lines`` (line id, quantity, ready, shipped) of a customer who ``accepts`` partials."""
    status = tuple(
        LineStatus(line_id, "valve", quantity, ready, shipped) for line_id, quantity, ready, shipped in lines
    )
    return FulfilmentContext(9, 4.0, at_release, status, accepts)


def test_by_customer_ships_what_is_ready_to_customers_who_accept_partial_deliveries():
    decision = ByCustomer().ship(order(True, (1, 5, 2, 0), (2, 3, 0, 0), at_release=True))
    assert decision.lines == (ShipmentLine(1, 2),)
    assert "accepts partial deliveries" in decision.reason
    later = ByCustomer().ship(order(True, (1, 5, 1, 2), (2, 3, 3, 0)))
    assert later.lines == (ShipmentLine(1, 1), ShipmentLine(2, 3))


def test_by_customer_ships_nothing_of_an_incomplete_order_to_the_others():
    at_release = ByCustomer().ship(order(False, (1, 5, 5, 0), (2, 3, 0, 0), at_release=True))
    assert at_release.lines == () and "waiting for 3 units" in at_release.reason
    one_ready = ByCustomer().ship(order(False, (1, 5, 0, 0), (2, 3, 3, 0)))
    assert one_ready.lines == ()


def test_by_customer_ships_a_complete_order_in_one_go_to_anyone():
    for accepts in (True, False):
        decision = ByCustomer().ship(order(accepts, (1, 5, 5, 0), (2, 3, 3, 0)))
        assert decision.lines == (ShipmentLine(1, 5), ShipmentLine(2, 3))


def test_by_customer_is_ship_partial_or_ship_complete_without_a_stock_part_by_the_flag():
    once = ShipComplete(ship_stock_at_release=False)
    for label, context in labelled_examples("fulfilment").items():
        for accepts in (True, False):
            flagged = dataclasses.replace(context, accepts_partial_deliveries=accepts)
            expected = (ShipPartial() if accepts else once).ship(flagged)
            assert ByCustomer().ship(flagged).lines == expected.lines, (label, accepts)


def test_the_company_wide_rules_ignore_the_flag():
    context = order(False, (1, 5, 2, 0), (2, 3, 0, 0), at_release=True)
    assert ShipPartial().ship(context).lines == (ShipmentLine(1, 2),)
    assert ShipComplete().ship(context).lines == (ShipmentLine(1, 2),)  # the stock part at release


def test_by_customer_is_registered_without_parameters():
    policy = make("fulfilment", "by-customer")
    assert isinstance(policy, ByCustomer) and policy.get_params() == {}
    assert ByCustomer.honours_partial_deliveries and not ShipPartial.honours_partial_deliveries


@pytest.mark.parametrize("flag", [None, True, False])
def test_a_ship_request_may_leave_the_flag_out(flag):
    """Requests to ``/v1/ship`` written before the flag existed stay valid (read as accepting)."""
    body = {
        "order_id": 3,
        "now": 1.5,
        "at_release": True,
        "lines": [{"line_id": 1, "product_id": "valve", "quantity": 4, "ready_units": 2, "shipped_units": 0}],
    }
    if flag is not None:
        body["accepts_partial_deliveries"] = flag
    context = route_schemas()["fulfilment"].context_from_body(json.dumps(body))
    assert context.accepts_partial_deliveries is (True if flag is None else flag)
    assert ByCustomer().ship(context).lines == (() if flag is False else (ShipmentLine(1, 2),))
