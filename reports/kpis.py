"""Key performance indicators: pure functions of a run's saved tables.

Nothing here touches a live simulation: the run summary, experiments, reports and
calibration all compute KPIs from ``events``, ``orders``, ``forecasts``, ``plans`` and ``pools``
plus a few scenario constants (:class:`KpiInputs`). Definitions, units and what the
warm-up excludes are documented in ``docs/kpis.md``; in short, order-based KPIs
count orders whose inquiry arrived at or after the warm-up, and time-based KPIs
(utilisation, inventory, costs) cover the window [warm-up, horizon].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SHIFT_HOURS = 8.0


@dataclass(frozen=True)
class KpiInputs:
    """The tables of one run and the scenario constants the KPIs need."""

    events: pd.DataFrame
    orders: pd.DataFrame
    forecasts: pd.DataFrame
    plans: pd.DataFrame
    warmup_days: float
    horizon_days: float
    machine_hour_cost: dict[str, float]
    freight_cost: dict[str, float]
    changeover_cost: float
    plan_change_cost: float
    holding_cost_per_unit_day: float
    dispute_cost: float
    segments: tuple[str, ...] = ()  # segment ids, in scenario order; () = those found in ``orders``
    pools: pd.DataFrame | None = None  # the ``pools`` table; None: tables saved before it existed
    staff_hour_cost: dict[str, float] | None = None  # pool (or ``technicians``) -> cost per paid hour
    stocked_products: tuple[str, ...] = ()  # make-to-stock product ids
    backorder_cost_per_unit_day: float = 0.0
    replenishment_order_cost: float = 0.0
    centres: pd.DataFrame | None = None  # the ``centres`` table: None when no work centre keeps a calendar
    overtime_hour_cost: dict[str, float] | None = None  # work centre -> cost per overtime hour
    lines: pd.DataFrame | None = None  # the ``lines`` table; None: tables saved before it existed
    decisions: pd.DataFrame | None = None  # the ``decisions`` table; None: tables saved before it existed
    staff_overtime_hour_cost: dict[str, float] | None = None  # staff pool -> cost per overtime person-hour

    @classmethod
    def from_scenario(cls, scenario: Any, events: pd.DataFrame, orders: pd.DataFrame,
                      forecasts: pd.DataFrame, plans: pd.DataFrame,
                      pools: pd.DataFrame | None = None, centres: pd.DataFrame | None = None,
                      lines: pd.DataFrame | None = None, decisions: pd.DataFrame | None = None) -> KpiInputs:
        """Take the constants from a scenario (a model or its JSON dict)."""
        data = scenario if isinstance(scenario, dict) else scenario.model_dump(mode="json")
        costs = data["costs"]
        return cls(
            events, orders, forecasts, plans, float(data["warmup_days"]), float(data["horizon_days"]),
            {w["id"]: float(w["machine_hour_cost"]) for w in data["work_centres"]},
            {p["id"]: float(p["cost_per_shipment"]) for p in data["logistics_providers"]},
            float(costs["changeover_cost"]), float(costs["plan_change_cost"]),
            float(costs["holding_cost_per_unit_day"]), float(costs["dispute_cost"]),
            tuple(str(s["id"]) for s in data["segments"]), pools,
            {str(k): float(v) for k, v in data["staff"].get("hourly_cost", {}).items()},
            tuple(str(p["id"]) for p in data["products"] if p["stocking"] == "make_to_stock"),
            float(costs.get("backorder_cost_per_unit_day", 0.0)),
            float(costs.get("replenishment_order_cost", 0.0)),
            centres,
            {w["id"]: float(w.get("overtime_hour_cost", 0.0)) for w in data["work_centres"]},
            lines,
            decisions,
            {str(k): float(v) for k, v in data["staff"].get("overtime_hour_cost", {}).items()},
        )


def _mean(values: pd.Series | np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _durations(events: pd.DataFrame, key: str, start: str | list[str], end: str | list[str]) -> pd.Series:
    """Time from the first ``start`` to the first ``end`` event per object ``key``."""
    starts = [start] if isinstance(start, str) else start
    ends = [end] if isinstance(end, str) else end
    first = events[events["activity"].isin(starts)].groupby(key)["time"].min()
    last = events[events["activity"].isin(ends)].groupby(key)["time"].min()
    both = pd.concat([first.rename("a"), last.rename("b")], axis=1, join="inner")
    return both["b"] - both["a"]


def staffed_hours(plans: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """Staffed machine-hours per work centre in [start, end], from the plan periods."""
    result: dict[str, float] = {}
    for centre, rows in plans.sort_values("period_start").groupby("work_centre", sort=True):
        begins = rows["period_start"].to_numpy(dtype=float)
        ends = np.append(begins[1:], np.inf)
        overlap = np.clip(np.minimum(ends, end) - np.maximum(begins, start), 0, None)
        per_day = rows["machines"].to_numpy() * rows["shifts"].to_numpy() * SHIFT_HOURS
        result[str(centre)] = float(np.sum(overlap * per_day))
    return result


def calendar_staffed_hours(centres: pd.DataFrame, start: float) -> dict[str, float]:
    """Staffed machine-hours (shifts on working days plus overtime) per calendared work centre,
    over the days from ``start`` on (the ``centres`` table)."""
    window = centres[centres["day"] >= int(np.floor(start))]
    return {str(c): float(v) for c, v in window.groupby("work_centre", sort=True)["open_hours"].sum().items()}


def machines_overtime_hours(centres: pd.DataFrame, start: float) -> dict[str, float]:
    """Machine-hours of overtime per calendared centre over the days from ``start`` on."""
    window = centres[centres["day"] >= int(np.floor(start))]
    hours = window["overtime_hours"] * window["machines"]
    return {str(c): float(v) for c, v in hours.groupby(window["work_centre"], sort=True).sum().items()}


def overtime_kpis(inputs: KpiInputs, window: pd.DataFrame) -> dict[str, float]:
    """``overtime_hours`` (centre-hours granted at closings in the window) and ``overtime_cost``
    (each centre's hours × its ``overtime_hour_cost``), from the ``overtime_granted`` events."""
    granted = window[(window["activity"] == "overtime_granted") & (window["department"] == "production")]
    hours = granted.groupby(granted["resource"].astype(str))["quantity"].sum()
    rates = inputs.overtime_hour_cost or {}
    cost = sum(float(h) * rates.get(str(c), 0.0) for c, h in hours.items())
    return {"overtime_hours": float(hours.sum()), "overtime_cost": round(cost, 2)}


def expedite_changeovers(events: pd.DataFrame) -> int:
    """Changeovers an expedite caused: the ``expedite_changeover`` marks in ``events``.

    Each mark repeats a ``changeover_started`` of the same machine, job and time (into an
    expedited job that broke the machine's sequence, or back to the interrupted family), so
    these changeovers are already in ``changeovers`` and costed there: a subset, never added.
    """
    return int((events["activity"] == "expedite_changeover").sum())


def busy_hours(events: pd.DataFrame, start: float) -> dict[str, float]:
    """Machine-hours spent on changeovers and operations started at or after ``start``.

    An operation's pauses at shift end (``operation_paused`` … ``operation_resumed`` after its
    start, on a calendared centre) are not busy time.
    """
    production = events[(events["step"] == "production") & (events["time"] >= start)]
    ops = _durations(production, "job_id", "operation_started", "operation_completed")
    if (production["activity"] == "operation_paused").any():
        ops = ops.sub(paused_hours(production).reindex(ops.index).fillna(0.0) / 24)
    centre_of_job = (
        production[production["activity"] == "operation_started"]
        .set_index("job_id")["resource"].str.split(":").str[0]
    )
    busy = (ops * 24).groupby(centre_of_job.reindex(ops.index)).sum()
    changeovers = production[production["activity"] == "changeover_started"]
    setup = changeovers.groupby(changeovers["resource"].str.split(":").str[0])["quantity"].sum()
    total = busy.add(setup, fill_value=0.0)
    return {str(k): float(v) for k, v in total.items()}


def paused_hours(events: pd.DataFrame) -> pd.Series:
    """Hours each job's operation spent paused at shift end (``operation_paused`` … ``operation_resumed``
    after its ``operation_started``; pauses during its changeover are not counted), by job id."""
    paused = events[events["activity"] == "operation_paused"]
    resumed = events[events["activity"] == "operation_resumed"]
    began = events[events["activity"] == "operation_started"].groupby("job_id")["time"].min()
    pairs = pd.DataFrame({
        "job_id": paused["job_id"].to_numpy(),
        "paused": paused["time"].to_numpy(dtype=float),
        "rank": paused.groupby("job_id").cumcount().to_numpy(),
    }).merge(pd.DataFrame({
        "job_id": resumed["job_id"].to_numpy(),
        "resumed": resumed["time"].to_numpy(dtype=float),
        "rank": resumed.groupby("job_id").cumcount().to_numpy(),
    }), on=["job_id", "rank"], how="inner")
    pairs = pairs[pairs["paused"] >= pairs["job_id"].map(began).to_numpy(dtype=float)]
    return ((pairs["resumed"] - pairs["paused"]) * 24).groupby(pairs["job_id"]).sum()


def mean_inventory(events: pd.DataFrame, start: float, end: float) -> float:
    """Time-weighted mean units on hand (all products) over [start, end]."""
    return mean_level(events, ("stock_initial", "stock_received"), ("stock_issued",), start, end)


def mean_level(events: pd.DataFrame, up: tuple[str, ...], down: tuple[str, ...],
               start: float, end: float) -> float:
    """Time-weighted mean over [start, end] of a level raised by the ``up`` events' quantity and
    lowered by the ``down`` events' (0 before the first event)."""
    moves = events[events["activity"].isin([*up, *down])]
    if moves.empty or end <= start:
        return 0.0
    sign = np.where(moves["activity"].isin(down), -1.0, 1.0)
    level = pd.Series(np.cumsum(sign * moves["quantity"].to_numpy(dtype=float)),
                      index=moves["time"].to_numpy()).groupby(level=0).last()
    times = level.index.to_numpy(dtype=float)
    values = level.to_numpy()
    before = times <= start
    start_level = values[before][-1] if before.any() else 0.0
    inside = (times > start) & (times < end)
    knots = np.concatenate([[start], times[inside], [end]])
    levels = np.concatenate([[start_level], values[inside]])
    return float(np.sum(levels * np.diff(knots)) / (end - start))


def inventory_kpis(inputs: KpiInputs, window: pd.DataFrame, orders: pd.DataFrame) -> dict[str, Any]:
    """Stock service and inventory costs over the KPI window (see ``docs/kpis.md``).

    The stock fill rate is the share of the units that released make-to-stock orders asked
    for which stock covered at release; back-order age is the time from a back-order to
    its last fill, over the back-orders filled in the window.
    """
    warmup, horizon = inputs.warmup_days, inputs.horizon_days
    days = horizon - warmup
    activity = window["activity"]
    released = orders[orders["released_time"].notna() & orders["product_id"].isin(inputs.stocked_products)]
    asked = float(released["quantity"].sum())
    if inputs.lines is not None and "lines" in orders and (orders["lines"] > 1).any():
        # orders of several lines: the make-to-stock lines of every released order
        out = orders.loc[orders["released_time"].notna(), "order_id"]
        lines = inputs.lines[inputs.lines["product_id"].isin(inputs.stocked_products)
                             & inputs.lines["order_id"].isin(out)]
        released = orders[orders["order_id"].isin(lines["order_id"])]
        asked = float(lines["quantity"].sum())
    issued = window[(activity == "stock_issued") & window["order_id"].isin(released["order_id"])]
    fills = window[(activity == "backorder_filled") & window["order_id"].isin(released["order_id"])]
    at_once = float(issued["quantity"].sum()) - float(fills["quantity"].sum())
    created = inputs.events[inputs.events["activity"] == "backorder_created"]
    filled = inputs.events[inputs.events["activity"] == "backorder_filled"]
    age = (filled.groupby("order_id")["time"].max()
           - created.groupby("order_id")["time"].min()).dropna()
    done = filled.groupby("order_id")["quantity"].sum().reindex(age.index) >= (
        created.groupby("order_id")["quantity"].sum().reindex(age.index) - 1e-9)
    last_fill = filled.groupby("order_id")["time"].max().reindex(age.index)
    age = age[done & (last_fill >= warmup)]
    backlog = mean_level(inputs.events, ("backorder_created",), ("backorder_filled",), warmup, horizon)
    open_units = float(created["quantity"].sum() - filled["quantity"].sum())
    replenishments = int((activity == "replenishment_released").sum())
    lost = window[activity == "sale_lost"]
    return {
        "stock_fill_rate": at_once / asked if asked else float("nan"),
        "backorder_units": float(window[activity == "backorder_created"]["quantity"].sum()),
        "mean_backorder_units": backlog,
        "open_backorder_units": open_units,
        "mean_backorder_age_days": _mean(age),
        "lost_sales_orders": int(len(lost)),
        "lost_sales_units": float(lost["quantity"].sum()),
        "replenishment_orders": replenishments,
        "backorder_cost": round(backlog * inputs.backorder_cost_per_unit_day * days, 2),
        "ordering_cost": round(replenishments * inputs.replenishment_order_cost, 2),
    }


def plan_nervousness(forecasts: pd.DataFrame, warmup: float) -> float:
    """Mean relative change of each product's planned units from one period to the next
    (|p(t) − p(t−1)| / p(t−1), over periods starting at or after the warm-up with p(t−1) > 0)."""
    if forecasts.empty:
        return float("nan")
    rows = forecasts.sort_values(["product_id", "period"])
    previous = rows.groupby("product_id")["planned_units"].shift()
    keep = (rows["period_start"] >= warmup) & (previous > 0)
    return _mean(((rows["planned_units"] - previous).abs() / previous)[keep].to_numpy(dtype=float))


def goodwill_kpis(window: pd.DataFrame) -> dict[str, Any]:
    """Grievances customers took in the window, and the quotes (and their value) lost to them.

    A quote is lost to goodwill when the customer declined it but would have accepted it
    without its remembered grievances (the model marks those ``quote_lost`` events with the
    resource ``goodwill``); the value is the quote's amount (``quote_sent``).
    """
    activity = window["activity"]
    lost = window[(activity == "quote_lost") & (window["resource"].astype(object) == "goodwill")]
    quotes = window[activity == "quote_sent"].groupby("order_id")["amount"].last()
    return {
        "grievances": int((activity == "customer_grievance").sum()),
        "quotes_lost_to_goodwill": int(len(lost)),
        "revenue_lost_to_goodwill": round(float(quotes.reindex(lost["order_id"]).fillna(0.0).sum()), 2),
    }


def accepted_at_selection(orders: pd.DataFrame) -> pd.Series:
    """Orders selection accepted: released, or decided and not rejected (an order on prepayment
    terms waits for its payment before it is released, or was cancelled without it)."""
    released = orders["released_time"].notna()
    if "decision_time" not in orders:  # hand-made or foreign tables: released orders only
        return released
    return released | (orders["decision_time"].notna() & (orders["final_state"] != "rejected"))


def order_kpis(orders: pd.DataFrame) -> dict[str, Any]:
    """The cohort KPIs of some orders: counts, acceptance, on-time delivery, lead time, unattended time."""
    delivered = orders[orders["delivered_time"].notna()]
    lead = (delivered["delivered_time"] - delivered["entered_time"]).to_numpy()
    on_time = delivered["delivered_time"] <= delivered["promised_date"] + 1e-9
    accepted = int(accepted_at_selection(orders).sum())
    rejected = int((orders["final_state"] == "rejected").sum())
    return {
        "inquiries": int(len(orders)),
        "orders_received": int(orders["entered_time"].notna().sum()),
        "orders_accepted": accepted,
        "orders_rejected": rejected,
        "acceptance_rate": accepted / (accepted + rejected) if accepted + rejected else float("nan"),
        "orders_delivered": int(len(delivered)),
        "on_time_delivery_rate": float(on_time.mean()) if len(delivered) else float("nan"),
        "mean_lead_time_days": _mean(lead),
        "p95_lead_time_days": float(np.percentile(lead, 95)) if len(lead) else float("nan"),
        "mean_unattended_hours": _mean(orders["unattended_hours"]),
    }


def segment_kpis(inputs: KpiInputs) -> dict[str, dict[str, Any]]:
    """Per customer segment: :func:`order_kpis` of its cohort orders, and its revenue and gross margin.

    Every segment of ``inputs.segments`` is present, with zero counts and NaN rates if it has no orders.
    """
    warmup = inputs.warmup_days
    all_orders = inputs.orders
    names = inputs.segments or tuple(sorted(all_orders["segment"].astype(str).unique()))
    cohort = all_orders[all_orders["inquiry_time"] >= warmup]
    window = inputs.events[inputs.events["time"] >= warmup]
    segment_of = all_orders.set_index("order_id")["segment"].astype(str)
    unit_cost = all_orders.set_index("order_id")["unit_cost"]
    activity = window["activity"]
    money = window[activity.isin(["invoice_issued", "invoice_corrected", "refund_paid"])]
    signed = money["amount"].astype("float64") * np.where(money["activity"] == "refund_paid", -1.0, 1.0)
    revenue = signed.groupby(money["order_id"].map(segment_of)).sum()
    billed = billed_goods(window)
    order_ids = billed["order_id"]
    cogs = billed["quantity"].astype("float64") * order_ids.map(unit_cost).astype("float64")
    cogs = cogs.groupby(order_ids.map(segment_of)).sum()
    result = {}
    for name in names:
        kpis = order_kpis(cohort[cohort["segment"].astype(str) == name])
        segment_revenue = float(revenue.get(name, 0.0))
        kpis["revenue"] = round(segment_revenue, 2)
        kpis["gross_margin"] = round(segment_revenue - float(cogs.get(name, 0.0)), 2)
        result[name] = kpis
    return result


def pool_kpis(pools: pd.DataFrame | None, warmup: float,
              hour_cost: dict[str, float] | None = None,
              overtime_cost: dict[str, float] | None = None) -> dict[str, Any]:
    """Per resource pool over the days from the warm-up on: utilisation on working hours, queue
    growth per week, and the cost of the paid (working) hours.

    ``staff_utilization`` = hours of work begun / working person-hours (overtime included);
    ``queue_growth_per_week`` = (mean queue of the last 7 days − mean of the first 7) / weeks
    between them (NaN for a window under 14 days); ``staff_cost`` = Σ working person-hours ×
    the pool's hourly cost (``technicians.<skill>`` at the ``technicians`` rate), the overtime
    person-hours at the pool's overtime rate instead. When the table has ``overtime_hours``
    (some pool can work overtime), ``staff_overtime_hours`` and ``staff_overtime_cost`` give
    them per pool of ``overtime_cost``.
    """
    if pools is None or pools.empty:
        return {"staff_utilization": {}, "queue_growth_per_week": {}, "staff_cost": 0.0}
    window = pools[pools["day"] >= int(np.floor(warmup))]
    utilisation, growth, cost = {}, {}, 0.0
    rates, overtime_rates = hour_cost or {}, overtime_cost or {}
    has_overtime = "overtime_hours" in window
    overtime_hours: dict[str, float] = {}
    overtime_paid: dict[str, float] = {}
    for name, rows in window.groupby("pool", sort=True):
        pool = str(name)
        rows = rows.sort_values("day")
        open_hours = float(rows["open_hours"].sum())
        utilisation[pool] = float(rows["busy_hours"].sum()) / open_hours if open_hours > 0 else float("nan")
        queue = rows["queue_end"].to_numpy(dtype=float)
        if len(queue) >= 14:
            growth[pool] = float((queue[-7:].mean() - queue[:7].mean()) / ((len(queue) - 7) / 7))
        else:
            growth[pool] = float("nan")
        default = rates.get("technicians", 0.0) if pool.startswith("technicians.") else 0.0
        rate = rates.get(pool, default)
        overtime = float(rows["overtime_hours"].sum()) if has_overtime else 0.0
        cost += (open_hours - overtime) * rate
        if pool in overtime_rates:
            overtime_hours[pool] = overtime
            overtime_paid[pool] = round(overtime * overtime_rates[pool], 2)
            cost += overtime * overtime_rates[pool]
    result: dict[str, Any] = {"staff_utilization": utilisation, "queue_growth_per_week": growth,
                              "staff_cost": round(cost, 2)}
    if has_overtime:
        result.update(staff_overtime_hours=overtime_hours, staff_overtime_cost=overtime_paid)
    return result


def fulfilment_kpis(orders: pd.DataFrame, lines: pd.DataFrame | None,
                    events: pd.DataFrame) -> dict[str, float]:
    """Order lines and shipments (``docs/kpis.md#order-lines-and-fulfilment``).

    Over the delivered orders of ``orders`` (final delivery done; returned ones included):
    ``order_fill_rate`` — the first shipment carried the whole order; ``line_fill_rate`` —
    of their lines, those whose whole quantity left in one shipment (from ``lines``);
    ``otif_rate`` — on time (final delivery by the promised date) and in full (in one
    shipment); ``perfect_order_rate`` — OTIF, nothing of it returned and no invoice of it
    disputed; ``shipments_per_order``. ``lines_per_order`` is over every inquiry.
    """
    delivered = orders[orders["delivered_time"].notna()]
    n = len(delivered)
    nan = float("nan")
    in_full = delivered["shipments"] == 1
    on_time = delivered["delivered_time"] <= delivered["promised_date"] + 1e-9
    otif = in_full & on_time
    troubled = set(events.loc[events["activity"].isin(["return_requested", "invoice_disputed"]),
                              "order_id"].dropna().astype("int64"))
    perfect = otif & ~delivered["order_id"].isin(troubled)
    line_fill = nan
    lines_per_order = 1.0 if len(orders) else nan
    if lines is not None:
        mine = lines[lines["order_id"].isin(delivered["order_id"])]
        line_fill = float((mine["shipments"] == 1).mean()) if len(mine) else nan
        counted = lines[lines["order_id"].isin(orders["order_id"])]
        lines_per_order = len(counted) / len(orders) if len(orders) else nan
    return {
        "order_fill_rate": float(in_full.mean()) if n else nan,
        "line_fill_rate": line_fill,
        "otif_rate": float(otif.mean()) if n else nan,
        "perfect_order_rate": float(perfect.mean()) if n else nan,
        "shipments_per_order": float(delivered["shipments"].mean()) if n else nan,
        "lines_per_order": lines_per_order,
    }


def billed_goods(window: pd.DataFrame) -> pd.DataFrame:
    """The goods whose cost is booked in the window (``order_id``, ``quantity``): the units the
    invoices issued in it bill, so that cost of goods is matched with the revenue it earned
    (a shipment invoiced at the month's end carries its cost into that month, not into the
    dispatch's). Event logs written before invoices named their units book the cost at dispatch."""
    issued = window[window["activity"] == "invoice_issued"]
    if len(issued) and issued["quantity"].notna().all():
        return issued
    return window[window["activity"] == "shipment_dispatched"]


def compute_kpis(inputs: KpiInputs) -> dict[str, Any]:
    """All KPIs of one run (see ``docs/kpis.md`` for every definition)."""
    warmup, horizon = inputs.warmup_days, inputs.horizon_days
    events = inputs.events
    orders = inputs.orders[inputs.orders["inquiry_time"] >= warmup]
    window = events[events["time"] >= warmup]
    delivered = orders[orders["delivered_time"].notna()]
    lead = (delivered["delivered_time"] - delivered["entered_time"]).to_numpy()
    on_time = delivered["delivered_time"] <= delivered["promised_date"] + 1e-9

    activity = window["activity"]
    invoiced = window[activity.isin(["invoice_issued", "invoice_corrected"])]["amount"].sum()
    refunded = window[activity == "refund_paid"]["amount"].sum()
    revenue = float(invoiced) - float(refunded)
    unit_cost = inputs.orders.set_index("order_id")["unit_cost"]
    dispatched = window[activity == "shipment_dispatched"]
    billed = billed_goods(window)
    cogs = float((billed["quantity"].astype("float64")
                  * billed["order_id"].map(unit_cost).astype("float64")).sum())
    gross_margin = revenue - cogs

    changeovers = int((activity == "changeover_started").sum())
    expedites = int((activity == "expedite_granted").sum())
    shift_changes = int(inputs.plans[(inputs.plans["period_start"] >= warmup)]["changed"].sum())
    replans = int((activity == "plan_changed").sum())
    plan_changes = expedites + shift_changes + replans

    staffed = staffed_hours(inputs.plans, warmup, horizon)
    if inputs.centres is not None:  # calendared centres: their working days and overtime
        staffed.update(calendar_staffed_hours(inputs.centres, warmup))
    busy = busy_hours(events, warmup)
    utilization = {c: (busy.get(c, 0.0) / h if h > 0 else float("nan")) for c, h in sorted(staffed.items())}
    inventory = mean_inventory(events, warmup, horizon)

    carriers = dispatched["resource"].astype(object)
    freight = float(carriers.map(inputs.freight_cost).astype("float64").fillna(0.0).sum())
    issued = window[activity == "invoice_issued"]["invoice_id"].dropna().unique()
    disputed = window[activity == "invoice_disputed"]["invoice_id"].dropna().unique()
    disputed = disputed[np.isin(disputed, issued)]  # only invoices issued inside the window
    overtime = overtime_kpis(inputs, window) if inputs.centres is not None else None
    regular = staffed if inputs.centres is None else {  # overtime is paid at its own rate
        c: h - (machines_overtime_hours(inputs.centres, warmup).get(c, 0.0)) for c, h in staffed.items()}
    capacity_cost = sum(regular[c] * inputs.machine_hour_cost.get(c, 0.0) for c in regular)
    pools = pool_kpis(inputs.pools, warmup, inputs.staff_hour_cost, inputs.staff_overtime_hour_cost)
    stock = inventory_kpis(inputs, window, orders)
    holding_cost = round(inventory * inputs.holding_cost_per_unit_day * (horizon - warmup), 2)
    operating_cost = (
        capacity_cost + pools["staff_cost"] + stock["backorder_cost"] + stock["ordering_cost"]
        + changeovers * inputs.changeover_cost + plan_changes * inputs.plan_change_cost
        + freight + inventory * inputs.holding_cost_per_unit_day * (horizon - warmup)
        + len(disputed) * inputs.dispute_cost
        + (overtime["overtime_cost"] if overtime is not None else 0.0)
    )

    forecasts = inputs.forecasts[inputs.forecasts["period_start"] >= warmup]
    actual_total = float(forecasts["actual_units"].sum())
    planned_total = float(forecasts["planned_units"].sum())
    bias = (planned_total - actual_total) / actual_total if actual_total else float("nan")
    positive = forecasts[forecasts["actual_units"] > 0]
    errors = (positive["planned_units"] - positive["actual_units"]).abs() / positive["actual_units"]
    mape = _mean(100 * errors)
    field_reports = {}
    if "reported_units" in forecasts:  # service reports requirements ahead (information.field_requirements)
        reported_total = float(forecasts["reported_units"].sum())
        field_reports = {"reported_demand_share": reported_total / actual_total if actual_total
                         else float("nan")}

    issued_time = events[events["activity"] == "invoice_issued"].groupby("invoice_id")["time"].min()
    payments = events[events["activity"] == "payment_received"]
    paid = payments.groupby("invoice_id").agg(time=("time", "min"), amount=("amount", "sum"))
    prepaid = "pays_in_advance" in inputs.orders
    if prepaid:  # lines settled against a prepayment are settled invoices too, in their own rows
        applied = events[events["activity"] == "prepayment_applied"]
        settled = applied.groupby("invoice_id").agg(time=("time", "min"), amount=("amount", "sum"))
        paid = pd.concat([paid, settled])
    paid = paid[paid.index.isin(issued)]
    days_out = paid["time"] - issued_time.reindex(paid.index)
    weights = paid["amount"].astype(float)
    dso = float(np.sum(days_out * weights) / np.sum(weights)) if weights.sum() > 0 else float("nan")
    # order to cash: from entry to the last payment for the order, over orders entered in the window
    if prepaid:  # an order on prepayment terms is paid when its prepayment comes
        payments = events[events["activity"].isin(["payment_received", "prepayment_received"])]
    last_paid = payments.groupby("order_id")["time"].max()
    entered = orders.set_index("order_id")["entered_time"].dropna()
    cash_days = (last_paid.reindex(entered.index) - entered).dropna().to_numpy(dtype=float)

    shipments_delivered = int((activity == "shipment_delivered").sum())
    returns = int((activity == "return_requested").sum())
    refund_days = _durations(window, "return_id", "return_requested", "refund_paid")
    response = _durations(window, "ticket_id", "ticket_opened", ["service_started", "installation_started"])
    unattended = orders["unattended_hours"]
    closed = (orders["unattended_closed_hours"] if "unattended_closed_hours" in orders
              else pd.Series(np.nan, index=orders.index))  # tables saved before working calendars
    states = orders["final_state"].value_counts().sort_index()

    return {
        "inquiries": int(len(orders)),
        "quotes_lost": int((orders["final_state"] == "lost_quote").sum()),
        "orders_received": int(orders["entered_time"].notna().sum()),
        "orders_accepted": int(accepted_at_selection(orders).sum()),
        "orders_rejected": int((orders["final_state"] == "rejected").sum()),
        "acceptance_rate": order_kpis(orders)["acceptance_rate"],
        "by_segment": segment_kpis(inputs),
        "orders_delivered": int(len(delivered)),
        "orders_open_at_horizon": int((orders["final_state"] == "open").sum()),
        "final_states": {str(k): int(v) for k, v in states.items()},
        "on_time_delivery_rate": float(on_time.mean()) if len(delivered) else float("nan"),
        "mean_lead_time_days": _mean(lead),
        "p95_lead_time_days": float(np.percentile(lead, 95)) if len(lead) else float("nan"),
        "revenue": round(revenue, 2),
        "gross_margin": round(gross_margin, 2),
        "operating_cost": round(operating_cost, 2),
        "profit": round(gross_margin - operating_cost, 2),
        "operating_cost_per_order": (round(operating_cost / len(delivered), 2) if len(delivered)
                                     else float("nan")),
        "profit_per_order": (round((gross_margin - operating_cost) / len(delivered), 2) if len(delivered)
                             else float("nan")),
        "changeovers": changeovers,
        "expedite_changeovers": expedite_changeovers(window),
        "expedites": expedites,
        "plan_changes": plan_changes,
        **(overtime or {}),
        "utilization": utilization,
        "staff_utilization": pools["staff_utilization"],
        "queue_growth_per_week": pools["queue_growth_per_week"],
        "staff_cost": pools["staff_cost"],
        **{key: pools[key] for key in ("staff_overtime_hours", "staff_overtime_cost") if key in pools},
        "mean_inventory_units": inventory,
        "holding_cost": holding_cost,
        **stock,
        "forecast_bias": bias,
        "forecast_mape": mape,
        **field_reports,
        "plan_nervousness": plan_nervousness(inputs.forecasts, warmup),
        "invoices": int(len(issued)),
        "billing_error_rate": len(disputed) / len(issued) if len(issued) else float("nan"),
        "days_sales_outstanding": dso,
        "mean_order_to_cash_days": _mean(cash_days),
        "return_rate": returns / shipments_delivered if shipments_delivered else float("nan"),
        "mean_refund_days": _mean(refund_days),
        "mean_service_response_days": _mean(response),
        "mean_unattended_hours": _mean(unattended),
        "max_unattended_hours": float(unattended.max()) if len(unattended) else float("nan"),
        "mean_unattended_closed_hours": _mean(closed),
        "mean_unattended_open_hours": _mean(unattended - closed),
        **goodwill_kpis(window),
        **fulfilment_kpis(orders, inputs.lines, events),
        **decision_kpis(inputs.decisions, warmup),
        **trend_kpis(inputs.orders, warmup, horizon),
        **(prepayment_kpis(orders, inputs.orders, last_paid) if prepaid else {}),
    }


def prepayment_kpis(orders: pd.DataFrame, every_order: pd.DataFrame, last_paid: pd.Series) -> dict[str, Any]:
    """Prepayment terms (``docs/kpis.md#prepayment``), present only in runs that have them.

    Over the cohort ``orders``: ``prepaid_order_share`` — of the orders selection accepted, the
    share on prepayment terms; ``mean_prepayment_wait_days`` — request to payment, over those
    paid; ``prepaid_order_to_cash_days`` — entry to the prepayment, over those paid;
    ``orders_cancelled`` — cancelled unpaid. Over every order (a balance at the horizon):
    ``unsettled_prepayments`` — paid in advance, not yet settled against invoices or paid back.
    """
    accepted = orders[accepted_at_selection(orders)]
    ahead = orders[orders["pays_in_advance"].astype(bool)]
    wait = (ahead["prepayment_received_time"] - ahead["prepayment_invoiced_time"]).dropna()
    entered = ahead.set_index("order_id")["entered_time"]
    cash_days = (last_paid.reindex(entered.index) - entered).dropna().to_numpy(dtype=float)
    balance = every_order["prepaid"] - every_order["prepayment_applied"] - every_order["prepayment_refunded"]
    return {
        "prepaid_order_share": (float(accepted["pays_in_advance"].astype(bool).mean()) if len(accepted)
                                else float("nan")),
        "mean_prepayment_wait_days": _mean(wait.to_numpy(dtype=float)),
        "prepaid_order_to_cash_days": _mean(cash_days),
        "orders_cancelled": int((orders["final_state"] == "cancelled").sum()),
        "unsettled_prepayments": round(float(balance.sum()), 2),
    }


TREND_WEEK = 7
"""Days over which the open orders are averaged at each end of a half (a whole week: a
weekday-calendar company has more open orders on a Monday morning than on a Friday night)."""


def trend_kpis(orders: pd.DataFrame, warmup: float, horizon: float) -> dict[str, Any]:
    """``trend``: is the run still moving at the horizon? Second half of the KPI window against the first.

    - ``trend.on_time_delivery_rate``: on-time share of the deliveries made in the second half
      of ``[warmup, horizon]`` minus that of the first half (every delivered order, by delivery
      time, so the cohort's start and end do not censor it);
    - ``trend.open_orders``: released, not yet delivered orders averaged over the last week
      before the horizon, over the same average for the week before the window's midpoint,
      minus 1 (+0.25: a quarter more orders in progress at the end).

    A queue that grows without bound, or a transient the warm-up did not cut, shows in both;
    so does seasonal demand. NaN when a half has no delivery or nothing is open.
    """
    if "released_time" not in orders or horizon - warmup < 2 * TREND_WEEK:
        return {}
    mid = (warmup + horizon) / 2
    delivered = orders[orders["delivered_time"].notna()]
    times, promised = delivered["delivered_time"], delivered["promised_date"]
    on_time = times <= promised + 1e-9
    first, second = (times >= warmup) & (times < mid), times >= mid
    rates = [float(on_time[part].mean()) if part.any() else float("nan") for part in (first, second)]
    released = orders["released_time"].to_numpy()
    done = orders["delivered_time"].to_numpy()

    def open_orders(end: float) -> float:
        days = [end - k for k in range(TREND_WEEK)]
        return float(np.mean([((released <= t) & ~(done <= t)).sum() for t in days]))

    early, late = open_orders(mid), open_orders(horizon)
    return {"trend": {"on_time_delivery_rate": rates[1] - rates[0],
                      "open_orders": late / early - 1 if early > 0 else float("nan")}}


def decision_kpis(decisions: pd.DataFrame | None, warmup: float) -> dict[str, Any]:
    """``decisions``: how many decisions of each kind had each outcome, from the warm-up on.

    Keys ``<kind>.<outcome>`` (``selection.reject``, ``pricing.discount, standard lead``),
    counted over the days at or after the warm-up (a decision on the day the warm-up ends
    counts when the warm-up is a whole number of days). Absent for tables saved before
    ``decisions.parquet`` existed.
    """
    if decisions is None:
        return {}
    window = decisions[decisions["day"] >= warmup]
    counts = window.groupby(["kind", "outcome"], sort=True)["count"].sum()
    return {"decisions": {f"{kind}.{label}": int(n) for (kind, label), n in counts.items()}}
