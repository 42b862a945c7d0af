"""The study report: what ``ordercycle optimise`` found, as one HTML file and a Markdown summary.

Built from the saved files of a study folder only (``study.json``, ``trials.parquet``,
``confirmation.csv``, ``confirmation-ranking.csv``, ``front-pairs.csv``; see
``docs/optimisation.md``), so ``ordercycle report DIR`` rebuilds it without re-running:
the optimisation history (best so far), the parameter importances, for several
objectives the Pareto front with each point's confidence interval in both KPIs, and the
chosen setting with its improvement over the scenario's current policy set, in plain
language. The figure functions are pure functions of those tables; ``write_study``
saves the same figures as ``history.png`` and ``pareto.png``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.policies.input_files import read_json
from ordercycle.reports.comparison_report import ReportInputError, difference_sentence
from ordercycle.reports.glossary import SET_COLOURS, axis_label, format_amount, format_value, info
from ordercycle.reports.html import Page, number, plt

CURRENT = "current"
FRONT_COLOUR, CURRENT_COLOUR, TRIAL_COLOUR = "#d62728", "#000000", "#7f7f7f"


@dataclass
class StudyTables:
    """The saved results of one optimisation study."""

    record: dict[str, Any]
    trials: pd.DataFrame
    confirmation: pd.DataFrame
    ranking: pd.DataFrame
    pairs: pd.DataFrame

    @property
    def directions(self) -> list[tuple[str, bool]] | None:
        """(KPI, maximised) of a multi-objective study; None for the scenario's weighted objective."""
        objectives = self.record.get("objectives")
        if isinstance(objectives, list):
            return [(o["kpi"], o["direction"] == "max") for o in objectives]
        return None

    @property
    def knobs(self) -> list[str]:
        """The space's parameters, in the space file's order."""
        return list(self.record.get("space", {}).get("parameters", {}))

    @property
    def confidence(self) -> float:
        """Confidence level of every interval."""
        return float(self.record.get("confidence", 0.95))


def load_study(folder: str | Path) -> StudyTables:
    """Read a study folder; a missing file is reported by name."""
    root = Path(folder)
    needed = ["study.json", "trials.parquet", "confirmation.csv"]
    missing = [f"{root / name}: missing (is this an optimise output folder?)"
               for name in needed if not (root / name).is_file()]
    if missing:
        raise ReportInputError(missing)

    def optional(name: str) -> pd.DataFrame:
        path = root / name
        return pd.read_csv(path) if path.is_file() and path.stat().st_size > 1 else pd.DataFrame()

    record = read_json(root / "study.json", allow_nan=True)
    trials = pd.read_parquet(root / "trials.parquet")
    return StudyTables(record, trials, pd.read_csv(root / "confirmation.csv"),
                       optional("confirmation-ranking.csv"), optional("front-pairs.csv"))


def _evaluated(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["status"] == "ok"].sort_values("trial")


def history_figure(trials: pd.DataFrame, directions: list[tuple[str, bool]] | None,
                   pareto: list[int] = ()) -> Any:
    """Each trial's value (mean over its replications) and the best so far; one panel per objective."""
    ok = _evaluated(trials)
    if directions is None:
        figure, axis = plt.subplots(figsize=(8, 4))
        feasible = ok["feasible"].astype(bool)
        axis.plot(ok["trial"][feasible], ok["value"][feasible], "o", color=SET_COLOURS[0],
                  label="trial (mean over its replications)")
        if (~feasible).any():
            axis.plot(ok["trial"][~feasible], ok["value"][~feasible], "o", markerfacecolor="none",
                      color=TRIAL_COLOUR, label="trial breaking a constraint")
        best = ok["value"].where(feasible).cummax()
        axis.step(ok["trial"], best, where="post", color=FRONT_COLOUR, label="best feasible so far")
        axis.set_ylabel("objective score (higher is better)")
        axis.set_title("Optimisation history")
        panels = [axis]
    else:
        figure, axes = plt.subplots(1, len(directions), figsize=(5 * len(directions), 4), squeeze=False)
        panels = list(axes.flat)
        on_front = ok["trial"].isin(list(pareto))
        for axis, (kpi, maximise) in zip(panels, directions, strict=True):
            values = ok[f"value.{kpi}"]
            axis.plot(ok["trial"][~on_front], values[~on_front], "o", color=TRIAL_COLOUR, alpha=0.5,
                      label="dominated trial")
            axis.plot(ok["trial"][on_front], values[on_front], "o", color=FRONT_COLOUR, label="Pareto front")
            best = values.cummax() if maximise else values.cummin()
            axis.step(ok["trial"], best, where="post", color=SET_COLOURS[0], label="best so far")
            axis.set_ylabel(axis_label(kpi) + (" — maximised" if maximise else " — minimised"))
            axis.set_title(info(kpi).label)
            _money_ticks(axis, "", kpi)
    for axis in panels:
        axis.set_xlabel("trial")
        axis.grid(alpha=0.3)
        axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    return figure


