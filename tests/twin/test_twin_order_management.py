"""Calibration from an order-management log drawn from known parameters (``ocel_factory.order_management``).

The log (twelve weeks, the OCEL 2.0 example's vocabulary, written by pm4py as OCEL 2.0
SQLite, read with ``scenarios/twin/order-management-mapping.yaml``) has orders of one to
three items, packages carrying them (some orders in two), 30 % of the orders paid before
they ship, a carrier with delays and invoices paid after 30-day terms; arrivals follow a
weekday and an hourly profile. Every parameter the log shows must be recovered within
its sampling error (the tolerances are 4 standard errors unless said), and what the log
cannot show must be said.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from ocel_factory import WEEKDAYS, Truth, order_management, write_all

from ordercycle.scenarios.loader import load
from ordercycle.sim.twin.calibrate import calibrate
from ordercycle.sim.twin.fitting import scipy_distribution
from ordercycle.sim.twin.fitting_orders import count_probabilities
from ordercycle.sim.twin.logs import load_mapping, read_log
from ordercycle.sim.twin.measures import plan_for
from ordercycle.sim.twin.validate import format_validation, validate

MAPPING = Path(__file__).resolve().parents[2] / "scenarios" / "twin" / "order-management-mapping.yaml"
TRUTH = Truth()


def _calibrated(tmp_path_factory, name, **kwargs):
    folder = tmp_path_factory.mktemp(name)
    path = write_all(order_management(kwargs.pop("truth", TRUTH), **kwargs), folder, ("ocel2.sqlite",))
    log = read_log(path["ocel2.sqlite"], load_mapping(MAPPING))
    twin, record = calibrate(log, load("baseline"))
    return log, twin, record


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    return _calibrated(tmp_path_factory, "om", seed=1)


def _segment(twin, name):
    return next(s for s in twin.segments if s.id == name)


def test_arrival_rates_and_their_profiles(calibrated):
    _, twin, record = calibrated
    assert {s.id for s in twin.segments} == set(TRUTH.rates)
    for name, rate in TRUTH.rates.items():
        stats = record.statistics[f"segments.{name}"]
        assert abs(stats["arrivals"]["mean_rate"] - rate) <= 3.5 * stats["arrivals"]["mean_rate_se"]
        fitted = _segment(twin, name).arrivals
        counts = stats["profiles"]["weekday"]["counts"]
        for day, count in zip(WEEKDAYS, counts, strict=True):  # a weekday's rate: relative error 1/sqrt(n)
            error = 4 * TRUTH.weekday[day] / math.sqrt(count)
            assert abs(fitted.weekday_profile[day] - TRUTH.weekday[day]) <= error, (name, day)
        hours = np.array(stats["profiles"]["hourly"]["counts"])
        truth_hours = np.array(TRUTH.hourly)
        error = 4 * truth_hours / np.sqrt(np.maximum(hours, 1)) + 0.05
        assert np.all(np.abs(np.array(fitted.hourly_profile) - truth_hours) <= error), name
        assert "weekday profile fitted" in record.why[f"segments.{name}.arrivals"]


def test_lines_units_and_mix(calibrated):
    _, twin, record = calibrated
    pmf = TRUTH.lines_pmf
    for name in TRUTH.rates:
        stats = record.statistics[f"segments.{name}"]
        n = stats["lines_per_order"]["n"]
        fitted = count_probabilities(_segment(twin, name).lines_per_order.model_dump(), 5)
        for k, p in pmf.items():
            assert abs(fitted[k - 1] - p) <= 4 * math.sqrt(p * (1 - p) / n), (name, k)
        size = stats["order_size_units"]
        mean, cv = TRUTH.size
        # rounding up adds about half a unit to the mean of the draws; the fit undoes it
        assert abs(_segment(twin, name).order_size_units.mean - mean) <= 4 * mean * cv / math.sqrt(size["n"])
        orders = stats["product_mix"]["orders"]
        assert stats["product_mix"]["method"].startswith("without replacement")
        for product, share in _segment(twin, name).product_mix.items():
            p = TRUTH.mix[product]
            assert abs(share - p) <= 4.5 * math.sqrt(p * (1 - p) / orders), (name, product)


def test_prepayment_payments_and_partial_deliveries(calibrated):
    _, twin, record = calibrated
    for name in TRUTH.rates:
        segment, stats = _segment(twin, name), record.statistics[f"segments.{name}"]
        prepaid = stats["prepayment"]
        assert abs(segment.prepayment.share - TRUTH.prepaid_share) <= 4 * prepaid["se"]
        n = prepaid["delay_days"]["n"]
        error = 4 * TRUTH.prepay_delay / math.sqrt(n)
        assert abs(segment.prepayment.delay_days.mean - TRUTH.prepay_delay) <= error
        assert segment.payment_terms_days == TRUTH.terms  # the strategic base's 45 days: refitted
        payment = stats["payment"]
        assert abs(segment.payment_delay_days.mean - TRUTH.payment_delay) <= \
            4 * TRUTH.payment_delay / math.sqrt(payment["n"])
        assert segment.accepts_partial_deliveries
        assert segment.base_utility == 20.0  # a log of orders: every quote accepted
        assert "no quote step" in record.why[f"segments.{name}.base_utility"]


def test_transit_with_delays(calibrated):
    _, twin, record = calibrated
    carrier = next(p for p in twin.logistics_providers if p.id == TRUTH.carrier)
    n = record.statistics[f"logistics_providers.{TRUTH.carrier}.transit"]["n"]
    rng = np.random.default_rng(0)
    draws = 200_000
    truth = rng.triangular(*TRUTH.transit, draws) + (rng.uniform(size=draws) >= TRUTH.reliability) * \
        rng.exponential(TRUTH.delay, draws)
    fitted = scipy_distribution(carrier.transit_days.model_dump()).rvs(draws, random_state=rng) + \
        (rng.uniform(size=draws) >= carrier.reliability) * rng.exponential(carrier.delay_days.mean, draws)
    se = float(np.std(truth)) / math.sqrt(n)
    assert abs(fitted.mean() - truth.mean()) <= 4 * se
    assert abs(np.quantile(fitted, 0.9) - np.quantile(truth, 0.9)) <= 8 * se
    assert abs(carrier.reliability - TRUTH.reliability) <= 4 * math.sqrt(0.09 / n) + 0.03
    assert carrier.transit_days.dist == "triangular"


def test_what_the_log_cannot_show_is_said(calibrated):
    log, twin, record = calibrated
    params = {p["path"]: p for p in record.parameters}
    base = {path: p["why"] for path, p in params.items() if p["source"] == "base"}
    # no step between place and confirm: the intake's tasks take no time, its span is the answer's delay
    assert params["task_hours.sales_contact"]["source"] == "fitted"
    assert params["task_hours.sales_contact"]["why"].startswith("the log shows no such step")
    assert "bay" in params["logistics_providers.parcel-express.handling_hours"]["why"]  # the queue inside
    assert base["task_hours.dispute_rework"].startswith("the log shows no dispute_rework_started")
    assert str(twin.calendars.start_date) == "2026-03-02"
    # the numpy company picks at any hour: the warehouse's calendar is fitted, no longer warned about
    assert not any("task starts of warehouse_staff" in n for n in record.notes)
    assert twin.calendars.pools["warehouse_staff"] == "log:warehouse_staff"
    for row in record.ledger:  # every event of the log accounted for
        assert row["used"] + sum(row["not_used"].values()) == row["events"], row
    ledger = {row["activity"]: row for row in record.ledger}
    packages = ledger["create package"]  # the end of picking: mapped to picking_completed
    assert packages["uses"]["task_hours.picking"] == packages["events"]
    assert list(ledger["reorder item"]["not_used"])[0].startswith("relates to no order")
    assert ledger["place order"]["uses"]["arrivals"] == ledger["place order"]["events"]
    assert ledger["package delivered"]["uses"]["transit"] > 0.9 * ledger["package delivered"]["events"]
    queues = record.statistics["queue_waits"]  # produced by the model's queues: reported, never fitted
    assert queues["release_to_picking"]["n"] > 0 and "picker" in queues["release_to_picking"]["model"]


def test_a_log_without_segments_keeps_the_fitted_total_rate(tmp_path_factory):
    """The base's segments share the fitted rate by their base rates, each once (the rescaling bug)."""
    _, twin, record = _calibrated(tmp_path_factory, "pooled", seed=2, segments=False)
    stats = record.statistics["segments.(all)"]["arrivals"]
    total = sum(TRUTH.rates.values())
    assert abs(stats["mean_rate"] - total) <= 3.5 * stats["mean_rate_se"]
    base = {s.id: s.arrivals.rate_per_day for s in load("baseline").segments}
    fitted = {s.id: s.arrivals.rate_per_day for s in twin.segments}
    assert sum(fitted.values()) == pytest.approx(stats["arrivals"]["rate_per_day"], rel=1e-4)
    for name, rate in base.items():
        assert fitted[name] / sum(fitted.values()) == pytest.approx(rate / sum(base.values()), rel=1e-4)


