"""Experiments: compare policy sets, sweep scenario families — with common random numbers.

Replication r of every policy set (and every sweep point) runs with the same root
seed and replication number, so every stochastic source draws the same stream: the
sets see the same inquiries, breakdowns and delays (common random numbers), and
differences to the reference are taken pairwise per replication.

Each replication is a task named by the content key of what it computes (scenario
with the set's policies, seed, replication, package version). Finished tasks are kept
in the output folder's :class:`~ordercycle.sim.executors.ResultStore` at once, so a
re-run of an interrupted experiment computes only what is missing; tables are built
from the outcomes sorted by set and replication, so they are the same whatever the
executor or the number of workers.

Python API (for notebooks): :func:`compare` and :func:`sweep` return DataFrames.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.registry import make_all
from ordercycle.reports.statistics import (
    WARMUP_SERIES,
    mser5,
    needs_more,
    rank_sets,
    summarise,
    warmup_series,
)
from ordercycle.scenarios.experiment_files import GridFile, SetsFile, apply_point
from ordercycle.scenarios.loader import content_hash, override, parse
from ordercycle.scenarios.schema import PolicySet, PolicySetChanges, Scenario
from ordercycle.sim.executors import Executor, ResultStore, SerialExecutor, run_all
from ordercycle.sim.run import package_version, simulate

SCHEMA_VERSION = 1
KEY_COLUMNS = ["set", "replication", "seed", "warmup_days"]


@dataclass(frozen=True, slots=True)
class ReplicationTask:
    """One simulation run of an experiment; ``key`` names what it computes."""

    key: str
    set_name: str
    replication: int
    seed: int
    scenario_json: str
    point: int = 0
    series: bool = False


def _canonical(scenario: Scenario) -> str:
    data = scenario.model_dump(mode="json")
    data["sets"] = {}  # the sets section does not change what a run computes
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def make_task(scenario: Scenario, set_name: str, replication: int, seed: int, point: int = 0,
              series: bool = False) -> ReplicationTask:
    """The task that simulates ``scenario`` (policies already set) as replication ``replication``."""
    scenario_json = _canonical(scenario)
    identity = json.dumps([scenario_json, seed, replication, series, package_version()])
    key = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
    return ReplicationTask(key, set_name, replication, seed, scenario_json, point, series)


def flatten_kpis(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested KPIs as one level of ``a.b`` names (``utilization.machining``, ``final_states.open``)."""
    flat: dict[str, float] = {}
    for name, value in kpis.items():
        if isinstance(value, Mapping):
            flat.update(flatten_kpis(value, f"{prefix}{name}."))
        elif value is None:
            flat[prefix + name] = math.nan
        else:
            flat[prefix + name] = float(value)
    return flat


def run_replication(task: ReplicationTask) -> dict[str, Any]:
    """Simulate one task (in a worker): its flat KPIs, and warm-up series when asked."""
    scenario = parse(json.loads(task.scenario_json))
    started = time.perf_counter()
    result = simulate(scenario, task.seed, task.replication)
    outcome: dict[str, Any] = {"status": "ok", "kpis": flatten_kpis(result.kpis)}
    if task.series:
        series = warmup_series(result.orders, scenario.horizon_days)
        outcome["series"] = {name: series[name].tolist() for name in WARMUP_SERIES}
    outcome["seconds"] = time.perf_counter() - started
    return outcome