def pareto_figure(trials: pd.DataFrame, confirmation: pd.DataFrame, pareto: list[int],
                  directions: list[tuple[str, bool]], confidence: float, knobs: list[str]) -> Any:
    """The front on the first two objectives: confirmed points with intervals in both KPIs, the rest faint.

    Front trials repeating a re-evaluated setting are not drawn again; front settings
    beyond the re-evaluation's cap are drawn hollow at their search values.
    """
    (x, x_max), (y, y_max) = directions[:2]
    ok = _evaluated(trials)
    dominated = ok[~ok["trial"].isin(pareto)]
    figure, axis = plt.subplots(figsize=(8, 5.5))
    axis.plot(dominated[f"value.{x}"], dominated[f"value.{y}"], "o", color=TRIAL_COLOUR, alpha=0.25,
              label="dominated trials (search replications)")
    means = confirmation.pivot(index="set", columns="kpi", values="mean")
    halves = confirmation.pivot(index="set", columns="kpi", values="half_width")
    confirmed = [s for s in dict.fromkeys(confirmation["set"]) if s != CURRENT]
    settings = ok.set_index("trial")[knobs].astype(str).agg("|".join, axis=1)
    seen = {settings[int(name.removeprefix("trial-"))] for name in confirmed}
    unconfirmed = ok[ok["trial"].isin(pareto) & ~ok["trial"].map(settings).isin(seen)]
    unconfirmed = unconfirmed.drop_duplicates(subset=knobs)
    if len(unconfirmed):
        axis.plot(unconfirmed[f"value.{x}"], unconfirmed[f"value.{y}"], "o", markerfacecolor="none",
                  color=FRONT_COLOUR, label="front, not re-evaluated (search replications)")
    for index, name in enumerate(confirmed):
        axis.errorbar(means.loc[name, x], means.loc[name, y], xerr=_finite(halves.loc[name, x]),
                      yerr=_finite(halves.loc[name, y]), fmt="o", color=FRONT_COLOUR, capsize=3,
                      label="Pareto front, re-evaluated" if index == 0 else None)
        axis.annotate(name.removeprefix("trial-"), (means.loc[name, x], means.loc[name, y]),
                      textcoords="offset points", xytext=(5, 5), fontsize=8)
    if len(confirmed) > 1:
        line = means.loc[confirmed].sort_values(x)
        axis.plot(line[x], line[y], color=FRONT_COLOUR, linestyle="--", linewidth=0.8)
    if CURRENT in means.index:
        axis.errorbar(means.loc[CURRENT, x], means.loc[CURRENT, y], xerr=_finite(halves.loc[CURRENT, x]),
                      yerr=_finite(halves.loc[CURRENT, y]), fmt="*", markersize=12, color=CURRENT_COLOUR,
                      capsize=3, label="current policy set")
    axis.set_xlabel(axis_label(x) + (" — maximised" if x_max else " — minimised"))
    axis.set_ylabel(axis_label(y) + (" — maximised" if y_max else " — minimised"))
    axis.set_title(f"Pareto front with {confidence:.0%} intervals (labels: trial numbers)")
    _money_ticks(axis, x, y)
    axis.grid(alpha=0.3)
    axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    return figure


def _money_ticks(axis: Any, x: str, y: str) -> None:
    """Money with thousands separators instead of an offset."""
    from matplotlib.ticker import FuncFormatter

    money = FuncFormatter(lambda value, _: f"{value:,.0f}")
    if info(x).unit == "money":
        axis.xaxis.set_major_formatter(money)
    if info(y).unit == "money":
        axis.yaxis.set_major_formatter(money)


