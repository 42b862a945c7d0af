"""Working calendars fitted from the times a log shows work being done.

A person of the model starts a task only in working time and, pausing over closed time,
ends it in working time too; a carrier loads only in its pickup hours. So the times of a
pool's task starts and ends (:data:`POOL_EVENTS`), and of a carrier's dispatches, are
samples of its working time. :func:`fit_week` turns them into a weekly pattern in the
scenario's ``calendars`` format: the weekdays on which work happens, and on them the
half-hours in which it does (pooled over the working days: one set of periods for every
working day). A weekday or half-hour is closed when it holds almost none of the events —
at most :data:`CLOSED_SHARE` of the busiest-but-typical one (the median) — and all the
closed ones together hold at most :data:`OUTSIDE_TOLERANCE` of them (a stray event after
hours is not a reason to open a night).

:func:`working_calendar_fits` fits one pattern per resource whose log shows at least
:data:`MIN_CALENDAR_EVENTS` events over at least :data:`MIN_CALENDAR_DAYS` days, names it
``log:<resource>`` and points the resource to it; the base's holidays are kept, but for
those on which the log shows the resource at work. Resources with fewer events keep the
base's calendar, and the report says so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ordercycle.sim.twin.calibration import Calibration
from ordercycle.sim.twin.logs import CaseLog

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOTS_PER_DAY = 48
"""Half-hours: the resolution of a fitted pattern (offices open at 08:00 and lunch at 12:00–12:30)."""
CLOSED_SHARE = 0.1
"""A weekday or half-hour is a candidate for closing when it holds at most this share of the median one."""
CLOSED_P = 0.001
"""A run of quiet cells closes when cells open at the lowest open rate would hold more events (this p)."""
OUTSIDE_TOLERANCE = 0.01
"""The closed weekdays and half-hours together hold at most this share of the resource's events."""
MIN_CALENDAR_EVENTS = 200
"""Events of a resource below which its calendar is the base's (a week has 336 half-hours)."""
MIN_CALENDAR_DAYS = 14.0
"""Days of log below which calendars are the base's (each weekday seen at least twice)."""

POOL_EVENTS = {
    "sales_reps": ("sales_contact_started", "sales_contact_completed", "expedite_requested",
                   "expedite_granted", "expedite_refused"),
    "estimators": ("estimation_started", "quote_sent"),
    "entry_clerks": ("entry_started", "order_entered"),
    "junior_staff": ("selection_started", "order_accepted", "order_rejected"),
    "senior_managers": ("selection_started", "order_accepted", "order_rejected"),
    "warehouse_staff": ("picking_started", "picking_completed"),
    "billing_clerks": ("invoice_started", "invoice_issued", "dispute_rework_started", "invoice_corrected"),
    "returns_staff": ("return_approval_started", "return_approved", "return_refused"),
    "finance_clerks": ("refund_started", "refund_paid"),
}
"""Staff pool -> the activities that start or end one of its tasks (both fall in its working time).
The selection's events count for both selection pools: which one decides is the policy's choice."""


