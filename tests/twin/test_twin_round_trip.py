"""Round trip: simulate a known scenario, export OCEL, calibrate from it, validate against it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ordercycle.sim.twin.calibrate import calibrate, pair_durations, staffed_shifts
from ordercycle.sim.twin.logs import read_log
from ordercycle.sim.twin.report import calibration_html
from ordercycle.sim.twin.validate import validate

REPS = 5


@pytest.fixture(scope="module")
def calibrated(generating, simulated_ocel):
    _, folder = simulated_ocel
    log = read_log(folder / "ocel.sqlite")
    scenario, record = calibrate(log, generating)
    return log, scenario, record


def test_json_and_sqlite_read_alike(simulated_ocel):
    _, folder = simulated_ocel
    from_sqlite, from_json = read_log(folder / "ocel.sqlite"), read_log(folder / "ocel.json")
    assert len(from_sqlite.events) == len(from_json.events)
    assert from_sqlite.cases.index.equals(from_json.cases.index)
    assert (from_sqlite.events["activity"].value_counts().sort_index()
            .equals(from_json.events["activity"].value_counts().sort_index()))


def test_arrival_rates_recovered(generating, calibrated):
    _, scenario, record = calibrated
    fitted = {s.id: s for s in scenario.segments}
    assert set(fitted) == {s.id for s in generating.segments}
    for truth in generating.segments:
        stats = record.statistics[f"segments.{truth.id}"]["arrivals"]
        # the mean rate over the log is count / exposure: judge it by its Poisson error
        assert abs(stats["mean_rate"] - truth.arrivals.rate_per_day) <= 3.5 * stats["mean_rate_se"]
        if stats["form"] == "constant":
            assert abs(fitted[truth.id].arrivals.rate_per_day - truth.arrivals.rate_per_day) <= \
                3.5 * stats["rate_se"]


def test_order_size_mean_and_mix_recovered(generating, calibrated):
    _, scenario, record = calibrated
    fitted = {s.id: s for s in scenario.segments}
    for truth in generating.segments:
        size = record.statistics[f"segments.{truth.id}"]["order_size_units"]
        cv = truth.order_size_units.cv
        error = truth.order_size_units.mean * cv / math.sqrt(size["n"])
        assert abs(fitted[truth.id].order_size_units.mean - truth.order_size_units.mean) <= 4 * error
        total = sum(truth.product_mix.values())
        for product, share in fitted[truth.id].product_mix.items():
            p = truth.product_mix[product] / total
            assert abs(share - p) <= 4 * math.sqrt(p * (1 - p) / size["n"])


@pytest.mark.parametrize("task", ["sales_contact", "cost_estimation", "order_entry", "selection_junior",
                                  "invoicing"])
def test_task_time_means_recovered(generating, calibrated, task):
    log, scenario, record = calibrated
    truth = getattr(generating.task_hours, task)
    n = record.statistics[f"task_hours.{task}"]["n"]
    assert n >= 100
    fitted = getattr(scenario.task_hours, task)
    assert fitted.dist == "lognormal"  # the generating family wins the AIC comparison
    assert abs(fitted.mean - truth.mean) <= 4 * truth.mean * truth.cv / math.sqrt(n)


def test_machines_counted_from_the_log(generating, calibrated):
    _, scenario, record = calibrated
    for centre, truth in zip(scenario.work_centres, generating.work_centres, strict=True):
        assert centre.machines == truth.machines
        assert record.fitted[f"work_centres.{centre.id}.machines"] == truth.machines


def test_working_calendars_recovered_week_by_week(generating, simulated_ocel, calibrated):
    result, _ = simulated_ocel
    _, scenario, record = calibrated
    staffed = result.plans.pivot(index="period", columns="work_centre", values="shifts")
    assert staffed.nunique().max() > 1  # the plan changed some calendar: there is something to find
    for centre in scenario.work_centres:
        weeks = record.statistics[f"work_centres.{centre.id}.shifts"]["staffed_shifts_by_week"]
        assert weeks == {str(period): int(n) for period, n in staffed[centre.id].items()}
        assert centre.initial_shifts == int(staffed[centre.id].iloc[0])
        assert centre.max_shifts == int(staffed[centre.id].max())
    page = calibration_html(record)
    assert "Working calendars" in page and f"week 1: {int(staffed['testing'].iloc[1])}" in page


@pytest.mark.parametrize(("hours", "shifts"), [
    ([6.0, 9.5, 13.99], 1), ([6.0, 14.0, 21.9], 2), ([6.0, 22.0], 3), ([5.999], 3),
    ([7.0] * 99 + [23.0], 1),  # one start in a hundred outside: clock noise, not a shift
])
def test_staffed_shifts_from_the_clock_hours_of_job_starts(hours, shifts):
    assert staffed_shifts(np.array(hours)) == shifts


def test_pairing_takes_the_next_end_of_the_same_case(calibrated):
    log, _, _ = calibrated
    paired = pair_durations(log, ("entry_started",), ("order_entered",), None)
    assert (paired["days"] >= 0).all()
    assert paired["case_id"].is_unique


@pytest.fixture(scope="module")
def validated(calibrated):
    log, scenario, _ = calibrated
    return validate(scenario, log, reps=REPS, seed=11)


def test_validate_finds_the_log_inside_the_twin(validated):
    result = validated
    assert result["replications"] == REPS and not result["failed"]
    for name in ("arrivals_per_week", "deliveries_per_week", "mean_wip_orders"):
        assert result["scalars"][name]["inside"], (name, result["scalars"][name])
    assert result["series"]["weekly_inquiries"]["share_inside"] >= 0.75


def test_validate_finds_the_distributions_inside_the_twin(validated):
    """Lead times per step, order lead time and waits: none flagged at family-wise 5 % (Holm)."""
    judged = {k: v for k, v in validated["distributions"].items() if v["inside"] is not None}
    assert len(judged) >= 10
    outside = {k: (v["p"], v["p_holm"]) for k, v in judged.items() if not v["inside"]}
    assert not outside
    assert validated["level"] == 0.05
