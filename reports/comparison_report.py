"""The comparison report: what ``ordercycle compare`` found, as one HTML file and a Markdown summary.

Built from the saved tables of a compare folder only (``replications.parquet``,
``summary.parquet``, ``ranking.json``, ``experiment.json``; see ``docs/experiments.md``),
so it can be rebuilt at any time without re-running: a forest plot of every set's mean
with its confidence interval, the paired differences against the reference, a
trade-off chart with the non-dominated sets marked, the ranking with the groups that
cannot be told apart, and one plain-language sentence per KPI generated from the
numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.policies.input_files import read_json
from ordercycle.reports import bottlenecks, explain
from ordercycle.reports.glossary import SET_COLOURS, axis_label, format_amount, format_value, info
from ordercycle.reports.html import Page, escape, number, plt

HEADLINE_KPIS = [
    "on_time_delivery_rate",
    "mean_lead_time_days",
    "orders_delivered",
    "revenue",
    "operating_cost",
    "profit",
    "operating_cost_per_order",
    "profit_per_order",
    "billing_error_rate",
    "days_sales_outstanding",
    "mean_refund_days",
    "mean_unattended_hours",
]
TRADE_OFF = ("operating_cost_per_order", "on_time_delivery_rate")
"""The trade-off chart's axes: cost per delivered order (a set that delivers less is not cheaper
for it), against on-time delivery. Tables saved before per-order KPIs use ``operating_cost``."""


class ReportInputError(Exception):
    """A folder that does not hold what a report needs, as ``path: reason`` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ComparisonTables:
    """The saved results of one comparison."""

    replications: pd.DataFrame
    summary: pd.DataFrame
    ranking: dict[str, Any]
    experiment: dict[str, Any]

    @property
    def reference(self) -> str:
        """The set the differences are taken against."""
        return str(self.experiment["reference"])

    @property
    def sets(self) -> list[str]:
        """Set names in the experiment's order."""
        return list(dict.fromkeys(self.summary["set"]))

    @property
    def confidence(self) -> float:
        """Confidence level of every interval."""
        return float(self.experiment.get("confidence", 0.95))

    @property
    def currency(self) -> str:
        """Currency of the scenario."""
        return str(self.experiment.get("scenario", {}).get("currency", "EUR"))


def load_comparison(folder: str | Path) -> ComparisonTables:
    """Read a compare output folder; a missing file is reported by name."""
    root = Path(folder)
    needed = ["replications.parquet", "summary.parquet", "ranking.json", "experiment.json"]
    missing = [
        f"{root / name}: missing (is this a compare output folder?)"
        for name in needed
        if not (root / name).is_file()
    ]
    if missing:
        raise ReportInputError(missing)
    return ComparisonTables(
        pd.read_parquet(root / "replications.parquet"),
        pd.read_parquet(root / "summary.parquet"),
        read_json(root / "ranking.json", allow_nan=True),
        read_json(root / "experiment.json", allow_nan=True),
    )


def shown_kpis(tables: ComparisonTables) -> list[str]:
    """The objective's KPIs first, then the headline KPIs present in the summary."""
    objective = tables.experiment.get("objective", {})
    ranked = list(objective.get("weights", {})) + [c["kpi"] for c in objective.get("constraints", [])]
    present = set(tables.summary["kpi"])
    return [k for k in dict.fromkeys(ranked + HEADLINE_KPIS) if k in present]


