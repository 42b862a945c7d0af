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

The other way, a request may give any instant (a field marked
:data:`~ordercycle.policies.contexts.INSTANT`) as an ISO 8601 local date-time
(:data:`LOCAL_TIME`; :meth:`CompanyClock.parse_days`): the service converts it to days
before the context is built, so the policy sees the same days. A time with a UTC offset is
refused: the scenario has no time zone to convert it into. Decisions carry durations; the
instants they imply (a quote's promised date) are answered as ISO 8601 companions on
request (:data:`COMPANIONS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

LOCAL_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?"
"""An ISO 8601 local date-time as a request may give an instant: ``2027-01-06T12:00``,
``2027-01-06T12:00:30.25``, or a date alone (``2027-01-06``: 00:00). Extended format, ``T``
between date and time, no offset."""
LOCAL_TIME_PATTERN = f"^{LOCAL_TIME}$"
""":data:`LOCAL_TIME` as the OpenAPI document's ``pattern``."""
_LOCAL_TIME = re.compile(LOCAL_TIME)
_WITH_OFFSET = re.compile(LOCAL_TIME + r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)", re.IGNORECASE)

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

    def parse_days(self, text: str) -> float:
        """The days of an ISO 8601 local date-time (:data:`LOCAL_TIME`) on this calendar.

        Raises:
            ValueError: with the reason: no calendar, a UTC offset (the scenario has no time
                zone, so an offset cannot be converted: refused rather than guessed), not the
                form of :data:`LOCAL_TIME`, or not a date of the calendar (``2027-02-30``,
                year 0).
        """
        if self._epoch is None:
            raise ValueError("an ISO 8601 time needs a day 0, and the bundle's scenario has no "
                             "calendars.start_date: give days on the simulation clock")
        if _WITH_OFFSET.fullmatch(text):
            raise ValueError("has a UTC offset, but times are the company's local time (the scenario has "
                             "no time zone): give the local date-time without an offset, "
                             f"{_LOCAL_TIME.match(text).group(0)}")  # type: ignore[union-attr]
        if not _LOCAL_TIME.fullmatch(text):
            raise ValueError("must be days on the simulation clock (a number) or an ISO 8601 local "
                             "date-time such as 2027-01-06T12:00 or 2027-01-06")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise ValueError(f"not a date-time of the calendar ({error})") from None
        return self.days(moment)

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
                "(the scenario's `calendars.start_date`, local time), so day t is that moment + t × 24 h; "
                "a request may give any instant as an ISO 8601 local date-time instead "
                f"(`{self._epoch.date().isoformat()}T12:00` is day 0.5).")


HOURS_PER_DAY = 24.0


def _promised_date(context: Any, decision: Any) -> float | None:
    return context.now + decision.promised_lead_days


def _renegotiated_date(context: Any, decision: Any) -> float | None:
    lead = decision.renegotiated_lead_days
    return None if lead is None or not decision.accept else context.now + lead


def _overtime_until(context: Any, decision: Any) -> float | None:
    return context.now + decision.hours / HOURS_PER_DAY if decision.hours > 0 else None


@dataclass(frozen=True)
class Companion:
    """An instant a decision implies, answered as an ISO 8601 timestamp beside the decision.

    Attributes:
        name: the key in the answer (``promised_date_at``).
        days: (context, decision) -> the instant in days on the simulation clock, or ``None``
            when the decision implies none.
        description: what it is, for the OpenAPI document.
    """

    name: str
    days: Callable[[Any, Any], float | None]
    description: str


COMPANIONS: dict[str, tuple[Companion, ...]] = {
    "pricing": (Companion("promised_date_at", _promised_date,
                          "The date the quote promises: the context's `now` + `promised_lead_days`."),),
    "selection": (Companion("renegotiated_promised_date_at", _renegotiated_date,
                            "The renegotiated promised date of an accepted order: `now` + "
                            "`renegotiated_lead_days` (as the simulation sets it); null without one."),),
    "overtime": (Companion("overtime_until_at", _overtime_until,
                           "When the granted overtime ends: `now` + `hours` / 24; null without overtime."),),
}
"""Decision kind -> the instants its decisions imply. Decisions carry durations (lead days,
hours), never instants; these are the durations counted from the context's time. Other kinds
imply none (a return's delays run from events later than the decision)."""


def companions(clock: CompanyClock, kind: str, context: Any, decision: Any) -> dict[str, str | None]:
    """The ISO 8601 timestamps of the instants a decision implies (:data:`COMPANIONS`)."""
    return {companion.name: clock.timestamp(companion.days(context, decision))
            for companion in COMPANIONS.get(kind, ())}


def order_id(context: Any) -> int | None:
    """The order a context is about (selection, expedite, fulfilment, returns), else ``None``."""
    value = getattr(context, "order_id", None)
    return value if isinstance(value, int) else None
