"""Run one scenario once: build the model, simulate, and collect the output tables.

:func:`simulate` returns a :class:`RunResult` (tables and KPIs) without touching the
disk; :func:`write_outputs` writes the documented files of an output folder:
``events.parquet``, ``orders.parquet``, ``lines.parquet``, ``shipment_lines.parquet``,
``forecasts.parquet``, ``plans.parquet``, ``kpis.json`` and ``run.json`` (provenance:
scenario and its hash, seed, version).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from ordercycle.reports.bottlenecks import staffing_field
from ordercycle.reports.kpis import KpiInputs, compute_kpis
from ordercycle.scenarios.loader import content_hash
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.entities import CANCELLED, FINAL_STATES, Order
from ordercycle.sim.model import CompanyModel


def package_version() -> str:
    """Installed version of ordercycle."""
    try:
        return version("ordercycle")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


@dataclass
class RunResult:
    """Everything one run produced."""

    scenario: Scenario
    seed: int
    replication: int
    events: pd.DataFrame
    orders: pd.DataFrame
    forecasts: pd.DataFrame
    plans: pd.DataFrame
    kpis: dict[str, Any]
    model: CompanyModel
    snapshot: Any = None
    """The state snapshot taken during the run (``simulate(snapshot_at=...)``), else None."""
    pools: pd.DataFrame | None = None
    """Per resource pool and day: working hours, work begun, queue (:func:`pools_table`)."""
    centres: pd.DataFrame | None = None
    """Per calendared work centre and day: staffed machine-hours and overtime (:func:`centres_table`);
    None when no work centre is on a calendar."""
    lines: pd.DataFrame | None = None
    """One row per order line (:func:`lines_table`)."""
    decisions: pd.DataFrame | None = None
    """Decisions taken per day, kind and outcome (:func:`decisions_table`)."""
    shipment_lines: pd.DataFrame | None = None
    """One row per (shipment, line it carries) (:func:`shipment_lines_table`)."""

    def provenance(self) -> dict[str, Any]:
        """What produced these outputs (written as ``run.json``)."""
        return {
            "ordercycle_version": package_version(),
            "scenario_name": self.scenario.name,
            "scenario_hash": content_hash(self.scenario),
            "seed": self.seed,
            "replication": self.replication,
            "horizon_days": self.scenario.horizon_days,
            "warmup_days": self.scenario.warmup_days,
            "policies": self.scenario.policies.model_dump(mode="json"),
            "scenario": self.scenario.model_dump(mode="json"),
        }


def _final_state(order: Order) -> str:
    fully_returned = order.shipped_units > 0 and order.returned_units >= order.shipped_units
    if order.final_state == "delivered" and fully_returned:
        return "returned"
    return order.final_state or "open"


def orders_table(orders: list[Order], now: float, prepayment: bool = False) -> pd.DataFrame:
    """One row per inquiry at time ``now``: lifecycle times, promise, money, final state,
    unattended time (a wait still open at ``now`` counts up to ``now``).

    With ``prepayment`` (some segment has prepayment terms,
    :attr:`~ordercycle.scenarios.schema.Scenario.has_prepayment`) the table has the prepayment
    columns and ``final_state`` the category ``cancelled``; without, it is as it always was.
    """
    rows = {
        "order_id": [o.order_id for o in orders],
        "customer_id": [o.customer_id for o in orders],
        "segment": [o.segment for o in orders],
        "importance": [o.importance for o in orders],
        "product_id": [o.product_id for o in orders],
        "quantity": [o.quantity for o in orders],
        "inquiry_time": [o.inquiry_time for o in orders],
        "quote_time": [o.quote_time for o in orders],
        "entered_time": [o.entered_time for o in orders],
        "decision_time": [o.decision_time for o in orders],
        "released_time": [o.released_time for o in orders],
        "production_done_time": [o.production_done_time for o in orders],
        "first_ship_time": [o.first_ship_time for o in orders],
        "delivered_time": [o.delivered_time for o in orders],
        "promised_date": [o.promised_date for o in orders],
        "list_price": [o.list_price for o in orders],
        "unit_price": [o.unit_price for o in orders],
        "unit_cost": [o.unit_cost for o in orders],
        "entry_error": [o.entry_error for o in orders],
        "expedited": [o.expedited for o in orders],
        "shipped_units": [o.shipped_units for o in orders],
        "shipments": [len(o.shipments) for o in orders],
        "lines": [len(o.lines) for o in orders],
        "returned_units": [o.returned_units for o in orders],
        "billed": [o.billed_cents / 100 for o in orders],
        "paid": [o.paid_cents / 100 for o in orders],
        "refunded": [o.refunded_cents / 100 for o in orders],
        "unattended_hours": [o.unattended_until(now) * 24 for o in orders],
        "unattended_closed_hours": [o.closed_wait_until(now) * 24 for o in orders],
        "final_state": [_final_state(o) for o in orders],
        "state_at_horizon": [o.state for o in orders],
        "owner_at_horizon": [o.owner for o in orders],
    }
    states = list(FINAL_STATES)
    if prepayment:
        rows.update(prepayment_columns(orders))
        states.append(CANCELLED)
    table = pd.DataFrame(rows)
    table["final_state"] = pd.Categorical(table["final_state"], categories=states)
    return table


def prepayment_columns(orders: list[Order]) -> dict[str, list[Any]]:
    """The columns of ``orders.parquet`` about prepayment terms (see ``docs/outputs.md``)."""
    return {
        "pays_in_advance": [o.pays_in_advance for o in orders],
        "prepayment_invoiced_time": [o.prepayment_invoiced_time for o in orders],
        "prepayment_received_time": [o.prepayment_received_time for o in orders],
        "prepaid": [o.prepaid_cents / 100 for o in orders],
        "prepayment_applied": [o.applied_cents / 100 for o in orders],
        "prepayment_refunded": [o.advance_refunded_cents / 100 for o in orders],
    }


def lines_table(orders: list[Order]) -> pd.DataFrame:
    """One row per order line: product, quantity, prices, what came from stock, was back-ordered,
    shipped, delivered and returned, and when the line was ready, had left and had arrived in full."""
    lines = [line for order in orders for line in order.lines]
    rows = {
        "line_id": [x.line_id for x in lines],
        "order_id": [x.order.order_id for x in lines],
        "line_number": [x.number for x in lines],
        "product_id": [x.product_id for x in lines],
        "quantity": [x.quantity for x in lines],
        "list_price": [x.list_price for x in lines],
        "unit_price": [x.unit_price for x in lines],
        "unit_cost": [x.unit_cost for x in lines],
        "from_stock_units": [x.from_stock_units for x in lines],
        "backordered_units": [x.backordered_units for x in lines],
        "shipped_units": [x.shipped_units for x in lines],
        "delivered_units": [x.delivered_units for x in lines],
        "returned_units": [x.returned_units for x in lines],
        "shipments": [x.shipments for x in lines],
        "ready_time": [x.ready_time for x in lines],
        "shipped_time": [x.shipped_time for x in lines],
        "delivered_time": [x.delivered_time for x in lines],
    }
    return pd.DataFrame(rows).astype({"line_id": "int64", "order_id": "int64", "line_number": "int64",
                                      "quantity": "int64", "shipped_units": "int64"})


def shipment_lines_table(orders: list[Order]) -> pd.DataFrame:
    """One row per shipment and line it carries, by shipment id: the units of the line, and when the
    shipment left and arrived (NaN: not yet). The event log names the line of a shipment of one line
    only; this table says what every shipment carries (the OCEL export's package → item links)."""
    rows = sorted(((s.shipment_id, number, order.order_id, line.line_id, units, s.dispatched_time,
                    s.delivered_time)
                   for order in orders for s in order.shipments
                   for number, (line, units) in enumerate(s.lines)), key=lambda row: row[:2])
    columns = ["shipment_id", "order_id", "line_id", "units", "dispatched_time", "delivered_time"]
    table = pd.DataFrame([row[:1] + row[2:] for row in rows], columns=columns)
    return table.astype({"shipment_id": "int64", "order_id": "int64", "line_id": "int64", "units": "int64",
                         "dispatched_time": "float64", "delivered_time": "float64"})


def pools_table(model: CompanyModel, now: float) -> pd.DataFrame:
    """One row per resource pool and day: people, working hours, hours of work begun, queue at day end.

    Pools: the staff pools, ``technicians.<skill>`` and ``carrier.<provider>`` (loading
    slots). ``open_hours`` are person-hours of working time that day (the pool's calendar, its
    overtime included; 24 per person without one); ``busy_hours`` the work begun that day. When
    some staff pool can work overtime, ``overtime_hours`` are the person-hours of ``open_hours``
    worked in overtime (the column is absent otherwise: outputs stay as they were).
    """
    overtime = model.staff_overtime
    columns: dict[str, list[Any]] = {name: [] for name in (
        "day", "pool", "calendar", "staffed_by", "people", "open_hours", "busy_hours", "queue_end",
        *(("overtime_hours",) if overtime else ()))}
    days = math.ceil(now)
    for pool, (resource, key) in model.pools.items():
        calendar = model.calendars.get(key)
        base = overtime[pool].calendar.base if pool in overtime else None
        busy, queue = model.busy_hours[pool], model.queue_at_day_end[pool]
        field = staffing_field(pool)
        for day in range(days):
            end = min(day + 1.0, now)
            hours = calendar.open_days(day, end) * 24 if calendar is not None else (end - day) * 24
            if overtime:
                extra = hours - base.open_days(day, end) * 24 if base is not None else 0.0
                columns["overtime_hours"].append(resource.capacity * max(0.0, extra))
            columns["day"].append(day)
            columns["pool"].append(pool)
            columns["calendar"].append(calendar.name if calendar is not None else "")
            columns["staffed_by"].append(field)
            columns["people"].append(resource.capacity)
            columns["open_hours"].append(resource.capacity * hours)
            columns["busy_hours"].append(busy[day])
            columns["queue_end"].append(queue[day] if day < len(queue) else len(resource.queue))
    return pd.DataFrame(columns).astype({"day": "int64", "people": "int64", "queue_end": "int64"})


def centres_table(model: CompanyModel, now: float) -> pd.DataFrame | None:
    """One row per work centre on a working calendar and day: machines, shifts at the day's start,
    staffed machine-hours (``open_hours``: the shifts on the calendar's working days plus the
    overtime) and the overtime granted at that day's closings (``overtime_hours``, centre-hours).

    None when no work centre is on a calendar (the table is then not written: outputs of
    scenarios without centre calendars stay as they were).
    """
    calendared = {cid: c for cid, c in model.centres.items() if c.shift_calendars is not None}
    if not calendared:
        return None
    columns: dict[str, list[Any]] = {name: [] for name in (
        "day", "work_centre", "calendar", "machines", "shifts", "open_hours", "overtime_hours")}
    days = math.ceil(now)
    for centre_id, centre in sorted(calendared.items()):
        calendars = centre.shift_calendars
        assert calendars is not None
        plan = sorted((row["period_start"], row["shifts"]) for row in model.plan_rows
                      if row["work_centre"] == centre_id)
        changes = [(start, shifts) for start, shifts in plan]
        bounds = [start for start, _ in changes[1:]] + [math.inf]
        overtime = [0.0] * days
        for closing, hours in centre.overtime:
            if 0 <= int(closing) < days:
                overtime[int(closing)] += hours
        machines = len(centre.machines)
        for day in range(days):
            end = min(day + 1.0, now)
            staffed = 0.0
            shifts_now = changes[0][1] if changes else centre.shifts
            for (start, shifts), stop in zip(changes, bounds, strict=True):
                if start <= day:
                    shifts_now = shifts
                lo, hi = max(start, float(day)), min(stop, end)
                if hi > lo:
                    staffed += calendars[shifts].open_days(lo, hi) * 24
            columns["day"].append(day)
            columns["work_centre"].append(centre_id)
            columns["calendar"].append(calendars[1].name)
            columns["machines"].append(machines)
            columns["shifts"].append(shifts_now)
            columns["open_hours"].append(machines * (staffed + overtime[day]))
            columns["overtime_hours"].append(overtime[day])
    return pd.DataFrame(columns).astype({"day": "int64", "machines": "int64", "shifts": "int64"})


def simulate(scenario: Scenario, seed: int = 0, replication: int = 0,
             progress: Callable[[float], None] | None = None,
             trace_decisions: bool = False, snapshot_at: float | None = None) -> RunResult:
    """Simulate ``scenario`` once and compute its KPIs.

    With ``snapshot_at`` (days, within the horizon) the state of the company at that time
    is captured as well (:func:`ordercycle.sim.snapshot.capture`; ``result.snapshot``).
    """
    model = CompanyModel(scenario, seed, replication, trace_decisions)
    model.start()
    snapshot = None
    if snapshot_at is not None:
        from ordercycle.sim.placement import capture

        model.run(until=snapshot_at)
        snapshot = capture(model)
    model.run(progress=progress)
    events = model.recorder.table()
    orders = orders_table(model.orders, model.env.now, scenario.has_prepayment)
    forecasts = pd.DataFrame(
        model.forecast_rows,
        columns=["period", "period_start", "product_id", "statistical_units", "marketing_units",
                 "planned_units", "actual_units",
                 # only where service reports requirements ahead (information.field_requirements)
                 *(["reported_units"] if model.field_requirements is not None else [])],
    )
    plans = pd.DataFrame(
        model.plan_rows,
        columns=["period", "period_start", "work_centre", "machines", "shifts",
                 "planned_load_hours", "changed"],
    )
    pools = pools_table(model, model.env.now)
    centres = centres_table(model, model.env.now)
    lines = lines_table(model.orders)
    decisions = decisions_table(model)
    kpis = compute_kpis(KpiInputs.from_scenario(scenario, events, orders, forecasts, plans, pools, centres,
                                                lines, decisions))
    if scenario.start is not None:
        kpis["carried_over"] = carried_over_kpis(orders, model.env.now)
    return RunResult(scenario, seed, replication, events, orders, forecasts, plans, kpis, model, snapshot,
                     pools, centres, lines, decisions, shipment_lines_table(model.orders))


def decisions_table(model: CompanyModel) -> pd.DataFrame:
    """One row per (day, decision kind, outcome): how many such decisions the policies took.

    The outcome is :func:`ordercycle.policies.outcomes.outcome` of each decision (e.g.
    ``selection`` / ``reject``, ``pricing`` / ``discount, standard lead``); ``day`` is the
    whole simulated day the decision was taken on.
    """
    rows = sorted(model.outcomes.items())
    return pd.DataFrame(
        {"day": pd.array([day for (day, _, _), _ in rows], dtype="int32"),
         "kind": pd.array([kind for (_, kind, _), _ in rows], dtype="string"),
         "outcome": pd.array([label for (_, _, label), _ in rows], dtype="string"),
         "count": pd.array([n for _, n in rows], dtype="int64")}
    )


def carried_over_kpis(orders: pd.DataFrame, horizon: float) -> dict[str, float]:
    """How the orders open at a state snapshot fared (the usual KPIs count new inquiries only).

    Over the carried-over orders (inquiry before time 0) not yet delivered at time 0:
    ``open_orders`` (their number), ``delivered`` (delivered by the horizon),
    ``on_time_rate`` (delivered by their promised date, over those delivered or already
    past their promised date at the horizon; NaN if none), ``late_open`` (still open past
    their promised date) and ``mean_delivery_days`` (mean delivery time after time 0).
    """
    carried = orders[(orders["inquiry_time"] < 0) & ~(orders["delivered_time"] <= 0)]
    accepted = carried[carried["promised_date"].notna()]
    delivered = accepted["delivered_time"].notna()
    on_time = delivered & (accepted["delivered_time"] <= accepted["promised_date"] + 1e-9)
    late_open = ~delivered & (accepted["final_state"] == "open") & (accepted["promised_date"] < horizon)
    judged = int(delivered.sum() + late_open.sum())
    times = accepted.loc[delivered, "delivered_time"]
    return {
        "open_orders": float(len(carried)),
        "delivered": float(delivered.sum()),
        "on_time_rate": float(on_time.sum() / judged) if judged else math.nan,
        "late_open": float(late_open.sum()),
        "mean_delivery_days": float(times.mean()) if len(times) else math.nan,
    }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def kpis_json(kpis: dict[str, Any]) -> str:
    """Canonical JSON text of the KPIs (sorted keys; NaN written as null)."""
    return json.dumps(_clean(kpis), sort_keys=True, indent=2) + "\n"


def write_outputs(result: RunResult, out_dir: str | Path) -> Path:
    """Write the run's documented files into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.events.to_parquet(out / "events.parquet", index=False)
    result.orders.to_parquet(out / "orders.parquet", index=False)
    result.forecasts.to_parquet(out / "forecasts.parquet", index=False)
    result.plans.to_parquet(out / "plans.parquet", index=False)
    if result.pools is not None:
        result.pools.to_parquet(out / "pools.parquet", index=False)
    if result.centres is not None:
        result.centres.to_parquet(out / "centres.parquet", index=False)
    if result.lines is not None:
        result.lines.to_parquet(out / "lines.parquet", index=False)
    if result.decisions is not None:
        result.decisions.to_parquet(out / "decisions.parquet", index=False)
    if result.shipment_lines is not None:
        result.shipment_lines.to_parquet(out / "shipment_lines.parquet", index=False)
    (out / "kpis.json").write_text(kpis_json(result.kpis), encoding="utf-8")
    (out / "run.json").write_text(
        json.dumps(result.provenance(), sort_keys=True, indent=2) + "\n", encoding="utf-8"
    )
    return out