def difference_sentence(kpi: str, row: Any, reference: str, confidence: float, currency: str = "EUR") -> str:
    """One plain-language sentence about a paired difference (``row`` has diff_mean, diff_ci_low/high).

    Example: "informed: on-time delivery 6.1 ± 1.4 points higher than status-quo (better)".
    """
    entry = info(kpi)
    diff, low, high = float(row.diff_mean), float(row.diff_ci_low), float(row.diff_ci_high)
    if not all(math.isfinite(v) for v in (diff, low, high)):
        return f"{row.set}: {entry.label} cannot be compared with {reference} (too few replications)."
    half = (high - low) / 2
    if low <= 0 <= high:
        return (
            f"{row.set}: {entry.label} differs from {reference} by less than the noise "
            f"({format_amount(kpi, diff, currency, signed=True)} ± {format_amount(kpi, half, currency)}, "
            f"{confidence:.0%} interval includes zero)."
        )
    direction = "higher" if diff > 0 else "lower"
    judgement = ""
    if entry.better is not None:
        judgement = " (better)" if direction == entry.better else " (worse)"
    return (
        f"{row.set}: {entry.label} {format_amount(kpi, diff, currency)} ± "
        f"{format_amount(kpi, half, currency)} {direction} than {reference}{judgement}."
    )


def sentences(tables: ComparisonTables, kpis: list[str]) -> dict[str, list[str]]:
    """Per KPI, one sentence per non-reference set."""
    result = {}
    for kpi in kpis:
        rows = tables.summary[(tables.summary["kpi"] == kpi) & (tables.summary["set"] != tables.reference)]
        result[kpi] = [
            difference_sentence(kpi, row, tables.reference, tables.confidence, tables.currency)
            for row in rows.itertuples()
        ]
    return result


def non_dominated(points: pd.DataFrame, x: str, y: str, x_better: str, y_better: str) -> list[bool]:
    """Whether each row is on the Pareto front of (x, y) given which way each is better.

    A row is dominated when another is at least as good on both and strictly better on one.
    """
    sx = 1.0 if x_better == "higher" else -1.0
    sy = 1.0 if y_better == "higher" else -1.0
    values = np.column_stack([sx * points[x].to_numpy(float), sy * points[y].to_numpy(float)])
    flags = []
    for i, point in enumerate(values):
        dominated = any(
            np.all(other >= point) and np.any(other > point) for j, other in enumerate(values) if j != i
        )
        flags.append(bool(not dominated and np.all(np.isfinite(point))))
    return flags


def _tidy_axis(axis: Any, kpi: str) -> None:
    """At most five ticks; money with thousands separators instead of an offset."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(5))
    if info(kpi).unit == "money":
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def _colours(sets: list[str]) -> dict[str, str]:
    return {name: SET_COLOURS[i % len(SET_COLOURS)] for i, name in enumerate(sets)}


def forest_plot(tables: ComparisonTables, kpis: list[str]) -> Any:
    """Every set's mean with its confidence interval, one panel per KPI."""
    sets, colours = tables.sets, _colours(tables.sets)
    columns = 2
    rows = math.ceil(len(kpis) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(10, 1.1 + rows * (0.35 * len(sets) + 0.9)), squeeze=False
    )
    for axis, kpi in zip(axes.flat, kpis, strict=False):
        part = tables.summary[tables.summary["kpi"] == kpi].set_index("set").reindex(sets)
        positions = np.arange(len(sets))[::-1]
        for pos, name in zip(positions, sets, strict=True):
            mean, low, high = part.loc[name, ["mean", "ci_low", "ci_high"]]
            axis.errorbar(
                [mean],
                [pos],
                xerr=[[mean - low], [high - mean]] if np.isfinite(low) else None,
                fmt="o",
                color=colours[name],
                capsize=4,
            )
        axis.set_yticks(positions, sets)
        axis.set_xlabel(axis_label(kpi, tables.currency))
        axis.set_title(info(kpi).label, fontsize=10)
        _tidy_axis(axis, kpi)
        axis.grid(axis="x", alpha=0.3)
    for axis in list(axes.flat)[len(kpis) :]:
        axis.set_visible(False)
    figure.suptitle(
        f"Means with {tables.confidence:.0%} confidence intervals "
        f"({int(tables.summary['n'].max())} replications per set)"
    )
    figure.tight_layout()
    return figure


