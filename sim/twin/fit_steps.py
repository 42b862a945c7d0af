"""Step timings a log of orders shows without the model's inner events: intake, picking, loading, invoicing.

The office tasks whose start and end the log holds are fitted by
:func:`~ordercycle.sim.twin.fit_flow.task_fits`. An order-management system logs fewer
events than the model has; for each step it shows only as a pair of milestones, this
module fits what the model uses for that step, and says why:

- **intake** (*place order* → *confirm order*, and nothing in between): the model's
  intake is a sales contact, an estimation, the customer's answer to the quote, the
  entry and the selection. A log with none of their events shows them as one span, so
  the twin puts it in its only step of the intake that holds no staff — the customer's
  answer, ``segments.*.response_days`` — and gives the tasks the log does not show no
  time (``task_hours.*`` fixed at 0: their time is inside the span; their staff then never
  queue). The span is counted from the moment the intake's calendar (the confirming
  pool's, fitted) is open: the twin waits for that opening itself.
- **picking** (``picking_started`` → ``picking_completed``, a package packed): a task with
  start and end, ``task_hours.picking``, in the warehouse's working time;
- **loading** (``picking_completed`` → ``shipment_dispatched``): the carrier's
  ``handling_hours``, in its pickup hours. The log shows no start of loading: the span
  also holds the wait for a loading bay (``pickups_at_once``), which the model produces by
  queueing — fitted as handling, it is counted twice when the bays are busy (validated:
  ``picking_to_dispatch``);
- **billing** (``shipment_dispatched`` → ``invoice_issued``): the segment's
  ``invoice_rhythm`` (per shipment when most invoices follow a dispatch of their order
  within :data:`PER_SHIPMENT_DAYS`, else monthly) and, per shipment and without
  ``invoice_started`` in the log, ``task_hours.invoicing`` (the wait for a clerk inside,
  consultation included: ``billing_consultation`` 0).

The waits the model produces by queueing (for a sales rep, an estimator, a clerk, a
picker after release, a loading bay, the stock of a back-ordered line) are not
durations: they are reported (``record.statistics['step_timings']``), never fitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ordercycle.sim.twin.calibration import HOURS_PER_DAY, Calibration, pair_durations, settled, use_pairs
from ordercycle.sim.twin.fit_calendars import same_calendar
from ordercycle.sim.twin.fit_flow import pool_calendars
from ordercycle.sim.twin.fitting import MIN_SAMPLES, fit_distribution
from ordercycle.sim.twin.logs import CaseLog

INTAKE_INNER = ("sales_contact_started", "sales_contact_completed", "estimation_started", "quote_sent",
                "quote_accepted", "quote_lost", "entry_started", "order_entered", "selection_started")
"""The model's events between an inquiry and its confirmation."""
INTAKE_TASKS = ("sales_contact", "cost_estimation", "order_entry", "selection_junior", "selection_senior")
"""The intake's staffed tasks (a log of orders shows none of them)."""
INTAKE_POOLS = ("sales_reps", "estimators", "entry_clerks")
"""Pools that work only on the intake's tasks (collapsed: they keep the confirming pool's hours)."""
PER_SHIPMENT_DAYS = 2.0
"""An invoice issued within this many days after a dispatch of its order bills that shipment."""
PER_SHIPMENT_SHARE = 0.8
"""Share of invoices following a dispatch of their order at once from which a segment bills per shipment."""

QUEUES = {
    "sales": "inquiry → sales contact: a sales rep free, in working time",
    "estimating": "sales contact → estimation: an estimator free",
    "order_entry": "quote accepted → entry: an entry clerk free",
    "selection": "entry → selection: the deciding pool free",
    "release_to_picking": "confirmation (or prepayment) → picking: stock or production, then a picker free",
    "loading": "picking → dispatch: a loading bay of the carrier free, in its pickup hours",
    "invoicing": "dispatch → invoice: a billing clerk free (per shipment) or the month's run",
}
"""The waits the model produces by queueing (reported with the log's values, never fitted)."""


def _hours_open(paired: pd.DataFrame, calendar: Any) -> np.ndarray:
    """Each pair's hours, counted in ``calendar``'s open time (elapsed without one), to the millisecond
    (OCEL files store microseconds: a constant task must not read as a spread of rounding noise)."""
    if calendar is None:
        hours = paired["days"].to_numpy() * HOURS_PER_DAY
    else:
        spans = zip(paired["time"], paired["end"], strict=True)
        hours = np.array([calendar.open_days(a, b) for a, b in spans]) * HOURS_PER_DAY
    return np.round(hours, 6)


