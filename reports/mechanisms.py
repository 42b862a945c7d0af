"""Explained verdicts: which mechanism moved which KPI, from a claim's saved replications only.

For a pair of policy sets that a keynote's checks compare, every KPI of the replication
table (``replications.parquet``: one row per set and replication, the ``decisions.<kind>.
<outcome>`` counts included) gets its paired difference under common random numbers.
The KPIs whose interval excludes zero are grouped by area — decisions taken, capacity
and overtime, stock, service, orders, money — and said largest relative change first,
after the KPIs the keynote file's ``explain:`` list names (said whether or not they moved).
The checked KPIs are left out: the verdict table has them.

Nothing here knows a policy: the mechanism shows as the KPIs that moved, e.g. "routine
against no-debrief — capacity and overtime: utilisation of technicians.electrical +8.2
points (72.1 % against 63.9 %); service: on-time delivery −3.2 points …".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ordercycle.reports.glossary import KpiInfo, format_amount, format_value, info
from ordercycle.reports.statistics import kpi_columns, summarise

AREAS: dict[str, str] = {
    "decisions": "decisions taken",
    "capacity": "capacity and overtime",
    "stock": "stock",
    "service": "service",
    "orders": "orders",
    "money": "money",
    "other": "other",
}
"""The areas a moved KPI is said under, in the order they are said."""

_NAMED_AREAS: dict[str, tuple[str, ...]] = {
    "capacity": ("overtime_hours", "overtime_cost", "changeovers", "expedite_changeovers", "expedites",
                 "plan_changes", "plan_nervousness", "staff_cost"),
    "stock": ("mean_inventory_units", "stock_fill_rate", "backorder_units", "mean_backorder_units",
              "open_backorder_units", "mean_backorder_age_days", "lost_sales_orders", "lost_sales_units",
              "replenishment_orders", "holding_cost", "backorder_cost", "ordering_cost", "line_fill_rate",
              "order_fill_rate", "forecast_bias", "forecast_mape", "reported_demand_share"),
    "service": ("on_time_delivery_rate", "mean_lead_time_days", "p95_lead_time_days",
                "mean_unattended_hours", "mean_unattended_closed_hours", "mean_unattended_open_hours",
                "max_unattended_hours", "billing_error_rate", "days_sales_outstanding",
                "mean_order_to_cash_days", "return_rate", "mean_refund_days", "mean_service_response_days",
                "grievances", "perfect_order_rate", "shipments_per_order"),
    "orders": ("inquiries", "quotes_lost", "quotes_lost_to_goodwill", "orders_received", "orders_accepted",
               "orders_rejected", "acceptance_rate", "orders_delivered", "orders_open_at_horizon", "invoices",
               "lines_per_order"),
    "money": ("revenue", "gross_margin", "operating_cost", "profit", "operating_cost_per_order",
              "profit_per_order", "revenue_lost_to_goodwill"),
}
_AREA_OF = {kpi: area for area, names in _NAMED_AREAS.items() for kpi in names}
_PREFIX_AREAS = (
    ("decisions.", "decisions"), ("utilization.", "capacity"), ("staff_utilization.", "capacity"),
)
LEFT_OUT_PREFIXES = ("final_states.", "queue_growth_per_week.", "by_segment.")
"""KPI families not searched for movements (repeats of other KPIs, or per-segment detail);
an ``explain:`` entry still names them."""
LEFT_OUT = frozenset({"otif_rate"})
PER_AREA = 3
"""At most this many moved KPIs are said per area (the largest relative changes)."""
MIN_RELATIVE = 0.005
"""A moved KPI whose relative change is below this (half a percent) is not said."""


def area_of(kpi: str) -> str | None:
    """The area a KPI is said under; None for the families left out of the search."""
    if kpi in LEFT_OUT or kpi.startswith(LEFT_OUT_PREFIXES):
        return None
    for prefix, area in _PREFIX_AREAS:
        if kpi.startswith(prefix):
            return area
    return _AREA_OF.get(kpi, "other")


_MORE_KPIS: dict[str, KpiInfo] = {
    "mean_order_to_cash_days": KpiInfo("order-to-cash time", "days", "lower",
                                       "mean time from order entry to payment"),
    "perfect_order_rate": KpiInfo("perfect orders", "share", "higher",
                                  "share of delivered orders on time, complete and invoiced right"),
    "otif_rate": KpiInfo("on time in full", "share", "higher",
                         "share of orders delivered on time and in full"),
    "line_fill_rate": KpiInfo("line fill rate", "share", "higher", "share of order lines filled from stock"),
    "order_fill_rate": KpiInfo("order fill rate", "share", "higher", "share of orders filled from stock"),
    "lines_per_order": KpiInfo("lines per order", "count", None, "mean order lines per order"),
    "shipments_per_order": KpiInfo("shipments per order", "count", None,
                                   "mean shipments per delivered order"),
}
"""KPIs the glossary does not describe, as the explanation names them."""
_UNIT_STAND_INS = {
    "share": "on_time_delivery_rate", "days": "mean_lead_time_days", "count": "orders_received",
    "money": "revenue", "hours": "mean_unattended_hours", "units": "mean_inventory_units",
    "percent": "forecast_mape",
}


def kpi_info(kpi: str) -> KpiInfo:
    """The glossary's entry, the staff pools' utilisation (``staff_utilization.<pool>``) and a few
    KPIs the glossary does not describe."""
    head, _, pool = kpi.partition(".")
    if head == "staff_utilization" and pool:
        return KpiInfo(f"utilisation of {pool}", "share", None, f"busy / working person-hours of {pool}")
    return _MORE_KPIS.get(kpi) or info(kpi)


def _stand_in(kpi: str) -> str:
    """A glossary KPI of the same unit, for formatting KPIs the glossary does not know."""
    unit = kpi_info(kpi).unit
    return kpi if info(kpi).unit == unit else _UNIT_STAND_INS.get(unit, kpi)


def amount(kpi: str, value: float, currency: str = "EUR", signed: bool = True) -> str:
    """A difference in the KPI's unit (shares in points, stock in units)."""
    text = format_amount(_stand_in(kpi), value, currency, signed=signed)
    if kpi_info(kpi).unit == "units" and math.isfinite(value) and not text.endswith(" units"):
        return f"{text} units"  # the glossary's own formatting may already say the unit
    return text


