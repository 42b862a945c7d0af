"""What the commands print: KPI tables a manager can read, the same for run, compare, sweep and keynotes.

Every value is written in its KPI's unit from the glossary (:mod:`.glossary`): shares as
percentages with one decimal, money in the scenario's currency without decimals, days
and hours with two decimals, counts as whole numbers with thousands separators, an
undefined value (no deliveries yet, a window too short) as ``–``. Each row shows the
KPI's label and its key, the name used in objectives, constraints, sweeps and files.
Nested KPIs (per customer segment, work centre, staff pool, final state) are small
tables of their own; a KPI the glossary does not know is still printed, under "Other".

Like every module of ``reports`` it works on values and tables only (``kpis.json``, a
summary table), never on the simulation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from ordercycle.reports.glossary import SEGMENT_KPIS, format_value, info, number_text, unit_text

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Order flow",
        (
            "inquiries",
            "quotes_lost",
            "orders_received",
            "orders_accepted",
            "orders_rejected",
            "acceptance_rate",
            "orders_delivered",
            "orders_open_at_horizon",
            "lines_per_order",
            "final_states",
        ),
    ),
    (
        "Delivery and service",
        (
            "on_time_delivery_rate",
            "mean_lead_time_days",
            "p95_lead_time_days",
            "order_fill_rate",
            "line_fill_rate",
            "otif_rate",
            "perfect_order_rate",
            "shipments_per_order",
            "mean_service_response_days",
            "mean_unattended_hours",
            "mean_unattended_open_hours",
            "mean_unattended_closed_hours",
            "max_unattended_hours",
            "trend",
        ),
    ),
    (
        "Money",
        (
            "revenue",
            "gross_margin",
            "operating_cost",
            "staff_cost",
            "overtime_cost",
            "holding_cost",
            "backorder_cost",
            "ordering_cost",
            "profit",
            "operating_cost_per_order",
            "profit_per_order",
        ),
    ),
    (
        "Capacity and planning",
        (
            "changeovers",
            "expedite_changeovers",
            "expedites",
            "plan_changes",
            "overtime_hours",
            "forecast_bias",
            "forecast_mape",
            "reported_demand_share",
            "plan_nervousness",
            "utilization",
            "staff_utilization",
            "queue_growth_per_week",
            "staff_overtime_hours",
            "staff_overtime_cost",
        ),
    ),
    (
        "Stock",
        (
            "mean_inventory_units",
            "stock_fill_rate",
            "backorder_units",
            "mean_backorder_units",
            "open_backorder_units",
            "mean_backorder_age_days",
            "lost_sales_orders",
            "lost_sales_units",
            "replenishment_orders",
        ),
    ),
    (
        "Billing and returns",
        (
            "invoices",
            "billing_error_rate",
            "days_sales_outstanding",
            "mean_order_to_cash_days",
            "prepaid_order_share",
            "mean_prepayment_wait_days",
            "prepaid_order_to_cash_days",
            "orders_cancelled",
            "unsettled_prepayments",
            "return_rate",
            "mean_refund_days",
        ),
    ),
    ("Goodwill", ("grievances", "quotes_lost_to_goodwill", "revenue_lost_to_goodwill")),
    ("Decisions taken", ("decisions",)),
    ("By customer segment", ("by_segment",)),
)
"""The sections of the KPI table and the KPIs of each, in the order printed."""

NESTED_TABLES: dict[str, tuple[str, str, str]] = {
    "final_states": ("Final state of the cohort's orders", "state", "orders"),
    "utilization": ("Work centres: busy / staffed machine-hours", "work centre", "utilisation"),
    "staff_utilization": ("Staff pools: busy / working hours, queue growth", "pool", "utilisation"),
    "queue_growth_per_week": ("Staff pools: busy / working hours, queue growth", "pool", "queue growth"),
    "staff_overtime_hours": ("Staff overtime: person-hours past the closing and their cost", "pool", "overtime"),
    "staff_overtime_cost": ("Staff overtime: person-hours past the closing and their cost", "pool", "cost"),
    "trend": ("Still moving at the horizon? second half of the window against the first", "KPI", "change"),
    "decisions": ("Decisions by outcome, from the warm-up on", "decision.outcome", "decisions"),
}
"""Nested KPI -> (table title, row header, column header). KPIs of one title share a table."""

OTHER = "Other"


def aligned(rows: Sequence[Sequence[str]], right: Collection[int] = (), indent: str = "") -> list[str]:
    """Rows of cells as lines of aligned columns (two spaces apart); ``right``: right-aligned columns.

    A row of one cell is a heading: written as it is, and left out of the column widths.
    """
    cells = [row for row in rows if len(row) > 1]
    count = max((len(row) for row in cells), default=0)
    widths = [max((len(row[i]) for row in cells if i < len(row)), default=0) for i in range(count)]
    lines = []
    for row in rows:
        if len(row) == 1:
            lines.append(indent + row[0])
            continue
        padded = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append((indent + "  ".join(padded)).rstrip())
    return lines


def _number(value: Any) -> float | None:
    """A KPI value as a float (None, NaN and non-numbers as None; NumPy numbers too)."""
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value) if math.isfinite(value) else None


def column_header(kpi: str, currency: str = "EUR") -> str:
    """A table header for ``kpi``'s values: its label and unit, ``revenue (EUR)``; counts without a unit."""
    unit = unit_text(kpi, currency)
    return f"{info(kpi).label} ({unit})" if unit else info(kpi).label


