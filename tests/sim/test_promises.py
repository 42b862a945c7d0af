"""Promises from the whole path and discounts on real idle capacity (issue 16, item 8: K4, K2).

- The published transit: quantiles of every distribution form against scipy or closed
  forms, and of the carrier's delay mixture against numerical convolution.
- Transit-aware promises: with ``information.carrier_transit_quantile`` the quotes carry
  the segment's carrier transit at that level; ``capable-to-promise`` then promises the
  days until dispatch plus that transit, and fewer orders are late because of transit
  (dispatched by the promise, delivered after it) than under the mean-transit promise,
  with the same inquiries (common random numbers).
- Real surplus: ``informed-sales`` discounts only where ``idle_capacity_hours`` says
  capacity is idle over the order's horizon: a minority of quotes on the loaded baseline,
  most of them when demand is cut to a fifth, where the old surplus figure met the
  threshold for practically every quote.
- Unchanged by default: with the new field unset, or set for a policy that does not use
  it, the event log is the same.
"""

from __future__ import annotations

import asyncio
import math

import httpx
import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter
from scipy import integrate, optimize, stats

from ordercycle.policies.bundle import make_bundle, verify_bundle
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.scenarios.distributions import Distribution, delayed_quantile
from ordercycle.scenarios.loader import content_hash, load, override
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.run import simulate

parse = TypeAdapter(Distribution).validate_python
LEVELS = (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
SHARED = {"production_shares_capacity": True, "warehouse_shares_stock": True}


def scipy_form(dist):
    """The scipy.stats distribution of one of ours (same parametrisation)."""
    if dist.dist == "exponential":
        return stats.expon(scale=dist.mean)
    if dist.dist == "lognormal":
        sigma2 = math.log1p(dist.cv**2)
        return stats.lognorm(s=math.sqrt(sigma2), scale=math.exp(math.log(dist.mean) - sigma2 / 2))
    if dist.dist == "gamma":
        shape = 1 / dist.cv**2
        return stats.gamma(shape, scale=dist.mean / shape)
    if dist.dist == "uniform":
        return stats.uniform(dist.low, dist.high - dist.low)
    assert dist.dist == "triangular"
    width = dist.high - dist.low
    return stats.triang((dist.mode - dist.low) / width, loc=dist.low, scale=width)


# --- quantiles of the distribution forms ------------------------------------------------


@pytest.mark.parametrize("spec", [
    {"dist": "exponential", "mean": 2.0},
    {"dist": "lognormal", "mean": 2.0, "cv": 0.5},
    {"dist": "lognormal", "mean": 0.3, "cv": 2.5},
    {"dist": "gamma", "mean": 3.0, "cv": 0.4},
    {"dist": "gamma", "mean": 1.5, "cv": 2.0},  # shape 0.25: the series near 0
    {"dist": "gamma", "mean": 100.0, "cv": 0.05},  # shape 400: the continued fraction
    {"dist": "uniform", "low": 1.0, "high": 3.0},
    {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 4.0},
    {"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 3.0},
    {"dist": "triangular", "low": 0.5, "mode": 3.0, "high": 3.0},
], ids=lambda spec: "-".join(str(v) for v in spec.values()))
def test_quantiles_and_cdfs_match_scipy(spec):
    dist, reference = parse(spec), scipy_form(parse(spec))
    for q in LEVELS:
        assert dist.quantile(q) == pytest.approx(reference.ppf(q), rel=1e-11, abs=1e-12), q
        x = reference.ppf(q)
        assert dist.cdf(x) == pytest.approx(reference.cdf(x), abs=1e-12), x
    assert dist.quantile(0.0) == pytest.approx(reference.ppf(0.0))
    assert dist.quantile(1.0) == reference.ppf(1.0)  # the upper end, inf when unbounded


def test_closed_forms_of_fixed_exponential_uniform_and_triangular():
    assert parse(2.5).quantile(0.9) == 2.5 and parse(2.5).cdf(2.4999) == 0.0 and parse(2.5).cdf(2.5) == 1.0
    assert parse({"dist": "exponential", "mean": 2.0}).quantile(0.9) == pytest.approx(2.0 * math.log(10))
    assert parse({"dist": "uniform", "low": 1, "high": 3}).quantile(0.25) == 1.5
    point = parse({"dist": "uniform", "low": 2, "high": 2})
    assert point.quantile(0.5) == 2.0 and point.cdf(1.9) == 0.0 and point.cdf(2.0) == 1.0
    triangle = parse({"dist": "triangular", "low": 1, "mode": 2, "high": 4})
    assert triangle.quantile(1 / 3) == pytest.approx(2.0)  # F(mode) = (c − a)/(b − a)
    assert triangle.quantile(0.9) == pytest.approx(4 - math.sqrt(0.1 * 3 * 2))
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        triangle.quantile(1.5)


def numerical_mixture_quantile(transit, reliability, delay, q, near):
    """The q-quantile of r·F_T + (1 − r)·(F_T * f_D), by adaptive quadrature and Brent's method
    in a bracket of ± 0.01 days around ``near`` (the root must be inside it)."""
    t, d = scipy_form(transit), scipy_form(delay)
    breaks = [v for v in (getattr(delay, "low", None), getattr(delay, "high", None)) if v is not None]

    def mixture(x):
        inside = [b for b in breaks if 0 < b < x] or None
        convolved = integrate.quad(lambda s: t.cdf(x - s) * d.pdf(s), 0, max(x, 0.0), points=inside,
                                   limit=200, epsabs=1e-11, epsrel=1e-11)[0]
        return reliability * t.cdf(x) + (1 - reliability) * convolved - q

    return optimize.brentq(mixture, near - 0.01, near + 0.01, xtol=1e-10)


@pytest.mark.parametrize("transit, delay", [
    ({"dist": "triangular", "low": 1, "mode": 2, "high": 4}, {"dist": "exponential", "mean": 2}),
    ({"dist": "triangular", "low": 0.5, "mode": 1, "high": 3}, {"dist": "exponential", "mean": 1.5}),
    ({"dist": "lognormal", "mean": 2, "cv": 0.5}, {"dist": "gamma", "mean": 3, "cv": 0.6}),
    ({"dist": "uniform", "low": 1, "high": 2}, {"dist": "uniform", "low": 0.5, "high": 4}),
])
@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99])
def test_the_delay_mixture_quantile_matches_numerical_convolution(transit, delay, q):
    transit, delay = parse(transit), parse(delay)
    ours = delayed_quantile(transit, 0.9, delay, q)
    assert ours == pytest.approx(numerical_mixture_quantile(transit, 0.9, delay, q, ours), abs=1e-5)
    assert ours >= transit.quantile(q)  # delays only lengthen the transit