def differences_plot(tables: ComparisonTables, kpis: list[str]) -> Any:
    """Paired differences to the reference with intervals; green better, red worse, grey not significant."""
    others = [s for s in tables.sets if s != tables.reference]
    columns = 2
    rows = math.ceil(len(kpis) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(10, 1.1 + rows * (0.35 * len(others) + 0.9)), squeeze=False
    )
    for axis, kpi in zip(axes.flat, kpis, strict=False):
        part = tables.summary[tables.summary["kpi"] == kpi].set_index("set")
        better = info(kpi).better
        positions = np.arange(len(others))[::-1]
        for pos, name in zip(positions, others, strict=True):
            diff, low, high = (float(v) for v in part.loc[name, ["diff_mean", "diff_ci_low", "diff_ci_high"]])
            colour = "#7f7f7f"
            if np.isfinite(low) and (low > 0 or high < 0) and better is not None:
                colour = "#2ca02c" if (diff > 0) == (better == "higher") else "#d62728"
            axis.errorbar(
                [diff],
                [pos],
                xerr=[[diff - low], [high - diff]] if np.isfinite(low) else None,
                fmt="s",
                color=colour,
                capsize=4,
            )
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_yticks(positions, others)
        axis.set_xlabel(f"difference, {axis_label(kpi, tables.currency)}")
        axis.set_title(f"{info(kpi).label}: set − {tables.reference}", fontsize=10)
        _tidy_axis(axis, kpi)
        axis.grid(axis="x", alpha=0.3)
    for axis in list(axes.flat)[len(kpis) :]:
        axis.set_visible(False)
    figure.suptitle(
        f"Paired differences to {tables.reference} ({tables.confidence:.0%} intervals; "
        "green better, red worse, grey cannot be told apart)"
    )
    figure.tight_layout()
    return figure


