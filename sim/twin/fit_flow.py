"""Calibrating how work flows: office task times, carriers' transit, machines and shifts, staff,
defects, and a check of the base's working calendars against the log.

Task times are the start-to-end durations the log shows (:data:`~ordercycle.sim.twin.calibration.TASKS`);
the waits between steps are reported, not fitted: the model's queues produce them (the steps a
log shows only as milestones: :mod:`~ordercycle.sim.twin.fit_steps`).
Transit is fitted per logistics provider (the dispatch's resource when it names one of
the base's providers, else the provider of the order's segment) with its delays
(:func:`~ordercycle.sim.twin.fitting_orders.fit_transit`). The working calendars the log
shows are fitted (:mod:`~ordercycle.sim.twin.fit_calendars`); all are moved to the log's
dates (``calendars.start_date`` is the log's first day), and the task starts the log shows
are checked against them: the share outside is reported per staff pool.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.sim.calendar import scenario_calendars
from ordercycle.sim.model import FIRST_SHIFT_HOUR, SHIFT_HOURS
from ordercycle.sim.twin.calibration import (
    HOURS_PER_DAY,
    TASKS,
    WAITS,
    Calibration,
    pair_durations,
    settled,
    use_pairs,
)
from ordercycle.sim.twin.fitting import MIN_SAMPLES, fit_distribution
from ordercycle.sim.twin.fitting_orders import fit_transit
from ordercycle.sim.twin.logs import CaseLog

POOL_STARTS = {
    "sales_reps": ("sales_contact_started",),
    "estimators": ("estimation_started",),
    "entry_clerks": ("entry_started",),
    "warehouse_staff": ("picking_started",),
    "billing_clerks": ("invoice_started", "dispute_rework_started"),
    "returns_staff": ("return_approval_started",),
    "finance_clerks": ("refund_started",),
}
"""Staff pools and the activities that mark one of their people starting a task (in working time)."""
CALENDAR_TOLERANCE = 0.02
"""Share of a pool's task starts outside its calendar above which the report warns."""


TASK_POOLS = {"sales_contact": "sales_reps", "cost_estimation": "estimators", "order_entry": "entry_clerks",
              "selection_junior": "junior_staff", "selection_senior": "senior_managers",
              "expedite_request": "sales_reps", "invoicing": "billing_clerks",
              "dispute_rework": "billing_clerks", "return_approval": "returns_staff",
              "refund": "finance_clerks"}
"""The staff pool that does each office task (a return's approval: the ``within-window`` policy's)."""


def pool_calendars(data: dict[str, Any]) -> dict[str, Any]:
    """Resource -> its working calendar in the (base) scenario ``data``, on the log's dates."""
    from types import SimpleNamespace

    from ordercycle.scenarios.schema import Calendars

    if not data.get("calendars"):
        return {}
    return scenario_calendars(SimpleNamespace(calendars=Calendars.model_validate(data["calendars"])))