def _step(record: Calibration, step: str, span: str, model: str, source: str, n: int, why: str) -> None:
    record.statistics.setdefault("step_timings", []).append(
        {"step": step, "log_span": span, "model": model, "source": source, "n": int(n), "why": why})


def intake_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """A log whose orders go from placed to confirmed with nothing in between: one delay, the answer's."""
    present = set(log.events["activity"])
    if "inquiry_received" not in present or not {"order_accepted", "order_rejected"} & present:
        _step(record, "intake", "inquiry_received → order_accepted", "sales contact, estimation, answer, "
              "entry, selection", "base", 0, "the log shows no inquiry and confirmation of the same orders")
        return
    if present & set(INTAKE_INNER):
        _step(record, "intake", "inquiry_received → order_accepted", "sales contact, estimation, answer, "
              "entry, selection", "fitted", 0, "the log shows the intake's inner events: each task its "
              "own (task_hours.*), the answer from the quotes (response_days)")
        return
    paired = pair_durations(log, ("inquiry_received",), ("order_accepted", "order_rejected"), None)
    paired = paired[settled(paired["time"], paired["days"], log.span_days)]
    if len(paired) < MIN_SAMPLES:
        _step(record, "intake", "inquiry_received → order_accepted", "answer", "base", len(paired),
              f"only {len(paired)} confirmed orders")
        return
    same_calendar(data, INTAKE_POOLS, "junior_staff", record,
                  "the intake's tasks take no time in the twin; their pools keep the hours the log's "
                  "confirmations show (the confirming pool's)")
    calendar = pool_calendars(data).get("junior_staff")
    opened = paired["time"] if calendar is None else paired["time"].map(calendar.next_open)
    days = np.round(np.maximum((paired["end"] - opened).to_numpy(), 0.0), 9)
    use_pairs(record, log, paired, "intake (response_days)")
    why_tasks = ("the log shows no such step (no event between place and confirm): its time is inside "
                 "place → confirm, fitted as the intake's delay (response_days)")
    for task in INTAKE_TASKS:
        data["task_hours"][task] = 0.0
        record.fit(f"task_hours.{task}", 0.0, why_tasks)
    segment = log.cases["segment"] if "segment" in log.cases else None
    ids = [s["id"] for s in data["segments"]]
    groups = {"(all)": days}
    if segment is not None and paired["case_id"].map(segment).notna().any():
        of_case = paired["case_id"].map(segment).to_numpy()
        groups = {str(name): days[of_case == name] for name in pd.unique(of_case[pd.notna(of_case)])}
        groups["(all)"] = days
    pooled = fit_distribution(groups["(all)"])
    for name in ids:
        fit = fit_distribution(groups[name]) if len(groups.get(name, ())) >= MIN_SAMPLES else pooled
        target = next(s for s in data["segments"] if s["id"] == name)
        target["response_days"] = fit.chosen
        record.statistics[f"segments.{name}.intake_days"] = fit.to_json()
        record.fit(f"segments.{name}.response_days", fit.chosen,
                   f"{fit.n} orders placed → confirmed{' (all segments)' if fit is pooled else ''}, from the "
                   "intake calendar's opening (AIC); a log of orders shows no quote step: the whole intake "
                   "is this delay, which holds no staff")
    record.samples["intake_days"] = days.tolist()
    _step(record, "intake", "inquiry_received → order_accepted", "segments.*.response_days (a delay) + "
          "the intake's tasks at 0 h", "fitted", len(paired),
          "no event between place and confirm: the span is one delay; the waits for staff and their "
          "tasks are inside it")


def most_at_once(starts: pd.Series, ends: pd.Series) -> int:
    """The most intervals ``[start, end)`` in progress at one moment."""
    moments = np.concatenate([starts.to_numpy(dtype=float), ends.to_numpy(dtype=float)])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((steps, moments))  # at a tie, an end before a start
    return int(np.cumsum(steps[order]).max()) if len(order) else 0


def _at_least(target: dict[str, Any], field: str, seen: int, path: str, record: Calibration,
              what: str) -> None:
    """Raise a capacity to what the log shows in use at once (never lower it: the log shows no idle ones)."""
    record.statistics[f"{path}.most_at_once"] = seen
    if seen > target[field]:
        target[field] = seen
        record.fit(path, seen, f"the log shows {seen} {what} at once (the base had fewer)")
    else:
        record.keep(path, f"the base's {target[field]}: the log shows at most {seen} {what} at once")