def trade_off_plot(tables: ComparisonTables, x: str, y: str) -> Any:
    """Mean of ``y`` against mean of ``x`` per set, with intervals; non-dominated sets ringed and joined."""
    means = tables.summary.pivot(index="set", columns="kpi", values="mean").reindex(tables.sets)
    halves = tables.summary.pivot(index="set", columns="kpi", values="half_width").reindex(tables.sets)
    front = non_dominated(means.reset_index(), x, y, info(x).better or "higher", info(y).better or "higher")
    colours = _colours(tables.sets)
    figure, axis = plt.subplots(figsize=(8, 5.5))
    for name, on_front in zip(tables.sets, front, strict=True):
        saturated = bottlenecks.saturated(*bottlenecks.from_kpis(means.loc[name].dropna().to_dict()))
        if saturated:  # a set held back by a saturated pool: its point is not a policy trade-off
            axis.scatter(means.loc[name, x], means.loc[name, y], s=200, marker="x", color="#d62728", zorder=3)
        axis.errorbar(
            means.loc[name, x],
            means.loc[name, y],
            xerr=halves.loc[name, x],
            yerr=halves.loc[name, y],
            fmt="o",
            color=colours[name],
            capsize=3,
            label=name + (" (non-dominated)" if on_front else "")
            + (f" — saturated: {', '.join(saturated)}" if saturated else ""),
        )
        if on_front:
            axis.scatter(means.loc[name, x], means.loc[name, y], s=260, facecolors="none", edgecolors="black")
    frontier = means[front].sort_values(x)
    if len(frontier) > 1:
        axis.plot(frontier[x], frontier[y], color="black", linestyle="--", linewidth=0.8)
    axis.set_xlabel(
        axis_label(x, tables.currency) + (f" — {info(x).better} is better" if info(x).better else "")
    )
    axis.set_ylabel(
        axis_label(y, tables.currency) + (f" — {info(y).better} is better" if info(y).better else "")
    )
    axis.set_title(f"Trade-off: {info(y).label} against {info(x).label}\n"
                   "(ringed: non-dominated sets; red cross: a saturated resource pool)", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    return figure, [name for name, flag in zip(tables.sets, front, strict=True) if flag]


def report_warnings(tables: ComparisonTables) -> list[str]:
    """Every warning of a comparison: saturated pools, policies that did not act, weak evidence."""
    return (bottlenecks.comparison_warnings(tables.summary, tables.sets)
            + explain.action_warnings(tables.replications, tables.experiment)
            + explain.evidence_warnings(tables.summary, tables.experiment, tables.currency))


def build_comparison_report(tables: ComparisonTables, title: str | None = None) -> tuple[Page, str]:
    """The HTML page and the Markdown summary of a comparison."""
    experiment = tables.experiment
    kpis = shown_kpis(tables)
    level = f"{tables.confidence:.0%}"
    replications = int(tables.summary["n"].max()) if len(tables.summary) else 0
    meta = (
        f"scenario {experiment.get('scenario_name')} ({str(experiment.get('scenario_hash', ''))[:12]}), "
        f"seed {experiment.get('seed')}, {replications} replications per set, warm-up "
        f"{experiment.get('warmup_days', 0):g} d, horizon {experiment.get('horizon_days', 0):g} d, "
        f"confidence {level}, ordercycle {experiment.get('package_version')}"
    )
    page = Page(title or f"Comparison of policy sets — {experiment.get('scenario_name')}", meta)
    said = sentences(tables, kpis)
    winner = tables.ranking.get("winner")
    described = explain.set_descriptions(experiment)
    if described:
        section = page.section("What each set is")
        section.paragraph(f"Each set as the decisions it changes against the reference ({tables.reference}).")
        for name, lines in described.items():
            section.paragraph(f"<b>{escape(name)}</b>", raw=True)
            section.bullets(lines)
    summary_section = page.section("In plain words")
    summary_section.paragraph(
        f"Reference set: {tables.reference}. Best feasible set by the objective: "
        f"{winner or 'none (no set keeps every constraint)'}."
    )
    warnings = report_warnings(tables)
    if warnings:
        summary_section.paragraph("<b>Read with care</b>", raw=True)
        summary_section.bullets(warnings, css="warning")
    for kpi in kpis:
        entry = info(kpi)
        summary_section.paragraph(f"<b>{escape(entry.label)}</b> — {escape(entry.definition)}", raw=True)
        summary_section.bullets(said[kpi], css="sentences")

    decisions = explain.decision_rows(tables.replications, experiment, tables.sets)
    if decisions:
        section = page.section("Did the policies act?")
        section.paragraph("Mean decisions per replication by outcome, for every decision a set changes "
                          "(from the warm-up on).")
        section.table(["decision", "outcome", *tables.sets], decisions,
                      numeric=tuple(range(2, 2 + len(tables.sets))))
    ranking = tables.ranking.get("ranking", [])
    section = page.section("Ranking by the objective")
    weights = tables.ranking.get("objective", {}).get("weights", {})
    constraints = tables.ranking.get("objective", {}).get("constraints", [])
    section.paragraph(
        "Score = "
        + " + ".join(f"{w:g} × {k}" for k, w in weights.items())
        + (
            "; constraints: "
            + ", ".join(
                f"{c['kpi']} {'≥ ' + str(c['min']) if c.get('min') is not None else ''}"
                f"{'≤ ' + str(c['max']) if c.get('max') is not None else ''}"
                for c in constraints
            )
            if constraints
            else ""
        )
        + f". Sets in one group cannot be told apart at {level}."
    )
    section.paragraph(explain.GROUPS_NOTE)
    section.table(
        ["rank", "set", "score", f"{level} interval", "feasible", "violated", "group"],
        [
            [
                r["rank"],
                r["set"],
                number(r["score"]),
                f"[{number(r['score_ci_low'])}, {number(r['score_ci_high'])}]",
                "yes" if r["feasible"] else "no",
                r["violated"] or "",
                r["group"],
            ]
            for r in ranking
        ],
        numeric=(0, 2, 6),
    )

    section = page.section("Means with confidence intervals")
    section.figure(forest_plot(tables, kpis), f"Each set's mean and {level} interval over replications.")
    rows, titles = [], []
    for kpi in kpis:
        for row in tables.summary[tables.summary["kpi"] == kpi].itertuples():
            diff = (
                "(reference)"
                if row.set == tables.reference
                else (
                    f"{format_amount(kpi, row.diff_mean, tables.currency, signed=True)} "
                    f"[{format_amount(kpi, row.diff_ci_low, tables.currency, signed=True)}, "
                    f"{format_amount(kpi, row.diff_ci_high, tables.currency, signed=True)}]"
                )
            )
            rows.append(
                [
                    info(kpi).label,
                    row.set,
                    format_value(kpi, row.mean, tables.currency),
                    f"± {format_amount(kpi, row.half_width, tables.currency)}"
                    if math.isfinite(row.half_width)
                    else "–",
                    diff,
                    "" if row.set == tables.reference else number(row.p_value),
                ]
            )
            titles.append(info(kpi).definition)
    section.table(
        ["KPI", "set", "mean", "half-width", f"difference to {tables.reference}", "p"],
        rows,
        numeric=(2, 3, 5),
        titles=titles,
    )

    if len(tables.sets) > 1:
        page.section("Paired differences to the reference").figure(
            differences_plot(tables, kpis), "Per replication, set minus reference (common random numbers)."
        )
    x, y = TRADE_OFF
    if x not in set(tables.summary["kpi"]):
        x = "operating_cost"
    front: list[str] = []
    if {x, y} <= set(tables.summary["kpi"]):
        figure, front = trade_off_plot(tables, x, y)
        page.section("Trade-off").figure(figure, f"Non-dominated sets: {', '.join(front) or 'none'}.")
    markdown = comparison_markdown(tables, kpis, said, front)
    return page, markdown


def comparison_markdown(
    tables: ComparisonTables, kpis: list[str], said: dict[str, list[str]], front: list[str]
) -> str:
    """The short Markdown summary written next to the HTML report."""
    experiment = tables.experiment
    lines = [
        f"# Comparison — {experiment.get('scenario_name')}",
        "",
        f"Reference: `{tables.reference}`; {int(tables.summary['n'].max())} replications per set; "
        f"confidence {tables.confidence:.0%}; winner: `{tables.ranking.get('winner')}`.",
        "",
        "| rank | set | score | group | feasible |",
        "|---|---|---|---|---|",
    ]
    for r in tables.ranking.get("ranking", []):
        lines.append(
            f"| {r['rank']} | {r['set']} | {number(r['score'])} | {r['group']} | "
            f"{'yes' if r['feasible'] else 'no: ' + r['violated']} |"
        )
    warnings = [f"- **{line}**" for line in report_warnings(tables)]
    if warnings:
        lines += ["", "Read with care:", "", *warnings]
    described = explain.set_descriptions(experiment)
    if described:
        lines += ["", "## What each set is", ""]
        for name, said_of_set in described.items():
            lines += [f"- `{name}`: " + "; ".join(said_of_set)]
    decisions = explain.decision_rows(tables.replications, experiment, tables.sets)
    if decisions:
        lines += ["", "## Did the policies act?", "", "Mean decisions per replication by outcome.", "",
                  "| decision | outcome | " + " | ".join(tables.sets) + " |",
                  "|---|---|" + "---|" * len(tables.sets)]
        lines += ["| " + " | ".join(row) + " |" for row in decisions]
    lines += ["", "## Per KPI"]
    for kpi in kpis:
        lines += ["", f"**{info(kpi).label}** ({info(kpi).definition})", ""] + [f"- {s}" for s in said[kpi]]
    if front:
        x = TRADE_OFF[0] if TRADE_OFF[0] in set(tables.summary["kpi"]) else "operating_cost"
        lines += ["", f"Non-dominated on {TRADE_OFF[1]} vs {x}: {', '.join(front)}."]
    return "\n".join(lines) + "\n"


def write_comparison_report(folder: str | Path) -> tuple[Path, Path]:
    """Build the report of a compare folder from its saved tables: ``report.html`` and ``report.md``."""
    root = Path(folder)
    page, markdown = build_comparison_report(load_comparison(root))
    html_path = page.write(root / "report.html")
    md_path = root / "report.md"
    md_path.write_text(markdown, encoding="utf-8")
    return html_path, md_path
