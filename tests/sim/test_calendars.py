"""Working calendars: the arithmetic, the schema's errors, and a company that keeps office hours.

The model's rule (``sim/calendar.py``, ``docs/model.md``): a task starts only in working
time and pauses over closed time; a wait that falls outside working time counts as
unattended time, in the "closed" part of it.
"""

from __future__ import annotations

import copy
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ordercycle.scenarios.loader import ScenarioError, parse
from ordercycle.sim.calendar import WorkCalendar, scenario_calendars
from ordercycle.sim.invariants import check_run
from ordercycle.sim.run import simulate

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "around-the-clock.yaml"
OFFICE = {day: ["08:00-12:00", "12:30-16:30"] for day in ("mon", "tue", "wed", "thu", "fri")}
OFFICE_POOLS = ("sales_reps", "estimators", "entry_clerks", "junior_staff", "senior_managers",
                "warehouse_staff", "billing_clerks", "returns_staff", "finance_clerks")
START = date(2027, 1, 6)  # a Wednesday
HOLIDAY = date(2027, 1, 13)  # the Wednesday after


# --- the arithmetic -------------------------------------------------------------------

def _open_intervals(calendar: WorkCalendar, days: int) -> list[tuple[float, float]]:
    """Every open interval of the first ``days`` days, written out (the brute-force reference)."""
    return [(day + start, day + end) for day in range(days) for start, end in calendar.periods(day)]


@st.composite
def calendars(draw):
    week = []
    for _ in range(7):
        cuts = sorted(draw(st.lists(st.integers(0, 96), min_size=0, max_size=4, unique=True)))
        periods = [(cuts[i] / 4, cuts[i + 1] / 4) for i in range(0, len(cuts) - 1, 2)]
        week.append(periods)
    if not any(week):
        week[0] = [(8.0, 16.0)]
    closed = draw(st.lists(st.integers(0, 40), max_size=6, unique=True))
    return WorkCalendar(week, draw(st.integers(0, 6)), closed)


@settings(max_examples=200, deadline=None)
@given(calendars(), st.floats(0, 30, allow_nan=False), st.floats(0.01, 60, allow_nan=False))
def test_finish_lays_the_work_on_open_time_only(calendar, start, hours):
    end = calendar.finish(start, hours)
    opening = calendar.next_open(start)
    assert opening >= start and calendar.open_days(start, opening) == pytest.approx(0, abs=1e-9)
    assert calendar.is_open(opening)
    assert calendar.open_days(start, end) * 24 == pytest.approx(hours, rel=1e-9, abs=1e-7)
    # and not a moment later than needed: the last piece of work ends at ``end``
    assert calendar.open_days(start, end - 1e-6) * 24 < hours
    reference = sum(max(0.0, min(b, end) - max(a, start))
                    for a, b in _open_intervals(calendar, math.floor(end) + 2))
    assert reference * 24 == pytest.approx(hours, rel=1e-9, abs=1e-7)


@settings(max_examples=100, deadline=None)
@given(calendars(), st.floats(0, 30, allow_nan=False), st.floats(0, 30, allow_nan=False))
def test_open_and_closed_time_add_up_to_the_span(calendar, a, span):
    b = a + span
    reference = sum(max(0.0, min(hi, b) - max(lo, a)) for lo, hi in _open_intervals(calendar, 80))
    assert calendar.open_days(a, b) == pytest.approx(reference, abs=1e-9)
    assert calendar.closed_days(a, b) == pytest.approx(span - reference, abs=1e-9)


def test_office_hours_over_a_weekend_and_a_holiday():
    # day 0 is a Friday; day 3 (Monday) a holiday
    office = WorkCalendar([[(8.0, 16.5)]] * 5 + [[], []], first_weekday=4, closed_days=[3])
    assert office.next_open(0.5) == 0.5  # Friday 12:00: open
    assert office.next_open(0.75) == pytest.approx(4 + 8 / 24)  # Friday 18:00 -> Tuesday 08:00
    # 3 h from Friday 15:30: one hour on Friday, two on Tuesday morning
    assert office.finish(15.5 / 24, 3.0) == pytest.approx(4 + 10 / 24)
    # work that fits the period it starts in ends exactly as a plain timeout would
    assert office.finish(0.4, 2.0) == 0.4 + 2.0 / 24
    assert office.closed_days(16.5 / 24, 4 + 8 / 24) * 24 == pytest.approx(24 * 4 - 8.5)


def test_a_snapshot_offset_moves_the_calendar_not_the_clock():
    plain = WorkCalendar([[(8.0, 16.0)]] * 7)
    shifted = WorkCalendar([[(8.0, 16.0)]] * 7, offset=0.25)  # simulation time 0 is 06:00
    assert shifted.next_open(0.0) == pytest.approx(2 / 24)
    assert shifted.finish(0.0, 1.0) == pytest.approx(plain.finish(0.25, 1.0) - 0.25)


