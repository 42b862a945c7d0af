"""What validation measures, computed alike from the log and from every replication of the twin.

A log rarely shows the whole cycle: an order-management system has no sales contacts,
another has no invoices. :func:`plan_for` looks at the log once and decides what can be
measured and how (:class:`MeasurePlan`): the cycle activities it holds (a replication's
log is cut down to the same ones, so a step's lead time spans the same events on both
sides), the window of days judged (the days orders arrive), when an order becomes work
in process and when it is done (``order_delivered``, else its last package delivered),
and why a measure is not judged (:attr:`MeasurePlan.refused`). :func:`log_metrics` then
computes the same measures from any case log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.sim.eventlog import ACTIVITY_STEP, STEPS
from ordercycle.sim.twin.calibration import TASKS, WAITS, Calibration, pair_durations
from ordercycle.sim.twin.fit_orders import arrival_window
from ordercycle.sim.twin.logs import CaseLog

START_OF_WORK = ("order_entered", "order_accepted")
"""An order is work in process from the first of these the log holds (entry, else confirmation)."""
CLOSING = ("order_rejected", "order_cancelled", "sale_lost")
"""Activities that end an order without a delivery."""


@dataclass(frozen=True)
class MeasurePlan:
    """What validation can measure on this log, and how."""

    activities: frozenset[str]
    days: float
    """The window judged: days 0 … ``days`` (the twin is simulated over it; later log events are cut)."""
    arrival: str | None
    start_of_work: str | None
    delivered_by: str | None
    """``order_delivered``, or ``shipment_delivered`` (the last package), or None."""
    lines: bool
    packages: bool
    segments: tuple[str, ...]
    products: tuple[str, ...]
    refused: tuple[tuple[str, str], ...] = field(default=())
    """(measure, why it is not judged)."""
    aliases: tuple[tuple[str, str], ...] = field(default=())
    """(cycle activity, the one the log records it as): a log with one payment activity records a
    prepayment as a payment, so the replications' prepayments are counted as payments too."""
    notes: tuple[str, ...] = field(default=())


def plan_for(log: CaseLog) -> MeasurePlan:
    """The measures this log supports, and the reasons for those it does not."""
    present = frozenset(str(a) for a in log.events["activity"].unique())
    scratch = Calibration(log.source, log.origin.isoformat(), log.span_days, 0, 0)
    arrivals = log.activity("inquiry_received").groupby("case_id")["time"].min()
    if arrivals.empty:
        arrivals = log.events.groupby("case_id")["time"].min()
    _, end = arrival_window(arrivals, log.span_days, scratch)
    refused = []
    start = next((a for a in START_OF_WORK if a in present), None)
    delivered_by = ("order_delivered" if "order_delivered" in present
                    else "shipment_delivered" if "shipment_delivered" in present else None)
    if start is None:
        refused.append(("mean_wip_orders", "the log shows neither order_entered nor order_accepted: when an "
                        "order becomes work in process is unknown (a WIP from it would be meaningless)"))
        refused.append(("order_lead_time", "no order_entered or order_accepted to start it from"))
    if delivered_by is None:
        refused.append(("deliveries_per_week",
                        "the log shows no delivery (order_delivered or shipment_delivered)"))
        if start is not None:
            refused.append(("mean_wip_orders", "the log shows no delivery: no order ever leaves the WIP"))
    if "promised_date" not in log.cases or log.cases["promised_date"].isna().all():
        refused.append(("on_time_rate", "the orders have no promised date"))
    if "inquiry_received" not in present:
        scratch.notes.append("no inquiry_received: an order arrives with its first event")
    lines = log.lines is not None and log.lines["quantity"].notna().any()
    if not lines:
        refused.append(("lines_per_order", "the log has no order lines (items)"))
    packages = "shipment_dispatched" in present
    if not packages:
        refused.append(("shipments_per_order", "the log shows no shipment_dispatched of a package"))
    segments: tuple[str, ...] = ()
    if "segment" in log.cases:
        segments = tuple(sorted(log.cases["segment"].dropna().astype(str).unique()))
    products = ()
    if log.lines is not None and log.lines["product"].notna().any():
        products = tuple(sorted(log.lines["product"].dropna().astype(str).unique()))
    aliases = ()
    if "payment_received" in present and "prepayment_received" not in present:
        aliases = (("prepayment_received", "payment_received"),)
    return MeasurePlan(present, end, "inquiry_received" if "inquiry_received" in present else None, start,
                       delivered_by, bool(lines), packages, segments, products, tuple(refused),
                       aliases, tuple(scratch.notes))