def carrier_of(log: CaseLog, data: dict[str, Any], dispatch_ids: pd.Series, cases: pd.Series) -> pd.Series:
    """The carrier of each dispatch: its resource when it is one of the base's providers, else the
    provider of its order's segment (NaN when neither is known)."""
    providers = [p["id"] for p in data["logistics_providers"]]
    resource = log.events.drop_duplicates("event_id").set_index("event_id")["resource"]
    named = dispatch_ids.map(resource)
    named = named.where(named.isin(providers))
    if "segment" in log.cases:
        of_segment = {s["id"]: s["logistics_provider"] for s in data["segments"]}
        named = named.fillna(cases.map(log.cases["segment"]).map(of_segment))
    return named


def carrier_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """Each segment's logistics provider: the carrier named on most of its orders' dispatches."""
    dispatched = log.activity("shipment_dispatched").drop_duplicates("event_id")
    if "segment" not in log.cases or dispatched.empty:
        return
    providers = {p["id"] for p in data["logistics_providers"]}
    named = dispatched[dispatched["resource"].isin(list(providers))]
    for segment in data["segments"]:
        rows = named[named["case_id"].map(log.cases["segment"]) == segment["id"]]
        if len(rows) < MIN_SAMPLES:
            continue
        counts = rows["resource"].astype(str).value_counts()
        carrier, share = str(counts.index[0]), float(counts.iloc[0] / len(rows))
        if share >= 0.5 and carrier != segment["logistics_provider"]:
            segment["logistics_provider"] = carrier
        if share >= 0.5:
            record.fit(f"segments.{segment['id']}.logistics_provider", carrier,
                       f"{share:.0%} of the segment's {len(rows)} dispatches name {carrier}")


def picking_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """Picking hours (picking_started → picking_completed) and loading hours (→ shipment_dispatched)."""
    calendars = pool_calendars(data)
    packed = pair_durations(log, ("picking_started",), ("picking_completed",), "shipment_id")
    if len(packed) < MIN_SAMPLES:
        record.keep("task_hours.picking", "the log shows no end of picking (picking_completed, a package "
                    "packed): picking_started → shipment_dispatched also holds the wait for a loading "
                    "bay and the loading; validated as a lead time")
        _step(record, "picking", "picking_started → shipment_dispatched", "task_hours.picking + loading "
              "wait + handling_hours", "base", len(packed), "no end of picking in the log")
        return
    calendar = calendars.get("warehouse_staff")
    fit = fit_distribution(_hours_open(packed, calendar))
    data["task_hours"]["picking"] = fit.chosen
    record.statistics["task_hours.picking"] = fit.to_json()
    record.fit("task_hours.picking", fit.chosen, f"{fit.n} packages picking_started → picking_completed (AIC)"
               + (f", hours open on calendar {calendar.name!r}" if calendar is not None else ""))
    use_pairs(record, log, packed, "task_hours.picking")
    _at_least(data["staff"], "warehouse_staff", most_at_once(packed["time"], packed["end"]),
              "staff.warehouse_staff", record, "packages being picked")
    _step(record, "picking", "picking_started → picking_completed", "task_hours.picking", "fitted", fit.n,
          "a task with start and end in the log (its wait for a picker is before picking_started)")
    loaded = pair_durations(log, ("picking_completed",), ("shipment_dispatched",), "shipment_id")
    providers = {p["id"]: p for p in data["logistics_providers"]}
    named = carrier_of(log, data, loaded["end_event_id"], loaded["case_id"]) if len(loaded) else None
    for provider in providers:
        rows = loaded[named == provider] if named is not None else loaded.iloc[:0]
        if len(rows) < MIN_SAMPLES:
            record.keep(f"logistics_providers.{provider}.handling_hours",
                        f"only {len(rows)} packages of {provider} packed then dispatched in the log")
            continue
        fit = fit_distribution(_hours_open(rows, calendars.get(provider)))
        providers[provider]["handling_hours"] = fit.chosen
        record.statistics[f"logistics_providers.{provider}.handling_hours"] = fit.to_json()
        record.fit(f"logistics_providers.{provider}.handling_hours", fit.chosen,
                   f"{fit.n} packages picking_completed → shipment_dispatched, in the carrier's pickup hours "
                   "(AIC); the wait for a loading bay is inside (the log shows no start of loading)")
        use_pairs(record, log, rows, "handling_hours")
        _at_least(providers[provider], "pickups_at_once", most_at_once(rows["time"], rows["end"]),
                  f"logistics_providers.{provider}.pickups_at_once", record, "packages loading")
        _step(record, f"loading.{provider}", "picking_completed → shipment_dispatched", "handling_hours "
              "(+ the wait for a bay, a queue)", "fitted", fit.n, "no start of loading in the log: the "
              "bay's queue is inside (small while the bays are not busy)")


