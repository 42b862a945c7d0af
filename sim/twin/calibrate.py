"""Calibrate a scenario from a company's event log.

:func:`calibrate` fits what the log shows — arrivals per segment, order sizes and
product mix, office task times, customer response times, quote acceptance, machines
per work centre, staff per pool (when the log names people), return rates — onto a
base scenario that supplies everything else, and returns the scenario together with a
:class:`Calibration` record of what was fitted, from which samples, and what came
from the base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from ordercycle.scenarios.loader import parse
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.model import FIRST_SHIFT_HOUR, SHIFT_HOURS
from ordercycle.sim.twin.fitting import MIN_SAMPLES, fit_arrivals, fit_distribution, fit_order_size, shares
from ordercycle.sim.twin.logs import CaseLog

HOURS_PER_DAY = 24.0

TASKS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None, str | None]] = {
    "sales_contact": (("sales_contact_started",), ("sales_contact_completed",), None, None),
    "cost_estimation": (("estimation_started",), ("quote_sent",), None, None),
    "order_entry": (("entry_started",), ("order_entered",), None, None),
    "selection_junior": (("selection_started",), ("order_accepted", "order_rejected"), None, "junior_staff"),
    "selection_senior": (
        ("selection_started",),
        ("order_accepted", "order_rejected"),
        None,
        "senior_managers",
    ),
    "expedite_request": (("expedite_requested",), ("expedite_granted", "expedite_refused"), None, None),
    "invoicing": (("invoice_started",), ("invoice_issued",), "invoice_id", None),
    "dispute_rework": (("dispute_rework_started",), ("invoice_corrected",), "invoice_id", None),
    "return_approval": (
        ("return_approval_started",),
        ("return_approved", "return_refused"),
        "return_id",
        None,
    ),
    "refund": (("refund_started",), ("refund_paid",), "return_id", None),
}
"""Office tasks whose duration the log shows: (start activities, end activities, object key, pool)."""

WAITS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    "sales": (("inquiry_received",), ("sales_contact_started",), None),
    "estimating": (("sales_contact_completed",), ("estimation_started",), None),
    "order_entry": (("quote_accepted",), ("entry_started",), None),
    "selection": (("order_entered",), ("selection_started",), None),
    "dispute_rework": (("invoice_disputed",), ("dispute_rework_started",), "invoice_id"),
    "return_approval": (("return_requested",), ("return_approval_started",), "return_id"),
}
"""Queues whose waiting time the log shows (reported and validated; the model produces them)."""


@dataclass
class Calibration:
    """What calibration fitted, the statistics of each fit, and what came from the base."""

    log_source: str
    origin: str
    span_days: float
    cases: int
    events: int
    fitted: dict[str, Any] = field(default_factory=dict)
    statistics: dict[str, Any] = field(default_factory=dict)
    from_base: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Everything but the raw samples, as plain JSON."""
        return {
            "log": self.log_source,
            "origin": self.origin,
            "span_days": self.span_days,
            "cases": self.cases,
            "events": self.events,
            "fitted": self.fitted,
            "statistics": self.statistics,
            "from_base": self.from_base,
            "notes": self.notes,
            "unmapped_activities": self.unmapped,
            "ignored_activities": self.ignored,
        }


def pair_durations(
    log: CaseLog, starts: tuple[str, ...], ends: tuple[str, ...], key: str | None, pool: str | None = None
) -> pd.DataFrame:
    """Each start event with the first end event at or after it on the same case (and object): days."""
    columns = ["case_id"] + ([key] if key and log.events[key].notna().any() else [])
    first = log.activity(*starts)
    if pool is not None:
        first = first[first["resource"] == pool]
    first = first.dropna(subset=columns)[columns + ["time", "resource"]].sort_values("time", kind="stable")
    second = log.activity(*ends).dropna(subset=columns)[columns + ["time"]].sort_values("time", kind="stable")
    second = second.rename(columns={"time": "end"}).assign(time=lambda f: f["end"])
    if first.empty or second.empty:
        return pd.DataFrame({"case_id": [], "time": [], "days": []})
    paired = pd.merge_asof(first, second, on="time", by=columns, direction="forward")
    paired = paired.dropna(subset=["end"])
    return paired.assign(days=paired["end"] - paired["time"])


