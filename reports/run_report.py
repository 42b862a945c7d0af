"""The run report: one simulation run as one HTML file and a Markdown summary.

Built from a run's output folder only (``events``, ``orders``, ``forecasts``, ``plans``
parquet files, ``kpis.json``, ``run.json``; see ``docs/outputs.md``), so
``ordercycle report DIR`` rebuilds it without re-running. Sections: the KPI dashboard
(definitions on hover and in a glossary), the order journey and where orders age,
queues and utilisation over time, forecast vs actual demand, a production window as a
Gantt chart, inventory, and billing / payment / returns / service times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ordercycle.policies.input_files import read_json
from ordercycle.reports import bottlenecks, run_figures
from ordercycle.reports.comparison_report import ReportInputError
from ordercycle.reports.glossary import KPIS, PREPAYMENT_KPIS, SEGMENT_KPIS, format_value, info
from ordercycle.reports.html import Page, render_pngs

RUN_FILES = [
    "events.parquet",
    "orders.parquet",
    "forecasts.parquet",
    "plans.parquet",
    "kpis.json",
    "run.json",
]
DASHBOARD_GROUPS = {
    "Orders": [
        "inquiries",
        "orders_received",
        "orders_accepted",
        "orders_rejected",
        "quotes_lost",
        "orders_delivered",
        "orders_open_at_horizon",
    ],
    "Delivery": [
        "on_time_delivery_rate",
        "mean_lead_time_days",
        "p95_lead_time_days",
        "mean_unattended_hours",
        "max_unattended_hours",
    ],
    "Money": ["revenue", "gross_margin", "operating_cost", "staff_cost", "profit"],
    "Production and planning": [
        "changeovers",
        "expedite_changeovers",
        "expedites",
        "plan_changes",
        "forecast_bias",
        "forecast_mape",
        "plan_nervousness",
    ],
    "Stock": [
        "stock_fill_rate",
        "mean_inventory_units",
        "mean_backorder_units",
        "mean_backorder_age_days",
        "lost_sales_orders",
        "replenishment_orders",
        "holding_cost",
    ],
    "Billing, returns, service": [
        "invoices",
        "billing_error_rate",
        "days_sales_outstanding",
        "prepaid_order_share",  # these four in runs with prepayment terms only
        "mean_prepayment_wait_days",
        "prepaid_order_to_cash_days",
        "orders_cancelled",
        "return_rate",
        "mean_refund_days",
        "mean_service_response_days",
    ],
}


@dataclass
class RunTables:
    """The saved outputs of one run."""

    events: pd.DataFrame
    orders: pd.DataFrame
    forecasts: pd.DataFrame
    plans: pd.DataFrame
    kpis: dict[str, Any]
    provenance: dict[str, Any]
    pools: pd.DataFrame | None = None
    """The ``pools`` table (None for run folders written before it existed)."""
    centres: pd.DataFrame | None = None
    """The ``centres`` table (None when no work centre is on a calendar)."""

    @property
    def warmup(self) -> float:
        """Warm-up of the run, days."""
        return float(self.provenance.get("warmup_days", 0.0))

    @property
    def horizon(self) -> float:
        """Horizon of the run, days."""
        return float(
            self.provenance.get("horizon_days", self.events["time"].max() if len(self.events) else 0)
        )

    @property
    def currency(self) -> str:
        """Currency of the scenario."""
        return str(self.provenance.get("scenario", {}).get("currency", "EUR"))


def load_run(folder: str | Path) -> RunTables:
    """Read a run output folder; missing files are reported by name."""
    root = Path(folder)
    missing = [
        f"{root / name}: missing (is this a run output folder?)"
        for name in RUN_FILES
        if not (root / name).is_file()
    ]
    if missing:
        raise ReportInputError(missing)
    return RunTables(
        *(pd.read_parquet(root / f"{name}.parquet") for name in ("events", "orders", "forecasts", "plans")),
        read_json(root / "kpis.json", allow_nan=True),
        read_json(root / "run.json", allow_nan=True),
        pd.read_parquet(root / "pools.parquet") if (root / "pools.parquet").is_file() else None,
        pd.read_parquet(root / "centres.parquet") if (root / "centres.parquet").is_file() else None,
    )


def pool_rows(tables: RunTables) -> list[list[str]]:
    """Per resource pool: the field that staffs it, people, calendar, working hours, utilisation,
    queue growth and whether it is saturated (over the KPI window)."""
    utilisation, growth = bottlenecks.from_kpis(tables.kpis)
    saturated = set(bottlenecks.saturated(utilisation, growth))
    pools = tables.pools
    rows = []
    for pool in sorted(utilisation):
        people, calendar, hours = "–", "–", "–"
        if pools is not None:
            mine = pools[(pools["pool"] == pool) & (pools["day"] >= int(tables.warmup))]
            if len(mine):
                people = str(int(mine["people"].iloc[-1]))
                calendar = str(mine["calendar"].iloc[-1]) or "around the clock"
                hours = f"{mine['open_hours'].sum():,.0f}"
        share, rise = utilisation[pool], growth.get(pool, float("nan"))
        rows.append([pool, bottlenecks.staffing_field(pool), people, calendar, hours,
                     f"{share:.0%}" if share == share else "–", f"{rise:+.1f}" if rise == rise else "–",
                     "saturated" if pool in saturated else ""])
    return rows


def dashboard_rows(kpis: dict[str, Any], currency: str) -> list[tuple[str, str, str, str]]:
    """(group, label, formatted value, definition) for every scalar KPI of the dashboard, in order."""
    rows = []
    for group, names in DASHBOARD_GROUPS.items():
        for name in names:
            if name in kpis:
                rows.append(
                    (group, info(name).label, format_value(name, kpis[name], currency), info(name).definition)
                )
    for centre, share in sorted((kpis.get("utilization") or {}).items()):
        rows.append(
            (
                "Production and planning",
                f"utilisation of {centre}",
                format_value("on_time_delivery_rate", share),
                f"busy / staffed machine-hours at {centre}",
            )
        )
    return rows


def segment_rows(kpis: dict[str, Any], currency: str) -> tuple[list[str], list[list[str]]]:
    """Header and one row per customer segment of the per-segment KPIs (empty if the run has none)."""
    segments = kpis.get("by_segment") or {}
    header = ["segment"] + [info(name).label for name in SEGMENT_KPIS]
    rows = [
        [segment] + [_cell(name, values.get(name), currency) for name in SEGMENT_KPIS]
        for segment, values in segments.items()
    ]
    return header, rows


def _cell(name: str, value: Any, currency: str) -> str:
    """A KPI value for a table cell; counts as whole numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return format_value(name, value, currency)


