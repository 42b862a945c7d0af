"""What every KPI means, its unit and which way is better; the colours of the departments.

One table shared by the run report (dashboard and glossary), the comparison report
(axis labels, plain-language sentences) and the keynote verdicts. Definitions are
the short form of ``docs/kpis.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KpiInfo:
    """How to name, format and judge one KPI."""

    label: str
    unit: str  # "share", "days", "hours", "count", "money", "percent", "units", "per order", "per week"
    better: str | None  # "higher", "lower" or None (neither is better in itself)
    definition: str


KPIS: dict[str, KpiInfo] = {
    "inquiries": KpiInfo("inquiries", "count", None, "inquiries that arrived after the warm-up (the cohort)"),
    "quotes_lost": KpiInfo(
        "quotes lost", "count", "lower", "cohort inquiries whose quote the customer declined"
    ),
    "orders_received": KpiInfo(
        "orders received", "count", "higher", "cohort orders whose quote was accepted and entry completed"
    ),
    "orders_accepted": KpiInfo("orders accepted", "count", "higher", "cohort orders released by selection"),
    "orders_rejected": KpiInfo("orders rejected", "count", "lower", "cohort orders turned down by selection"),
    "acceptance_rate": KpiInfo(
        "acceptance rate", "share", "higher", "share of the cohort's selection decisions that accepted"
    ),
    "orders_delivered": KpiInfo(
        "orders delivered", "count", "higher", "cohort orders fully delivered (and installed) by the horizon"
    ),
    "orders_open_at_horizon": KpiInfo(
        "orders open at horizon", "count", None, "cohort orders still in progress when the run ended"
    ),
    "on_time_delivery_rate": KpiInfo(
        "on-time delivery", "share", "higher", "share of delivered orders delivered by the promised date"
    ),
    "mean_lead_time_days": KpiInfo(
        "mean lead time", "days", "lower", "mean time from order entry to final delivery"
    ),
    "p95_lead_time_days": KpiInfo(
        "95th-percentile lead time", "days", "lower", "95th percentile of entry-to-delivery time"
    ),
    "revenue": KpiInfo(
        "revenue", "money", "higher", "invoiced in the window, net of corrections and refunds"
    ),
    "gross_margin": KpiInfo("gross margin", "money", "higher", "revenue minus cost of dispatched goods"),
    "operating_cost": KpiInfo(
        "operating cost",
        "money",
        "lower",
        "capacity, staff, changeover, plan-change, freight, holding, back-order, ordering, dispute and "
        "overtime cost",
    ),
    "staff_cost": KpiInfo(
        "staff cost",
        "money",
        "lower",
        "paid working hours of the staff pools and technicians × their hourly cost (part of operating cost)",
    ),
    "profit": KpiInfo("profit", "money", "higher", "gross margin minus operating cost"),
    "operating_cost_per_order": KpiInfo(
        "operating cost per delivered order", "money", "lower",
        "operating cost over the cohort orders delivered: a set's totals per order, when sets deliver "
        "more or less",
    ),
    "profit_per_order": KpiInfo(
        "profit per delivered order", "money", "higher", "profit over the cohort orders delivered",
    ),
    "changeovers": KpiInfo("changeovers", "count", "lower", "machine changeovers between setup families"),
    "expedite_changeovers": KpiInfo(
        "expedite changeovers",
        "count",
        "lower",
        "changeovers an expedite caused: into the expedited job's family and back (part of changeovers)",
    ),
    "expedites": KpiInfo("expedites granted", "count", None, "expedite requests production granted"),
    "overtime_hours": KpiInfo(
        "overtime hours",
        "hours",
        None,
        "hours calendared work centres worked past their closing (the overtime policy's grants)",
    ),
    "overtime_cost": KpiInfo(
        "overtime cost",
        "money",
        "lower",
        "overtime hours × each centre's overtime hour cost (part of operating cost)",
    ),
    "plan_changes": KpiInfo("plan changes", "count", "lower", "expedites, shift changes and re-plans"),
    "mean_inventory_units": KpiInfo(
        "mean inventory", "units", None, "time-weighted stock on hand, all products"
    ),
    "holding_cost": KpiInfo(
        "holding cost", "money", "lower", "mean stock on hand × holding cost per unit-day × days"
    ),
    "stock_fill_rate": KpiInfo(
        "stock fill rate",
        "share",
        "higher",
        "share of the units released make-to-stock orders asked for that stock covered at once",
    ),
    "backorder_units": KpiInfo("back-ordered units", "units", "lower", "units back-ordered in the window"),
    "mean_backorder_units": KpiInfo(
        "mean back-orders", "units", "lower", "time-weighted back-ordered units not yet filled"
    ),
    "open_backorder_units": KpiInfo(
        "open back-orders", "units", "lower", "back-ordered units still unfilled at the horizon"
    ),
    "mean_backorder_age_days": KpiInfo(
        "back-order age", "days", "lower", "mean days a back-order waited for stock (filled in the window)"
    ),
    "lost_sales_orders": KpiInfo(
        "lost sales", "count", "lower", "orders lost as stock could not cover them (lost-sales policies)"
    ),
    "lost_sales_units": KpiInfo(
        "lost sales units", "units", "lower", "units of the orders lost for want of stock"
    ),
    "replenishment_orders": KpiInfo(
        "replenishment orders", "count", None, "batches released to production for stock"
    ),
    "backorder_cost": KpiInfo(
        "back-order cost", "money", "lower", "mean back-ordered units × shortage cost per unit-day × days"
    ),
    "ordering_cost": KpiInfo(
        "ordering cost", "money", "lower", "replenishment orders × fixed cost per replenishment order"
    ),
    "forecast_bias": KpiInfo(
        "forecast bias", "share", None, "(planned − actual) / actual demand; positive means over-forecast"
    ),
    "forecast_mape": KpiInfo(
        "forecast MAPE", "percent", "lower", "mean absolute percentage error of the planned figure"
    ),
    "reported_demand_share": KpiInfo(
        "demand reported ahead",
        "share",
        None,
        "share of demand the field reported to planning ahead of its period (debriefed visits)",
    ),
    "plan_nervousness": KpiInfo(
        "plan nervousness",
        "share",
        "lower",
        "mean relative change of each product's planned units from one period to the next",
    ),
    "grievances": KpiInfo(
        "grievances", "count", "lower", "late deliveries, wrong invoices and slow refunds customers remember"
    ),
    "quotes_lost_to_goodwill": KpiInfo(
        "quotes lost to goodwill",
        "count",
        "lower",
        "quotes declined that the customer would have accepted without its grievances",
    ),
    "revenue_lost_to_goodwill": KpiInfo(
        "revenue lost to goodwill", "money", "lower", "quoted value of the quotes lost to goodwill"
    ),
    "invoices": KpiInfo("invoices", "count", None, "invoices issued in the window"),
    "billing_error_rate": KpiInfo(
        "billing error rate", "share", "lower", "share of invoices disputed because they were wrong"
    ),
    "days_sales_outstanding": KpiInfo(
        "days to payment",
        "days",
        "lower",
        "amount-weighted mean time from invoice to payment (paid invoices)",
    ),
    "mean_order_to_cash_days": KpiInfo(
        "mean order to cash",
        "days",
        "lower",
        "mean time from order entry to the order's last payment (orders paid by the horizon)",
    ),
    "order_fill_rate": KpiInfo(
        "order fill rate",
        "share",
        "higher",
        "share of delivered orders whose first shipment carried every line in full",
    ),
    "line_fill_rate": KpiInfo(
        "line fill rate",
        "share",
        "higher",
        "share of the delivered orders' lines that left whole in one shipment",
    ),
    "otif_rate": KpiInfo(
        "on time in full", "share", "higher", "share of delivered orders on time and in one shipment"
    ),
    "perfect_order_rate": KpiInfo(
        "perfect orders",
        "share",
        "higher",
        "share of delivered orders on time, in full, with no return request and no disputed invoice",
    ),
    "shipments_per_order": KpiInfo(
        "shipments per order", "per order", None, "mean number of shipments of a delivered order"
    ),
    "lines_per_order": KpiInfo("lines per order", "per order", None, "order lines per cohort inquiry"),
    "prepaid_order_share": KpiInfo(
        "prepaid orders", "share", None, "share of the accepted cohort orders on prepayment terms"),
    "mean_prepayment_wait_days": KpiInfo(
        "wait for prepayment", "days", "lower",
        "mean time from the prepayment request (order confirmation) to the customer's payment"),
    "prepaid_order_to_cash_days": KpiInfo(
        "order to cash (prepaid)", "days", "lower", "mean time from entry to the prepayment, prepaid orders"),
    "orders_cancelled": KpiInfo(
        "orders cancelled unpaid", "count", "lower",
        "cohort orders cancelled because their prepayment did not come in time"),
    "unsettled_prepayments": KpiInfo(
        "unsettled prepayments", "money", None,
        "paid in advance but not yet settled against invoices or paid back, at the horizon"),
    "return_rate": KpiInfo("return rate", "share", "lower", "return requests per delivered shipment"),
    "mean_refund_days": KpiInfo(
        "mean refund time", "days", "lower", "mean time from return request to refund"
    ),
    "mean_service_response_days": KpiInfo(
        "mean service response", "days", "lower", "mean time from service ticket to the crew on site"
    ),
    "mean_unattended_hours": KpiInfo(
        "mean unattended time", "hours", "lower", "mean hours an order waited with nobody working on it"
    ),
    "mean_unattended_closed_hours": KpiInfo(
        "unattended while closed",
        "hours",
        "lower",
        "mean hours of an order's unattended time during which its queue's owner was closed (calendar)",
    ),
    "mean_unattended_open_hours": KpiInfo(
        "unattended while open",
        "hours",
        "lower",
        "mean hours of an order's unattended time during working time: the queue, not the calendar",
    ),
    "max_unattended_hours": KpiInfo(
        "max unattended time", "hours", "lower", "longest unattended time of any cohort order"
    ),
}

UNIT_LABELS = {
    "share": "share",
    "days": "days",
    "hours": "hours",
    "count": "count",
    "money": "currency",
    "percent": "%",
    "units": "units",
    "per order": "per order",
    "per week": "per week",
}

# One colour per department (tab20-like, colour-blind friendly pairs), used by every plot.
DEPARTMENT_COLOURS: dict[str, str] = {
    "planning": "#1f77b4",
    "sales": "#ff7f0e",
    "estimating": "#2ca02c",
    "order_entry": "#d62728",
    "selection": "#9467bd",
    "production": "#8c564b",
    "warehouse": "#e377c2",
    "logistics": "#7f7f7f",
    "fulfillment": "#bcbd22",
    "billing": "#17becf",
    "customer": "#aec7e8",
    "finance": "#ffbb78",
    "returns": "#98df8a",
    "service": "#ff9896",
}

# Colours of policy sets in comparison plots, in set order.
SET_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


PREPAYMENT_KPIS = frozenset({"prepaid_order_share", "mean_prepayment_wait_days", "prepaid_order_to_cash_days",
                             "orders_cancelled", "unsettled_prepayments"})
"""KPIs of runs with prepayment terms only: a report lists them only where the run has them (so
the reports of other runs stay as they were)."""


SEGMENT_KPIS = (
    "inquiries",
    "orders_received",
    "orders_accepted",
    "orders_rejected",
    "acceptance_rate",
    "orders_delivered",
    "on_time_delivery_rate",
    "mean_lead_time_days",
    "p95_lead_time_days",
    "mean_unattended_hours",
    "revenue",
    "gross_margin",
)
"""The KPIs computed per customer segment, as ``by_segment.<segment>.<kpi>``."""


def segment_kpi(segment: str, kpi: str) -> str:
    """The flat name of a per-segment KPI: ``by_segment.strategic.on_time_delivery_rate``."""
    return f"by_segment.{segment}.{kpi}"


def info(kpi: str) -> KpiInfo:
    """The KPI's entry; nested KPIs (``utilization.machining``, ``final_states.open``,
    ``by_segment.strategic.on_time_delivery_rate``) are derived."""
    if kpi in KPIS:
        return KPIS[kpi]
    head, _, tail = kpi.partition(".")
    if head == "by_segment" and tail.rpartition(".")[2] in KPIS:
        segment, _, base = tail.rpartition(".")
        entry = KPIS[base]
        return KpiInfo(
            f"{entry.label} ({segment})",
            entry.unit,
            entry.better,
            f"{entry.definition}; {segment} segment only",
        )
    if head == "utilization":
        return KpiInfo(f"utilisation of {tail}", "share", None, f"busy / staffed machine-hours at {tail}")
    if head == "staff_utilization":
        return KpiInfo(f"utilisation of {tail}", "share", None, f"busy / working hours of the pool {tail}")
    if head == "queue_growth_per_week":
        return KpiInfo(
            f"queue growth at {tail}",
            "per week",
            "lower",
            f"requests a week by which the queue of the pool {tail} grew over the window",
        )
    if head == "staff_overtime_hours":
        return KpiInfo(f"overtime of {tail}", "hours", None,
                       f"person-hours the pool {tail} worked past its closing (the staff overtime "
                       "policy's grants)")
    if head == "staff_overtime_cost":
        return KpiInfo(f"overtime cost of {tail}", "money", "lower",
                       f"overtime person-hours of the pool {tail} × its overtime hour cost (part of "
                       "staff cost)")
    if head == "trend":
        label = {"on_time_delivery_rate": "on-time delivery, second half − first half of the window",
                 "open_orders": "orders in progress, last week against the week before mid-window"}
        return KpiInfo(f"trend: {label.get(tail, tail)}", "share", None,
                       "whether the run still moves at the horizon (a growing queue, an uncut transient or "
                       "seasonal demand)")
    if head == "decisions":
        kind, _, outcome = tail.partition(".")
        return KpiInfo(f"{kind} decisions: {outcome}", "count", None,
                       f"{kind} decisions whose outcome was '{outcome}', from the warm-up on")
    if head == "final_states":
        return KpiInfo(
            f"orders ending {tail.replace('_', ' ')}",
            "count",
            None,
            f"cohort orders whose final state is {tail}",
        )
    return KpiInfo(kpi.replace("_", " "), "", None, "")


def axis_label(kpi: str, currency: str = "EUR") -> str:
    """``label (unit)`` for an axis."""
    entry = info(kpi)
    unit = currency if entry.unit == "money" else UNIT_LABELS.get(entry.unit, entry.unit)
    return f"{entry.label} ({unit})" if unit else entry.label


def unit_text(kpi: str, currency: str = "EUR") -> str:
    """The unit written after a value of ``kpi``: ``%``, the currency, ``days``… ("" for counts)."""
    unit = info(kpi).unit
    if unit in ("share", "percent"):
        return "%"
    if unit == "money":
        return currency
    if unit == "count":
        return ""
    return UNIT_LABELS.get(unit, unit)


def number_text(kpi: str, value: float | None, signed: bool = False) -> str:
    """A KPI value's number without its unit, at the KPI's precision; ``–`` if undefined.

    Shares as percentages with one decimal, money without decimals, days and hours with two
    (one from 100), counts and units as whole numbers when they are whole (a mean count with
    one decimal below 100), thousands separated throughout.
    """
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return "–"
    unit = info(kpi).unit
    sign = "+" if signed and value > 0 else ""
    magnitude = abs(value)
    whole = float(value).is_integer()
    if unit == "share":
        text = f"{100 * value:,.1f}"
    elif unit == "percent":
        text = f"{value:,.1f}"
    elif unit in ("per order", "per week"):
        text = f"{value:,.2f}"
    elif unit == "money":
        text = f"{value:,.0f}"
        text = "0" if text == "-0" else text
    elif unit in ("days", "hours"):
        text = f"{value:,.2f}" if magnitude < 100 else f"{value:,.1f}"
    elif unit in ("count", "units"):
        text = f"{value:,.0f}" if whole or magnitude >= 100 else f"{value:,.1f}"
    elif whole or magnitude >= 1000:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}"
    return sign + text


def format_value(kpi: str, value: float | None, currency: str = "EUR", signed: bool = False) -> str:
    """A KPI value for people: shares as %, money with thousands separators and the currency."""
    text = number_text(kpi, value, signed)
    unit = unit_text(kpi, currency)
    return f"{text} {unit}" if unit and text != "–" else text


def format_amount(kpi: str, value: float, currency: str = "EUR", signed: bool = False) -> str:
    """A difference's size in words fitting the unit (shares in percentage points); unsigned by default."""
    if value is None or not math.isfinite(value):
        return "–"
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ""
    if info(kpi).unit == "share":
        return f"{sign}{100 * abs(value):.1f} points"
    return sign + format_value(kpi, abs(value), currency)