def test_the_delay_mixture_in_closed_form():
    # a fixed transit of 2 days, delayed with probability 0.2 by an exponential of mean 1:
    # G(x) = 0.8 + 0.2 (1 − e^{−(x − 2)}) from x = 2, so G⁻¹(0.9) = 2 + ln 2, G⁻¹(0.7) = 2
    exponential = parse({"dist": "exponential", "mean": 1.0})
    assert delayed_quantile(parse(2.0), 0.8, exponential, 0.9) == pytest.approx(2 + math.log(2), abs=1e-12)
    assert delayed_quantile(parse(2.0), 0.8, exponential, 0.7) == 2.0
    # an exponential transit, a fixed delay of 1 day with probability 0.5: bisection on the exact G
    transit = parse({"dist": "exponential", "mean": 1.0})
    x = delayed_quantile(transit, 0.5, parse(1.0), 0.9)
    assert 0.5 * (1 - math.exp(-x)) + 0.5 * (1 - math.exp(-(x - 1))) == pytest.approx(0.9, abs=1e-12)
    # no delay: the transit's own quantile
    triangle = parse({"dist": "triangular", "low": 1, "mode": 2, "high": 4})
    assert delayed_quantile(triangle, 1.0, exponential, 0.9) == triangle.quantile(0.9)
    assert delayed_quantile(triangle, 0.5, parse(0.0), 0.9) == triangle.quantile(0.9)