class ExperimentError(Exception):
    """Input the user must fix, as ``path: reason`` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def resolve_sets(scenario: Scenario, sets: SetsFile | Mapping[str, Any] | None
                 ) -> tuple[dict[str, PolicySet], str]:
    """Full policy sets by name, and the reference set, checked against the registry.

    ``sets`` is a sets file, a mapping ``name -> decisions changed``, or None for the
    scenario's own ``sets:`` section.
    """
    reference = None
    if isinstance(sets, SetsFile):
        changes, reference = dict(sets.sets), sets.reference
    elif sets is not None:
        changes = {name: PolicySetChanges.model_validate(value) for name, value in sets.items()}
    else:
        changes = dict(scenario.sets)
    if not changes:
        raise ExperimentError(["sets: no policy sets to compare (give --sets FILE or a `sets:` section)"])
    full = {name: change.apply(scenario.policies) for name, change in changes.items()}
    problems = []
    for name, policies in full.items():
        try:
            make_all(policies.model_dump(mode="python"))
        except PolicyParameterError as error:
            problems += [f"sets.{name}.{line.removeprefix('policies.')}" for line in error.problems]
    if problems:
        raise ExperimentError(problems)
    return full, reference or next(iter(full))


def check_objective(scenario: Scenario, kpi_names: list[str]) -> None:
    """Every KPI the objective names exists."""
    known = set(kpi_names)
    problems = [f"objective.weights.{name}: unknown KPI" for name in scenario.objective.weights
                if name not in known]
    problems += [f"objective.constraints.{i}.kpi: unknown KPI {bound.kpi!r}"
                 for i, bound in enumerate(scenario.objective.constraints) if bound.kpi not in known]
    if problems:
        raise ExperimentError(problems + [f"(known KPIs: {', '.join(kpi_names)})"])


def kpi_names(scenario: Scenario) -> list[str]:
    """The flat KPI names of ``scenario`` (from a one-day run: work centres name some of them)."""
    tiny = override(scenario, horizon_days=1.0, warmup_days=0.0)
    return list(flatten_kpis(simulate(tiny, 0, 0).kpis))


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

    def winner(self) -> str | None:
        """The best feasible set, or None when no set keeps the constraints."""
        feasible = self.ranking[self.ranking["feasible"]]
        return str(feasible.iloc[0]["set"]) if len(feasible) else None


Progress = Callable[[str, int], Callable[[], None]]


def no_progress(stage: str, total: int) -> Callable[[], None]:
    """A progress reporter that shows nothing (the default of the Python API)."""
    return lambda: None


def run_tasks(tasks: list[ReplicationTask], executor: Executor, store: ResultStore | None,
              progress: Progress, stage: str) -> dict[str, dict[str, Any]]:
    """Outcomes by key of ``tasks`` (stored ones reused), with one progress bar for the stage."""
    tick = progress(stage, len({task.key for task in tasks}))
    return run_all(executor, run_replication, tasks, store, lambda task, outcome: tick())


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


def _tables(tasks: list[ReplicationTask], outcomes: Mapping[str, dict[str, Any]], warmup_days: float,
            set_order: list[str], with_point: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replication rows (and failures) sorted by point, set (in the given order), replication."""
    order = {name: i for i, name in enumerate(set_order)}
    rows, errors = [], []
    for task in sorted(tasks, key=lambda t: (t.point, order[t.set_name], t.replication)):
        outcome = outcomes[task.key]
        keys = {"point": task.point, "set": task.set_name, "replication": task.replication, "seed": task.seed}
        if outcome.get("status") == "ok":
            rows.append({**keys, "warmup_days": warmup_days, **outcome["kpis"]})
        else:
            errors.append({**keys, "error": str(outcome.get("error", "unknown error"))})
    replications = pd.DataFrame(rows)
    error_table = pd.DataFrame(errors, columns=["point", "set", "replication", "seed", "error"])
    if not with_point:
        replications = replications.drop(columns="point", errors="ignore")
        error_table = error_table.drop(columns="point")
    return replications, error_table


def compare(scenario: Scenario, sets: SetsFile | Mapping[str, Any] | None = None, *, reps: int = 10,
            seed: int = 0, executor: Executor | None = None, out: str | Path | None = None,
            confidence: float = 0.95, reference: str | None = None, warmup: float | str | None = None,
            pilots: int = 5, target_relative_half_width: float | None = None, max_reps: int = 100,
            step: int = 4, progress: Progress = no_progress) -> Comparison:
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
        tasks = [make_task(base.model_copy(update={"policies": policies}), name, r, seed)
                 for name, policies in full_sets.items() for r in range(count)]
        new = [task for task in tasks if task.key not in outcomes]
        outcomes.update(run_tasks(new, executor, store, progress, f"compare ({count} replications per set)"))
        replications, errors = _tables(tasks, outcomes, found.days, set_order)
        if replications.empty or set(replications["set"]) != set(full_sets):
            missing = sorted(set(full_sets) - set(replications.get("set", [])))
            failures = [f"  {row.set} r{row.replication}: {row.error}" for row in errors.itertuples()]
            raise ExperimentError([f"sets.{name}: every replication failed" for name in missing] + failures)
        summary = summarise(replications, reference, confidence)
        open_kpis = (needs_more(summary, ranked, target_relative_half_width)
                     if target_relative_half_width is not None else [])
        if not open_kpis or count >= max_reps:
            break
        count = min(max_reps, count + step)
    ranking = rank_sets(replications, scenario.objective.weights, constraints, confidence)
    return Comparison(scenario, full_sets, reference, seed, replications, summary, ranking, errors, found,
                      confidence, count, open_kpis)


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
    }


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