def restrict(log: CaseLog, plan: MeasurePlan) -> CaseLog:
    """The log as the plan sees it: its activities only, its window, the cases that arrived in it."""
    events = log.events
    if plan.aliases:
        events = events.assign(activity=events["activity"].replace(dict(plan.aliases)))
    events = events[events["activity"].isin(plan.activities) & (events["time"] <= plan.days + 1e-9)]
    first = events.groupby("case_id")["time"].min()
    if plan.arrival is not None:
        arrived = events[events["activity"] == plan.arrival]["case_id"].unique()
        events = events[events["case_id"].isin(arrived)]  # orders already open when the log began: not judged
    else:
        events = events[events["case_id"].isin(first.index)]
    keep = events["case_id"].unique()
    lines = log.lines[log.lines["case_id"].isin(keep)] if plan.lines and log.lines is not None else None
    contents = (log.contents[log.contents["case_id"].isin(keep)]
                if plan.packages and log.contents is not None else None)
    return CaseLog(events, log.cases.reindex(keep), log.origin, plan.days, log.source, lines=lines,
                   contents=contents)


def _done(log: CaseLog, plan: MeasurePlan) -> pd.Series:
    """When each order was delivered: ``order_delivered``, else the last delivery of a package that
    completes it (every item it has in a delivered package, when the log says what packages carry)."""
    if plan.delivered_by == "order_delivered":
        return log.activity("order_delivered").groupby("case_id")["time"].min()
    if plan.delivered_by is None:
        return pd.Series(dtype=float)
    arrived = log.activity("shipment_delivered").dropna(subset=["shipment_id"])
    last = arrived.groupby("case_id")["time"].max()
    if log.contents is not None and log.lines is not None:
        carried = log.contents[log.contents["shipment_id"].isin(arrived["shipment_id"])]
        complete = log.lines.groupby("case_id")["line_id"].apply(set)
        got = carried.groupby("case_id")["line_id"].apply(set)
        whole = [case for case in last.index if case in got and complete.get(case, set()) <= got[case]]
        last = last.reindex(whole)
    return last


