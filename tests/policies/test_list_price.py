"""List-price quoting: the reason it gives, and the bound on the reasons it keeps formatted."""

from __future__ import annotations

from ordercycle.policies.commercial import REASONS_KEPT
from ordercycle.policies.contexts import QuoteContext
from ordercycle.policies.registry import make


def context(list_price: float, lead: float) -> QuoteContext:
    return QuoteContext(1, 0.0, "c-1", "regular", 1.0, "P1", 3, list_price, 50.0, lead, 10.0)


def test_the_reason_names_the_price_and_the_lead_time_whatever_came_before() -> None:
    policy = make("pricing", "list-price")
    for price, lead in ((100.0, 7.0), (99.456, 2.5), (100.0, 7.0)):
        quote = policy.quote(context(price, lead))
        assert quote.unit_price == round(price, 2)
        assert quote.promised_lead_days == lead
        assert quote.reason == f"list price {price:.2f}, standard lead {lead:g} d"


def test_a_service_sending_endless_prices_does_not_grow_the_policy() -> None:
    policy = make("pricing", "list-price")
    for k in range(REASONS_KEPT + 500):
        price = 10.0 + k / 100
        assert policy.quote(context(price, 5.0)).reason.startswith(f"list price {price:.2f},")
    assert len(policy.reasons_) == REASONS_KEPT