@dataclass
class SweepResult:
    """What :func:`sweep` found."""

    points: pd.DataFrame
    replications: pd.DataFrame
    summary: pd.DataFrame
    errors: pd.DataFrame
    reference: str = ""
    """The set the paired differences are taken against."""
    confidence: float = 0.95
    """Level of the intervals."""


def sweep(scenario: Scenario, grid: GridFile, sets: SetsFile | Mapping[str, Any] | None = None, *,
          reps: int = 5, seed: int = 0, executor: Executor | None = None, out: str | Path | None = None,
          confidence: float = 0.95, progress: Progress = no_progress) -> SweepResult:
    """Every grid point × policy set × replication, with common random numbers across all of them.

    Without sets (and no ``sets:`` section in the scenario) the scenario's own policies
    run as the set ``scenario``.
    """
    executor = executor or SerialExecutor()
    store = ResultStore(out) if out is not None else None
    if sets is None and not scenario.sets:
        sets = {"scenario": {}}
    full_sets, reference = resolve_sets(scenario, sets)
    points = grid.points()
    scenarios = [apply_point(scenario, point) for point in points]
    tasks = [make_task(variant.model_copy(update={"policies": policies}), name, r, seed, point=i)
             for i, variant in enumerate(scenarios) for name, policies in full_sets.items()
             for r in range(reps)]
    outcomes = run_tasks(tasks, executor, store, progress, f"sweep ({len(points)} points)")
    replications, errors = _tables(tasks, outcomes, scenario.warmup_days, list(full_sets), with_point=True)
    point_rows = [{"point": i, **dict(_describe(path, value) for path, value in point.items())}
                  for i, point in enumerate(points)]
    summaries = []
    for i, group in replications.groupby("point", sort=True):
        if reference in set(group["set"]) and group.groupby("set").size().min() >= 1:
            summaries.append(summarise(group.drop(columns="point"), reference, confidence).assign(point=i))
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    if len(summary):
        summary = summary[["point"] + [c for c in summary.columns if c != "point"]]
    return SweepResult(pd.DataFrame(point_rows), replications, summary, errors, reference, confidence)


def _describe(path: str, value: Any) -> tuple[str, Any]:
    """A points-table column: a scaled parameter as ``path (scale)`` with the factor."""
    if isinstance(value, dict) and set(value) == {"scale"}:
        return f"{path} (scale)", value["scale"]
    return path, value if isinstance(value, int | float | str | bool) else json.dumps(value, sort_keys=True)


def write_sweep(result: SweepResult, out: str | Path, scenario: Scenario, grid: GridFile, seed: int,
                reps: int) -> Path:
    """Points, a parquet dataset partitioned by point and set, the summary, the provenance record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    result.points.to_parquet(folder / "points.parquet", index=False)
    table = pa.Table.from_pandas(result.replications, preserve_index=False)
    pq.write_to_dataset(table, folder / "results", partition_cols=["point", "set"],
                        basename_template="part-{i}.parquet", existing_data_behavior="delete_matching")
    result.summary.to_parquet(folder / "summary.parquet", index=False)
    result.summary.to_csv(folder / "summary.csv", index=False)
    if len(result.errors):
        result.errors.to_csv(folder / "errors.csv", index=False)
    record = {"schema_version": SCHEMA_VERSION, "kind": "sweep", "scenario": scenario.model_dump(mode="json"),
              "scenario_hash": content_hash(scenario), "grid": grid.model_dump(mode="json"), "seed": seed,
              "replications": reps, "points": len(result.points), "failed_replications": len(result.errors),
              "reference": result.reference, "confidence": result.confidence,
              "package_version": package_version()}
    (folder / "experiment.json").write_text(json.dumps(record, indent=2) + "\n")
    return folder