def _scalar_row(key: str, value: Any, currency: str) -> list[str]:
    """[label, number, unit, key] of one KPI."""
    number = number_text(key, _number(value))
    unit = unit_text(key, currency) if number != "–" else ""
    return [info(key).label, number, unit, key]


def _heading(heading: str, unit: str) -> str:
    return f"{heading} ({unit})" if unit else heading


def _nested_block(
    title: str, row_header: str, parts: list[tuple[str, str, Mapping[str, Any]]], currency: str
) -> list[str]:
    """One table of nested KPIs sharing their rows: ``parts`` are (key, column heading, values)."""
    names = list(dict.fromkeys(name for _, _, values in parts for name in values))
    keys = ", ".join(f"{key}.<{row_header.replace(' ', '_')}>" for key, _, _ in parts)
    header = [row_header] + [
        _heading(heading, unit_text(f"{key}.{row_header}", currency)) for key, heading, _ in parts
    ]
    rows = [header]
    for name in names:
        cells = [number_text(f"{key}.{name}", _number(values.get(name))) for key, _, values in parts]
        rows.append([name, *cells])
    return [f"  {title} (keys {keys})"] + aligned(rows, right=range(1, len(parts) + 1), indent="    ")


def segment_table(segments: Mapping[str, Mapping[str, Any]], currency: str = "EUR") -> list[str]:
    """The per-segment KPIs: one column per segment, one row per KPI (its label and unit, and its key)."""
    names = list(segments)
    present = {kpi for values in segments.values() for kpi in values}
    kpis = [kpi for kpi in SEGMENT_KPIS if kpi in present]
    kpis += [kpi for values in segments.values() for kpi in values if kpi not in kpis]
    kpis = list(dict.fromkeys(kpis))
    rows = [["KPI", *names, "key"]]
    for kpi in kpis:
        flat = {segment: f"by_segment.{segment}.{kpi}" for segment in names}
        label = info(kpi).label
        unit = unit_text(flat[names[0]], currency)
        cells = [number_text(flat[segment], _number(segments[segment].get(kpi))) for segment in names]
        rows.append([_heading(label, unit), *cells, kpi])
    return aligned(rows, right=range(1, len(names) + 1), indent="  ")


def _matrix(key: str, nested: Mapping[str, Any], currency: str) -> list[str]:
    """A KPI nested two levels deep that has no table of its own: inner keys as rows, outer as columns."""
    columns = list(nested)
    names = list(
        dict.fromkeys(name for values in nested.values() if isinstance(values, Mapping) for name in values)
    )
    rows = [["", *columns]]
    for name in names:
        cells = []
        for column in columns:
            inner = nested[column]
            value = inner.get(name) if isinstance(inner, Mapping) else (inner if name == "" else None)
            cells.append(number_text(f"{key}.{column}.{name}", _number(value)))
        rows.append([name, *cells])
    return [f"  {info(key).label} (keys {key}.<column>.<row>)"] + aligned(
        rows, right=range(1, len(columns) + 1), indent="    "
    )