def _weekly(times: pd.Series, weeks: int) -> list[int]:
    inside = times[times < weeks * 7]
    return np.bincount((inside // 7).astype(int), minlength=weeks).tolist()


def _first(log: CaseLog, *activities: str) -> pd.Series:
    return log.activity(*activities).groupby("case_id")["time"].min()


def log_metrics(log: CaseLog, plan: MeasurePlan) -> dict[str, Any]:
    """Scalars, weekly / daily series and duration samples (days) of a log, as the plan defines them."""
    log = restrict(log, plan)
    days = plan.days
    weeks = max(1, int(days // 7))
    arrivals = (log.events.groupby("case_id")["time"].min() if plan.arrival is None
                else _first(log, plan.arrival))
    done = _done(log, plan)
    scalars: dict[str, float | None] = {"arrivals_per_week": len(arrivals) / days * 7}
    segment = log.cases["segment"] if "segment" in log.cases else None
    for name in plan.segments:
        members = arrivals.index[arrivals.index.map(segment) == name] if segment is not None else []
        scalars[f"arrivals_per_week.{name}"] = len(members) / days * 7
    if plan.delivered_by is not None:
        scalars["deliveries_per_week"] = len(done) / days * 7
    series = {"weekly_inquiries": _weekly(arrivals, weeks), "weekly_delivered": _weekly(done, weeks)}
    lead: dict[str, list[float]] = {}
    steps = log.events.assign(step=log.events["activity"].map(ACTIVITY_STEP))
    spans = steps.groupby(["step", "case_id"])["time"].agg(["min", "max"])
    for step in STEPS:
        if step in spans.index.get_level_values(0):
            durations = spans.loc[step]
            if (durations["max"] > durations["min"]).any():
                lead[f"step.{step}"] = (durations["max"] - durations["min"]).tolist()
    if plan.start_of_work is not None:
        started = _first(log, plan.start_of_work)
        both = pd.concat([started.rename("a"), done.rename("b")], axis=1, join="inner")
        lead["order_lead_time"] = (both["b"] - both["a"]).tolist()
        if plan.delivered_by is not None:
            closed = pd.concat([done, _first(log, *CLOSING)]).groupby(level=0).min()
            closed = closed[closed.index.isin(started.index)]
            grid = np.arange(1, int(days) + 1, dtype=float)
            wip = (np.searchsorted(np.sort(started.to_numpy()), grid, side="right")
                   - np.searchsorted(np.sort(closed.to_numpy()), grid, side="right"))
            series["wip_daily"] = wip.astype(float).tolist()
            scalars["mean_wip_orders"] = float(np.mean(wip)) if len(wip) else None
    for wait, (starts, ends, key) in WAITS.items():
        lead[f"wait.{wait}"] = pair_durations(log, starts, ends, key)["days"].tolist()
    for task, (starts, ends, key, pool) in TASKS.items():
        lead[f"task.{task}"] = pair_durations(log, starts, ends, key, pool)["days"].tolist()
    accepted = _first(log, "order_accepted")
    if len(accepted):
        both = pd.concat([arrivals.rename("a"), accepted.rename("b")], axis=1, join="inner")
        lead["place_to_confirm"] = (both["b"] - both["a"]).tolist()
    paid = _first(log, "payment_received", "prepayment_received")
    if len(paid):
        both = pd.concat([arrivals.rename("a"), paid.rename("b")], axis=1, join="inner")
        lead["place_to_pay"] = (both["b"] - both["a"]).tolist()
    lead["transit"] = pair_durations(log, ("shipment_dispatched",), ("shipment_delivered",),
                                     "shipment_id")["days"].tolist()
    lead["picking_to_dispatch"] = pair_durations(log, ("picking_started",), ("shipment_dispatched",),
                                                 "shipment_id")["days"].tolist()
    lead["response_days"] = pair_durations(log, ("quote_sent",), ("quote_accepted", "quote_lost"),
                                           None)["days"].tolist()
    _money(log, scalars, lead)
    _shape(log, plan, scalars)
    # to the microsecond (as OCEL files store times): equal durations must not differ by rounding noise
    lead = {name: np.round(np.asarray(values, dtype=float), 9).tolist() for name, values in lead.items()}
    if "promised_date" in log.cases and len(done):
        promised = log.cases["promised_date"].reindex(done.index)
        known = promised.notna()
        on_time = (done[known] <= promised[known] + 1e-9).mean() if known.any() else None
        scalars["on_time_rate"] = None if on_time is None else float(on_time)
    return {"scalars": scalars, "series": series, "lead_days": lead}


def _money(log: CaseLog, scalars: dict[str, Any], lead: dict[str, list[float]]) -> None:
    """Days from an invoice (its last correction) to its payment; from a prepayment's request to it."""
    bills = log.activity("invoice_issued", "invoice_corrected").dropna(subset=["invoice_id"])
    paid = log.activity("payment_received").dropna(subset=["invoice_id"]).groupby("invoice_id")["time"].min()
    billed = bills.assign(paid=bills["invoice_id"].map(paid)).dropna(subset=["paid"])
    billed = billed[billed["time"] <= billed["paid"] + 1e-9]
    last = billed.groupby("invoice_id")["time"].max()
    lead["payment_days"] = (paid.reindex(last.index) - last).tolist()
    paid = _first(log, "payment_received", "prepayment_received")
    shipped = _first(log, "shipment_dispatched").reindex(paid.index).fillna(np.inf)
    invoiced = _first(log, "invoice_issued").reindex(paid.index).fillna(np.inf)
    early = paid[(paid < shipped) & (paid < invoiced)]  # paid before it shipped or was invoiced
    accepted = _first(log, "order_accepted")
    if len(early) and len(accepted):
        asked = _first(log, "prepayment_invoiced").reindex(early.index).fillna(accepted.reindex(early.index))
        lead["prepayment_days"] = (early - asked).dropna().tolist()
        scalars["prepaid_share"] = float(accepted.index.isin(early.index).mean())


def _shape(log: CaseLog, plan: MeasurePlan, scalars: dict[str, Any]) -> None:
    """Lines per order, units per line, product shares, shipments per order, quote acceptance, rejections."""
    if plan.lines and log.lines is not None and len(log.lines):
        lines = log.lines
        scalars["lines_per_order"] = float(lines.groupby("case_id").size().mean())
        scalars["units_per_line"] = float(lines["quantity"].mean())
        shares = lines["product"].astype(str).value_counts(normalize=True)
        for product in plan.products:
            scalars[f"product_share.{product}"] = float(shares.get(product, 0.0))
    if plan.packages:
        dispatched = log.activity("shipment_dispatched").dropna(subset=["shipment_id"])
        per_order = dispatched.groupby("case_id")["shipment_id"].nunique()
        scalars["shipments_per_order"] = float(per_order.mean()) if len(per_order) else None
        scalars["several_shipments_share"] = float((per_order > 1).mean()) if len(per_order) else None
    answers = log.activity("quote_accepted", "quote_lost").drop_duplicates("case_id")
    if "quote_lost" in plan.activities and len(answers):
        scalars["quote_acceptance_rate"] = float((answers["activity"] == "quote_accepted").mean())
    decided = log.activity("order_accepted", "order_rejected").drop_duplicates("case_id")
    if "order_rejected" in plan.activities and len(decided):
        scalars["rejection_rate"] = float((decided["activity"] == "order_rejected").mean())