def task_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """Office task hours from start-to-end pairs, counted in the pool's working time; the waits, reported.

    A person of a pool on a calendar pauses a task at closing and resumes it at the next
    opening, so a task begun at 16:00 and ended at 08:30 the next day took one hour of work:
    the hours fitted are the open hours of the pool's calendar between start and end.
    """
    calendars = pool_calendars(data)
    for task, (starts, ends, key, pool) in TASKS.items():
        paired = pair_durations(log, starts, ends, key, pool)
        hours = paired["days"].to_numpy() * HOURS_PER_DAY
        calendar = calendars.get(TASK_POOLS[task])
        if calendar is not None and len(paired):
            outside = float(np.mean([not calendar.is_open(float(t) + 1e-9) for t in paired["time"]]))
            if outside > CALENDAR_TOLERANCE:  # the company works when the base's calendar is closed
                record.notes.append(f"task_hours.{task}: {outside:.0%} of its starts fall outside the base's "
                                    f"calendar {calendar.name!r}: its hours are fitted as elapsed time")
                calendar = None
            else:
                hours = np.array([calendar.open_days(a, b) for a, b in zip(paired["time"], paired["end"],
                                                                          strict=True)]) * HOURS_PER_DAY
        fit = fit_distribution(hours)
        record.statistics[f"task_hours.{task}"] = fit.to_json()
        record.samples[f"task_hours.{task}"] = hours.tolist()
        if fit.n >= MIN_SAMPLES:
            data["task_hours"][task] = fit.chosen
            record.fit(f"task_hours.{task}", fit.chosen,
                       f"{fit.n} pairs {'/'.join(starts)} → {'/'.join(ends)} (AIC)"
                       + (f", hours open on calendar {calendar.name!r}" if calendar is not None else ""))
            use_pairs(record, log, paired, f"task_hours.{task}")
        elif fit.n:
            record.keep(f"task_hours.{task}", f"only {fit.n} start–end pairs in the log")
        else:
            record.keep(f"task_hours.{task}", f"the log shows no {' or '.join(starts)} followed by "
                        f"{' or '.join(ends)}")
    record.keep("task_hours.billing_consultation", "part of the invoicing task: not separable in a log")
    if log.events["resource"].isna().all():
        record.notes.append(
            "the log has no resources: selection task times (junior or senior pool?) and "
            "staff counts come from the base"
        )
    for wait, (starts, ends, key) in WAITS.items():
        paired = pair_durations(log, starts, ends, key)
        hours = paired["days"].to_numpy() * HOURS_PER_DAY
        record.samples[f"wait_hours.{wait}"] = hours.tolist()
        record.statistics[f"wait_hours.{wait}"] = {
            "n": int(len(hours)),
            "mean": float(np.mean(hours)) if len(hours) else None,
            "p50": float(np.percentile(hours, 50)) if len(hours) else None,
            "p90": float(np.percentile(hours, 90)) if len(hours) else None,
        }


def transit_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """Transit days per logistics provider: on-schedule distribution, reliability and delays."""
    paired = pair_durations(log, ("shipment_dispatched",), ("shipment_delivered",), "shipment_id")
    paired = paired[settled(paired["time"], paired["days"], log.span_days, 0.999)]  # seen delivered
    providers = {p["id"]: p for p in data["logistics_providers"]}
    if paired.empty:
        for provider in providers:
            record.keep(f"logistics_providers.{provider}.transit_days",
                        "the log shows no shipment_dispatched followed by shipment_delivered of a package")
        return
    of_segment = {s["id"]: s["logistics_provider"] for s in data["segments"]}
    segment = log.cases["segment"] if "segment" in log.cases else None
    named = paired["resource"].where(paired["resource"].isin(list(providers)))
    if segment is not None:
        named = named.fillna(paired["case_id"].map(segment).map(of_segment))
    if named.isna().all() and len(providers) > 1:
        record.notes.append("the log names no carrier and has no segment: one transit is fitted for every "
                            "logistics provider")
    named = named.fillna("(all)")
    for provider, rows in paired.groupby(named):
        fit = fit_transit(rows["days"].to_numpy())
        targets = list(providers) if provider == "(all)" else [provider]
        record.statistics[f"logistics_providers.{provider}.transit"] = fit.to_json()
        record.samples[f"transit_days.{provider}"] = rows["days"].tolist()
        if fit.n < MIN_SAMPLES:
            for target in targets:
                record.keep(f"logistics_providers.{target}.transit_days",
                            f"only {fit.n} deliveries in the log")
            continue
        use_pairs(record, log, rows, "transit")
        for target in targets:
            if target not in providers:
                record.notes.append(f"carrier {target!r} of the log is not in the base (transit not used)")
                continue
            providers[target].update(transit_days=fit.transit_days, reliability=fit.reliability,
                                     delay_days=fit.delay_days)
            why = f"{fit.n} deliveries (dispatch → delivery), {fit.candidates[0]['form']} (AIC)"
            record.fit(f"logistics_providers.{target}.transit_days", fit.transit_days, why)
            record.fit(f"logistics_providers.{target}.reliability", fit.reliability, why)
            record.fit(f"logistics_providers.{target}.delay_days", fit.delay_days, why)