def _arrival_times(log: CaseLog) -> tuple[pd.Series, str]:
    inquiries = log.activity("inquiry_received")
    if len(inquiries):
        return inquiries.groupby("case_id")["time"].min(), "inquiry_received"
    return log.events.groupby("case_id")["time"].min(), "the first event of each case"


def _acceptance_utility(probability: float, offsets: np.ndarray) -> float:
    """base_utility b with mean over quotes of 1 / (1 + exp(-(b - offset))) = probability.

    Over the answered quotes this is the maximum-likelihood b of the logit with known
    offsets (its score equation is sum(accepted - p) = 0).
    """
    probability = min(max(probability, 1e-4), 1 - 1e-4)

    def gap(b: float) -> float:
        return float(np.mean(1 / (1 + np.exp(-(b - offsets))))) - probability

    return float(optimize.brentq(gap, -30, 30))


def _segment_fits(log: CaseLog, base: Scenario, data: dict[str, Any], record: Calibration) -> None:
    arrivals, arrival_source = _arrival_times(log)
    if arrival_source != "inquiry_received":
        record.notes.append(f"no inquiry_received in the log: arrival = {arrival_source}")
    cases = log.cases.reindex(arrivals.index)
    quantity = cases["quantity"] if "quantity" in cases else pd.Series(np.nan, index=cases.index)
    if quantity.isna().all():
        inquiry_qty = log.activity("inquiry_received").groupby("case_id")["quantity"].first()
        quantity = inquiry_qty.reindex(cases.index)
    products = {p.id for p in base.products}
    base_segments = {s["id"]: s for s in data["segments"]}
    has_segment = "segment" in cases and cases["segment"].notna().any()
    groups = sorted(cases["segment"].dropna().unique()) if has_segment else ["(all)"]
    fitted_segments = []
    for name in groups:
        members = cases.index[cases["segment"] == name] if has_segment else cases.index
        fit = fit_arrivals(arrivals.reindex(members).to_numpy(), log.span_days)
        template = base_segments.get(str(name), data["segments"][0])
        if has_segment and str(name) not in base_segments:
            record.notes.append(
                f"segment {name!r} is not in the base: its unfitted fields come from base "
                f"segment {template['id']!r}"
            )
        segment = dict(template, id=str(name)) if has_segment else None
        stats: dict[str, Any] = {"arrivals": fit.to_json()}
        record.samples[f"arrivals.{name}.daily_counts"] = fit.daily_counts
        record.samples[f"arrivals.{name}.daily_fitted"] = fit.daily_fitted
        size = fit_order_size(quantity.reindex(members).dropna().to_numpy())
        stats["order_size_units"] = size.to_json()
        record.samples[f"order_size.{name}"] = quantity.reindex(members).dropna().tolist()
        mix = {}
        if "product" in cases:
            counted = shares(cases.loc[members, "product"].dropna().to_numpy())
            unknown = {p: v["count"] for p, v in counted.items() if p not in products}
            if unknown:
                record.notes.append(
                    f"segment {name}: products not in the base (no routing) left out of the mix: {unknown}"
                )
            mix = {p: float(f"{v['share']:.6g}") for p, v in counted.items() if p in products}
            stats["product_mix"] = counted
        response = pair_durations(log, ("quote_sent",), ("quote_accepted", "quote_lost"), None)
        response = response[response["case_id"].isin(members)]
        response_fit = fit_distribution(response["days"].to_numpy())
        answers = log.activity("quote_accepted", "quote_lost")
        answers = answers[answers["case_id"].isin(members)].drop_duplicates("case_id")
        accepted = int((answers["activity"] == "quote_accepted").sum())
        quoted = len(answers)  # answered quotes
        targets = [segment] if segment is not None else data["segments"]
        for target in targets:
            if segment is None:
                scale = fit.rate_per_day / sum(s["arrivals"]["rate_per_day"] for s in data["segments"])
                target["arrivals"] = dict(
                    fit.arrivals(), rate_per_day=float(f"{target['arrivals']['rate_per_day'] * scale:.6g}")
                )
            else:
                target["arrivals"] = fit.arrivals()
            if size.n >= MIN_SAMPLES:
                target["order_size_units"] = size.chosen
            if mix:
                target["product_mix"] = mix
            if response_fit.n >= MIN_SAMPLES:
                target["response_days"] = response_fit.chosen
            if quoted >= MIN_SAMPLES and "quote_lost" in set(log.events["activity"]):
                offsets = _acceptance_offsets(base, target, cases.loc[answers["case_id"]])
                target["base_utility"] = float(f"{_acceptance_utility(accepted / quoted, offsets):.6g}")
        stats["response_days"] = response_fit.to_json()
        record.samples[f"response_days.{name}"] = response["days"].tolist()
        stats["quote_acceptance"] = {
            "quoted": quoted,
            "accepted": accepted,
            "rate": accepted / quoted if quoted else None,
        }
        record.statistics[f"segments.{name}"] = stats
        if segment is not None:
            fitted_segments.append(segment)
        fitted = ["arrivals"] + [
            k
            for k, ok in (
                ("order_size_units", size.n >= MIN_SAMPLES),
                ("product_mix", bool(mix)),
                ("response_days", response_fit.n >= MIN_SAMPLES),
                ("base_utility", quoted >= MIN_SAMPLES and "quote_lost" in set(log.events["activity"])),
            )
            if ok
        ]
        record.fitted[f"segments.{name}"] = fitted
    if has_segment:
        dropped = sorted(set(base_segments) - {str(g) for g in groups})
        if dropped:
            record.notes.append(f"base segments with no case in the log are dropped: {dropped}")
        data["segments"] = fitted_segments
    else:
        record.notes.append(
            "the log has no segment: every base segment keeps its share of the fitted total "
            "rate and gets the pooled trend, seasonality, sizes and mix"
        )