def kpi_table(kpis: Mapping[str, Any], currency: str = "EUR", warmup_days: float | None = None) -> str:
    """Every KPI of a run (``kpis.json``) by section: label, value and unit, key; nested KPIs as tables.

    With ``warmup_days`` the order-flow heading says which orders the cohort KPIs count.
    """
    placed = {key for _, keys in SECTIONS for key in keys}
    sections = [(title, [key for key in keys if key in kpis]) for title, keys in SECTIONS]
    sections.append((OTHER, [key for key in kpis if key not in placed]))
    scalars = [
        _scalar_row(key, kpis[key], currency)
        for _, keys in sections
        for key in keys
        if not isinstance(kpis[key], Mapping)
    ]
    widths = [max((len(row[i]) for row in scalars), default=0) for i in range(4)]
    lines: list[str] = []
    for title, keys in sections:
        if not keys:
            continue
        heading = title
        if title == "Order flow" and warmup_days is not None:
            heading += (
                f" (the cohort: inquiries after the {warmup_days:g}-day warm-up, followed to the horizon)"
            )
        if title == "By customer segment":
            heading += " (keys by_segment.<segment>.<key>)"
        lines += ["", heading] if lines else [heading]
        for key in keys:
            if not isinstance(kpis[key], Mapping):
                label, number, unit, name = _scalar_row(key, kpis[key], currency)
                lines.append(
                    f"  {label:<{widths[0]}}  {number:>{widths[1]}} {unit:<{widths[2]}}  {name}".rstrip()
                )
        lines += _nested_lines(kpis, keys, currency)
    return "\n".join(lines)


def _nested_lines(kpis: Mapping[str, Any], keys: list[str], currency: str) -> list[str]:
    """The tables of a section's nested KPIs, in the section's order (shared titles as one table)."""
    lines: list[str] = []
    groups: dict[str, list[str]] = {}
    for key in keys:
        if isinstance(kpis[key], Mapping):
            title = NESTED_TABLES[key][0] if key in NESTED_TABLES else key
            groups.setdefault(title, []).append(key)
    for title, members in groups.items():
        first = kpis[members[0]]
        if members == ["by_segment"]:
            block = segment_table(first, currency)
            lines += block
        elif all(not isinstance(v, Mapping) for key in members for v in kpis[key].values()):
            row_header = NESTED_TABLES[members[0]][1] if members[0] in NESTED_TABLES else "name"
            parts = [
                (key, NESTED_TABLES[key][2] if key in NESTED_TABLES else info(key).label, kpis[key])
                for key in members
            ]
            shown = title if members[0] in NESTED_TABLES else info(members[0]).label
            lines += [""] + _nested_block(shown, row_header, parts, currency)
        else:
            for key in members:
                lines += [""] + _matrix(key, kpis[key], currency)
    return lines


def run_footer(inquiries: int, cohort: Any, events: int, warmup_days: float, folder: Any) -> str:
    """The last line of ``ordercycle run``: every inquiry simulated, and the cohort the KPIs count."""
    cohort_text = number_text("inquiries", _number(cohort))
    return (
        f"{inquiries:,} inquiries simulated, {cohort_text} after the {warmup_days:g}-day warm-up "
        f"(the KPI cohort); {events:,} events -> {folder}"
    )