def value_text(kpi: str, value: float, currency: str = "EUR") -> str:
    """A KPI value in its unit."""
    return format_value(_stand_in(kpi), value, currency)


def _count(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def movements(replications: pd.DataFrame, set_name: str, against: str, confidence: float,
              kpis: Iterable[str] | None = None) -> pd.DataFrame:
    """Per KPI of the pair's replications: both means, the paired difference (``set − against``)
    with its interval, the relative change, whether the interval excludes zero, and the area.

    Decision counts a run never had are absent from its KPIs: they count as zero here.
    Rows are sorted by area (in :data:`AREAS` order), then relative change, largest first.
    """
    pair = replications[replications["set"].isin([set_name, against])]
    if kpis is None:
        names = [k for k in kpi_columns(pair) if area_of(k) is not None]
    else:
        names = [k for k in dict.fromkeys(kpis) if k in pair.columns]
    decided = [k for k in names if k.startswith("decisions.")]
    if decided:
        pair = pair.assign(**{k: pair[k].fillna(0.0) for k in decided})
    if not names or pair.empty or against not in set(pair["set"]) or set_name not in set(pair["set"]):
        return pd.DataFrame(columns=["kpi", "area", "mean", "against_mean", "diff_mean", "diff_ci_low",
                                     "diff_ci_high", "p_value", "relative", "significant"])
    summary = summarise(pair, against, confidence, kpis=names)
    treated = summary[summary["set"] == set_name].set_index("kpi")
    base = summary[summary["set"] == against].set_index("kpi")
    rows = []
    for kpi in names:
        mine, theirs = float(treated.at[kpi, "mean"]), float(base.at[kpi, "mean"])
        low, high = float(treated.at[kpi, "diff_ci_low"]), float(treated.at[kpi, "diff_ci_high"])
        diff = float(treated.at[kpi, "diff_mean"])
        scale = max(abs(mine), abs(theirs)) if math.isfinite(mine) and math.isfinite(theirs) else math.nan
        relative = abs(diff) / scale if scale and math.isfinite(scale) and math.isfinite(diff) else 0.0
        rows.append({
            "kpi": kpi, "area": area_of(kpi) or "other", "mean": mine, "against_mean": theirs,
            "diff_mean": diff, "diff_ci_low": low, "diff_ci_high": high,
            "p_value": float(treated.at[kpi, "p_value"]), "relative": relative,
            "significant": bool(math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0)),
        })
    table = pd.DataFrame(rows)
    order = {area: i for i, area in enumerate(AREAS)}
    table["_area"] = table["area"].map(order)
    table["_position"] = range(len(table))
    return (table.sort_values(["_area", "relative", "_position"], ascending=[True, False, True])
            .drop(columns=["_area", "_position"]).reset_index(drop=True))


