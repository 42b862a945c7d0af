"""The sweep report: what ``ordercycle sweep`` found, per grid point, as one HTML file and a Markdown summary.

Built from the saved files of a sweep folder only (``points.parquet``, the ``results/``
dataset, ``summary.parquet``, ``experiment.json``; see ``docs/experiments.md``), so it
can be rebuilt at any time without re-running. Per grid point: the sets' means with
their intervals, the paired differences to the reference, the ranking against the
scenario's objective (with the groups that cannot be told apart) and one
plain-language line saying which set wins; then, per swept parameter, a plot of each
KPI along the parameter, one line per set.

The sweep's record (``experiment.json``) names the confidence level and the reference
set; for folders written before it did, the level is read back from the intervals of
``summary.parquet`` (half-width = t × s / √n) and the reference is the set without
paired differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter
from scipy import stats

from ordercycle.policies.input_files import read_json
from ordercycle.reports.comparison_report import (
    HEADLINE_KPIS,
    ReportInputError,
    difference_sentence,
)
from ordercycle.reports.glossary import SET_COLOURS, axis_label, format_amount, format_value, info
from ordercycle.reports.html import Page, number, plt
from ordercycle.reports.statistics import rank_sets

SWEEP_FILES = ("points.parquet", "summary.parquet", "experiment.json")
LINE_STYLES = ("-", "--", ":", "-.")


@dataclass
class SweepTables:
    """The saved results of one sweep."""

    points: pd.DataFrame  # one row per grid point: ``point`` and one column per swept parameter
    replications: pd.DataFrame  # point, set, replication, seed, KPIs
    summary: pd.DataFrame  # per point, set and KPI: mean, interval, paired difference to the reference
    experiment: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        """The swept parameters (points-table columns)."""
        return [c for c in self.points.columns if c != "point"]

    @property
    def sets(self) -> list[str]:
        """Set names in the sweep's order."""
        return list(dict.fromkeys(self.summary["set"]))

    @property
    def reference(self) -> str:
        """The set the paired differences are taken against (recorded, or the one that has none)."""
        if self.experiment.get("reference") in self.sets:
            return str(self.experiment["reference"])
        without = [
            name for name, rows in self.summary.groupby("set", sort=False) if rows["diff_mean"].isna().all()
        ]
        return without[0] if len(without) == 1 else self.sets[0]

    @property
    def confidence(self) -> float:
        """The level of the saved intervals (recorded, or read back from them; 0.95 if neither)."""
        if "confidence" in self.experiment:
            return float(self.experiment["confidence"])
        return interval_level(self.summary)

    @property
    def currency(self) -> str:
        """Currency of the scenario."""
        return str(self.experiment.get("scenario", {}).get("currency", "EUR"))

    @property
    def objective(self) -> dict[str, Any]:
        """The scenario's objective (weights and constraints)."""
        return self.experiment.get("scenario", {}).get("objective") or {"weights": {"profit": 1.0}}


def interval_level(summary: pd.DataFrame, default: float = 0.95) -> float:
    """The confidence level of Student-t intervals: half-width = t((1 + level) / 2, n − 1) × std / √n."""
    rows = summary[(summary["n"] >= 2) & (summary["std"] > 0) & np.isfinite(summary["half_width"])]
    if rows.empty:
        return default
    row = rows.iloc[0]
    t_value = float(row["half_width"]) * math.sqrt(float(row["n"])) / float(row["std"])
    return round(2 * float(stats.t.cdf(t_value, int(row["n"]) - 1)) - 1, 4)


def load_sweep(folder: str | Path) -> SweepTables:
    """Read a sweep output folder; a missing file is reported by name."""
    root = Path(folder)
    missing = [f"{root / name}: missing (is this a sweep output folder?)" for name in SWEEP_FILES
               if not (root / name).is_file()]
    if not (root / "results").is_dir():
        missing.append(f"{root / 'results'}: missing (is this a sweep output folder?)")
    if missing:
        raise ReportInputError(missing)
    summary = pd.read_parquet(root / "summary.parquet")
    if summary.empty:
        raise ReportInputError([f"{root / 'summary.parquet'}: empty (every replication failed?)"])
    replications = pd.read_parquet(root / "results")
    replications = replications.assign(
        point=replications["point"].astype(int), set=replications["set"].astype(str)
    )
    order = {name: i for i, name in enumerate(dict.fromkeys(summary["set"]))}
    replications = (
        replications.assign(_set=replications["set"].map(order))
        .sort_values(["point", "_set", "replication"], kind="stable")
        .drop(columns="_set")
        .reset_index(drop=True)
    )
    return SweepTables(
        pd.read_parquet(root / "points.parquet"),
        replications,
        summary,
        read_json(root / "experiment.json", allow_nan=True),
    )