def _acceptance_offsets(base: Scenario, segment: dict[str, Any], cases: pd.DataFrame) -> np.ndarray:
    """Per quote, the utility the logit loses to price and promised lead.

    The log shows no promise for a lost quote, so every quote is taken to promise the
    product's ``standard_lead_days`` (what the list-price policy promises) and no debrief
    bonus; see docs/twin.md for when that biases ``base_utility``.
    """
    products = {p.id: p for p in base.products}
    desired = float(segment["desired_lead_days"])
    offsets = []
    for row in cases.itertuples():
        product = products.get(str(getattr(row, "product", "")))
        if product is None:
            offsets.append(0.0)
            continue
        price = getattr(row, "price", float("nan"))
        ratio = price / product.list_price if price == price and price else 1.0
        offsets.append(
            float(segment["price_sensitivity"]) * (ratio - 1)
            + float(segment["lead_time_sensitivity"]) * (product.standard_lead_days - desired) / desired
        )
    return np.asarray(offsets if offsets else [0.0])


def _task_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    for task, (starts, ends, key, pool) in TASKS.items():
        paired = pair_durations(log, starts, ends, key, pool)
        hours = paired["days"].to_numpy() * HOURS_PER_DAY
        fit = fit_distribution(hours)
        record.statistics[f"task_hours.{task}"] = fit.to_json()
        record.samples[f"task_hours.{task}"] = hours.tolist()
        if fit.n >= MIN_SAMPLES:
            data["task_hours"][task] = fit.chosen
            record.fitted[f"task_hours.{task}"] = fit.chosen
    if log.events["resource"].isna().all():
        record.notes.append(
            "the log has no resources: selection task times (junior or senior pool?) and "
            "staff counts come from the base"
        )
    for wait, (starts, ends, key) in WAITS.items():
        hours = pair_durations(log, starts, ends, key)["days"].to_numpy() * HOURS_PER_DAY
        record.samples[f"wait_hours.{wait}"] = hours.tolist()
        record.statistics[f"wait_hours.{wait}"] = {
            "n": int(len(hours)),
            "mean": float(np.mean(hours)) if len(hours) else None,
            "p50": float(np.percentile(hours, 50)) if len(hours) else None,
            "p90": float(np.percentile(hours, 90)) if len(hours) else None,
        }