def gantt_start(tables: RunTables) -> float:
    """The production window shown: two days from the middle of the window after the warm-up."""
    return float(int((tables.warmup + tables.horizon) / 2))


FIGURES = ("journey", "ageing", "queues", "utilisation", "forecast", "gantt", "inventory", "money_flow")
"""The run report's figures, in the order they are drawn and shown."""


def build_run_report(tables: RunTables, workers: int | None = None) -> tuple[Page, str]:
    """The HTML page and the Markdown summary of a run (figures drawn by ``workers`` processes:
    :func:`ordercycle.reports.html.render_pngs`)."""
    prov, kpis, currency = tables.provenance, tables.kpis, tables.currency
    policies = ", ".join(
        f"{decision} = {choice.get('name')}" for decision, choice in sorted(prov.get("policies", {}).items())
    )
    meta = (
        f"scenario {prov.get('scenario_name')} ({str(prov.get('scenario_hash', ''))[:12]}), seed "
        f"{prov.get('seed')}, replication {prov.get('replication')}, horizon {tables.horizon:g} d, "
        f"warm-up {tables.warmup:g} d, ordercycle {prov.get('ordercycle_version')}"
    )
    page = Page(f"Run report — {prov.get('scenario_name')}", meta)
    rows = dashboard_rows(kpis, currency)
    section = page.section("KPI dashboard")
    warnings = bottlenecks.warnings(*bottlenecks.from_kpis(kpis))
    if warnings:
        section.bullets(warnings, css="warning")
    section.paragraph(
        f"Policies: {policies}. Order KPIs count the orders whose inquiry arrived after the "
        f"warm-up ({tables.warmup:g} d); money and time-based KPIs cover days "
        f"{tables.warmup:g}–{tables.horizon:g}. Hover a KPI for its definition."
    )
    section.table(
        ["group", "KPI", "value"],
        [(g, label, value) for g, label, value, _ in rows],
        numeric=(2,),
        titles=[row[3] for row in rows],
        title_column=1,
    )
    header, segment_table = segment_rows(kpis, currency)
    if segment_table:
        section.paragraph("Per customer segment (the same definitions, restricted to the segment's orders):")
        section.table(
            header,
            segment_table,
            numeric=tuple(range(1, len(header))),
        )

    journey = run_figures.journey(tables.events, tables.orders, tables.warmup)
    events, orders, horizon = tables.events, tables.orders, tables.horizon
    start = gantt_start(tables)
    # Every figure is drawn from the tables alone; render_pngs draws them in worker processes.
    png = dict(zip(FIGURES, render_pngs([
        lambda: run_figures.journey_figure(journey),
        lambda: run_figures.ageing_figure(orders, tables.warmup),
        lambda: run_figures.queues_figure(events, horizon),
        lambda: run_figures.utilisation_figure(events, tables.plans, horizon, centres=tables.centres),
        lambda: run_figures.forecast_figure(tables.forecasts),
        lambda: run_figures.gantt_figure(events, orders, start),
        lambda: run_figures.inventory_figure(events),
        lambda: run_figures.money_flow_figure(events),
    ], workers), strict=True))
    section = page.section("The order journey")
    if png["journey"] is not None:
        section.image(
            png["journey"],
            "Mean days per stage for delivered cohort orders; solid: someone works on "
            "the order, hatched: it waits (or is with the customer or the carrier).",
        )
    section.table(
        ["stage", "department", "total (days)", "worked (days)", "waiting (days)", "orders"],
        [
            (
                r.stage,
                r.department,
                f"{r.total_days:.2f}",
                f"{r.worked_days:.2f}",
                f"{r.waiting_days:.2f}",
                r.orders,
            )
            for r in journey.itertuples()
        ],
        numeric=(2, 3, 4, 5),
    )
    _add(
        section,
        png["ageing"],
        "Where orders age: who holds the open orders at the horizon, and the spread of unattended time.",
    )

    section = page.section("Queues and utilisation")
    pools = pool_rows(tables)
    if pools:
        section.paragraph(
            "Resource pools over the KPI window: utilisation is the work begun per working "
            "person-hour (the pool's calendar; 24 h a day without one); queue growth is the mean "
            f"queue of the last week minus the first, per week. Saturated: busy ≥ "
            f"{bottlenecks.UTILISATION_LIMIT:.0%}, or a queue growing ≥ {bottlenecks.GROWTH_LIMIT:g} a week "
            f"in a pool busy ≥ {bottlenecks.GROWTH_UTILISATION:.0%}."
        )
        section.table(["pool", "staffed by", "people", "calendar", "working hours", "utilisation",
                       "queue growth / week", ""], pools, numeric=(2, 4, 5, 6))
    _add(
        section,
        png["queues"],
        "Items waiting for a person (office) or a machine (work centres), sampled every 6 hours.",
    )
    _add(
        section,
        png["utilisation"],
        "Utilisation can exceed 1: a job started in a shift runs to completion after it ends.",
    )

    section = page.section("Forecast, production and inventory")
    _add(
        section,
        png["forecast"],
        "Planned figure = marketing's inflated figure after production's discount (the forecasting game).",
    )
    _add(
        section,
        png["gantt"],
        "One bar per operation on each machine; red outline: an expedited order; hatched black: changeover.",
    )
    _add(section, png["inventory"], "Stock on hand of the made-to-stock products.")

    section = page.section("Billing, payment, returns and service")
    _add(
        section,
        png["money_flow"],
        "Dashed line: the mean. Days to payment are per invoice here (the KPI is amount-weighted).",
    )

    glossary = page.section("Glossary")
    glossary.table(
        ["KPI", "key", "definition"],
        [(entry.label, key, entry.definition) for key, entry in KPIS.items()
         if key in kpis or key not in PREPAYMENT_KPIS],
    )
    glossary.paragraph("Full definitions, units and warm-up rules: docs/kpis.md of the ordercycle package.")
    return page, run_markdown(tables, rows)


