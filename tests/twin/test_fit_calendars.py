"""Weekly working patterns fitted from the times work is seen (``sim/twin/fit_calendars.py``)."""

from __future__ import annotations

import numpy as np

from ordercycle.sim.calendar import WorkCalendar
from ordercycle.sim.twin.fit_calendars import fit_week

OFFICE = {day: ["08:00-12:00", "12:30-16:30"] for day in ("mon", "tue", "wed", "thu", "fri")}


def _office_times(rng, n, days=28):
    """Task times uniform over the office's open time (Mon–Fri 08:00–12:00, 12:30–16:30)."""
    calendar = WorkCalendar([[(8.0, 12.0), (12.5, 16.5)]] * 5 + [[], []])
    times = []
    while len(times) < n:
        t = rng.uniform(0, days)
        if calendar.is_open(t):
            times.append(t)
    return np.array(times)


def test_an_office_calendar_is_recovered_with_its_lunch_break():
    week, stats = fit_week(_office_times(np.random.default_rng(0), 2000), first_weekday=0)
    assert week == OFFICE and stats["outside_share"] == 0.0
    assert stats["open_hours_per_week"] == 40.0


def test_the_weekdays_follow_the_first_day_of_the_log():
    """The same times on a log that starts on a Wednesday: the pattern moves with the weekdays."""
    week, _ = fit_week(_office_times(np.random.default_rng(1), 2000), first_weekday=2)
    assert sorted(week) == ["fri", "sat", "sun", "thu", "wed"]  # Mon–Fri of the times


def test_a_few_events_after_hours_do_not_open_the_evening():
    rng = np.random.default_rng(2)
    times = np.concatenate([_office_times(rng, 2000), [0.80, 7.85, 14.9]])  # 19:12, 20:24, 21:36
    week, stats = fit_week(times, first_weekday=0)
    assert week == OFFICE
    assert 0 < stats["outside_share"] <= 0.01


def test_a_thin_night_of_a_company_that_never_closes_stays_open():
    """Work at any hour, ten times rarer at night: no empty half-hour of a small log closes (the
    sampling noise of ~1 event a cell is no evidence of a closing)."""
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 28, 20_000)
    hour = (t % 1) * 24
    keep = rng.uniform(size=len(t)) < np.where((hour >= 7) & (hour < 20), 1.0, 0.1)
    times = rng.choice(t[keep], 600, replace=False)
    week, _ = fit_week(times, first_weekday=0)
    assert week == {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