# --- the scenario format --------------------------------------------------------------

def _baseline_data() -> dict:
    return yaml.safe_load(BASELINE.read_text())


def _office_company(horizon: float = 42.0, profile: bool = False) -> dict:
    data = _baseline_data()
    data["horizon_days"], data["warmup_days"] = horizon, 0.0
    staff = data["staff"]
    for pool in OFFICE_POOLS:  # five 8-hour days a week instead of 168 hours: more people
        staff[pool] = staff[pool] * 4
    staff["technicians"] = {skill: n * 4 for skill, n in staff["technicians"].items()}
    for provider in data["logistics_providers"]:  # loading 30 hours a week instead of 168
        provider["pickups_at_once"] *= 6
    data["calendars"] = {
        "start_date": START.isoformat(),
        "patterns": {"office": {"week": copy.deepcopy(OFFICE), "holidays": [HOLIDAY.isoformat()]},
                     "pickups": {"week": {d: ["09:00-15:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}},
        "pools": {**{pool: "office" for pool in OFFICE_POOLS}, "technicians": "office",
                  **{p["id"]: "pickups" for p in data["logistics_providers"]}},
    }
    data["task_hours"]["sales_contact"] = 3.0  # constant: the open time of each contact is known
    if profile:
        for segment in data["segments"]:
            segment["arrivals"]["weekday_profile"] = {"mon": 1.2, "tue": 1, "wed": 1, "thu": 1, "fri": 0.8}
            segment["arrivals"]["hourly_profile"] = [0] * 8 + [1] * 9 + [0] * 7
    return data


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["patterns"]["office"]["week"].update(mon=["8-16"]),
     "calendars.patterns.office.week: mon.0: expected a period 'HH:MM-HH:MM', got '8-16'"),
    (lambda c: c["patterns"]["office"]["week"].update(tue=["12:00-10:00"]),
     "a period must end after it starts"),
    (lambda c: c["patterns"]["office"]["week"].update(wed=["08:00-12:00", "11:00-13:00"]),
     "periods must be in order and not overlap"),
    (lambda c: c["pools"].update(cleaners="office"), "calendars.pools.cleaners: unknown resource"),
    (lambda c: c["pools"].update(sales_reps="night"), "calendars.pools.sales_reps: unknown calendar 'night'"),
    (lambda c: c.update(start_date="2027-01"), "calendars.start_date"),
    (lambda c: c["patterns"].update(empty={"week": {"sat": []}}), "calendars.patterns.empty.week"),
])
def test_bad_calendars_are_named_by_field(change, message):
    data = _office_company()
    change(data["calendars"])
    with pytest.raises(ScenarioError) as error:
        parse(data)
    assert any(message in line for line in error.value.problems), error.value.problems


def test_bad_arrival_profiles_are_named_by_field():
    data = _office_company()
    data["segments"][0]["arrivals"]["hourly_profile"] = [1.0] * 23
    data["segments"][1]["arrivals"]["weekday_profile"] = {"mon": -1.0}
    with pytest.raises(ScenarioError) as error:
        parse(data)
    text = "\n".join(error.value.problems)
    assert "segments.0.arrivals.hourly_profile" in text and "segments.1.arrivals.weekday_profile" in text


# --- a company that keeps office hours ------------------------------------------------

@pytest.fixture(scope="module")
def office_run():
    return simulate(parse(_office_company()), seed=3)


def _calendar_time(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weekday (0 = Monday) and hour of day of simulation times."""
    day = np.floor(days)
    return (START.weekday() + day.astype(int)) % 7, (days - day) * 24


def test_no_office_task_starts_outside_working_time(office_run):
    events = office_run.events
    started = events[events["activity"].str.endswith("_started")
                     & events["resource"].astype(str).isin(OFFICE_POOLS)]
    assert len(started) > 1000
    weekday, hour = _calendar_time(started["time"].to_numpy())
    tol = 1e-6  # hours: times are days in floating point
    morning = (hour >= 8 - tol) & (hour < 12 - tol)
    afternoon = (hour >= 12.5 - tol) & (hour < 16.5 - tol)
    in_hours = (weekday < 5) & (morning | afternoon)
    assert in_hours.all(), started[~in_hours].head()
    holiday = (HOLIDAY - START).days
    assert not (np.floor(started["time"]) == holiday).any()


def test_carriers_collect_in_their_pickup_hours(office_run):
    events = office_run.events
    dispatched = events[events["activity"] == "shipment_dispatched"]
    weekday, hour = _calendar_time(dispatched["time"].to_numpy())
    assert len(dispatched) > 100
    assert ((weekday < 5) & (hour >= 9 - 1e-6) & (hour <= 15 + 1e-6)).all()


def test_a_task_pauses_at_closing_and_resumes_at_the_next_opening(office_run):
    events = office_run.events
    start = events[events["activity"] == "sales_contact_started"].set_index("order_id")["time"]
    end = events[events["activity"] == "sales_contact_completed"].set_index("order_id")["time"]
    both = start.to_frame("a").join(end.rename("b"), how="inner")
    office = office_run.model.calendars["sales_reps"]
    worked = np.array([office.open_days(a, b) * 24 for a, b in both.itertuples(index=False)])
    assert worked == pytest.approx(np.full(len(worked), 3.0), abs=1e-6)
    spans_a_closing = (both["b"] - both["a"]) * 24 > 3.0 + 1e-6
    assert spans_a_closing.sum() > 50  # contacts begun after 13:30 (or 09:00 before the break) pause


def test_weekend_inquiries_wait_for_monday_and_that_wait_is_closed_time(office_run):
    orders = office_run.orders
    weekday, _ = _calendar_time(orders["inquiry_time"].to_numpy())
    weekend = orders[weekday >= 5]
    assert len(weekend) > 100
    assert (weekend["unattended_closed_hours"] > 0).all()
    assert (orders["unattended_closed_hours"] <= orders["unattended_hours"] + 1e-9).all()
    kpis = office_run.kpis
    assert kpis["mean_unattended_closed_hours"] > kpis["mean_unattended_open_hours"] > 0
    assert kpis["mean_unattended_closed_hours"] + kpis["mean_unattended_open_hours"] == pytest.approx(
        kpis["mean_unattended_hours"])



def test_on_the_baseline_no_staff_task_starts_outside_its_pools_calendar(short_baseline):
    """The built-in company keeps office, warehouse and field calendars: every task a
    person starts (in events.parquet) starts while that person's calendar is open, and
    weekends and the holiday of 6 January see none."""
    result = simulate(short_baseline, seed=0)
    calendars = scenario_calendars(short_baseline)
    calendars |= {"installation": calendars["technicians"], "repair": calendars["technicians"]}
    events = result.events
    started = events[events["activity"].str.endswith("_started")
                     & events["resource"].astype(str).isin(tuple(calendars))]
    assert len(started) > 5000
    assert set(started["resource"].astype(str)) >= set(OFFICE_POOLS) - {"senior_managers"} | {"installation"}
    outside = [(row.resource, row.activity, row.time) for row in started.itertuples()
               if not calendars[str(row.resource)].is_open(row.time)]
    assert outside == []
    weekday = (short_baseline.calendars.start_date.weekday() + np.floor(started["time"]).astype(int)) % 7
    assert not (weekday >= 5).any()
    assert not (np.floor(started["time"]) == 2).any()  # 2027-01-06, Epiphany (start: Monday 4 January)

def test_the_invariants_hold_with_calendars(office_run):
    assert check_run(office_run) == []


def test_without_calendars_no_wait_counts_as_closed(plain_short):
    orders = simulate(plain_short, seed=0).orders
    assert (orders["unattended_closed_hours"] == 0).all() and (orders["unattended_hours"] > 0).any()


def test_arrival_profiles_shape_when_inquiries_come():
    result = simulate(parse(_office_company(horizon=56.0, profile=True)), seed=1)
    weekday, hour = _calendar_time(result.orders["inquiry_time"].to_numpy())
    assert not (weekday >= 5).any() and ((hour >= 8 - 1e-6) & (hour < 17 + 1e-6)).all()
    counts = np.bincount(weekday, minlength=7)[:5]
    # Monday's weight is 1.2 / 1.0 of a mid-week day's, Friday's 0.8 / 1.0: within sampling error
    expected = counts[1:4].mean()
    assert counts[0] / expected == pytest.approx(1.2, abs=4 * math.sqrt(1.2 / expected) * 1.2)
    assert counts[4] / expected == pytest.approx(0.8, abs=4 * math.sqrt(0.8 / expected))
    # the mean daily rate is kept: profiles only move inquiries in time
    flat = simulate(parse(_office_company(horizon=56.0)), seed=1)
    assert len(result.orders) == pytest.approx(len(flat.orders), rel=0.06)


def test_the_ocel_export_dates_events_from_the_start_date(tmp_path):
    import json

    from ordercycle.sim.cli import main
    from ordercycle.sim.run import write_outputs

    result = simulate(parse(_office_company(horizon=5.0)), seed=2)
    write_outputs(result, tmp_path)
    assert main(["export-ocel", str(tmp_path)]) == 0
    events = json.loads((tmp_path / "ocel.json").read_text())["events"]
    first = min(events, key=lambda e: e["time"])
    expected = np.datetime64(START.isoformat()) + np.timedelta64(
        round(result.events["time"].min() * 86400e6), "us")
    assert np.datetime64(first["time"].rstrip("Z")[:26]) == expected.astype("datetime64[us]")