def _p_value(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def interval_text(
    kpi: str, mean: float, half_width: float, currency: str = "EUR", difference: bool = False
) -> str:
    """``mean ± half-width unit`` in the KPI's unit; a difference of shares in percentage points."""
    middle = number_text(kpi, _number(mean), signed=difference)
    if middle == "–":
        return "–"
    half = _number(half_width)
    text = middle if half is None else f"{middle} ± {number_text(kpi, abs(half))}"
    unit = "points" if difference and info(kpi).unit == "share" else unit_text(kpi, currency)
    return f"{text} {unit}".rstrip()


def mean_and_range(kpi: str, mean: float, low: float, high: float, currency: str = "EUR") -> str:
    """``mean [low, high] unit`` in the KPI's unit: ``95.3 [93.1, 97.5] %``."""
    numbers = [number_text(kpi, _number(value)) for value in (mean, low, high)]
    unit = unit_text(kpi, currency)
    return f"{numbers[0]} [{numbers[1]}, {numbers[2]}] {unit}".rstrip()


def comparison_table(
    summary: pd.DataFrame,
    kpis: Sequence[str],
    reference: str,
    confidence: float,
    ranked: Collection[str] = (),
    currency: str = "EUR",
) -> list[str]:
    """Per KPI (label, key) and set: mean ± half-width and the paired difference to ``reference``."""
    level = f"{100 * confidence:g} %"
    rows = [["KPI / set", f"mean ± {level} CI", f"vs {reference} (paired)", "p"]]
    for kpi in kpis:
        entry = info(kpi)
        note = " — ranked" if kpi in ranked else ""
        rows.append([f"{entry.label} ({kpi}){note}" if entry.label != kpi else f"{kpi}{note}"])
        for row in summary[summary["kpi"] == kpi].itertuples():
            mean = interval_text(kpi, row.mean, row.half_width, currency)
            if row.set == reference:
                diff, p_value = "(reference)", ""
            else:
                half = (row.diff_ci_high - row.diff_ci_low) / 2
                diff, p_value = interval_text(kpi, row.diff_mean, half, currency, True), _p_value(row.p_value)
            rows.append([f"  {row.set}", mean, diff, p_value])
    return aligned(rows, right=(1, 2, 3))


def summary_means(summary: pd.DataFrame, by: Sequence[str]) -> dict[tuple[Any, ...], dict[str, float]]:
    """The means of a summary table by ``by`` columns (e.g. point and set): key tuple -> kpi -> mean."""
    means: dict[tuple[Any, ...], dict[str, float]] = {}
    for row in summary.to_dict("records"):
        means.setdefault(tuple(row[c] for c in by), {})[str(row["kpi"])] = float(row["mean"])
    return means


def objective_text(objective: Mapping[str, Any], currency: str = "EUR") -> str:
    """The objective in words: ``score = 1 × profit; on_time_delivery_rate at least 95.0 %``."""
    weights = objective.get("weights") or {}
    text = "score = " + " + ".join(f"{weight:g} × {kpi}" for kpi, weight in weights.items())
    bounds = []
    for bound in objective.get("constraints") or []:
        kpi = bound["kpi"]
        if bound.get("min") is not None:
            bounds.append(f"{kpi} at least {format_value(kpi, bound['min'], currency)}")
        if bound.get("max") is not None:
            bounds.append(f"{kpi} at most {format_value(kpi, bound['max'], currency)}")
    return text + (f"; subject to {', '.join(bounds)}" if bounds else "")


def sweep_summary(tables: Any, first_kpis: Sequence[str] | None = None, columns: int = 5) -> list[str]:
    """The end of ``ordercycle sweep``: per point and set its rank and score by the objective, and the
    means of key KPIs.

    ``tables`` is a :class:`~ordercycle.reports.sweep_report.SweepTables` (the saved sweep);
    the KPIs are ``first_kpis``, the objective's and the headline KPIs, at most ``columns``.
    A set that breaks a constraint of the objective says which.
    """
    from ordercycle.reports.sweep_report import point_ranking, shown_kpis

    kpis = shown_kpis(tables, list(first_kpis or []))[:columns]
    means = summary_means(tables.summary, ["point", "set"])
    currency = tables.currency
    replications = int(tables.summary["n"].max()) if len(tables.summary) else 0
    lines = [
        f"Sweep summary: means of {replications} replications per point and set, ranked at each point by "
        f"the objective ({objective_text(tables.objective, currency)})"
    ]
    parameters = tables.parameters
    header = [
        "point",
        *parameters,
        "set",
        "rank",
        "score",
        *(column_header(kpi, currency) for kpi in kpis),
        "",
    ]
    rows = [header]
    for i, point in enumerate(int(p) for p in tables.points["point"]):
        values = [_parameter(v) for v in tables.points.iloc[i][parameters]]
        ranking = point_ranking(tables, point).set_index("set")
        for name in tables.sets:
            if (point, name) not in means or name not in ranking.index:
                continue
            rank = ranking.loc[name]
            cells = [number_text(kpi, _number(means[(point, name)].get(kpi))) for kpi in kpis]
            note = "" if bool(rank["feasible"]) else f"infeasible: {rank['violated']}"
            score = number_text("", _number(float(rank["score"])))
            rows.append([str(point), *values, name, str(int(rank["rank"])), score, *cells, note])
    numeric = [j + 1 for j, name in enumerate(parameters) if _numeric(tables.points[name])]
    first_kpi = len(parameters) + 2
    right = {0, *numeric, first_kpi, first_kpi + 1, *range(first_kpi + 2, first_kpi + 2 + len(kpis))}
    lines += aligned(rows, right=right, indent="  ")
    lines.append("  keys: " + ", ".join(kpis))
    return lines


def _numeric(values: pd.Series) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values.tolist())


def _parameter(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