def _closed(counts: np.ndarray) -> np.ndarray:
    """Mask of the cells (weekdays or half-hours, in circular order) that are closed.

    A candidate holds at most ``CLOSED_SHARE`` of the median non-empty cell. A run of
    consecutive candidates (less the cells at its ends that hold events without being
    significantly quiet themselves) closes when it holds too few events for cells open at that
    lowest rate (Poisson, p < :data:`CLOSED_P`) — a single empty half-hour at night in a
    small log is not evidence of a closing — and all the closed runs together hold at most
    ``OUTSIDE_TOLERANCE`` of the events (emptiest runs first).
    """
    counts = np.asarray(counts, dtype=float)
    size, total = len(counts), counts.sum()
    busy = counts[counts > 0]
    rate = CLOSED_SHARE * float(np.median(busy)) if len(busy) else 0.0
    candidate = counts <= rate
    closed = np.zeros(size, dtype=bool)
    if candidate.all() or not candidate.any():
        return closed
    first = int(np.argmin(candidate))  # an open cell: runs do not wrap past it
    runs, run = [], []
    for step in range(1, size + 1):
        cell = (first + step) % size
        if candidate[cell]:
            run.append(cell)
        elif run:
            runs.append(run)
            run = []
    runs = [_trimmed(r, counts, rate) for r in runs]
    runs = [r for r in runs if r]
    outside = 0.0
    tested = [(stats.poisson.cdf(counts[r].sum(), rate * len(r)), counts[r].sum(), r) for r in runs]
    for p, events, cells in sorted(tested, key=lambda x: (x[1] / len(x[2]), x[0])):
        if p < CLOSED_P and outside + events <= OUTSIDE_TOLERANCE * total:
            closed[cells] = True
            outside += events
    return closed


def _trimmed(run: list[int], counts: np.ndarray, rate: float) -> list[int]:
    """The run without the cells at its ends that hold events and are not themselves significantly
    quiet (the last, sparse half-hour of a working day next to a closed night stays open)."""
    def quiet(cell: int) -> bool:
        return counts[cell] == 0 or stats.poisson.cdf(counts[cell], rate) < CLOSED_P

    while run and not quiet(run[0]):
        run = run[1:]
    while run and not quiet(run[-1]):
        run = run[:-1]
    return run


def _periods(open_slots: np.ndarray) -> list[str]:
    """Contiguous open half-hours as ``'HH:MM-HH:MM'`` periods."""
    periods, start = [], None
    for slot, is_open in enumerate([*open_slots.tolist(), False]):
        if is_open and start is None:
            start = slot
        elif not is_open and start is not None:
            periods.append(f"{_clock(start)}-{_clock(slot)}")
            start = None
    return periods


def _clock(slot: int) -> str:
    minutes = slot * 24 * 60 // SLOTS_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def fit_week(times: np.ndarray | pd.Series,
             first_weekday: int) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """The weekly pattern (``{'mon': ['08:00-12:00', …], …}``) in which the events at ``times`` happen.

    ``times`` are days from a midnight whose weekday is ``first_weekday`` (0 = Monday). Returns
    the pattern and its statistics (events per weekday and per half-hour, the share outside).
    """
    t = np.asarray(times, dtype=float)
    days = np.floor(t).astype(int)
    weekday = (days + first_weekday) % 7
    slot = np.minimum(((t - days) * SLOTS_PER_DAY + 1e-9).astype(int), SLOTS_PER_DAY - 1)
    per_weekday = np.bincount(weekday, minlength=7)
    working = ~_closed(per_weekday)
    on_working = working[weekday]
    per_slot = np.bincount(slot[on_working], minlength=SLOTS_PER_DAY)
    open_slots = ~_closed(per_slot)
    periods = _periods(open_slots)
    week = {WEEKDAYS[d]: list(periods) for d in range(7) if working[d]}
    inside = on_working & open_slots[slot]
    return week, {
        "events": int(len(t)),
        "events_per_weekday": dict(zip(WEEKDAYS, per_weekday.tolist(), strict=True)),
        "events_per_half_hour": per_slot.tolist(),
        "outside_share": float(1.0 - inside.mean()) if len(t) else 0.0,
        "open_hours_per_week": float(open_slots.sum() * 24 / SLOTS_PER_DAY * working.sum()),
    }