def _resource_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    operations = log.activity("operation_started", "operation_completed").dropna(subset=["resource_name"])
    names = operations["resource_name"].astype(str)
    machine = names.str.extract(r"^(?P<centre>[^:]+):(?P<index>.+)$").dropna()
    centres = {w["id"]: w for w in data["work_centres"]}
    for centre, rows in machine.groupby("centre"):
        count = int(rows["index"].nunique())
        record.statistics[f"work_centres.{centre}.machines"] = {"distinct_machines": count}
        if centre in centres:
            centres[centre]["machines"] = count
            record.fitted[f"work_centres.{centre}.machines"] = count
        else:
            record.notes.append(f"work centre {centre!r} of the log is not in the base (machines {count})")
    _shift_fits(log, centres, record)
    people = log.events.dropna(subset=["resource_name", "resource"])
    people = people[people["resource_name"] != people["resource"]]
    for pool, rows in people.groupby("resource"):
        if pool in data["staff"] and pool != "technicians":
            count = int(rows["resource_name"].nunique())
            data["staff"][pool] = count
            record.fitted[f"staff.{pool}"] = count
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
                record.fitted[f"products.{product['id']}.defect_rate"] = product["defect_rate"]
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


def _shift_fits(log: CaseLog, centres: dict[str, dict[str, Any]], record: Calibration) -> None:
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
        record.fitted[f"work_centres.{centre}.initial_shifts"] = first
        record.fitted[f"work_centres.{centre}.max_shifts"] = spec["max_shifts"]


def calibrate(log: CaseLog, base: Scenario, name: str | None = None) -> tuple[Scenario, Calibration]:
    """The scenario fitted to ``log`` on top of ``base``, and the record of the calibration."""
    data = base.model_dump(mode="json")
    record = Calibration(
        log.source,
        log.origin.isoformat(),
        log.span_days,
        int(log.events["case_id"].nunique()),
        int(len(log.events)),
        notes=list(log.notes),
        unmapped=dict(log.unmapped),
        ignored=dict(log.ignored),
    )
    if log.unmapped:
        record.notes.append(
            "activities not mapped to the cycle (not used): "
            + ", ".join(f"{k} ({v})" for k, v in log.unmapped.items())
        )
    _segment_fits(log, base, data, record)
    _task_fits(log, data, record)
    _resource_fits(log, data, record)
    horizon = float(max(1, math.ceil(log.span_days)))
    data["horizon_days"] = horizon
    data["warmup_days"] = data["warmup_days"] if data["warmup_days"] < horizon else 0.0
    data["name"] = name or f"{base.name}-twin"
    data["description"] = (
        f"Calibrated by ordercycle calibrate from {log.source} (origin {log.origin.date()}, "
        f"{log.span_days:.1f} days, {record.cases} cases) on base {base.name!r}"
    )
    data["sets"] = {}
    record.from_base = sorted(
        [f"task_hours.{t}" for t in data["task_hours"] if f"task_hours.{t}" not in record.fitted]
        + [
            section
            for section in (
                "products (routings, prices, stocking, service)",
                "work_centres (changeovers, breakdowns; shifts only without enough operation starts)",
                "logistics_providers",
                "quality",
                "planning",
                "costs",
                "information",
                "policies",
                "objective",
            )
        ]
        + [f"staff.{pool}" for pool in data["staff"] if f"staff.{pool}" not in record.fitted]
    )
    return parse(data), record