def test_the_mixture_quantile_agrees_with_the_simulated_carrier():
    """The carrier process of ``ship`` (transit, plus a delay when the reliability uniform fails)
    sampled a million times: its empirical 0.9-quantile is the published one."""
    provider = {p.id: p for p in load("around-the-clock").logistics_providers}["freight-line"]
    rng = np.random.default_rng(7)
    n = 1_000_000
    transit = provider.transit_days.sample_block(rng, n)
    delayed = rng.uniform(size=n) >= provider.reliability
    transit = transit + np.where(delayed, provider.delay_days.sample_block(rng, n), 0.0)
    published = delayed_quantile(provider.transit_days, provider.reliability, provider.delay_days, 0.9)
    assert np.quantile(transit, 0.9) == pytest.approx(published, abs=0.01)
    assert published == pytest.approx(3.4198, abs=1e-4)


# --- transit-aware promises ---------------------------------------------------------------


def scenario(days=60, information=None, pricing=None, scale=1.0):
    """The around-the-clock company with production and the warehouse sharing, ``information`` on top."""
    base = override(load("around-the-clock"), horizon_days=days, warmup_days=7,
                    information={**SHARED, **(information or {})})
    if pricing is not None:
        base = override(base, policies={"pricing": pricing})
    if scale != 1.0:
        base = override(base, segments=[
            {**s.model_dump(),
             "arrivals": {**s.arrivals.model_dump(), "rate_per_day": s.arrivals.rate_per_day * scale}}
            for s in base.segments])
    return base


def late_orders(result) -> dict[str, float]:
    """Delivered orders; late ones; late ones dispatched by their promise (late because of the
    transit: ``shipment_dispatched`` by the promised date, ``order_delivered`` after it)."""
    events, orders = result.events, result.orders.set_index("order_id")
    dispatched = events[events["activity"] == "shipment_dispatched"].groupby("order_id")["time"].max()
    delivered = events[events["activity"] == "order_delivered"].groupby("order_id")["time"].max()
    promised = orders["promised_date"].reindex(delivered.index)
    late = delivered > promised + 1e-9
    by_transit = late & (dispatched.reindex(delivered.index) <= promised + 1e-9)
    return {"delivered": len(delivered), "late": int(late.sum()), "late_by_transit": int(by_transit.sum())}


def pricing_trace(result):
    return [(c, d) for kind, c, d in result.model.trace if kind == "pricing"]


