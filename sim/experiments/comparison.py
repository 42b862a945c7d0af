"""Compare policy sets on one company with common random numbers: ``ordercycle compare``.

Every set runs the same replications (:mod:`~ordercycle.sim.experiments.replications`);
the summary holds per KPI and set the mean with its interval and the paired difference
to the reference set; the ranking orders the sets by the scenario's objective, with
groups of sets that cannot be told apart. The warm-up is the scenario's, a given
number of days, or found with MSER-5 on pilot runs; replications can be added until a
target relative half-width is reached.

Python API (for notebooks): :func:`compare` returns a :class:`Comparison` of DataFrames.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.reports.statistics import WARMUP_SERIES, mser5, needs_more, rank_sets, summarise
from ordercycle.scenarios.experiment_files import SetsFile
from ordercycle.scenarios.loader import content_hash, override
from ordercycle.scenarios.schema import PolicySet, Scenario
from ordercycle.sim.experiments.executors import Executor, SerialExecutor
from ordercycle.sim.experiments.replications import (
    SCHEMA_VERSION,
    ExperimentError,
    Progress,
    ReplicationTask,
    check_objective,
    kpi_names,
    make_task,
    no_progress,
    replication_tables,
    resolve_sets,
    run_tasks,
)
from ordercycle.sim.experiments.set_notes import set_notes
from ordercycle.sim.experiments.store import ResultStore
from ordercycle.sim.run import package_version


@dataclass
class Warmup:
    """How long the warm-up is, and how it was found."""

    days: float
    method: str  # "scenario", "given" or "mser-5"
    per_series: dict[str, float] = field(default_factory=dict)
    pilot_replications: int = 0
    mean_series: pd.DataFrame | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form written to experiment.json."""
        return {"days": self.days, "method": self.method, "per_series": self.per_series,
                "pilot_replications": self.pilot_replications}


@dataclass
class Comparison:
    """What :func:`compare` found: tables plus how they were made."""

    scenario: Scenario
    sets: dict[str, PolicySet]
    reference: str
    seed: int
    replications: pd.DataFrame
    summary: pd.DataFrame
    ranking: pd.DataFrame
    errors: pd.DataFrame
    warmup: Warmup
    confidence: float
    replications_used: int
    open_kpis: list[str] = field(default_factory=list)
    run_keys: dict[str, list[str]] = field(default_factory=dict)
    """Set name -> the content keys of its replications, in replication order (the result
    records the summary and the ranking are computed from)."""
    first_replication: int = 0
    """Number of the first replication (an optimisation confirms on fresh ones)."""
    result_store: str = "runs"
    """Where the result records are, relative to the results directory."""
    open_checks: list[str] = field(default_factory=list)
    """What the ``until`` rule still found open when the experiment stopped (at the cap)."""
    stopping: dict[str, Any] | None = None
    """The sequential rule of an ``until`` experiment: ``start``, ``step``, ``max_reps``."""

    def winner(self) -> str | None:
        """The best feasible set, or None when no set keeps the constraints."""
        feasible = self.ranking[self.ranking["feasible"]]
        return str(feasible.iloc[0]["set"]) if len(feasible) else None


def detect_warmup(scenario: Scenario, reference: PolicySet, seed: int, pilots: int, executor: Executor,
                  store: ResultStore | None, progress: Progress = no_progress) -> Warmup:
    """MSER-5 truncation point of the daily series averaged over ``pilots`` reference runs.

    The longest truncation over the series (work in process, lead time) is used.
    """
    pilot_scenario = override(scenario, warmup_days=0.0).model_copy(update={"policies": reference})
    tasks = [make_task(pilot_scenario, "pilot", r, seed, series=True) for r in range(pilots)]
    outcomes = run_tasks(tasks, executor, store, progress, "warm-up pilot")
    series = [outcomes[t.key]["series"] for t in tasks if outcomes[t.key].get("status") == "ok"]
    if not series:
        errors = "; ".join(str(outcomes[t.key].get("error")) for t in tasks)
        raise ExperimentError([f"warmup: every pilot replication failed ({errors})"])
    mean = pd.DataFrame({name: np.mean([s[name] for s in series], axis=0) for name in WARMUP_SERIES})
    per_series = {name: float(mser5(mean[name].to_numpy())) for name in WARMUP_SERIES}
    days = max(per_series.values())
    return Warmup(days, "mser-5", per_series, len(series), mean)


