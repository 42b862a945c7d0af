"""Working calendars: when a staff pool, the technicians or a carrier's loading bay is open.

A :class:`WorkCalendar` is a weekly pattern of working periods (e.g. Mon–Fri 08:00–16:30)
and a set of closed days (public holidays), laid on the simulation clock: day 0 starts at
midnight of the scenario's ``calendars.start_date``, whose weekday the calendar knows.

What a task does at closing time is **pause and resume**: :meth:`WorkCalendar.finish`
lays a task's working hours on the open periods from its start, so a 3-hour task started
at 15:30 in an office open until 16:30 works one hour today and two the next working
morning, and the person keeps it on their desk overnight (the pool's seat stays taken).
A task starts only in working time: a seat granted while the pool is closed waits for the
next opening (:meth:`WorkCalendar.next_open`) before work begins, and that wait counts as
unattended time of the order — time the order spends waiting while its owner is closed,
which :meth:`WorkCalendar.closed_days` measures.

Resources without a calendar work around the clock (the behaviour of scenarios without a
``calendars`` section). Every method is arithmetic on the pattern: no SimPy event is made
per closed hour, only one wait per task that meets a closure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

HOURS_PER_DAY = 24.0
_EPS = 1e-12  # days; ~86 ns — a time this close to a period's end counts as its end
TABLE_DAYS = 4096
"""Days (about 11 years) whose periods a calendar keeps in a table; later days are computed."""


class WorkCalendar:
    """Open periods per weekday and closed days, on a clock in days from a Monday-or-later start.

    Args:
        week: seven lists (Monday first) of ``(start_hour, end_hour)`` open periods,
            ``0 <= start < end <= 24``, sorted and not overlapping; at least one period
            in the week.
        first_weekday: weekday of simulation day 0 (0 = Monday … 6 = Sunday).
        closed_days: calendar day numbers (days since the start date) closed all day (holidays).
        name: the calendar's name in the scenario (for messages and outputs).
        offset: calendar day of simulation time 0 (a run from a state snapshot starts at the
            snapshot's day, not at midnight of the start date); every method takes and
            returns simulation time.
    """

    __slots__ = ("name", "first_weekday", "closed", "_days", "weekly_open_hours", "offset", "_table")

    def __init__(self, week: Sequence[Sequence[tuple[float, float]]], first_weekday: int = 0,
                 closed_days: Iterable[int] = (), name: str = "calendar", offset: float = 0.0):
        self.offset = offset
        if len(week) != 7:
            raise ValueError(f"calendar {name!r}: need 7 weekdays, got {len(week)}")
        self.name = name
        self.first_weekday = first_weekday
        self.closed = frozenset(int(d) for d in closed_days)
        self._days = tuple(
            tuple((start / HOURS_PER_DAY, end / HOURS_PER_DAY) for start, end in periods) for periods in week
        )
        self.weekly_open_hours = sum(end - start for periods in week for start, end in periods)
        if self.weekly_open_hours <= 0:
            raise ValueError(f"calendar {name!r}: no working period in the week")
        # the periods of each of the first TABLE_DAYS days, holidays applied: one index per look-up
        self._table = tuple(
            () if day in self.closed else self._days[(first_weekday + day) % 7] for day in range(TABLE_DAYS)
        )

    def periods(self, day: int) -> tuple[tuple[float, float], ...]:
        """Open periods of calendar day ``day`` as fractions of the day (empty when closed)."""
        if 0 <= day < TABLE_DAYS:
            return self._table[day]
        if day in self.closed:
            return ()
        return self._days[(self.first_weekday + day) % 7]

    def is_open(self, t: float) -> bool:
        """Whether the calendar is open at time ``t`` (days)."""
        t = t + self.offset
        day = math.floor(t)
        frac = t - day
        return any(start - _EPS <= frac < end - _EPS for start, end in self.periods(day))

    def next_open(self, t: float) -> float:
        """The earliest time ``>= t`` at which the calendar is open (``t`` itself when open).

        Ends: the closed days are finite and every week has an open period.
        """
        return self._next_open(t + self.offset) - self.offset

    def _next_open(self, t: float) -> float:
        day = math.floor(t)
        frac = t - day
        while True:
            for start, end in self.periods(day):
                if frac < end - _EPS:
                    return t if frac >= start else day + start
            day += 1
            frac = -1.0  # any period of a later day is ahead

    def finish(self, t: float, hours: float) -> float:
        """When ``hours`` of work started at ``t`` end, pausing over every closed time.

        ``t`` is moved to the next opening first. The work of one open period ends at the
        period's end at the latest; the rest resumes at the next opening. Work that fits
        in the period it starts in ends at ``t + hours / 24`` exactly, as a plain timeout.
        """
        return self._finish(t + self.offset, hours) - self.offset

    def _finish(self, t: float, hours: float) -> float:
        t = self._next_open(t)
        left = hours / HOURS_PER_DAY
        day = math.floor(t)
        frac = t - day
        for _start, end in self.periods(day):  # the period holding t
            if frac < end - _EPS:
                if t + left <= day + end + _EPS:  # what rounding leaves over is no new period
                    return t + left
                left -= day + end - t
                frac = end
                break
        while True:
            for start, end in self.periods(day):
                if end <= frac:
                    continue
                if start + left <= end + _EPS:
                    return day + start + left
                left -= end - start
            day += 1
            frac = -1.0

    def open_days(self, a: float, b: float) -> float:
        """Open time in ``[a, b]``, days (0 when ``b <= a``)."""
        if b <= a:
            return 0.0
        a, b = a + self.offset, b + self.offset
        total = 0.0
        day = math.floor(a)
        last = math.floor(b)
        while day <= last:
            for start, end in self.periods(day):
                lo = max(day + start, a)
                hi = min(day + end, b)
                if hi > lo:
                    total += hi - lo
            day += 1
        return total

    def closed_days(self, a: float, b: float) -> float:
        """Closed time in ``[a, b]``, days: how much of a wait fell outside working time."""
        if b <= a:
            return 0.0
        day = math.floor(a + self.offset)
        if math.floor(b + self.offset) == day:  # the common short wait: inside one open period?
            lo, hi = a + self.offset - day, b + self.offset - day
            for start, end in self.periods(day):
                if start - _EPS <= lo and hi <= end + _EPS:
                    return 0.0
        return max(0.0, (b - a) - self.open_days(a, b))

    def __repr__(self) -> str:
        return (f"WorkCalendar({self.name!r}, {self.weekly_open_hours:g} h/week, "
                f"{len(self.closed)} closed days)")


CLOSING_SCAN_DAYS = 800
"""Days :meth:`OvertimeCalendar.next_closing` looks ahead (a calendar open around the clock never closes)."""


class OvertimeCalendar(WorkCalendar):
    """A staff pool's own copy of its working calendar, which the day's overtime extends.

    Pools may share one calendar; a pool that can work overtime gets this copy, so the hours
    granted to it at a closing (:meth:`extend`) open it alone. Every :class:`WorkCalendar`
    method sees the overtime as working time: a task's :meth:`finish` runs on through it,
    :meth:`open_days` counts it (the ``pools`` table's open hours) and :meth:`closed_days`
    does not (unattended time while the pool is closed). ``base`` is the calendar without
    any overtime.
    """

    __slots__ = ("base", "_later")

    def __init__(self, base: WorkCalendar):
        self.base = base
        self.name = base.name
        self.first_weekday = base.first_weekday
        self.closed = base.closed
        self.offset = base.offset
        self._days = base._days
        self.weekly_open_hours = base.weekly_open_hours
        self._table = list(base._table)  # type: ignore[assignment]  # one entry per day, extended in place
        self._later: dict[int, tuple[tuple[float, float], ...]] = {}
        """Extended days beyond the table."""

    def periods(self, day: int) -> tuple[tuple[float, float], ...]:
        """Open periods of calendar day ``day``, the overtime granted on it included."""
        if 0 <= day < TABLE_DAYS:
            return self._table[day]
        later = self._later.get(day)
        return later if later is not None else super().periods(day)

    def _set(self, day: int, periods: tuple[tuple[float, float], ...]) -> None:
        if 0 <= day < TABLE_DAYS:
            self._table[day] = periods  # type: ignore[index]
        else:
            self._later[day] = periods

    def next_closing(self, t: float) -> float:
        """The first closing after ``t``: the end of a day's last working period when the calendar
        is closed right after it (``inf`` when it never closes within :data:`CLOSING_SCAN_DAYS`)."""
        cal = t + self.offset
        day = math.floor(cal)
        for _ in range(CLOSING_SCAN_DAYS):
            periods = self.periods(day)
            if periods:
                end = day + periods[-1][1]
                if end > cal + 1e-9 and not self.is_open(end - self.offset):
                    return end - self.offset
            day += 1
        return math.inf

    def extend(self, t: float, hours: float) -> None:
        """Keep the calendar open ``hours`` past its closing at ``t`` (a :meth:`next_closing`).

        The day's last period ends ``hours`` later; what runs past midnight opens the next
        day from 00:00. ``hours`` must not reach past the next opening.
        """
        if hours <= 0:
            return
        cal = t + self.offset
        day = math.floor(cal - 1e-9)  # a closing at midnight belongs to the day before
        periods = list(self.periods(day))
        until = periods[-1][1] + hours / HOURS_PER_DAY
        periods[-1] = (periods[-1][0], min(until, 1.0))
        self._set(day, tuple(periods))
        if until > 1.0:
            self._set(day + 1, ((0.0, until - 1.0), *self.periods(day + 1)))

    def __repr__(self) -> str:
        return f"OvertimeCalendar({self.name!r}, {self.weekly_open_hours:g} h/week without overtime)"


def scenario_calendars(scenario: Any, offset: float = 0.0) -> dict[str, WorkCalendar]:
    """Resource name -> its working calendar, for the resources ``scenario.calendars.pools`` lists.

    Resources not listed (and every resource of a scenario without ``calendars``) are absent:
    they work around the clock. ``offset`` is the calendar day of simulation time 0.
    """
    calendars = scenario.calendars
    if calendars is None:
        return {}
    start = calendars.start_date
    built = {
        name: WorkCalendar(pattern.hours(), start.weekday(),
                           ((day - start).days for day in pattern.holidays if day >= start), name, offset)
        for name, pattern in sorted(calendars.patterns.items())
    }
    return {resource: built[name] for resource, name in sorted(calendars.pools.items())}


class ShiftCalendar(WorkCalendar):
    """A work centre's staffed time: ``shifts`` shifts of 8 hours from 06:00 on each working day.

    The working days are those of ``days`` (a day with an open period in its weekly
    pattern and not a holiday); the hours of the pattern do not matter, the shifts do, so
    the capacity policy's ``shifts`` keep their meaning. A shift belongs to the day it
    starts on: with 3 shifts the night shift of Friday runs into Saturday 06:00, and a
    holiday has no shifts of its own (the night shift of the day before still ends at
    06:00 on it).

    Args:
        days: the calendar whose working days the centre keeps (its ``offset`` too).
        shifts: staffed shifts per working day (1–3).
        first_hour: hour of the day the first shift starts.
        shift_hours: length of one shift, hours.
    """

    __slots__ = ("base", "shifts", "_shift_span")

    def __init__(self, days: WorkCalendar, shifts: int, first_hour: float = 6.0, shift_hours: float = 8.0):
        self.base = days
        self.shifts = shifts
        self.name = days.name
        self.first_weekday = days.first_weekday
        self.closed = days.closed
        self.offset = days.offset
        self._days = days._days
        start = first_hour / HOURS_PER_DAY
        end = start + shifts * shift_hours / HOURS_PER_DAY
        self._shift_span = (start, end)
        self._table = tuple(self._compute(day) for day in range(TABLE_DAYS))
        self.weekly_open_hours = sum(1 for periods in days._days if periods) * shifts * shift_hours
        """Staffed hours per machine in a week without holidays."""
        if self.weekly_open_hours <= 0:
            raise ValueError(f"calendar {days.name!r}: no working day in the week")

    def _compute(self, day: int) -> tuple[tuple[float, float], ...]:
        start, end = self._shift_span
        periods: list[tuple[float, float]] = []
        if end > 1.0 and self.base.periods(day - 1):  # the previous day's night shift ends today
            periods.append((0.0, end - 1.0))
        if self.base.periods(day):
            if periods and periods[-1][1] >= start:
                periods[-1] = (periods[-1][0], min(end, 1.0))
            else:
                periods.append((start, min(end, 1.0)))
        return tuple(periods)

    def periods(self, day: int) -> tuple[tuple[float, float], ...]:
        """Staffed periods of calendar day ``day`` as fractions of the day."""
        if 0 <= day < TABLE_DAYS:
            return self._table[day]
        return self._compute(day)

    def open_until(self, t: float) -> float:
        """End of the staffed time holding ``t`` (periods that touch are one; at most a week on).

        ``t`` must be staffed (:meth:`is_open`); the result is the next closing.
        """
        t = t + self.offset
        limit = t + 7.0
        while t < limit:
            day = math.floor(t)
            frac = t - day
            end = None
            for start, stop in self.periods(day):
                if start - _EPS <= frac < stop - _EPS:
                    end = day + stop
                    break
            if end is None:
                return t - self.offset
            if self._next_open(end) > end + _EPS:
                return end - self.offset
            t = end
        return limit - self.offset

    def __repr__(self) -> str:
        return f"ShiftCalendar({self.name!r}, {self.shifts} shift(s), {self.weekly_open_hours:g} h/week)"