def importance_figure(importances: dict[str, dict[str, float]]) -> Any:
    """One bar panel per objective: each parameter's share of the variation it explains."""
    figure, axes = plt.subplots(1, len(importances), figsize=(5 * len(importances), 0.6 + 0.45 * max(
        len(v) for v in importances.values())), squeeze=False)
    for axis, (target, values) in zip(axes.flat, importances.items(), strict=True):
        names = list(values)[::-1]
        axis.barh(names, [values[n] for n in names], color=SET_COLOURS[0])
        axis.set_xlim(0, 1)
        axis.set_xlabel("importance (PED-ANOVA, sums to 1)")
        axis.set_title(target, fontsize=10)
        axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def _setting(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items()) or "(no parameter)"


def winner_sentences(tables: StudyTables) -> list[str]:
    """The chosen setting and its improvement over the current set, in plain language."""
    record, level = tables.record, f"{tables.confidence:.0%}"
    fresh = record.get("confirmation_replications")
    winner, gain = record.get("winner"), record.get("improvement_over_current") or {}
    finalists = max(len(tables.ranking) - 1, 0)
    if winner is None:
        return [f"No setting keeps the objective's constraints on the {fresh} fresh replications."]
    if winner.get("trial") is None:
        return [f"The current policy set ranked first when the {finalists} best distinct settings of the "
                f"search were re-evaluated on {fresh} fresh replications: keep it."]
    others = {0: "", 1: "", 2: " and the next best distinct setting"}.get(
        finalists, f" and the {finalists - 1} next best distinct settings")
    said = [f"Chosen setting: trial {winner['trial']} ({_setting(winner['params'])}). Re-evaluated on "
            f"{fresh} fresh replications next to the current policy set{others}, it ranks first."]
    low, high = gain.get("ci_low", math.nan), gain.get("ci_high", math.nan)
    sign = "+" if gain.get("score_difference", 0) >= 0 else ""
    sentence = (f"Its objective score is {number(gain.get('winner_score'))} against "
                f"{number(gain.get('current_score'))} for the current set: "
                f"{sign}{number(gain.get('score_difference'))} ({level} paired interval "
                f"[{number(low)}, {number(high)}], p = {number(gain.get('p_value'))})")
    if math.isfinite(low) and low > 0:
        sentence += " — better than the current set, and the interval says so."
    else:
        sentence += (" — the interval includes zero: on these replications it cannot be told apart from "
                     "the current set (more --confirm-reps would settle it).")
    return said + [sentence]


def front_sentences(tables: StudyTables) -> list[str]:
    """The front in plain language: its size, and which points the fresh replications can tell apart."""
    record, front = tables.record, tables.record.get("front", [])
    pareto = record.get("pareto_trials", [])
    said = [f"The search evaluated {len(_evaluated(tables.trials))} trials; {len(pareto)} are on the Pareto "
            f"front (no other trial is at least as good on every objective and better on one). "
            f"{len(front)} of them were re-evaluated on {record.get('confirmation_replications')} fresh "
            f"replications next to the current policy set."]
    if not tables.pairs.empty:
        verdict = tables.pairs.groupby(["a", "b"], sort=False)
        apart = [(a, b, list(group.loc[group["distinguishable"].astype(bool), "kpi"]))
                 for (a, b), group in verdict]
        same = [f"{a} and {b}" for a, b, kpis in apart if not kpis]
        said.append(f"Of {len(apart)} pairs of re-evaluated front points, {len(apart) - len(same)} can be "
                    f"told apart at {tables.confidence:.0%} on at least one objective (paired intervals "
                    f"over the fresh replications; the table below gives each difference).")
        if same:
            said.append("Cannot be told apart on any objective (the front is flatter than it looks): "
                        + "; ".join(same) + ".")
    return said


def _pair_rows(tables: StudyTables, kpis: list[str]) -> list[list[str]]:
    rows = []
    for (a, b), group in tables.pairs.groupby(["a", "b"], sort=False):
        by_kpi = group.set_index("kpi")
        cells = [a, b]
        for kpi in kpis:
            row = by_kpi.loc[kpi]
            cells.append(f"{format_amount(kpi, row['diff_mean'], signed=True)} "
                         f"[{format_amount(kpi, row['diff_ci_low'], signed=True)}, "
                         f"{format_amount(kpi, row['diff_ci_high'], signed=True)}]")
        told = [info(k).label for k in kpis if bool(by_kpi.loc[k, "distinguishable"])]
        rows.append(cells + [("yes, on " + ", ".join(told)) if told else "no"])
    return rows


