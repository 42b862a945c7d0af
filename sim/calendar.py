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
