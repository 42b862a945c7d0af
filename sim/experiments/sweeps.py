"""Sweep a scenario family: grid or Latin-hypercube points × policy sets × replications.

``ordercycle sweep`` (and :func:`sweep` in Python): every point of a grid file changes
scenario parameters by dotted path; every (point, set, replication) is a replication
task with the same root seed, so common random numbers hold across points and sets.
:func:`write_sweep` writes a parquet dataset partitioned by point and set.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ordercycle.reports.statistics import summarise
from ordercycle.scenarios.experiment_files import GridFile, SetsFile, apply_point
from ordercycle.scenarios.loader import content_hash
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.experiments.executors import Executor, SerialExecutor
from ordercycle.sim.experiments.replications import (
    SCHEMA_VERSION,
    Progress,
    make_task,
    no_progress,
    replication_tables,
    resolve_sets,
    run_tasks,
)
from ordercycle.sim.experiments.store import ResultStore
from ordercycle.sim.run import package_version


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
    replications, errors = replication_tables(tasks, outcomes, scenario.warmup_days, list(full_sets),
                                              with_point=True)
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