def shown_kpis(tables: SweepTables, first: list[str] | None = None) -> list[str]:
    """``first`` (e.g. a keynote's checks), the objective's KPIs, then the headline KPIs present."""
    objective = tables.objective
    ranked = list(objective.get("weights", {})) + [c["kpi"] for c in objective.get("constraints", [])]
    present = set(tables.summary["kpi"])
    return [k for k in dict.fromkeys((first or []) + ranked + HEADLINE_KPIS) if k in present]


def point_label(tables: SweepTables, point: int) -> str:
    """``path = value, …`` of one grid point."""
    row = tables.points[tables.points["point"] == point].iloc[0]
    return ", ".join(f"{name} = {_value(row[name])}" for name in tables.parameters)


def point_ranking(tables: SweepTables, point: int) -> pd.DataFrame:
    """The sets of one point ranked by the objective, with the groups that cannot be told apart."""
    part = tables.replications[tables.replications["point"] == point]
    objective = tables.objective
    constraints = [(c["kpi"], c.get("min"), c.get("max")) for c in objective.get("constraints", [])]
    return rank_sets(part, objective.get("weights", {"profit": 1.0}), constraints, tables.confidence)


def winner_sentence(tables: SweepTables, point: int, ranking: pd.DataFrame) -> str:
    """Which set wins at a point, in words, and which sets cannot be told apart from it."""
    label = f"Point {point} ({point_label(tables, point)})"
    feasible = ranking[ranking["feasible"]]
    if feasible.empty:
        return f"{label}: no set keeps every constraint of the objective."
    best = feasible.iloc[0]
    if len(ranking) == 1:
        return f"{label}: one set only ({best['set']}, score {number(best['score'])}); nothing to rank."
    same_group = feasible[(feasible["group"] == best["group"]) & (feasible["set"] != best["set"])]
    ties = [str(name) for name in same_group["set"]]
    score = f"score {number(best['score'])} [{number(best['score_ci_low'])}, {number(best['score_ci_high'])}]"
    if ties:
        return (
            f"{label}: {best['set']} ranks first ({score}), but cannot be told apart from "
            f"{', '.join(ties)} at {tables.confidence:.0%}."
        )
    runner = ranking[ranking["set"] != best["set"]]
    lead = f" ahead of {runner.iloc[0]['set']}" if len(runner) else ""
    return f"{label}: {best['set']} wins ({score}){lead}, clearly at {tables.confidence:.0%}."


def _colours(sets: list[str]) -> dict[str, str]:
    return {name: SET_COLOURS[i % len(SET_COLOURS)] for i, name in enumerate(sets)}


def _numeric(values: pd.Series) -> bool:
    return all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values
    )


