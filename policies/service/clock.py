"""The company's clock: a context's time in days, as a timestamp an operator's systems read.

Every time in a decision context is in **days on the simulation clock** (``now``,
``due_date``, ``released_at`` …), whose day 0 starts at midnight of the scenario's
``calendars.start_date`` — the date that also sets the weekdays and holidays of the
working calendars. So day ``t`` is the local date-time ``start_date 00:00 + t × 24 h``:
with ``start_date: 2027-01-04``, ``now = 2.5`` is ``2027-01-06T12:00:00.000``. The
scenario gives no time zone (its calendars are the company's wall clock), so the
timestamps are ISO 8601 local date-times without an offset; a caller converts its own
dates the other way: ``days = (timestamp - start_date 00:00) / 24 h``.

The decision log records each context's time this way (``context_at``), next to the
wall-clock time of logging (``at``, UTC), and the service answers it in the
``X-Context-Time`` header. A context without a time (capacity), a bundle whose scenario
has no calendar, or a time beyond year 9999 has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

TIME_FIELDS = ("now", "period_start")
"""The context field that says when a decision is taken, the first one a context has
(``period_start``: a forecast is asked at the start of the period it plans)."""


class CompanyClock:
    """Days on the simulation clock -> ISO 8601 local date-times on the company's calendar.

    Args:
        start_date: the calendar date of day 0 at 00:00 (``None``: no calendar, no
            timestamps).
    """

    def __init__(self, start_date: date | None):
        self.start_date = start_date
        self._epoch = datetime(start_date.year, start_date.month, start_date.day) if start_date else None

    @classmethod
    def of_scenario(cls, scenario: Mapping[str, Any] | None) -> CompanyClock:
        """The clock of a scenario's JSON form (a bundle's ``scenario``): its
        ``calendars.start_date``, or no clock without calendars."""
        calendars = (scenario or {}).get("calendars") or {}
        start = calendars.get("start_date")
        if isinstance(start, date):
            return cls(start)
        return cls(date.fromisoformat(start) if isinstance(start, str) else None)

    def timestamp(self, days: float | None) -> str | None:
        """``start_date 00:00 + days`` as ISO 8601 to the millisecond (``None`` without a
        calendar, without a time, or out of the calendar's range)."""
        if self._epoch is None or days is None:
            return None
        try:
            return (self._epoch + timedelta(days=days)).isoformat(timespec="milliseconds")
        except (OverflowError, ValueError):
            return None

    def days(self, moment: datetime) -> float:
        """The simulation clock's days of a local date-time (the inverse of :meth:`timestamp`).

        Raises:
            ValueError: without a calendar.
        """
        if self._epoch is None:
            raise ValueError("the scenario has no calendars.start_date: no day 0 to count from")
        return (moment.replace(tzinfo=None) - self._epoch) / timedelta(days=1)

    def context_timestamp(self, context: Any) -> str | None:
        """The timestamp of the time a context is taken at (:data:`TIME_FIELDS`)."""
        for name in TIME_FIELDS:
            if hasattr(context, name):
                return self.timestamp(getattr(context, name))
        return None

    def describe(self) -> str:
        """One sentence for the API's documentation."""
        if self._epoch is None:
            return "Times are days on the simulation clock (the bundle's scenario has no calendar date)."
        return (f"Times are days on the simulation clock: day 0 is {self._epoch.isoformat()} "
                "(the scenario's `calendars.start_date`, local time), so day t is that moment + t × 24 h.")


def order_id(context: Any) -> int | None:
    """The order a context is about (selection, expedite, fulfilment, returns), else ``None``."""
    value = getattr(context, "order_id", None)
    return value if isinstance(value, int) else None