def comparison_tasks(base: Scenario, sets: Mapping[str, PolicySet], reps: int, seed: int
                     ) -> list[ReplicationTask]:
    """The replications a comparison runs: every set for ``reps`` replications on ``base`` (the
    scenario with its warm-up already set), in set order. Their keys name the result store's files,
    so a reader (the workbench's live progress) finds a running comparison's replications by set."""
    return [make_task(base.model_copy(update={"policies": policies}), name, r, seed)
            for name, policies in sets.items() for r in range(reps)]


def compare(scenario: Scenario, sets: SetsFile | Mapping[str, Any] | None = None, *, reps: int = 10,
            seed: int = 0, executor: Executor | None = None, out: str | Path | None = None,
            confidence: float = 0.95, reference: str | None = None, warmup: float | str | None = None,
            pilots: int = 5, target_relative_half_width: float | None = None, max_reps: int = 100,
            step: int = 4, progress: Progress = no_progress,
            until: Callable[[pd.DataFrame], list[str]] | None = None) -> Comparison:
    """Run every policy set for ``reps`` replications with common random numbers and compare them.

    Args:
        scenario: the company; its ``objective`` ranks the sets.
        sets: the policy sets (default: the scenario's ``sets:`` section).
        reps: replications per set (the minimum when a target half-width is given).
        seed: root seed shared by every set (common random numbers).
        executor: where to run (default: serially in this process).
        out: folder of the result store; None keeps nothing on disk.
        confidence: level of every interval and of the grouping in the ranking.
        reference: the set differences are taken against (default: the sets file's or the first).
        warmup: ``None`` keeps the scenario's warm-up, a number of days replaces it,
            ``"auto"`` detects it with MSER-5 on ``pilots`` reference runs.
        target_relative_half_width: add ``step`` replications at a time until every
            ranked KPI's half-width / |mean| is below this, for every set, up to ``max_reps``.
        until: a stopping rule — given the replication table so far, what is still open
            (empty: stop); ``step`` replications per set are added while anything is open,
            up to ``max_reps``. Replication r is the same task whatever the count, so adding
            replications never changes the earlier ones (common random numbers hold).
    """
    executor = executor or SerialExecutor()
    store = ResultStore(out) if out is not None else None
    full_sets, default_reference = resolve_sets(scenario, sets)
    reference = reference or default_reference
    if reference not in full_sets:
        raise ExperimentError([f"reference: no set named {reference!r} (sets: {', '.join(full_sets)})"])
    if not 0 < confidence < 1:
        raise ExperimentError([f"confidence: must be between 0 and 1, got {confidence:g}"])
    if reps < 2:
        raise ExperimentError([f"reps: at least 2 replications are needed for an interval, got {reps}"])
    if step < 1:
        raise ExperimentError([f"step: must be at least 1, got {step}"])
    names = kpi_names(scenario)
    check_objective(scenario, names)

    if warmup == "auto":
        found = detect_warmup(scenario, full_sets[reference], seed, pilots, executor, store, progress)
    elif warmup is None:
        found = Warmup(scenario.warmup_days, "scenario")
    else:
        found = Warmup(float(warmup), "given")
    if not 0 <= found.days < scenario.horizon_days:
        raise ExperimentError([f"warmup: must be in [0, horizon_days), got {found.days:g}"])
    base = override(scenario, warmup_days=found.days)

    ranked = scenario.objective.kpis()
    constraints = [(b.kpi, b.min, b.max) for b in scenario.objective.constraints]
    set_order = list(full_sets)
    count = reps
    outcomes: dict[str, dict[str, Any]] = {}
    while True:
        tasks = comparison_tasks(base, full_sets, count, seed)
        new = [task for task in tasks if task.key not in outcomes]
        outcomes.update(run_tasks(new, executor, store, progress, f"compare ({count} replications per set)"))
        replications, errors = replication_tables(tasks, outcomes, found.days, set_order)
        if replications.empty or set(replications["set"]) != set(full_sets):
            missing = sorted(set(full_sets) - set(replications.get("set", [])))
            failures = [f"  {row.set} r{row.replication}: {row.error}" for row in errors.itertuples()]
            raise ExperimentError([f"sets.{name}: every replication failed" for name in missing] + failures)
        summary = summarise(replications, reference, confidence)
        open_kpis = (needs_more(summary, ranked, target_relative_half_width)
                     if target_relative_half_width is not None else [])
        open_checks = until(replications) if until is not None else []
        if (not open_kpis and not open_checks) or count >= max_reps:
            break
        count = min(max_reps, count + step)
    ranking = rank_sets(replications, scenario.objective.weights, constraints, confidence)
    run_keys = {name: [task.key for task in tasks if task.set_name == name] for name in full_sets}
    stopping = {"start": reps, "step": step, "max_reps": max(max_reps, reps)} if until is not None else None
    return Comparison(scenario, full_sets, reference, seed, replications, summary, ranking, errors, found,
                      confidence, count, open_kpis, run_keys, open_checks=open_checks, stopping=stopping)