def parameter_plot(tables: SweepTables, parameter: str, kpis: list[str]) -> Any:
    """Each KPI's mean (with its interval) along one swept parameter, one colour per set.

    Points that share the values of the other parameters are joined by a line (one line
    style per combination of the other parameters).
    """
    others = [p for p in tables.parameters if p != parameter]
    values = tables.points[parameter]
    numeric = _numeric(values)
    categories = list(dict.fromkeys(values.astype(str)))
    position = (
        {p: float(v) for p, v in zip(tables.points["point"], values, strict=True)}
        if numeric
        else {p: float(categories.index(str(v))) for p, v in zip(tables.points["point"], values, strict=True)}
    )
    combos = (
        tables.points.groupby(others, sort=False)["point"].apply(list).tolist()
        if others
        else [tables.points["point"].tolist()]
    )
    sets, colours = tables.sets, _colours(tables.sets)
    columns = 2 if len(kpis) > 1 else 1
    rows = math.ceil(len(kpis) / columns)
    height = 1.0 + 2.8 * rows
    figure, axes = plt.subplots(rows, columns, figsize=(10, height), squeeze=False)
    span = max(position.values()) - min(position.values()) if position else 0.0
    step = (span or 1.0) * 0.012  # sets side by side, so their intervals do not hide each other
    for axis, kpi in zip(axes.flat, kpis, strict=False):
        part = tables.summary[tables.summary["kpi"] == kpi]
        for j, name in enumerate(sets):
            offset = (j - (len(sets) - 1) / 2) * step
            rows_of_set = part[part["set"] == name].set_index("point")
            for k, members in enumerate(combos):
                members = sorted((p for p in members if p in rows_of_set.index), key=lambda p: position[p])
                if not members:
                    continue
                x = np.array([position[p] + offset for p in members])
                mean = rows_of_set.loc[members, "mean"].to_numpy(float)
                half = rows_of_set.loc[members, "half_width"].to_numpy(float)
                axis.errorbar(
                    x,
                    mean,
                    yerr=np.where(np.isfinite(half), half, 0.0),
                    fmt="o",
                    linestyle=LINE_STYLES[k % len(LINE_STYLES)],
                    color=colours[name],
                    capsize=3,
                    markersize=4,
                    label=name if k == 0 else None,
                )
        if not part["mean"].notna().any():
            axis.text(0.5, 0.5, "no values (nothing to measure)", ha="center", va="center",
                      transform=axis.transAxes, color="#777")
        if info(kpi).unit == "money":
            axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axis.set_title(info(kpi).label, fontsize=10)
        axis.set_ylabel(axis_label(kpi, tables.currency), fontsize=8)
        axis.set_xlabel(parameter, fontsize=8)
        if not numeric:
            axis.set_xticks(range(len(categories)), categories)
        elif len(set(position.values())) <= 10:
            ticks = sorted(set(position.values()))
            axis.set_xticks(ticks, [f"{t:g}" for t in ticks])
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(kpis):]:
        axis.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.suptitle(f"KPIs along {parameter}: means with {tables.confidence:.0%} intervals", y=0.995)
    figure.legend(handles, labels, loc="upper center", ncol=len(sets), fontsize=8,
                  bbox_to_anchor=(0.5, 1 - 0.3 / height))
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.65 / height))
    return figure


def point_rows(tables: SweepTables, point: int, kpis: list[str]) -> list[list[str]]:
    """Per KPI and set at one point: mean, half-width, difference to the reference with its interval."""
    part = tables.summary[tables.summary["point"] == point]
    currency, reference = tables.currency, tables.reference
    rows = []
    for kpi in kpis:
        for row in part[part["kpi"] == kpi].itertuples():
            diff = (
                "(reference)"
                if row.set == reference
                else f"{format_amount(kpi, row.diff_mean, currency, signed=True)} "
                f"[{format_amount(kpi, row.diff_ci_low, currency, signed=True)}, "
                f"{format_amount(kpi, row.diff_ci_high, currency, signed=True)}]"
            )
            finite = math.isfinite(row.half_width)
            half = f"± {format_amount(kpi, row.half_width, currency)}" if finite else "–"
            rows.append([info(kpi).label, str(row.set), format_value(kpi, row.mean, currency), half, diff])
    return rows