def resource_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """Machines per work centre, their working calendars, staff per pool (people the log names), defects."""
    operations = log.activity("operation_started", "operation_completed").dropna(subset=["resource_name"])
    names = operations["resource_name"].astype(str)
    machine = names.str.extract(r"^(?P<centre>[^:]+):(?P<index>.+)$").dropna()
    centres = {w["id"]: w for w in data["work_centres"]}
    for centre, rows in machine.groupby("centre"):
        count = int(rows["index"].nunique())
        record.statistics[f"work_centres.{centre}.machines"] = {"distinct_machines": count}
        if centre in centres:
            centres[centre]["machines"] = count
            record.fit(f"work_centres.{centre}.machines", count, f"{count} distinct machines of {centre} "
                       "in operation events")
            record.use(operations.loc[rows.index], "machines")
        else:
            record.notes.append(f"work centre {centre!r} of the log is not in the base (machines {count})")
    shift_fits(log, centres, record)
    people = log.events.dropna(subset=["resource_name", "resource"])
    people = people[people["resource_name"] != people["resource"]]
    for pool, rows in people.groupby("resource"):
        if pool in data["staff"] and pool != "technicians":
            count = int(rows["resource_name"].nunique())
            data["staff"][pool] = count
            record.fit(f"staff.{pool}", count, f"{count} distinct people of the pool in the log")
            record.statistics[f"staff.{pool}"] = {"distinct_people": count}
    delivered = log.activity("shipment_delivered")
    requested = log.activity("return_requested")
    if len(delivered) and "product" in log.cases:
        product_of = log.cases["product"]
        picking = float(data["quality"]["picking_error_rate"])
        for product in data["products"]:
            shipped = int(delivered["case_id"].map(product_of).eq(product["id"]).sum())
            returned = int(requested["case_id"].map(product_of).eq(product["id"]).sum())
            if shipped >= MIN_SAMPLES:
                rate = returned / shipped
                product["defect_rate"] = float(f"{max(0.0, rate - picking):.6g}")
                record.fit(f"products.{product['id']}.defect_rate", product["defect_rate"],
                           f"{returned} returns of {shipped} deliveries less the base's picking error rate")
                record.statistics[f"products.{product['id']}.returns"] = {
                    "shipments_delivered": shipped,
                    "returns_requested": returned,
                    "return_rate": rate,
                    "se": math.sqrt(rate * (1 - rate) / shipped),
                    "note": "defect_rate = return rate - the base's picking_error_rate",
                }


SHIFT_TOLERANCE = 0.01
"""Share of a week's operation starts allowed outside the shifts inferred for it (clock noise)."""


def staffed_shifts(clock_hours: np.ndarray) -> int:
    """Fewest 8-hour shifts from 06:00 (the model's calendar) holding the operation starts.

    A machine starts work only while a shift is staffed, so the latest start in the day
    (from 06:00) tells how many shifts were on; up to ``SHIFT_TOLERANCE`` of the starts may
    fall outside.
    """
    since_first = (np.asarray(clock_hours, dtype=float) - FIRST_SHIFT_HOUR + 1e-6) % 24.0
    for shifts in (1, 2):
        if np.mean(since_first >= SHIFT_HOURS * shifts) <= SHIFT_TOLERANCE:
            return shifts
    return 3


def _job_starts(log: CaseLog) -> pd.DataFrame:
    """When each machine took up a job: its changeover's start, else its operation's start.

    Columns ``time`` and ``centre``. A machine waits for a shift before it begins a job, but
    a changeover may run past the shift's end, so an operation that follows a changeover
    says nothing about the calendar.
    """
    events = log.activity("changeover_started", "operation_started").dropna(subset=["resource_name"])
    events = events.drop_duplicates(subset=["time", "activity", "resource_name"])
    machine = events["resource_name"].astype(str).str.extract(r"^(?P<centre>[^:]+):(?P<index>.+)$")
    events = events.assign(centre=machine["centre"], machine=events["resource_name"].astype(str))
    events = events.dropna(subset=["centre"]).sort_values(["machine", "time"], kind="stable")
    previous = events.groupby("machine")["activity"].shift()
    took_up = (events["activity"] == "changeover_started") | (previous != "changeover_started")
    return events.loc[took_up, ["time", "centre"]]