def phrase(row: Any, currency: str = "EUR") -> str:
    """One moved KPI in words: ``mean inventory −314 units (−16 %)``, ``on-time delivery −3.2 points
    (92.1 % against 95.3 %)``, ``expedite 'grant' 22.0 against 149 a run``."""
    kpi = row.kpi
    if kpi.startswith("decisions."):
        kind, _, outcome = kpi.removeprefix("decisions.").partition(".")
        return f"{kind} '{outcome}' {_count(row.mean)} against {_count(row.against_mean)} a run"
    label = kpi_info(kpi).label
    size = amount(kpi, row.diff_mean, currency)
    if kpi_info(kpi).unit == "share":
        return (f"{label} {size} ({value_text(kpi, row.mean, currency)} against "
                f"{value_text(kpi, row.against_mean, currency)})")
    if row.against_mean and math.isfinite(row.against_mean):
        return f"{label} {size} ({relative_text(row.diff_mean / abs(row.against_mean))})"
    return f"{label} {size} (from {value_text(kpi, row.against_mean, currency)})"


def relative_text(share: float) -> str:
    """A relative change as ``+16 %`` (one decimal below 10 %), with a true minus sign."""
    text = f"{100 * share:+.1f} %" if abs(share) < 0.095 else f"{100 * share:+.0f} %"
    return text.replace("-", "−")


def _interval(row: Any, currency: str) -> str:
    return f"[{amount(row.kpi, row.diff_ci_low, currency)}, {amount(row.kpi, row.diff_ci_high, currency)}]"


def changed_kinds(experiment: Mapping[str, Any], sets: Sequence[str]) -> list[str]:
    """Decision kinds that any of ``sets`` changes against the experiment's reference."""
    changes = (experiment.get("set_notes") or {}).get("changes", {})
    return list(dict.fromkeys(c["decision"] for name in sets for c in changes.get(name, [])))


def explain_pair(replications: pd.DataFrame, experiment: Mapping[str, Any], set_name: str, against: str,
                 confidence: float, checked: Iterable[str] = (), named: Sequence[str] = (),
                 currency: str = "EUR") -> list[str]:
    """The sentences that explain one compared pair: the KPIs the claim names first, then per
    area the moved KPIs (interval excluding zero), largest relative change first."""
    checked = set(checked)
    lines: list[str] = []
    if named:
        said = movements(replications, set_name, against, confidence, kpis=named)
        known = set(said["kpi"])
        parts = []
        for kpi in named:
            if kpi not in known:
                parts.append(f"{kpi}: not in the results")
                continue
            row = next(said[said["kpi"] == kpi].itertuples())
            text = phrase(row, currency)
            if not row.significant:
                text += f", not told apart from zero {_interval(row, currency)}"
            parts.append(text)
        lines.append("named by the claim: " + "; ".join(parts))
    moved = movements(replications, set_name, against, confidence)
    moved = moved[moved["significant"] & ~moved["kpi"].isin(checked | set(named))
                  & (moved["relative"] >= MIN_RELATIVE)]
    first = changed_kinds(experiment, [set_name, against])
    for area, title in AREAS.items():
        rows = moved[moved["area"] == area]
        if area == "decisions" and len(rows):
            kinds = rows["kpi"].str.split(".").str[1]
            rows = rows.assign(_changed=~kinds.isin(first)).sort_values("_changed", kind="stable")
        rows = rows.head(PER_AREA + (1 if area == "decisions" else 0))
        if len(rows):
            lines.append(f"{title}: " + "; ".join(phrase(row, currency) for row in rows.itertuples()))
    if len(lines) == (1 if named else 0):
        lines.append("no other KPI moved beyond its noise")
    return lines


def pairs(checks: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The distinct (set, against) pairs of a claim's checks, in order."""
    return list(dict.fromkeys(checks))


def explanation(replications: pd.DataFrame, experiment: Mapping[str, Any],
                checks: Sequence[tuple[str, str, str]], confidence: float, named: Sequence[str] = (),
                currency: str = "EUR") -> list[tuple[str, list[str]]]:
    """Per distinct (set, against) pair of ``checks`` (``(set, against, kpi)`` triples): a heading
    ``set against against`` and the sentences of :func:`explain_pair`."""
    explained = []
    for set_name, against in pairs((s, a) for s, a, _ in checks):
        checked = [k for s, a, k in checks if (s, a) == (set_name, against)]
        explained.append((f"{set_name} against {against}",
                          explain_pair(replications, experiment, set_name, against, confidence, checked,
                                       named, currency)))
    return explained


LEAD = ("Why — the KPIs that moved: paired differences whose {level} interval excludes zero, by area, "
        "largest relative change first (the checked KPIs are in the table; changes under {minimum} "
        "left out; the KPIs the claim names come first, moved or not).")
"""The sentence that introduces an explanation."""


def lead(confidence: float) -> str:
    """The introduction of the explanation at a confidence level."""
    return LEAD.format(level=f"{confidence:.0%}", minimum=f"{100 * MIN_RELATIVE:g} %")