def _add(section: Any, png: bytes | None, caption: str) -> None:
    if png is None:
        section.paragraph(f"(nothing to plot in this run: {caption})")
    else:
        section.image(png, caption)


def run_markdown(tables: RunTables, rows: list[tuple[str, str, str, str]]) -> str:
    """The short Markdown summary written next to the HTML report."""
    prov = tables.provenance
    lines = [
        f"# Run — {prov.get('scenario_name')}, seed {prov.get('seed')}",
        "",
        f"Horizon {tables.horizon:g} d, warm-up {tables.warmup:g} d; {len(tables.events):,} events, "
        f"{len(tables.orders):,} inquiries. Plots: `report.html`.",
        "",
        "| KPI | value |",
        "|---|---|",
    ]
    lines += [f"| {label} | {value} |" for _, label, value, _ in rows]
    warnings = bottlenecks.warnings(*bottlenecks.from_kpis(tables.kpis))
    if warnings:
        lines += ["", *(f"- **{line}**" for line in warnings)]
    header, segment_table = segment_rows(tables.kpis, tables.currency)
    if segment_table:
        lines += ["", "Per customer segment:", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in segment_table]
    return "\n".join(lines) + "\n"


def write_run_report(folder: str | Path, workers: int | None = None) -> tuple[Path, Path]:
    """Build the report of a run folder from its saved tables: ``report.html`` and ``report.md``."""
    root = Path(folder)
    page, markdown = build_run_report(load_run(root), workers)
    html_path = page.write(root / "report.html")
    md_path = root / "report.md"
    md_path.write_text(markdown, encoding="utf-8")
    return html_path, md_path