def _resource_times(log: CaseLog, data: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Resource (staff pool, logistics provider) -> the events of the log that fall in its working time."""
    found = {}
    for pool, activities in POOL_EVENTS.items():
        if pool in data["staff"]:
            found[pool] = log.activity(*activities).drop_duplicates("event_id")
    dispatched = log.activity("shipment_dispatched").drop_duplicates("event_id")
    if len(dispatched):  # a carrier loads in its pickup hours: its dispatches are the ends of loading
        providers = [p["id"] for p in data["logistics_providers"]]
        named = dispatched["resource"].where(dispatched["resource"].isin(providers))
        if "segment" in log.cases:
            of_segment = {s["id"]: s["logistics_provider"] for s in data["segments"]}
            named = named.fillna(dispatched["case_id"].map(log.cases["segment"]).map(of_segment))
        for provider, rows in dispatched.groupby(named):
            found[str(provider)] = rows
    return found


def working_calendar_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """Fit the weekly pattern of every staff pool and carrier the log shows at work often enough.

    ``data["calendars"]`` (the base's, its ``start_date`` already the log's first day) gets a
    pattern ``log:<resource>`` per fitted resource; a base without calendars gets a section.
    """
    first_weekday = log.origin.weekday()
    start = log.origin.date()
    fitted: dict[str, dict[str, Any]] = {}
    statistics: dict[str, Any] = {}
    for resource, rows in sorted(_resource_times(log, data).items()):
        path = f"calendars.pools.{resource}"
        if len(rows) < MIN_CALENDAR_EVENTS or log.span_days < MIN_CALENDAR_DAYS:
            if len(rows):
                record.keep(path, f"only {len(rows)} events of {resource} in {log.span_days:.0f} days of log "
                            f"(a fit needs {MIN_CALENDAR_EVENTS} over {MIN_CALENDAR_DAYS:.0f} days): "
                            "the base's")
            continue
        week, stats = fit_week(rows["time"].to_numpy(), first_weekday)
        if not week:
            continue
        base = _base_pattern(data, resource)
        worked = {(log.origin + pd.Timedelta(days=math.floor(t))).date().isoformat() for t in rows["time"]}
        holidays = [d for d in (base or {}).get("holidays", []) if str(d) not in worked]
        fitted[resource] = {"week": week, "holidays": holidays}
        stats["base_calendar"] = (data.get("calendars") or {}).get("pools", {}).get(resource)
        statistics[resource] = stats
        record.use(rows, "calendars")
        days = ", ".join(f"{day} {' '.join(periods)}" for day, periods in week.items())
        record.fit(path, f"log:{resource}", f"{stats['events']} events of {resource} (task starts and ends"
                   f"{', dispatches' if resource not in POOL_EVENTS else ''}): {days}; "
                   f"{stats['outside_share']:.1%} of them outside")
    if not fitted:
        return
    if not data.get("calendars"):
        data["calendars"] = {"start_date": start.isoformat(), "patterns": {}, "pools": {}}
    calendars = data["calendars"]
    for resource, pattern in fitted.items():
        calendars["patterns"][f"log:{resource}"] = pattern
        calendars.setdefault("pools", {})[resource] = f"log:{resource}"
    record.fit("calendars.pools", calendars["pools"], "fitted for " + ", ".join(sorted(fitted))
               + "; the other resources keep the base's calendar")
    record.fit("calendars.patterns", sorted(calendars["patterns"]),
               f"fitted from the log for {', '.join(sorted(fitted))}; the others' are the base's")
    record.statistics["calendars.fitted"] = statistics


def _base_pattern(data: dict[str, Any], resource: str) -> dict[str, Any] | None:
    calendars = data.get("calendars") or {}
    name = calendars.get("pools", {}).get(resource)
    return calendars.get("patterns", {}).get(name) if name else None


def same_calendar(data: dict[str, Any], resources: tuple[str, ...], like: str, record: Calibration,
                  why: str) -> None:
    """Put ``resources`` on the calendar of ``like`` (when it has one), recorded as fitted with ``why``."""
    calendars = data.get("calendars")
    if not calendars or like not in calendars.get("pools", {}):
        return
    name = calendars["pools"][like]
    for resource in resources:
        if resource in data["staff"] and calendars["pools"].get(resource) != name:
            calendars["pools"][resource] = name
            record.fit(f"calendars.pools.{resource}", name, why)
