"""The record of a calibration, and the pairing of a log's events that every fit uses.

:class:`Calibration` keeps what was fitted (with its statistics and samples), what was
taken from the base scenario and why, the notes, and the **ledger**: per activity of the
log, how many of its events were used for what (:meth:`Calibration.use`). The report
(:func:`ordercycle.sim.twin.report.calibration_html`) shows it per activity, with the
events not used and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

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
    """What calibration fitted (and how), what came from the base (and why), and the ledger of events."""

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
    why: dict[str, str] = field(default_factory=dict)
    """Field path -> how it was fitted (fitted fields) or why the base's value was kept."""
    parameters: list[dict[str, Any]] = field(default_factory=list)
    """Every parameter: ``path``, ``source`` (``fitted`` or ``base``), ``value``, ``why``."""
    window: tuple[float, float] = (0.0, 0.0)
    """Days of the log (from its origin) over which the arrivals were fitted."""
    usage: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    """Activity name of the log -> purpose -> ids of its events used for it."""
    ledger: list[dict[str, Any]] = field(default_factory=list)
    """Per activity of the log: events, cycle activity, uses, events not used and why (:meth:`close`)."""
    source_format: str = "flat"

    def fit(self, path: str, value: Any, why: str) -> None:
        """Record a fitted field with how it was fitted."""
        self.fitted[path] = value
        self.why[path] = why

    def keep(self, path: str, why: str) -> None:
        """Record why the base's value of a field is kept (the log does not show it well enough)."""
        self.why.setdefault(path, why)

    def use(self, rows: pd.DataFrame, purpose: str) -> None:
        """Count the events of ``rows`` (a slice of the case log's events) as used for ``purpose``."""
        if rows is None or not len(rows) or "event_id" not in rows:
            return
        for source, ids in rows.groupby("source_activity", sort=False)["event_id"]:
            self.usage.setdefault(str(source), {}).setdefault(purpose, set()).update(ids.dropna().astype(str))

    def close(self, log: CaseLog) -> None:
        """Build the ledger: every activity of the log, what its events were used for, and why not."""
        names = sorted(set(log.totals) | set(log.unused) | set(self.usage))
        distinct = log.events.drop_duplicates("event_id")
        kept = distinct.groupby("source_activity")["event_id"].agg(lambda ids: set(ids.astype(str)))
        self.ledger = []
        for name in names:
            uses = self.usage.get(name, {})
            used = set().union(*uses.values()) if uses else set()
            reasons = dict(log.unused.get(name, {}))
            idle = len(kept.get(name, set()) - used)
            if idle:
                activity = log.mapped.get(name, name)
                reasons[f"mapped to {activity}: no fit uses these (validation compares them: lead times, "
                        "waits, counts)"] = idle
            self.ledger.append({
                "activity": name,
                "events": int(log.totals.get(name, len(kept.get(name, ())))),
                "cycle_activity": log.mapped.get(name),
                "used": len(used),
                "uses": {purpose: len(ids) for purpose, ids in sorted(uses.items())},
                "not_used": reasons,
            })

    def to_json(self) -> dict[str, Any]:
        """Everything but the raw samples and event ids, as plain JSON."""
        return {
            "log": self.log_source,
            "format": self.source_format,
            "origin": self.origin,
            "span_days": self.span_days,
            "arrival_window_days": list(self.window),
            "cases": self.cases,
            "events": self.events,
            "fitted": self.fitted,
            "parameters": self.parameters,
            "statistics": self.statistics,
            "from_base": self.from_base,
            "notes": self.notes,
            "unmapped_activities": self.unmapped,
            "ignored_activities": self.ignored,
            "activities": self.ledger,
        }


def pair_durations(
    log: CaseLog, starts: tuple[str, ...], ends: tuple[str, ...], key: str | None, pool: str | None = None
) -> pd.DataFrame:
    """Each start event with the first end event at or after it on the same case (and object): days.

    Columns ``case_id``, ``time`` (the start), ``end``, ``days`` and the events' ids
    ``event_id`` (start) and ``end_event_id``.
    """
    columns = ["case_id"] + ([key] if key and log.events[key].notna().any() else [])
    first = log.activity(*starts)
    if pool is not None:
        first = first[first["resource"] == pool]
    first = first.dropna(subset=columns)[columns + ["time", "resource", "event_id"]]
    first = first.sort_values("time", kind="stable")
    second = log.activity(*ends).dropna(subset=columns)[columns + ["time", "event_id"]]
    second = second.sort_values("time", kind="stable")
    second = second.rename(columns={"time": "end", "event_id": "end_event_id"})
    second = second.assign(time=lambda f: f["end"])
    if first.empty or second.empty:
        return pd.DataFrame({"case_id": [], "time": [], "days": [], "event_id": [], "end_event_id": []})
    paired = pd.merge_asof(first, second, on="time", by=columns, direction="forward")
    paired = paired.dropna(subset=["end"])
    return paired.assign(days=paired["end"] - paired["time"])


def use_pairs(record: Calibration, log: CaseLog, paired: pd.DataFrame, purpose: str) -> None:
    """Count both events of each pair as used for ``purpose``."""
    if not len(paired):
        return
    ids = set(paired["event_id"].astype(str)) | set(paired["end_event_id"].astype(str))
    record.use(log.events[log.events["event_id"].astype(str).isin(ids)], purpose)


def settled(starts: pd.Series, days: pd.Series, end: float, level: float = 0.99) -> pd.Series:
    """Mask of the durations whose start is early enough for the log to show their end.

    A duration that starts near the log's end and is long is missing from the log (its end
    comes later): the shortest are over-represented. Keeping only the starts at least the
    ``level`` quantile of the observed durations before ``end`` removes most of that bias.
    """
    if not len(days):
        return pd.Series(dtype=bool)
    return starts <= end - float(days.quantile(level))