def experiment_json(comparison: Comparison) -> dict[str, Any]:
    """The provenance record written as ``experiment.json`` (what a policy bundle cites)."""
    scenario = comparison.scenario
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "compare",
        "scenario": scenario.model_dump(mode="json"),
        "scenario_name": scenario.name,
        "scenario_hash": content_hash(scenario),
        "sets": {name: policies.model_dump(mode="json") for name, policies in comparison.sets.items()},
        "reference": comparison.reference,
        "set_notes": set_notes(scenario, comparison.sets, comparison.reference),
        "seed": comparison.seed,
        "replications": comparison.replications_used,
        "warmup_days": comparison.warmup.days,
        "warmup": comparison.warmup.to_json(),
        "horizon_days": scenario.horizon_days,
        "confidence": comparison.confidence,
        "objective": scenario.objective.model_dump(mode="json"),
        "unresolved_kpis": comparison.open_kpis,
        "failed_replications": len(comparison.errors),
        "package_version": package_version(),
        "run_keys": comparison.run_keys,
        "first_replication": comparison.first_replication,
        "result_store": comparison.result_store,
    } | ({"stopping": {**comparison.stopping, "replications": comparison.replications_used,
                       "open": comparison.open_checks}} if comparison.stopping is not None else {})


def ranking_json(comparison: Comparison) -> dict[str, Any]:
    """The ranking as written to ``ranking.json``."""
    records = []
    for row in comparison.ranking.itertuples():
        records.append({"set": row.set, "rank": int(row.rank), "score": _finite(row.score),
                        "score_ci_low": _finite(row.score_ci_low),
                        "score_ci_high": _finite(row.score_ci_high),
                        "feasible": bool(row.feasible), "violated": row.violated, "group": int(row.group)})
    return {"objective": comparison.scenario.objective.model_dump(mode="json"),
            "confidence": comparison.confidence, "ranking": records, "winner": comparison.winner()}


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def write_comparison(comparison: Comparison, out: str | Path) -> Path:
    """Write the tables, the ranking and the provenance record into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    comparison.replications.to_parquet(folder / "replications.parquet", index=False)
    comparison.summary.to_parquet(folder / "summary.parquet", index=False)
    comparison.summary.to_csv(folder / "summary.csv", index=False)
    comparison.ranking.to_csv(folder / "ranking.csv", index=False)
    (folder / "ranking.json").write_text(json.dumps(ranking_json(comparison), indent=2) + "\n")
    (folder / "experiment.json").write_text(json.dumps(experiment_json(comparison), indent=2) + "\n")
    errors_file = folder / "errors.csv"
    if len(comparison.errors):
        comparison.errors.to_csv(errors_file, index=False)
    elif errors_file.exists():
        errors_file.unlink()
    if comparison.warmup.mean_series is not None:
        plot_warmup(comparison.warmup, folder / "warmup.png")
    return folder


def plot_warmup(warmup: Warmup, path: Path) -> None:
    """The pilot series with the MSER-5 truncation point marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = warmup.mean_series
    assert series is not None
    labels = {"work_in_process": "orders in process (count)",
              "lead_time_days": "lead time of deliveries (days)"}
    figure, axes = plt.subplots(len(WARMUP_SERIES), 1, figsize=(8, 5), sharex=True)
    for axis, name in zip(axes, WARMUP_SERIES, strict=True):
        axis.plot(series.index, series[name], color="#1f77b4", linewidth=1)
        axis.axvline(warmup.per_series[name], color="#ff7f0e", linestyle=":",
                     label=f"MSER-5 for this series: {warmup.per_series[name]:g} d")
        axis.axvline(warmup.days, color="#d62728", label=f"warm-up used: {warmup.days:g} d")
        axis.set_ylabel(labels[name])
        axis.legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("simulated day")
    figure.suptitle(f"Warm-up detection: mean of {warmup.pilot_replications} pilot replications")
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)