def _difference_rows(tables: StudyTables, name: str, kpis: list[str]) -> list[str]:
    rows = tables.confirmation[(tables.confirmation["set"] == name) & tables.confirmation["kpi"].isin(kpis)]
    return [difference_sentence(row.kpi, row, CURRENT, tables.confidence) for row in rows.itertuples()]


def _objective_kpis(tables: StudyTables) -> list[str]:
    if tables.directions is not None:
        return [kpi for kpi, _ in tables.directions]
    objective = tables.record.get("objectives", {})
    return list(dict.fromkeys(list(objective.get("weights", {}))
                              + [c["kpi"] for c in objective.get("constraints", [])]))


def build_study_report(tables: StudyTables) -> tuple[Page, str]:
    """The HTML page and the Markdown summary of a study."""
    record, level, directions = tables.record, f"{tables.confidence:.0%}", tables.directions
    meta = (f"scenario {record.get('scenario_name')} ({str(record.get('scenario_hash', ''))[:12]}), seed "
            f"{record.get('seed')}, {record.get('trials')} trials × {record.get('replications_per_trial')} "
            f"replications (common random numbers), re-evaluation on "
            f"{record.get('confirmation_replications')} fresh replications, confidence {level}, "
            f"ordercycle {record.get('package_version')}")
    page = Page(f"Optimisation study — {record.get('scenario_name')}", meta)
    kpis = _objective_kpis(tables)
    plain = front_sentences(tables) if directions is not None else winner_sentences(tables)
    skipped = tables.trials["status"].value_counts().drop("ok", errors="ignore")
    if len(skipped):
        plain.append(f"Not evaluated: {', '.join(f'{n} trials {status}' for status, n in skipped.items())} "
                     "(invalid: a setting a policy refuses; failed: a replication raised an error; the "
                     "sampler was told so).")
    section = page.section("In plain words")
    section.bullets(plain, css="sentences")
    markdown = [f"# Optimisation study — {record.get('scenario_name')}", "", meta, ""]
    markdown += [f"- {s}" for s in plain]

    if directions is None:
        winner = record.get("winner") or {}
        if winner.get("trial") is not None:
            name = f"trial-{winner['trial']}"
            said = _difference_rows(tables, name, kpis)
            section = page.section("The chosen setting and its improvement over the current set")
            section.table(["parameter", "value"], [[k, v] for k, v in winner["params"].items()])
            section.table(["decision", "policy", "parameters"],
                          [[d, p["name"], json.dumps(p.get("params", {}), sort_keys=True)]
                           for d, p in winner.get("policies", {}).items()])
            section.paragraph(f"Per objective KPI, {name} against the current set on the fresh replications:")
            section.bullets(said, css="sentences")
            markdown += ["", "## Chosen setting", ""]
            markdown += [f"- `{k}` = {v}" for k, v in winner["params"].items()]
            markdown += [""] + [f"- {s}" for s in said]
        if not tables.ranking.empty:
            section = page.section("Re-evaluation ranking")
            section.paragraph(f"The best distinct settings and the current set on fresh replications, ranked "
                              f"by the objective score; sets in one group cannot be told apart at {level}.")
            section.table(["rank", "set", "score", f"{level} interval", "feasible", "group"],
                          [[r.rank, r.set, number(r.score),
                            f"[{number(r.score_ci_low)}, {number(r.score_ci_high)}]",
                            "yes" if r.feasible else "no", r.group] for r in tables.ranking.itertuples()],
                          numeric=(0, 2, 5))
    else:
        front = record.get("front", [])
        section = page.section("The Pareto front with its uncertainty")
        if len(directions) >= 2:
            shown = " and ".join(info(k).label for k, _ in directions[:2])
            section.figure(pareto_figure(tables.trials, tables.confirmation, record.get("pareto_trials", []),
                                         directions, tables.confidence, tables.knobs),
                           f"Front points re-evaluated on fresh replications with {level} intervals in both "
                           f"KPIs ({shown}); dominated trials faint; the star is the current policy set.")
        rows = []
        for point in front:
            cells = [point["trial"], _setting(point["params"])]
            for kpi, _ in directions:
                entry = point["kpis"][kpi]
                cells.append(f"{format_value(kpi, entry['mean'])} ± "
                             f"{format_amount(kpi, (entry['ci_high'] - entry['ci_low']) / 2)}")
                cells.append(f"{format_amount(kpi, entry['diff_mean'], signed=True)} "
                             f"[{format_amount(kpi, entry['diff_ci_low'], signed=True)}, "
                             f"{format_amount(kpi, entry['diff_ci_high'], signed=True)}]")
            cells.append(", ".join(str(n) for n in point["indistinguishable_from"]) or "none")
            rows.append(cells)
        header = ["trial", "setting"]
        for kpi, _ in directions:
            header += [f"{info(kpi).label} ({level})", f"{info(kpi).label} − current"]
        section.table(header + ["cannot be told apart from"], rows)
        if not tables.pairs.empty:
            section.paragraph(f"Differences between front points (a − b) with {level} paired intervals; "
                              "a pair is told apart when at least one interval excludes zero.")
            section.table(["a", "b"] + [f"{info(k).label}: a − b" for k, _ in directions] + ["told apart"],
                          _pair_rows(tables, [k for k, _ in directions]))
        said = [s for point in front for s in _difference_rows(tables, f"trial-{point['trial']}", kpis)]
        section.paragraph("Each re-evaluated front point against the current policy set:")
        section.bullets(said, css="sentences")
        markdown += ["", "## Pareto front (re-evaluated)", "", "| trial | setting | "
                     + " | ".join(info(k).label for k, _ in directions) + " | cannot be told apart from |",
                     "|---|---|" + "---|" * len(directions) + "---|"]
        markdown += [f"| {r[0]} | {r[1]} | " + " | ".join(r[2:-1:2]) + f" | {r[-1]} |" for r in rows]

    section = page.section("Optimisation history")
    section.figure(history_figure(tables.trials, directions, record.get("pareto_trials", [])),
                   "Each trial's mean over its replications (the same seeds for every trial) and the best "
                   "so far.")
    importances = (record.get("objective_importances") if directions is not None
                   else {"objective score": record.get("parameter_importances")}) or {}
    importances = {k: v for k, v in importances.items() if v}
    section = page.section("Parameter importances")
    if importances:
        section.figure(importance_figure(importances), "How much of the variation of each objective over the "
                       "trials each parameter explains (PED-ANOVA, Optuna).")
        markdown += ["", "## Parameter importances", ""] + [
            f"- {target}: " + ", ".join(f"{k} {v:.2f}" for k, v in values.items())
            for target, values in importances.items()]
    else:
        section.paragraph("Not computed: fewer than four evaluated trials, or every trial had the same "
                          "value.")
    section = page.section("Best trials")
    best = _best_trials(tables)
    section.table(list(best.columns), best.to_numpy().tolist())
    return page, "\n".join(markdown) + "\n"


def _best_trials(tables: StudyTables, count: int = 10) -> pd.DataFrame:
    ok = _evaluated(tables.trials)
    if tables.directions is None:
        ok = ok.sort_values(["feasible", "value", "trial"], ascending=[False, False, True])
        values = ["value", "feasible"]
    else:
        ok = ok.assign(front=ok["trial"].isin(tables.record.get("pareto_trials", [])))
        ok = ok.sort_values(["front", "trial"], ascending=[False, True])
        values = [f"value.{kpi}" for kpi, _ in tables.directions] + ["front"]
    shown = ok.head(count)[["trial"] + [k for k in tables.knobs if k in ok.columns] + values]
    return shown.map(lambda v: number(v) if isinstance(v, float | np.floating) else v)


def write_study_report(folder: str | Path) -> tuple[Path, Path]:
    """Build the report of a study folder from its saved files: ``report.html`` and ``report.md``."""
    root = Path(folder)
    page, markdown = build_study_report(load_study(root))
    html_path = page.write(root / "report.html")
    md_path = root / "report.md"
    md_path.write_text(markdown, encoding="utf-8")
    return html_path, md_path
