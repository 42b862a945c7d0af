"""Calibrate a scenario from a company's event log.

:func:`calibrate` fits what the log shows onto a base scenario that supplies everything
else, and returns the scenario with a :class:`~ordercycle.sim.twin.calibration.Calibration`
record: for **every** parameter, whether it was fitted (and from what) or taken from the
base (and why), the statistics of each fit, the notes, and the ledger of the log's events
per activity (used for what, not used and why).

Fitted when the log shows them (:mod:`~ordercycle.sim.twin.fit_orders`,
:mod:`~ordercycle.sim.twin.fit_flow`): per segment the arrivals (rate, trend, seasonality,
weekday and hourly profiles, over the days orders arrive), units per line, lines per order,
the product mix, response days, quote acceptance, payment delay (and terms), prepayment
and partial deliveries; office task hours; transit, reliability and delays per carrier;
machines and shifts per work centre; staff per pool; defect rates; the step timings a log of
orders shows only as milestones (:mod:`~ordercycle.sim.twin.fit_steps`: intake, picking,
loading, invoicing); the working calendars of the staff pools and carriers the log shows at
work (:mod:`~ordercycle.sim.twin.fit_calendars`) and the calendars' start date.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

from ordercycle.scenarios.loader import parse
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.twin.calibration import HOURS_PER_DAY, TASKS, WAITS, Calibration, pair_durations
from ordercycle.sim.twin.fit_calendars import working_calendar_fits
from ordercycle.sim.twin.fit_flow import calendar_fits, resource_fits, staffed_shifts, task_fits, transit_fits
from ordercycle.sim.twin.fit_orders import segment_fits
from ordercycle.sim.twin.fit_steps import billing_fits, carrier_fits, intake_fits, picking_fits, queue_waits
from ordercycle.sim.twin.logs import CaseLog

__all__ = ["HOURS_PER_DAY", "TASKS", "WAITS", "Calibration", "calibrate", "pair_durations", "staffed_shifts"]

BASE_REASONS = {
    "products": "master data (routings, prices, stocking, service, initial stock) the log does not hold",
    "work_centres": "changeovers, breakdowns, costs: the log does not show them",
    "logistics_providers": "loading slots, handling and freight cost: the log does not show them",
    "staff": "the log names no people of this pool (map them with the mapping's resources)",
    "quality": "entry errors, disputes and return delays: not fitted from logs in this version",
    "planning": "planning parameters: decisions' inputs the log does not show",
    "costs": "costs are not in an event log",
    "information": "what departments share: not in an event log",
    "policies": "the twin keeps the base's policies (decisions, not parameters)",
    "objective": "the base's objective",
    "goodwill": "the customers' memory: not fitted from logs in this version",
    "segments": "the log does not show it",
    "task_hours": "the log shows no start and end of this task",
    "calendars": "the base's working calendars (the log shows too few events of the resource)",
}
"""Why a field is taken from the base, by section, unless a fit says more."""
SEGMENT_FIELDS = ("customers", "importance", "price_sensitivity", "lead_time_sensitivity",
                  "desired_lead_days", "invoice_rhythm", "logistics_provider", "return_window_days")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def _fields(model: BaseModel, prefix: str) -> list[tuple[str, Any]]:
    return [(f"{prefix}.{name}", _plain(getattr(model, name))) for name in type(model).model_fields
            if name != "id"]


def _leaves(scenario: Scenario) -> list[tuple[str, Any]]:
    """The parameters of a scenario at the granularity the report lists them: ``section.id.field``
    (every field, defaults included)."""
    rows: list[tuple[str, Any]] = []
    for section in ("segments", "products", "work_centres", "logistics_providers"):
        for item in getattr(scenario, section):
            rows += _fields(item, f"{section}.{item.id}")
    for section in ("task_hours", "staff", "quality", "planning", "costs", "information", "policies"):
        rows += _fields(getattr(scenario, section), section)
    if scenario.calendars is not None:
        rows += _fields(scenario.calendars, "calendars")
    rows += [("objective", _plain(scenario.objective)), ("goodwill", _plain(scenario.goodwill))]
    return rows


def _parameters(scenario: Scenario, record: Calibration) -> None:
    """Every parameter of the twin with its source (fitted or base) and why."""
    record.parameters = []
    for path, value in _leaves(scenario):
        parts = path.split(".")
        fitted_key = path
        if parts[0] == "segments" and f"segments.{parts[1]}.{parts[2]}" not in record.fitted:
            fitted_key = f"segments.(all).{parts[2]}"  # a log without segments fits every segment alike
        if fitted_key in record.fitted or path in record.fitted:
            record.parameters.append({"path": path, "source": "fitted", "value": value,
                                      "why": record.why.get(path, record.why.get(fitted_key, ""))})
            continue
        why = record.why.get(path) or record.why.get(fitted_key)
        if why is None and parts[0] == "segments" and len(parts) > 2:
            why = ("customer data of the segment the log does not show" if parts[2] in SEGMENT_FIELDS
                   else BASE_REASONS["segments"])
        record.parameters.append({"path": path, "source": "base", "value": value,
                                  "why": why or BASE_REASONS.get(parts[0], "the log does not show it")})
    record.from_base = sorted(p["path"] for p in record.parameters if p["source"] == "base")


def calibrate(log: CaseLog, base: Scenario, name: str | None = None) -> tuple[Scenario, Calibration]:
    """The scenario fitted to ``log`` on top of ``base``, and the record of the calibration."""
    data = base.model_dump(mode="json")
    record = Calibration(
        log.source,
        log.origin.isoformat(),
        log.span_days,
        int(log.events["case_id"].nunique()),
        int(log.events["event_id"].nunique()),
        notes=list(log.notes),
        unmapped=dict(log.unmapped),
        ignored=dict(log.ignored),
        source_format=log.source_format,
    )
    if log.unmapped:
        record.notes.append(
            "activities not mapped to the cycle (not used): "
            + ", ".join(f"{k} ({v})" for k, v in log.unmapped.items())
        )
    if data.get("calendars"):  # the base's calendars on the log's dates (the twin's day 0 is its first day)
        data["calendars"]["start_date"] = log.origin.date().isoformat()
    transit_fits(log, data, record)  # first: the promises quotes carried include the carriers' transit
    segment_fits(log, base, data, record)
    carrier_fits(log, data, record)
    working_calendar_fits(log, data, record)  # before the step timings: they count hours in working time
    intake_fits(log, data, record)
    picking_fits(log, data, record)
    billing_fits(log, data, record)
    task_fits(log, data, record)
    queue_waits(log, record)
    resource_fits(log, data, record)
    weekday = any(s["arrivals"].get("weekday_profile") for s in data["segments"])
    calendar_fits(log, data, record, weekday)
    horizon = float(max(1, math.ceil(record.window[1])))
    data["horizon_days"] = horizon
    data["warmup_days"] = data["warmup_days"] if data["warmup_days"] < horizon else 0.0
    data["name"] = name or f"{base.name}-twin"
    data["description"] = (
        f"Calibrated by ordercycle calibrate from {log.source} (origin {log.origin.date()}, "
        f"{log.span_days:.1f} days, {record.cases} cases) on base {base.name!r}"
    )
    data["sets"] = {}
    scenario = parse(data)
    _parameters(scenario, record)
    record.close(log)
    return scenario, record
