"""Calibration on a flat log drawn from known distributions (a company's CSV, its own activity names)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ordercycle.scenarios.loader import load
from ordercycle.sim.twin.calibrate import calibrate
from ordercycle.sim.twin.logs import Columns, Mapping, read_log

DAYS = 84  # twelve weeks; the log is extracted at the end of day 84 (nothing later is in it)
ORIGIN = pd.Timestamp("2026-03-02")
CONSTANT_RATE = 5.0  # strategic: homogeneous Poisson
WEEKLY = {"rate": 8.0, "amplitude": 0.5, "peak_day": 2.0}  # regular: rate (1 + A cos(2π(t − peak)/7))
SALES_CONTACT = (1.5, 0.6)  # lognormal hours (mean, cv)
ORDER_ENTRY = (0.75, 0.4)
SIZE = (12.0, 0.8)  # lognormal units, rounded up
MIX = {"valve": 0.5, "filter": 0.3, "pump": 0.2}
ACCEPT = 0.8
RESPONSE_DAYS = 2.0  # exponential mean
NAMES = {  # the company's activity names -> the cycle's
    "Anfrage": "inquiry_received", "Kontakt Beginn": "sales_contact_started",
    "Kontakt Ende": "sales_contact_completed", "Angebot": "quote_sent", "Zusage": "quote_accepted",
    "Absage": "quote_lost", "Erfassung Beginn": "entry_started", "Erfasst": "order_entered",
}


def _lognormal(rng, mean, cv, size=None):
    sigma = math.sqrt(math.log1p(cv**2))
    return rng.lognormal(math.log(mean) - sigma**2 / 2, sigma, size)


def _arrivals(rng, rate_at, peak):
    """Non-homogeneous Poisson arrivals on [0, DAYS) by thinning."""
    times = np.cumsum(rng.exponential(1 / peak, int(peak * DAYS * 1.5)))
    times = times[times < DAYS]
    return times[rng.uniform(size=len(times)) * peak <= rate_at(times)]


def _weekly(t):
    return WEEKLY["rate"] * (1 + WEEKLY["amplitude"] * np.cos(2 * np.pi * (t - WEEKLY["peak_day"]) / 7))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    rng = np.random.default_rng(20260302)
    rows = []
    arrivals = [("strategic", t) for t in _arrivals(rng, lambda t: np.full_like(t, CONSTANT_RATE),
                                                    CONSTANT_RATE)]
    arrivals += [("regular", t) for t in _arrivals(rng, _weekly, WEEKLY["rate"] * 1.5)]
    products, shares = list(MIX), list(MIX.values())
    for case, (segment, t) in enumerate(sorted(arrivals, key=lambda a: a[1]), start=1):
        attrs = {"Kunde": f"{segment}-{case % 7}", "Segment": segment,
                 "Artikel": products[rng.choice(3, p=shares)],
                 "Menge": max(1, math.ceil(_lognormal(rng, *SIZE))), "Preis": 100.0}
        hour = 1 / 24
        steps = [("Anfrage", t)]
        start = t + rng.exponential(2 * hour)
        end = start + _lognormal(rng, *SALES_CONTACT) * hour
        steps += [("Kontakt Beginn", start), ("Kontakt Ende", end), ("Angebot", end + hour)]
        answer = end + hour + rng.exponential(RESPONSE_DAYS)
        if rng.uniform() < ACCEPT:
            entry = answer + rng.exponential(3 * hour)
            steps += [("Zusage", answer), ("Erfassung Beginn", entry),
                      ("Erfasst", entry + _lognormal(rng, *ORDER_ENTRY) * hour)]
        else:
            steps.append(("Absage", answer))
        for activity, time in steps:
            if time < DAYS:
                rows.append({"Auftrag": f"K{case}", "Vorgang": activity,
                             "Zeit": (ORIGIN + pd.Timedelta(days=time)).isoformat(), **attrs})
    path = tmp_path_factory.mktemp("synthetic") / "log.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    mapping = Mapping(
        columns=Columns(case_id="Auftrag", activity="Vorgang", timestamp="Zeit", customer="Kunde",
                        segment="Segment", product="Artikel", quantity="Menge", price="Preis"),
        activities=NAMES,
    )
    log = read_log(path, mapping)
    scenario, record = calibrate(log, load("baseline"))
    return log, scenario, record


def _lognormal_errors(mean, cv, n):
    """ML standard errors of (mean, cv) of a lognormal: mu and sigma have se sigma/√n and sigma/√(2n)
    and are independent; the delta method carries them to mean = exp(mu + σ²/2), cv = √(exp(σ²) − 1)."""
    sigma2 = math.log1p(cv**2)
    mean_se = mean * math.sqrt(sigma2 / n + sigma2**2 / (2 * n))
    cv_se = math.exp(sigma2) * sigma2 / cv / math.sqrt(2 * n)
    return mean_se, cv_se


def test_nothing_unmapped(synthetic):
    log, _, record = synthetic
    assert log.unmapped == {} and record.cases > 900


def test_constant_arrivals(synthetic):
    _, scenario, record = synthetic
    stats = record.statistics["segments.strategic"]["arrivals"]
    assert stats["form"] == "constant"
    # Poisson count over ~84 days: se of the rate = sqrt(rate / days), reported by the fit
    assert abs(stats["rate_se"] - math.sqrt(CONSTANT_RATE / DAYS)) < 0.1 * stats["rate_se"]
    fitted = {s.id: s for s in scenario.segments}["strategic"].arrivals
    assert abs(fitted.rate_per_day - CONSTANT_RATE) <= 3.5 * stats["rate_se"]


def test_weekly_pattern_as_a_weekday_profile(synthetic):
    """A weekly cosine in the arrivals is found as the weekday profile (the model's form for it)."""
    log, scenario, record = synthetic
    stats = record.statistics["segments.regular"]
    assert stats["arrivals"]["form"] == "constant"
    fitted = {s.id: s for s in scenario.segments}["regular"].arrivals
    assert abs(fitted.rate_per_day - WEEKLY["rate"]) <= 3.5 * stats["arrivals"]["rate_se"]
    profile = fitted.weekday_profile
    assert profile is not None and fitted.seasonality.amplitude == 0
    # the truth's mean rate over each weekday of the log, relative to the week's mean
    first = log.origin.weekday()
    grid = np.linspace(0, 1, 2001)
    truth = {}
    for day in range(7):
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(day + first) % 7]
        truth[weekday] = float(np.mean(_weekly(day + grid))) / WEEKLY["rate"]
    counts = dict(zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
                      stats["profiles"]["weekday"]["counts"], strict=True))
    for weekday, value in truth.items():
        # a weekday's rate is its count over its exposure: relative error 1 / sqrt(count)
        assert abs(profile[weekday] - value) <= 4 * value / math.sqrt(counts[weekday]), (weekday, profile)
    assert {s.id: s for s in scenario.segments}["strategic"].arrivals.weekday_profile is None