def test_no_trend_from_a_log_that_runs_on_after_its_last_order(tmp_path_factory):
    """Orders arrive for eight weeks, the log runs four weeks longer: arrivals are fitted over the eight."""
    truth = Truth(days=56.0)
    _, twin, record = _calibrated(tmp_path_factory, "after", seed=3, truth=truth, after=28.0)
    assert record.window[1] <= 56.0 < record.span_days - 20
    assert any(note.startswith("warning: no order arrives in the log's last") for note in record.notes)
    for name, rate in truth.rates.items():
        stats = record.statistics[f"segments.{name}"]["arrivals"]
        assert abs(stats["mean_rate"] - rate) <= 3.5 * stats["mean_rate_se"]
        trend = _segment(twin, name).arrivals.trend_per_year
        assert stats["form"] == "constant" or abs(trend) <= 3.5 * stats["trend_se"], (name, trend)


@pytest.fixture(scope="module")
def short_log(tmp_path_factory):
    """Three weeks without confirmations: nothing says when an order becomes work in process."""
    mapping = load_mapping(MAPPING).model_copy(update={"activities": {
        k: v for k, v in load_mapping(MAPPING).activities.items() if k != "confirm order"}})
    folder = tmp_path_factory.mktemp("short")
    path = write_all(order_management(Truth(days=21.0, rates={"regular": 10.0, "strategic": 4.0}), seed=4),
                     folder, ("ocel2.sqlite",))
    return read_log(path["ocel2.sqlite"], mapping)


def test_validation_refuses_what_the_log_cannot_support(short_log):
    refused = dict(plan_for(short_log).refused)
    assert "neither order_entered nor order_accepted" in refused["mean_wip_orders"]
    assert "order_lead_time" in refused
    twin, _ = calibrate(short_log, load("baseline"))
    result = validate(twin, short_log, reps=3, seed=5)
    assert "mean_wip_orders" not in result["scalars"] and "wip_daily" not in result["series"]
    assert "mean_wip_orders" in result["refused"] and "order_lead_time" not in result["distributions"]
    assert "not judged (the log cannot support it):" in format_validation(result)
    # the log's company is not the model's (picking waits, the second packages): lead times differ, and
    # validation says so rather than passing it
    assert result["scalars"]["arrivals_per_week"]["inside"]