def build_sweep_report(tables: SweepTables, first_kpis: list[str] | None = None) -> tuple[Page, str]:
    """The HTML page and the Markdown summary of a sweep; ``first_kpis`` are shown before the others."""
    experiment, level = tables.experiment, f"{tables.confidence:.0%}"
    kpis = shown_kpis(tables, first_kpis)
    points = [int(p) for p in tables.points["point"]]
    replications = int(tables.summary["n"].max())
    scenario = experiment.get("scenario", {})
    meta = (
        f"scenario {scenario.get('name')} ({str(experiment.get('scenario_hash', ''))[:12]}), seed "
        f"{experiment.get('seed')}, {len(points)} points × {len(tables.sets)} sets × {replications} "
        f"replications, warm-up {scenario.get('warmup_days', 0):g} d, horizon "
        f"{scenario.get('horizon_days', 0):g} d, confidence {level}, "
        f"ordercycle {experiment.get('package_version')}"
    )
    page = Page(f"Sweep of scenario conditions — {scenario.get('name')}", meta)
    weights = tables.objective.get("weights", {})
    objective_text = "score = " + " + ".join(f"{w:g} × {k}" for k, w in weights.items())
    constraints = tables.objective.get("constraints", [])
    if constraints:
        objective_text += "; constraints: " + ", ".join(
            f"{c['kpi']}" + (f" ≥ {c['min']:g}" if c.get("min") is not None else "")
            + (f" ≤ {c['max']:g}" if c.get("max") is not None else "")
            for c in constraints
        )
    rankings = {p: point_ranking(tables, p) for p in points}
    said = {p: winner_sentence(tables, p, rankings[p]) for p in points}
    winners = {p: _winner(rankings[p]) for p in points}

    section = page.section("In plain words")
    section.paragraph(
        f"Swept: {', '.join(tables.parameters)}. Sets: {', '.join(tables.sets)} (reference "
        f"{tables.reference}). Ranked at every point by the scenario's objective ({objective_text}); "
        f"sets in one group cannot be told apart at {level}."
    )
    section.bullets([said[p] for p in points], css="sentences")
    tally = pd.Series([w for w in winners.values() if w]).value_counts()
    overall = "; ".join(
        f"{name} ranks first at {count} of {len(points)} points" for name, count in tally.items()
    )
    if overall:
        section.paragraph(overall + ".")

    section = page.section("Grid points")
    section.table(
        ["point"] + tables.parameters + ["first by the objective"],
        [[p] + [_value(v) for v in tables.points.iloc[i][tables.parameters]] + [winners[p] or "none feasible"]
         for i, p in enumerate(points)],
        numeric=(0,),
    )

    section = page.section("KPIs along the swept parameters")
    for parameter in tables.parameters:
        section.figure(
            parameter_plot(tables, parameter, kpis),
            f"Each KPI's mean and {level} interval per set along {parameter}"
            + (
                "; points with the same values of the other parameters are joined (one line style each)."
                if len(tables.parameters) > 1
                else "."
            ),
        )

    lines = [
        f"# Sweep — {scenario.get('name')}",
        "",
        f"{len(points)} points × {len(tables.sets)} sets × {replications} replications; reference "
        f"`{tables.reference}`; ranked by {objective_text}; confidence {level}. Plots: `report.html`.",
        "",
    ] + [f"- {said[p]}" for p in points]
    if overall:
        lines += ["", overall + "."]
    for p in points:
        section = page.section(f"Point {p}: {point_label(tables, p)}")
        section.paragraph(said[p])
        ranking = rankings[p]
        section.table(
            ["rank", "set", "score", f"{level} interval", "feasible", "violated", "group"],
            [
                [
                    int(r.rank),
                    r.set,
                    number(r.score),
                    f"[{number(r.score_ci_low)}, {number(r.score_ci_high)}]",
                    "yes" if r.feasible else "no",
                    r.violated or "",
                    int(r.group),
                ]
                for r in ranking.itertuples()
            ],
            numeric=(0, 2, 6),
        )
        section.table(
            ["KPI", "set", "mean", "half-width", f"difference to {tables.reference} [{level}]"],
            point_rows(tables, p, kpis),
            numeric=(2, 3),
        )
        part = tables.summary[(tables.summary["point"] == p) & (tables.summary["set"] != tables.reference)]
        bullets = [
            difference_sentence(kpi, row, tables.reference, tables.confidence, tables.currency)
            for kpi in kpis
            for row in part[part["kpi"] == kpi].itertuples()
        ]
        section.bullets(bullets, css="sentences")
        lines += ["", f"## Point {p}: {point_label(tables, p)}", "",
                  "| rank | set | score | group | feasible |", "|---|---|---|---|---|"]
        lines += [
            f"| {int(r.rank)} | {r.set} | {number(r.score)} | {int(r.group)} | "
            f"{'yes' if r.feasible else 'no: ' + r.violated} |"
            for r in ranking.itertuples()
        ]
        lines += [""] + [f"- {b}" for b in bullets]
    return page, "\n".join(lines) + "\n"


def _winner(ranking: pd.DataFrame) -> str | None:
    feasible = ranking[ranking["feasible"]]
    return None if feasible.empty else str(feasible.iloc[0]["set"])


def _value(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)




def write_sweep_report(folder: str | Path, first_kpis: list[str] | None = None) -> tuple[Path, Path]:
    """Build the report of a sweep folder from its saved files: ``report.html`` and ``report.md``.

    ``first_kpis`` (a keynote's checked KPIs, for its conditions sweep) are shown first.
    """
    root = Path(folder)
    page, markdown = build_sweep_report(load_sweep(root), first_kpis)
    html_path = page.write(root / "report.html")
    md_path = root / "report.md"
    md_path.write_text(markdown, encoding="utf-8")
    return html_path, md_path