@pytest.mark.parametrize(("task", "truth"), [("sales_contact", SALES_CONTACT), ("order_entry", ORDER_ENTRY)])
def test_lognormal_task_hours(synthetic, task, truth):
    _, scenario, record = synthetic
    n = record.statistics[f"task_hours.{task}"]["n"]
    fitted = getattr(scenario.task_hours, task)
    assert fitted.dist == "lognormal"
    mean_se, cv_se = _lognormal_errors(*truth, n)
    assert abs(fitted.mean - truth[0]) <= 4 * mean_se
    assert abs(fitted.cv - truth[1]) <= 4 * cv_se


def test_order_size_and_mix(synthetic):
    _, scenario, record = synthetic
    for segment in scenario.segments:
        n = record.statistics[f"segments.{segment.id}"]["order_size_units"]["n"]
        mean_se, _ = _lognormal_errors(*SIZE, n)  # rounding up to whole units costs little information
        assert abs(segment.order_size_units.mean - SIZE[0]) <= 4 * mean_se
        for product, share in segment.product_mix.items():
            assert abs(share - MIX[product]) <= 4 * math.sqrt(MIX[product] * (1 - MIX[product]) / n)


def test_response_days_and_acceptance(synthetic):
    _, scenario, record = synthetic
    for segment in scenario.segments:
        stats = record.statistics[f"segments.{segment.id}"]
        n = stats["response_days"]["n"]
        assert abs(stats["response_days"]["mean"] - RESPONSE_DAYS) <= 4 * RESPONSE_DAYS / math.sqrt(n)
        quoted = stats["quote_acceptance"]["quoted"]
        rate = stats["quote_acceptance"]["rate"]
        assert abs(rate - ACCEPT) <= 4 * math.sqrt(ACCEPT * (1 - ACCEPT) / quoted)
