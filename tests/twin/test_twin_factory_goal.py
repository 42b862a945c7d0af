"""Issue 19's goal on a company that is not the model: the numpy factory's log, a twin from a wrong base.

``ocel_factory.order_management`` draws four weeks of an order-management company with numpy
alone (half the default rates, to stay fast): confirmations a lognormal 0.15 days after the
order, picking 0.05 days to the packed package and 0.05 more to its dispatch, invoices 0.02
days after each package, and a company that works at any hour. The twin is calibrated on a
**wrong base** — the baseline with every parameter the log shows changed, its office and
warehouse hours kept (wrong too: the factory never closes) — and must reproduce the log's
arrival rate, deliveries, WIP and order lead time within the validation's own intervals
(family-wise, Holm over every statistic), and every other statistic but those of the two
mechanisms the model lacks (:data:`MODEL_GAPS`); a twin with one step's duration wrong must fail.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from ocel_factory import Truth, order_management, write_all

from ordercycle.scenarios.loader import load, parse
from ordercycle.sim.twin.calibrate import calibrate
from ordercycle.sim.twin.fitting import scipy_distribution
from ordercycle.sim.twin.logs import load_mapping, read_log
from ordercycle.sim.twin.validate import validate

MAPPING = Path(__file__).resolve().parents[2] / "scenarios" / "twin" / "order-management-mapping.yaml"
TRUTH = Truth(days=28.0, rates={"regular": 11.0, "strategic": 4.5})
REPS = 5
AROUND_THE_CLOCK = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _wrong_base():
    """The baseline with every step timing, rhythm and capacity the log shows set wrong."""
    data = load("baseline").model_dump(mode="json")
    data["name"] = "wrong-base"
    for segment in data["segments"]:
        segment["arrivals"] = {"rate_per_day": segment["arrivals"]["rate_per_day"] * 0.6}
        segment["lines_per_order"] = 1.0
        segment["order_size_units"] = {"dist": "exponential", "mean": 9.0}
        segment["product_mix"] = {p: 1.0 for p in segment["product_mix"]}
        segment["response_days"] = {"dist": "exponential", "mean": 4.0}
        segment["payment_delay_days"] = {"dist": "exponential", "mean": 20.0}
        segment["prepayment"] = None
        segment["invoice_rhythm"] = "monthly"
        segment["logistics_provider"] = "freight-line"
    for provider in data["logistics_providers"]:
        provider.update(transit_days={"dist": "uniform", "low": 3.0, "high": 6.0}, reliability=1.0,
                        delay_days=0.0, handling_hours=5.0, pickups_at_once=1)
    data["task_hours"].update(sales_contact=2.0, cost_estimation=2.0, order_entry=2.0, selection_junior=2.0,
                              selection_senior=2.0, picking=5.0, invoicing=3.0)
    return parse(data)


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    path = write_all(order_management(TRUTH, seed=11), tmp_path_factory.mktemp("factory"), ("ocel2.sqlite",))
    log = read_log(path["ocel2.sqlite"], load_mapping(MAPPING))
    twin, record = calibrate(log, _wrong_base())
    return log, twin, record


def test_every_step_timing_the_log_shows_is_fitted(factory):
    _, twin, record = factory
    fitted = {p["path"] for p in record.parameters if p["source"] == "fitted"}
    mean, cv = TRUTH.confirm
    for segment in twin.segments:  # the intake is one delay: place → confirm
        n = record.statistics[f"segments.{segment.id}.intake_days"]["n"]
        assert abs(segment.response_days.mean - mean) <= 4 * mean * cv / math.sqrt(n), segment.id
        assert segment.invoice_rhythm == "per_shipment" and segment.logistics_provider == TRUTH.carrier
    for task in ("sales_contact", "cost_estimation", "order_entry", "selection_junior", "selection_senior"):
        assert getattr(twin.task_hours, task).mean == 0.0 and f"task_hours.{task}" in fitted
    hours = 0.05 * 24  # the factory: packed 0.05 days after the first pick, dispatched 0.05 after that
    assert twin.task_hours.picking.mean == pytest.approx(hours, rel=1e-3)
    carrier = next(p for p in twin.logistics_providers if p.id == TRUTH.carrier)
    assert carrier.handling_hours.mean == pytest.approx(hours, rel=1e-3)
    assert carrier.pickups_at_once > 1  # the log loads several packages at once: bays raised
    assert twin.task_hours.invoicing.mean == pytest.approx(0.02 * 24, rel=1e-2)
    steps = {s["step"]: s["source"] for s in record.statistics["step_timings"]}
    for step in ("intake", "picking", f"loading.{TRUTH.carrier}", "billing.rhythm", "billing.invoicing"):
        assert steps[step] == "fitted", step
    assert "picker" in record.statistics["queue_waits"]["release_to_picking"]["model"]  # a queue: reported


def test_working_calendars_are_fitted_from_the_log(factory):
    """The numpy company works at every hour of every day: the base's office hours are replaced."""
    _, twin, record = factory
    for resource in ("junior_staff", "warehouse_staff", "billing_clerks", TRUTH.carrier):
        assert twin.calendars.patterns[twin.calendars.pools[resource]].week == AROUND_THE_CLOCK, resource
    for pool in ("sales_reps", "estimators", "entry_clerks"):  # no event: the confirming pool's hours
        assert twin.calendars.pools[pool] == twin.calendars.pools["junior_staff"]
    assert twin.calendars.pools["returns_staff"] == "office"  # no returns in the log: the base's
    assert "calendars.pools" in {p["path"] for p in record.parameters if p["source"] == "fitted"}


@pytest.fixture(scope="module")
def validated(factory):
    log, twin, _ = factory
    return validate(twin, log, reps=REPS, seed=21)


MODEL_GAPS = {"shipments_per_order", "several_shipments_share", "step.fulfillment"}
"""What the model cannot reproduce of this company (docs/twin.md): the factory sends the second
package of 40 % of its orders of several items an exponential 3 days later whatever its stock, and
picks an exponential 0.5 days after the confirmation (or payment); the model splits an order only when
stock is short, and its wait before picking is a queue for a picker. No parameter holds either."""


def test_the_twin_reproduces_the_log_within_the_validations_intervals(validated):
    result = validated
    every = {**result["scalars"], **result["distributions"]}
    outside = {k: v.get("p_holm") for k, v in every.items() if v["inside"] is False}
    assert set(outside) <= MODEL_GAPS, outside
    for name in ("arrivals_per_week", "deliveries_per_week", "mean_wip_orders"):
        assert result["scalars"][name]["inside"], name
    for name in ("order_lead_time", "place_to_confirm", "picking_to_dispatch", "transit"):
        assert result["distributions"][name]["inside"], name


def _with(twin, change):
    data = twin.model_dump(mode="json")
    change(data)
    return parse(data)


def test_a_twin_with_one_wrong_step_duration_fails(factory):
    """The intake three times as long, everything else as calibrated: place → confirm is flagged."""
    log, twin, _ = factory

    def slower_intake(data):
        for segment in data["segments"]:
            segment["response_days"] = {"dist": "fixed",
                                        "value": 3 * scipy_distribution(segment["response_days"]).mean()}

    result = validate(_with(twin, slower_intake), log, reps=REPS, seed=21)
    assert result["distributions"]["place_to_confirm"]["inside"] is False
    assert result["scalars"]["arrivals_per_week"]["inside"]  # only the step is wrong