def inquiries(result) -> pd.DataFrame:
    events = result.events[result.events["activity"] == "inquiry_received"]
    return events[["time", "order_id", "product_id", "quantity"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def promise_runs():
    """capable-to-promise on the shared baseline, 60 days, seed 0: mean-transit vs p90 promises."""
    ctp = {"name": "capable-to-promise"}
    return (simulate(scenario(pricing=ctp), seed=0, trace_decisions=True),
            simulate(scenario(information={"carrier_transit_quantile": 0.9}, pricing=ctp), seed=0,
                     trace_decisions=True))


def test_quotes_carry_the_published_transit_of_the_segments_carrier(promise_runs):
    old, new = promise_runs
    assert all(c.transit_days is None and c.transit_quantile is None for c, _ in pricing_trace(old))
    base = load("around-the-clock")
    providers = {p.id: p for p in base.logistics_providers}
    carrier = {s.id: providers[s.logistics_provider] for s in base.segments}
    published = {segment: delayed_quantile(p.transit_days, p.reliability, p.delay_days, 0.9)
                 for segment, p in carrier.items()}
    for context, quote in pricing_trace(new):
        assert context.transit_quantile == 0.9
        assert context.transit_days == published[context.segment]
        assert context.dispatch_lead_days is not None
        expected = max(1.0, context.dispatch_lead_days + context.transit_days + 1.0)
        assert quote.promised_lead_days == round(expected, 2)
        # the same path as projected_lead_days, with the published transit for the mean
        mean = carrier[context.segment].transit_days.mean
        assert context.projected_lead_days == pytest.approx(context.dispatch_lead_days + mean, abs=1e-12)


def test_transit_aware_promises_make_fewer_orders_late_because_of_the_carrier(promise_runs):
    old, new = promise_runs
    pd.testing.assert_frame_equal(inquiries(old), inquiries(new))  # same demand (CRN)
    before, after = late_orders(old), late_orders(new)
    share_before = before["late_by_transit"] / before["delivered"]
    share_after = after["late_by_transit"] / after["delivered"]
    assert share_before > 0.05  # the mean transit is beaten by the carrier for 1 order in 10
    assert share_after < share_before / 2
    assert new.kpis["on_time_delivery_rate"] > old.kpis["on_time_delivery_rate"] + 0.03


def test_list_price_adds_the_published_transit_only_when_asked():
    known = {"carrier_transit_quantile": 0.9}
    plain = simulate(scenario(30, pricing={"name": "list-price"}), seed=0)
    known_unused = simulate(scenario(30, information=known, pricing={"name": "list-price"}), seed=0)
    pd.testing.assert_frame_equal(plain.events, known_unused.events)  # knowing it changes nothing
    added = simulate(scenario(30, information=known,
                              pricing={"name": "list-price", "params": {"add_transit": True}}),
                     seed=0, trace_decisions=True)
    for context, quote in pricing_trace(added):
        assert quote.promised_lead_days == round(context.standard_lead_days + context.transit_days, 2)
    assert late_orders(added)["late_by_transit"] < late_orders(plain)["late_by_transit"] / 2


def test_with_the_field_unset_the_events_are_those_of_the_old_promise():
    for pricing in ({"name": "capable-to-promise"}, {"name": "tier-discount"}):
        unset = simulate(scenario(30, pricing=pricing), seed=3)
        explicit = simulate(scenario(30, information={"carrier_transit_quantile": None}, pricing=pricing),
                            seed=3)
        pd.testing.assert_frame_equal(unset.events, explicit.events)
    # and old mean-transit promises: projected lead + safety, as version 1 quoted
    traced = simulate(scenario(20, pricing={"name": "capable-to-promise"}), seed=3, trace_decisions=True)
    for context, quote in pricing_trace(traced):
        assert quote.promised_lead_days == round(max(1.0, context.projected_lead_days + 1.0), 2)


def test_informed_sales_without_shared_information_still_quotes_like_list_price():
    blind = override(load("around-the-clock"), horizon_days=30, warmup_days=7)
    informed = simulate(override(blind, policies={"pricing": {"name": "informed-sales"}}), seed=0)
    pd.testing.assert_frame_equal(simulate(blind, seed=0).events, informed.events)


def test_the_service_quotes_the_traced_path_contexts_alike(promise_runs, tmp_path):
    _, new = promise_runs
    base = load("around-the-clock")
    policies = {"pricing": {"name": "capable-to-promise", "params": {}}}
    bundle = verify_bundle(make_bundle(
        policies, scenario=base.model_dump(mode="json"), scenario_name=base.name,
        scenario_hash=content_hash(base), evidence={"source": "test"}, package_version="0.1.0",
        created_at="2025-01-01T00:00:00Z"))
    app = create_app(bundle, ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token="t" * 20))
    schema = route_schemas()["pricing"]
    traced = pricing_trace(new)[::40]

    async def post_all():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
                return [await client.post(schema.path, json=schema.context_dict(c),
                                          headers={"Authorization": "Bearer " + "t" * 20}) for c, _ in traced]

    responses = asyncio.run(post_all())
    assert [r.status_code for r in responses] == [200] * len(traced)
    assert [schema.decision_from_json(r.json()) for r in responses] == [d for _, d in traced]


# --- real idle capacity -------------------------------------------------------------------


def discounted_share(result) -> float:
    decided = pricing_trace(result)
    return sum(q.unit_price < c.list_price - 1e-9 for c, q in decided) / len(decided)


def test_the_discount_goes_to_a_minority_on_the_loaded_plant_and_to_most_on_an_idle_one():
    informed = {"name": "informed-sales"}
    loaded = simulate(scenario(60, pricing=informed), seed=0, trace_decisions=True)
    idle = simulate(scenario(60, pricing=informed, scale=0.2), seed=0, trace_decisions=True)
    # the old figure (a period's staffed hours less the queue) met the 40 h threshold nearly always
    old_rule = [c.surplus_capacity_hours >= 40.0 for c, _ in pricing_trace(loaded)]
    assert sum(old_rule) / len(old_rule) > 0.99
    assert discounted_share(loaded) < 0.4
    assert discounted_share(idle) > 0.8
    assert max(loaded.kpis["utilization"].values()) > 0.85 > max(idle.kpis["utilization"].values())
    for context, quote in pricing_trace(loaded):
        assert (quote.unit_price < context.list_price) == (context.idle_capacity_hours >= 40.0)


def test_idle_capacity_is_staffed_hours_less_committed_intake_and_own_work():
    model = CompanyModel(scenario(30), seed=0)
    model.start()
    model.run(until=20.0)
    from ordercycle.sim.steps import production

    now = model.env.now
    pump = model.products["pump"]
    figures = []
    for op in pump.routing:
        centre = model.centres[op.work_centre]
        staffed = centre.staffed_hours(now, now + 8.0)
        per_day = len(centre.machines) * centre.shifts * 8.0
        assert staffed == pytest.approx(per_day * 8.0, abs=len(centre.machines) * 8.0 * centre.shifts)
        expected = centre.intake_per_day(now, production.INTAKE_DAYS) * 8.0
        assert centre.committed_hours >= -1e-9
        own = op.setup_hours + op.hours_per_unit.mean * 5
        figures.append(staffed - centre.committed_hours - expected - own)
    assert production.idle_capacity_hours(model, pump, 5, now, 8.0) == pytest.approx(min(figures))


def test_committed_work_is_booked_at_release_and_taken_off_at_completion():
    from ordercycle.sim.steps import production

    model = CompanyModel(scenario(100, scale=1e-6), seed=1)  # practically no inquiries
    model.start()
    env, pump = model.env, model.products["pump"]
    env.process(production.produce(env, model, pump, 10, None, 30.0, 0.0))
    env.process(production.produce(env, model, pump, 4, None, 30.0, 0.0, first_step=2, progress=0.5))
    model.run(until=0.001)
    booked = {op.work_centre: 0.0 for op in pump.routing}
    for step, op in enumerate(pump.routing):
        booked[op.work_centre] += op.setup_hours + op.hours_per_unit.mean * 10
        if step >= 2:
            resumed = op.setup_hours + op.hours_per_unit.mean * 4
            booked[op.work_centre] += resumed * (0.5 if step == 2 else 1.0)
    assert {c: model.centres[c].committed_hours for c in booked} == pytest.approx(booked)
    assert all(model.centres[c].intake_hours == pytest.approx(h) for c, h in booked.items())
    model.run(until=60.0)  # both done long since
    assert all(abs(model.centres[c].committed_hours) < 1e-9 for c in booked)
    # the intake is forgotten after its window
    assert all(model.centres[c].intake_per_day(60.0, production.INTAKE_DAYS) == 0.0 for c in booked)


def test_a_centres_staffed_hours_follow_its_shifts():
    model = CompanyModel(scenario(10), seed=0)
    centre = model.centres["cutting"]  # 2 machines, 2 shifts: 06:00–22:00
    assert centre.staffed_hours(0.0, 0.25) == 0.0  # midnight to 06:00
    assert centre.staffed_hours(0.0, 0.5) == pytest.approx(2 * 6.0)
    assert centre.staffed_hours(0.25, 1.25) == pytest.approx(2 * 16.0)
    assert centre.staffed_hours(0.9, 1.1) == pytest.approx(2 * 0.4)  # 21:36 to 02:24: 24 min to 22:00
    centre.shifts = 1
    assert centre.staffed_hours(0.0, 3.0) == pytest.approx(2 * 8.0 * 3)
    centre.shifts = 3
    assert centre.staffed_hours(0.3, 0.8) == pytest.approx(2 * 12.0)