def billing_fits(log: CaseLog, data: dict[str, Any], record: Calibration) -> None:
    """Invoice rhythm per segment, and invoicing hours from dispatch → invoice when per shipment."""
    invoices = log.activity("invoice_issued").dropna(subset=["invoice_id"]).drop_duplicates("invoice_id")
    dispatched = log.activity("shipment_dispatched")
    if len(invoices) < MIN_SAMPLES or dispatched.empty:
        _step(record, "billing", "shipment_dispatched → invoice_issued",
              "invoice_rhythm, task_hours.invoicing",
              "base", len(invoices), "the log shows too few invoices or no dispatch")
        return
    last = pd.merge_asof(invoices[["case_id", "time"]].sort_values("time"),
                         dispatched[["case_id", "time"]].rename(columns={"time": "dispatched"})
                         .assign(time=lambda f: f["dispatched"]).sort_values("time"),
                         on="time", by="case_id", direction="backward")
    gap = last["time"] - last["dispatched"]
    segment = log.cases["segment"] if "segment" in log.cases else None
    of_invoice = last["case_id"].map(segment) if segment is not None else pd.Series("(all)", index=last.index)
    per_shipment = {}
    for name, gaps in gap.groupby(of_invoice.fillna("(all)")):
        if len(gaps) < MIN_SAMPLES:
            continue
        share = float((gaps <= PER_SHIPMENT_DAYS).mean())
        per_shipment[str(name)] = share >= PER_SHIPMENT_SHARE
        rhythm = "per_shipment" if per_shipment[str(name)] else "monthly"
        targets = [s for s in data["segments"] if name == "(all)" or s["id"] == name]
        for target in targets:
            target["invoice_rhythm"] = rhythm
            record.fit(f"segments.{target['id']}.invoice_rhythm", rhythm,
                       f"{share:.0%} of {len(gaps)} invoices issued within {PER_SHIPMENT_DAYS:g} days of a "
                       f"dispatch of their order (per shipment from {PER_SHIPMENT_SHARE:.0%})")
    _step(record, "billing.rhythm", "shipment_dispatched → invoice_issued", "segments.*.invoice_rhythm",
          "fitted" if per_shipment else "base", len(invoices), "per shipment or the month's run")
    if "invoice_started" in set(log.events["activity"]) or not any(per_shipment.values()):
        return  # with starts, task_fits fits the invoicing itself; monthly runs say nothing of the task
    billed = {s["id"] for s in data["segments"] if s.get("invoice_rhythm") == "per_shipment"}
    paired = pair_durations(log, ("shipment_dispatched",), ("invoice_issued",), None)
    if segment is not None:
        paired = paired[paired["case_id"].map(segment).isin(billed)]
    paired = paired[paired["days"] <= PER_SHIPMENT_DAYS]
    if len(paired) < MIN_SAMPLES:
        return
    calendar = pool_calendars(data).get("billing_clerks")
    fit = fit_distribution(_hours_open(paired, calendar))
    data["task_hours"]["invoicing"] = fit.chosen
    data["task_hours"]["billing_consultation"] = 0.0
    record.statistics["task_hours.invoicing"] = fit.to_json()
    why = (f"{fit.n} shipments dispatched → invoiced per shipment, in the clerks' working time (AIC); "
           "the log shows no start of invoicing, so the wait for a clerk is inside")
    record.fit("task_hours.invoicing", fit.chosen, why)
    record.fit("task_hours.billing_consultation", 0.0, "inside task_hours.invoicing (fitted from dispatch → "
               "invoice)")
    use_pairs(record, log, paired, "task_hours.invoicing")
    _step(record, "billing.invoicing", "shipment_dispatched → invoice_issued", "task_hours.invoicing",
          "fitted", fit.n, "no start of invoicing in the log: the wait for a clerk is inside")


def queue_waits(log: CaseLog, record: Calibration) -> None:
    """The waits the model produces by queueing, with what the log shows of them (reported, not fitted)."""
    spans = {
        "release_to_picking": (("order_accepted", "prepayment_received"), ("picking_started",)),
        "loading": (("picking_completed",), ("shipment_dispatched",)),
    }
    report = {}
    for wait, why in QUEUES.items():
        entry: dict[str, Any] = {"model": why}
        if wait in spans:
            paired = pair_durations(log, *spans[wait], None)
            if len(paired):
                entry.update(n=int(len(paired)), mean_days=float(paired["days"].mean()),
                             p90_days=float(paired["days"].quantile(0.9)))
        report[wait] = entry
    record.statistics["queue_waits"] = report