def shift_fits(log: CaseLog, centres: dict[str, dict[str, Any]], record: Calibration) -> None:
    """Working calendars of the work centres: staffed shifts per week from the operation starts."""
    starts = _job_starts(log)
    for centre, rows in starts.groupby("centre"):
        weeks = {}
        for week, in_week in rows.groupby((rows["time"] // 7).astype(int)):
            if len(in_week) >= MIN_SAMPLES:
                weeks[int(week)] = staffed_shifts((in_week["time"].to_numpy() % 1.0) * 24.0)
        if not weeks or centre not in centres:
            continue
        first, most = weeks[min(weeks)], max(weeks.values())
        record.statistics[f"work_centres.{centre}.shifts"] = {
            "staffed_shifts_by_week": {str(k): v for k, v in sorted(weeks.items())},
            "note": "fewest 8-hour shifts from 06:00 holding 99 % of the week's job starts",
        }
        spec = centres[centre]
        spec["initial_shifts"] = first
        spec["max_shifts"] = max(most, first)
        why = f"staffed shifts of {len(weeks)} weeks from the clock hours of the machines' job starts"
        record.fit(f"work_centres.{centre}.initial_shifts", first, why)
        record.fit(f"work_centres.{centre}.max_shifts", spec["max_shifts"], why)




def calendar_fits(log: CaseLog, data: dict[str, Any], record: Calibration, weekday_profile: bool) -> None:
    """Move the base's working calendars to the log's dates and check them against its task starts.

    ``calendars.start_date`` becomes the log's first day, so weekdays, hours and the
    arrivals' weekday profile fall as in the log (a base without calendars gets one, used by
    no resource, when a weekday profile is fitted). The weekly patterns and holidays are the
    base's: for each staff pool on a calendar, the share of its task starts in the log that
    fall outside it is reported (a person of the model starts work only in working time).
    """
    from ordercycle.scenarios.loader import parse

    start = log.origin.date().isoformat()
    if data.get("calendars") is None:
        if not weekday_profile:
            record.keep("calendars", "the base has no working calendars (everyone works around the clock)")
            return
        data["calendars"] = {"start_date": start, "pools": {},
                             "patterns": {"around-the-clock": {"week": {d: ["00:00-24:00"] for d in
                                                                        ("mon", "tue", "wed", "thu", "fri",
                                                                         "sat", "sun")}}}}
        record.fit("calendars.start_date", start, "the log's first day: weekdays of the arrivals' profile "
                   "(a calendar used by no resource)")
        return
    data["calendars"]["start_date"] = start
    record.fit("calendars.start_date", start, "the log's first day (the twin's day 0)")
    holidays = [d for pattern in data["calendars"]["patterns"].values() for d in pattern.get("holidays", [])]
    end = (log.origin + pd.Timedelta(days=math.ceil(log.span_days))).date().isoformat()
    inside = [d for d in holidays if start <= str(d) <= end]
    record.keep("calendars.patterns", "the base's weekly working periods (the log shows too few events "
                f"of any resource to fit one); {len(inside)} of the base's holidays fall within the log's "
                "dates")
    calendars = scenario_calendars(parse(data))
    checks = {}
    for pool, activities in POOL_STARTS.items():
        calendar = calendars.get(pool)
        starts = log.activity(*activities)
        if calendar is None or len(starts) < MIN_SAMPLES:
            continue
        outside = float(np.mean([not calendar.is_open(float(t) + 1e-9) for t in starts["time"]]))
        checks[pool] = {"starts": len(starts), "outside_calendar": outside, "calendar": calendar.name}
        record.use(starts, "calendar check")
        if outside > CALENDAR_TOLERANCE:
            record.notes.append(
                f"warning: {outside:.0%} of the {len(starts)} task starts of {pool} in the log fall outside "
                f"its calendar {calendar.name!r} in the base: the company works other hours; the twin keeps "
                "the base's (set calendars in the base scenario)")
    record.statistics["calendars.check"] = checks
