"""Figures of the run report: pure functions of a run's saved tables (``docs/outputs.md``).

Every function takes DataFrames (events, orders, forecasts, plans) and returns a
matplotlib figure, or None when the run holds nothing to draw. Times are simulated
days; colours follow :data:`~ordercycle.reports.glossary.DEPARTMENT_COLOURS`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ordercycle.reports.glossary import DEPARTMENT_COLOURS, SET_COLOURS
from ordercycle.reports.html import plt
from ordercycle.reports.kpis import paused_hours

# Queues of the office departments: (department, arrival activity, start of work activity, object id).
OFFICE_QUEUES = [
    ("sales", "inquiry_received", "sales_contact_started", "order_id"),
    ("estimating", "sales_contact_completed", "estimation_started", "order_id"),
    ("order_entry", "quote_accepted", "entry_started", "order_id"),
    ("selection", "order_entered", "selection_started", "order_id"),
    ("billing", "invoice_disputed", "dispute_rework_started", "invoice_id"),
    ("returns", "return_requested", "return_approval_started", "return_id"),
    ("finance", "return_received", "refund_started", "return_id"),
]


def is_activity(events: pd.DataFrame, activity: str | list[str]) -> np.ndarray:
    """Boolean mask of the events of ``activity`` (one name or several), from the categorical's
    codes when the column is one (a year has ~500,000 events: this is the reports' hot filter)."""
    names = [activity] if isinstance(activity, str) else list(activity)
    column = events["activity"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        codes = [categories.get_loc(name) for name in names if name in categories]
        return np.isin(column.cat.codes.to_numpy(), codes)
    return column.isin(names).to_numpy()


def activity_rows(events: pd.DataFrame, activity: str | list[str], columns: list[str] | None = None,
                  where: np.ndarray | None = None) -> pd.DataFrame:
    """The events of ``activity`` (and of ``where``, a further mask), with only ``columns`` (all by
    default): taking a few columns of the matching rows costs far less than every column."""
    mask = is_activity(events, activity)
    if where is not None:
        mask &= where
    return events.loc[mask, columns] if columns is not None else events[mask]


def first_times(events: pd.DataFrame, activity: str | list[str], key: str) -> pd.Series:
    """Time of the first event of ``activity`` per object ``key`` (index: the id)."""
    rows = activity_rows(events, activity, [key, "time"], where=events[key].notna().to_numpy())
    return rows.groupby(rows[key].astype("int64"))["time"].min()


def durations(events: pd.DataFrame, start: str | list[str], end: str | list[str], key: str) -> pd.Series:
    """Time from the first ``start`` to the first ``end`` event per object (objects with both)."""
    begin, finish = first_times(events, start, key), first_times(events, end, key)
    both = begin.index.intersection(finish.index)
    return (finish[both] - begin[both]).clip(lower=0)


def _level(arrivals: np.ndarray, departures: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Number present at each grid time: arrivals so far minus departures so far."""
    return np.searchsorted(np.sort(arrivals), grid, side="right") - np.searchsorted(
        np.sort(departures), grid, side="right"
    )


def journey(events: pd.DataFrame, orders: pd.DataFrame, warmup: float) -> pd.DataFrame:
    """Mean days per stage of the cycle for the cohort's delivered orders, split into worked and waiting.

    Columns: ``stage, department, total_days, worked_days, waiting_days, orders``.
    """
    cohort = orders[(orders["inquiry_time"] >= warmup) & orders["delivered_time"].notna()].set_index(
        "order_id"
    )
    ids = cohort.index
    ordered = events["order_id"].notna().to_numpy()
    op = activity_rows(events, ["operation_started", "operation_completed"],
                       ["activity", "time", "order_id", "job_id"], where=ordered)
    job_time = durations(op, "operation_started", "operation_completed", "job_id")
    job_order = op.drop_duplicates("job_id").set_index("job_id")["order_id"].astype("int64")
    production_work = job_time.groupby(job_order.reindex(job_time.index)).sum()
    produced = cohort["production_done_time"].fillna(cohort["released_time"])
    stages = [
        (
            "inquiry to quote",
            "estimating",
            cohort["quote_time"] - cohort["inquiry_time"],
            durations(events, "sales_contact_started", "sales_contact_completed", "order_id").add(
                durations(events, "estimation_started", "quote_sent", "order_id"), fill_value=0
            ),
        ),
        (
            "customer decides",
            "customer",
            first_times(events, "quote_accepted", "order_id").reindex(ids) - cohort["quote_time"],
            None,
        ),
        (
            "order entry",
            "order_entry",
            cohort["entered_time"] - first_times(events, "quote_accepted", "order_id").reindex(ids),
            durations(events, "entry_started", "order_entered", "order_id"),
        ),
        (
            "selection",
            "selection",
            cohort["decision_time"] - cohort["entered_time"],
            durations(events, "selection_started", ["order_accepted", "order_rejected"], "order_id"),
        ),
        ("production", "production", produced - cohort["released_time"], production_work),
        (
            "picking and dispatch",
            "warehouse",
            cohort["first_ship_time"] - produced,
            durations(events, "picking_started", "shipment_dispatched", "order_id"),
        ),
        ("transit and installation", "logistics", cohort["delivered_time"] - cohort["first_ship_time"], None),
    ]
    rows = []
    for stage, department, total, worked in stages:
        total = total.reindex(ids).clip(lower=0)
        if worked is None:  # the customer's or carrier's time: no internal worker
            worked_mean = 0.0
        else:
            worked_mean = (
                float(worked.reindex(ids).fillna(0).clip(upper=total.fillna(0)).mean()) if len(ids) else 0.0
            )
        total_mean = float(total.mean()) if total.notna().any() else 0.0
        rows.append(
            {
                "stage": stage,
                "department": department,
                "total_days": total_mean,
                "worked_days": min(worked_mean, total_mean),
                "waiting_days": max(total_mean - worked_mean, 0.0),
                "orders": int(total.notna().sum()),
            }
        )
    return pd.DataFrame(rows)


def journey_figure(table: pd.DataFrame) -> Any:
    """Horizontal stacked bars: worked vs waiting days per stage, coloured by department."""
    if table["orders"].max() == 0:
        return None
    figure, axis = plt.subplots(figsize=(9, 4))
    positions = np.arange(len(table))[::-1]
    colours = [DEPARTMENT_COLOURS.get(d, "#999999") for d in table["department"]]
    axis.barh(positions, table["worked_days"], color=colours, label="being worked on")
    axis.barh(
        positions,
        table["waiting_days"],
        left=table["worked_days"],
        color=colours,
        alpha=0.35,
        hatch="//",
        label="waiting (or with the customer / carrier)",
    )
    axis.set_yticks(
        positions,
        [f"{s}\n({d})" for s, d in zip(table["stage"], table["department"], strict=True)],
        fontsize=8,
    )
    axis.set_xlabel("mean time per delivered order (days)")
    axis.set_title("The order journey: where the time goes (cohort orders delivered by the horizon)")
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def ageing_figure(orders: pd.DataFrame, warmup: float) -> Any:
    """Where orders age: open orders at the horizon by owner, and unattended hours of the cohort."""
    cohort = orders[orders["inquiry_time"] >= warmup]
    if cohort.empty:
        return None
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    open_orders = cohort[cohort["final_state"] == "open"]["owner_at_horizon"].value_counts().sort_values()
    left.barh(
        open_orders.index.astype(str),
        open_orders.to_numpy(),
        color=[DEPARTMENT_COLOURS.get(o, "#999999") for o in open_orders.index],
    )
    left.set_xlabel("orders (count)")
    left.set_title("Open orders at the horizon, by owner", fontsize=10)
    right.hist(cohort["unattended_hours"].dropna(), bins=40, color="#7f7f7f")
    right.set_yscale("log")
    right.set_xlabel("unattended time per order (hours)")
    right.set_ylabel("orders (count, log scale)")
    right.set_title("Unattended time: hours waiting with nobody on it", fontsize=10)
    figure.tight_layout()
    return figure


def queues_figure(events: pd.DataFrame, horizon: float, step: float = 0.25) -> Any:
    """Queue lengths over time: office departments (top) and work centres (bottom)."""
    grid = np.arange(0, horizon + step, step)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for department, arrival, start, key in OFFICE_QUEUES:
        arrivals = first_times(events, arrival, key).to_numpy()
        starts = first_times(events, start, key)
        if len(arrivals) == 0:
            continue
        top.plot(
            grid,
            _level(arrivals, starts.to_numpy(), grid),
            color=DEPARTMENT_COLOURS[department],
            label=department,
            linewidth=1,
        )
    top.set_ylabel("waiting (count)")
    top.set_title("Office queues: items waiting for a person", fontsize=10)
    top.legend(loc="upper right", fontsize=8, ncol=4)
    queued = activity_rows(events, "operation_queued", ["time", "resource", "job_id"])
    started = activity_rows(events, "operation_started", ["time", "job_id"])
    centres = sorted(queued["resource"].dropna().unique())
    for i, centre in enumerate(centres):
        jobs = queued[queued["resource"] == centre]
        begin = started[started["job_id"].isin(jobs["job_id"])]
        bottom.plot(
            grid,
            _level(jobs["time"].to_numpy(), begin["time"].to_numpy(), grid),
            color=SET_COLOURS[i % len(SET_COLOURS)],
            label=centre,
            linewidth=1,
        )
    bottom.set_ylabel("jobs waiting (count)")
    bottom.set_xlabel("simulated day")
    bottom.set_title("Work-centre queues: production jobs waiting for a machine", fontsize=10)
    bottom.legend(loc="upper right", fontsize=8, ncol=4)
    figure.tight_layout()
    return figure


def utilisation_figure(events: pd.DataFrame, plans: pd.DataFrame, horizon: float, week: float = 7.0,
                       centres: pd.DataFrame | None = None) -> Any:
    """Weekly utilisation per work centre: busy machine-hours / staffed machine-hours.

    A work centre in ``centres`` (on a working calendar) is staffed by its ``open_hours``
    (working days and overtime) and busy without its pauses at shift end.
    """
    if plans.empty:
        return None
    edges = np.arange(0, horizon + week, week)
    op = activity_rows(events, ["operation_started", "operation_completed"],
                       ["activity", "time", "resource", "job_id"])
    busy = durations(op, "operation_started", "operation_completed", "job_id") * 24
    if centres is not None:
        pauses = activity_rows(events, ["operation_paused", "operation_resumed", "operation_started"],
                               ["activity", "time", "job_id"])
        busy = busy - paused_hours(pauses).reindex(busy.index).fillna(0.0)
    starts = op[op["activity"] == "operation_started"].drop_duplicates("job_id").set_index("job_id")
    centre = starts["resource"].astype(str).str.rsplit(":", n=1).str[0].reindex(busy.index)
    week_of = np.floor(starts["time"].reindex(busy.index) / week)
    calendared = set() if centres is None else set(centres["work_centre"].astype(str))
    figure, axis = plt.subplots(figsize=(10, 3.8))
    for i, (name, rows) in enumerate(plans.sort_values("period_start").groupby("work_centre", sort=True)):
        staffed = np.zeros(len(edges) - 1)
        if name in calendared:
            assert centres is not None
            days = centres[centres["work_centre"] == name]
            weeks = (days["day"].to_numpy() // week).astype(int)
            np.add.at(staffed, np.minimum(weeks, len(staffed) - 1), days["open_hours"].to_numpy(dtype=float))
        else:
            bounds = list(rows["period_start"]) + [horizon]
            for row, end in zip(rows.itertuples(), bounds[1:], strict=True):
                for w in range(len(staffed)):
                    overlap = max(0.0, min(end, edges[w + 1]) - max(row.period_start, edges[w]))
                    staffed[w] += overlap * row.machines * row.shifts * 8
        hours = busy[centre == name].groupby(week_of[centre == name]).sum()
        used = np.array([hours.get(float(w), 0.0) for w in range(len(staffed))])
        share = np.divide(used, staffed, out=np.full_like(used, np.nan), where=staffed > 0)
        axis.step(edges[:-1], share, where="post", color=SET_COLOURS[i % len(SET_COLOURS)], label=name)
    axis.set_xlabel("simulated day (weeks start)")
    axis.set_ylabel("utilisation (share of staffed hours)")
    axis.set_title("Utilisation per work centre, by week of operation start", fontsize=10)
    axis.legend(loc="best", fontsize=8, ncol=4)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def forecast_figure(forecasts: pd.DataFrame) -> Any:
    """Forecast vs actual demand per planning period (all products), with the bias in the title."""
    if forecasts.empty:
        return None
    per = forecasts.groupby("period_start")[
        ["statistical_units", "marketing_units", "planned_units", "actual_units"]
    ].sum()
    actual = per["actual_units"].sum()
    bias = (per["planned_units"].sum() - actual) / actual if actual else float("nan")
    figure, axis = plt.subplots(figsize=(10, 3.8))
    axis.plot(per.index, per["actual_units"], color="black", linewidth=1.5, label="actual demand")
    axis.plot(per.index, per["statistical_units"], color=DEPARTMENT_COLOURS["planning"], label="statistical")
    axis.plot(
        per.index,
        per["marketing_units"],
        color=DEPARTMENT_COLOURS["sales"],
        linestyle="--",
        label="marketing (inflated)",
    )
    axis.plot(
        per.index,
        per["planned_units"],
        color=DEPARTMENT_COLOURS["production"],
        linestyle=":",
        label="planned (after production's discount)",
    )
    axis.set_xlabel("start of planning period (day)")
    axis.set_ylabel("units per period, all products")
    axis.set_title(f"Forecast vs actual demand — bias of the planned figure {bias:+.1%}", fontsize=10)
    axis.legend(loc="best", fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def gantt_figure(events: pd.DataFrame, orders: pd.DataFrame, start: float, days: float = 2.0) -> Any:
    """Machines over a production window: operations by product, changeovers, expedites and breakdowns."""
    end = start + days
    op = activity_rows(events, ["operation_started", "operation_completed"],
                       ["activity", "time", "resource", "job_id", "order_id", "product_id"])
    begin = op[op["activity"] == "operation_started"].drop_duplicates("job_id").set_index("job_id")
    finish = op[op["activity"] == "operation_completed"].drop_duplicates("job_id").set_index("job_id")["time"]
    jobs = begin.assign(end=finish.reindex(begin.index).fillna(end))
    jobs = jobs[(jobs["time"] < end) & (jobs["end"] > start)]
    if jobs.empty:
        return None
    products = orders.set_index("order_id")["product_id"]
    expedited = set(orders.loc[orders["expedited"], "order_id"])
    product = (
        jobs["product_id"].astype(object).where(jobs["product_id"].notna(), jobs["order_id"].map(products))
    )
    machines = sorted(jobs["resource"].astype(str).unique())
    row_of = {m: i for i, m in enumerate(machines)}
    names = sorted(str(p) for p in product.dropna().unique())
    colour = {p: SET_COLOURS[i % len(SET_COLOURS)] for i, p in enumerate(names)}
    figure, axis = plt.subplots(figsize=(10, 0.35 * len(machines) + 1.8))
    for job, row in jobs.iterrows():
        name = str(product.get(job))
        hot = (
            row["order_id"] is not pd.NA
            and not pd.isna(row["order_id"])
            and int(row["order_id"]) in expedited
        )
        axis.barh(
            row_of[str(row["resource"])],
            row["end"] - row["time"],
            left=row["time"],
            height=0.7,
            color=colour.get(name, "#999999"),
            edgecolor="red" if hot else "white",
            linewidth=1.5 if hot else 0.3,
        )
    window = ((events["time"] >= start) & (events["time"] < end)).to_numpy()
    changes = activity_rows(events, "changeover_started", ["time", "resource", "quantity"], where=window)
    for row in changes.itertuples():
        if str(row.resource) in row_of:
            axis.barh(
                row_of[str(row.resource)],
                float(row.quantity) / 24,
                left=row.time,
                height=0.7,
                color="black",
                hatch="xx",
                alpha=0.6,
            )
    downs = activity_rows(events, "machine_breakdown", ["time", "resource"], where=window)
    axis.scatter(
        downs["time"],
        [row_of.get(str(r), np.nan) for r in downs["resource"]],
        marker="x",
        color="red",
        zorder=3,
    )
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[p]) for p in names]
    handles += [
        plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="red", linewidth=1.5),
        plt.Rectangle((0, 0), 1, 1, color="black", hatch="xx", alpha=0.6),
        plt.Line2D([], [], marker="x", color="red", linestyle=""),
    ]
    axis.legend(
        handles,
        names + ["expedited order", "changeover", "breakdown"],
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    axis.set_yticks(range(len(machines)), machines, fontsize=8)
    axis.set_xlim(start, end)
    axis.set_xlabel("simulated day")
    axis.set_title(f"Production window, days {start:g}–{end:g}: operations by product", fontsize=10)
    figure.tight_layout()
    return figure


def inventory_figure(events: pd.DataFrame) -> Any:
    """Stock on hand per product over time, from stock events."""
    moves = activity_rows(events, ["stock_initial", "stock_received", "stock_issued"],
                          ["activity", "time", "product_id", "quantity"])
    if moves.empty:
        return None
    sign = np.where(moves["activity"] == "stock_issued", -1.0, 1.0)
    moves = moves.assign(delta=sign * moves["quantity"].astype(float))
    figure, axis = plt.subplots(figsize=(10, 3.6))
    for i, (product, rows) in enumerate(moves.groupby(moves["product_id"].astype(str), sort=True)):
        axis.step(
            rows["time"],
            rows["delta"].cumsum(),
            where="post",
            label=product,
            color=SET_COLOURS[i % len(SET_COLOURS)],
        )
    axis.set_xlabel("simulated day")
    axis.set_ylabel("stock on hand (units)")
    axis.set_title("Inventory over time, per product", fontsize=10)
    axis.legend(loc="best", fontsize=8)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def money_flow_figure(events: pd.DataFrame, week: float = 7.0) -> Any:
    """Billing, payment, returns and service: weekly invoices and disputes, and three time distributions."""
    issued = first_times(events, "invoice_issued", "invoice_id")
    if issued.empty:
        return None
    disputed = first_times(events, "invoice_disputed", "invoice_id")
    figure, axes = plt.subplots(2, 2, figsize=(10, 6.5))
    bins = np.arange(0, issued.max() + week, week)
    axes[0, 0].hist(
        [issued.to_numpy(), disputed.to_numpy()],
        bins=bins,
        label=["issued", "disputed"],
        color=[DEPARTMENT_COLOURS["billing"], DEPARTMENT_COLOURS["customer"]],
    )
    axes[0, 0].set_xlabel("simulated day")
    axes[0, 0].set_ylabel("invoices per week (count)")
    rate = len(disputed) / len(issued)
    axes[0, 0].set_title(f"Invoices and disputes ({rate:.1%} disputed)", fontsize=10)
    axes[0, 0].legend(fontsize=8)
    panels = [
        (
            axes[0, 1],
            durations(events, "invoice_issued", "payment_received", "invoice_id"),
            "finance",
            "days from invoice to payment",
            "Days to payment",
        ),
        (
            axes[1, 0],
            durations(events, "return_requested", "refund_paid", "return_id"),
            "returns",
            "days from return request to refund",
            "Refund times",
        ),
        (
            axes[1, 1],
            durations(events, "ticket_opened", ["service_started", "installation_started"], "ticket_id"),
            "service",
            "days from ticket to crew on site",
            "Service response",
        ),
    ]
    for axis, values, department, label, title in panels:
        if len(values):
            axis.hist(values, bins=30, color=DEPARTMENT_COLOURS[department])
            axis.axvline(values.mean(), color="black", linestyle="--", label=f"mean {values.mean():.1f} d")
            axis.legend(fontsize=8)
        axis.set_xlabel(label)
        axis.set_ylabel("count")
        axis.set_title(f"{title} (n = {len(values)})", fontsize=10)
    figure.tight_layout()
    return figure
