"""Replications: the unit of work of every experiment, and what compare, sweep and optimise share.

Replication r of every policy set (and every sweep point) runs with the same root
seed and replication number, so every stochastic source draws the same stream: the
sets see the same inquiries, breakdowns and delays (common random numbers), and
differences to the reference are taken pairwise per replication.

Each replication is a task named by the content key of what it computes (scenario
with the set's policies, seed, replication, package version). Finished tasks are kept
in the output folder's :class:`~ordercycle.sim.experiments.store.ResultStore` at once, so a
re-run of an interrupted experiment computes only what is missing; tables are built
from the outcomes sorted by set and replication, so they are the same whatever the
executor or the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.registry import make_all
from ordercycle.reports.glossary import info
from ordercycle.reports.statistics import WARMUP_SERIES, warmup_series
from ordercycle.scenarios.experiment_files import SetsFile
from ordercycle.scenarios.loader import override, parse
from ordercycle.scenarios.schema import PolicySet, PolicySetChanges, Scenario
from ordercycle.sim.experiments.executors import Executor, run_all
from ordercycle.sim.experiments.store import ResultStore
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


def task_key(scenario_json: str, replication: int, seed: int, series: bool = False,
             version: str | None = None) -> str:
    """The content key of a replication: what it simulates (the canonical scenario with its
    policies), seed, replication number, whether it records warm-up series, and the package
    version that computes it (default: this one). A result record is named by it, and an
    experiment cites its replications by it."""
    identity = json.dumps([scenario_json, seed, replication, series, version or package_version()])
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]


def make_task(
    scenario: Scenario, set_name: str, replication: int, seed: int, point: int = 0, series: bool = False
) -> ReplicationTask:
    """The task that simulates ``scenario`` (policies already set) as replication ``replication``."""
    scenario_json = _canonical(scenario)
    key = task_key(scenario_json, replication, seed, series)
    return ReplicationTask(key, set_name, replication, seed, scenario_json, point, series)


def canonical_json(scenario: Scenario) -> str:
    """The scenario as a replication's key sees it (its ``sets:`` section left out)."""
    return _canonical(scenario)


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


def counts_as_integers(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every count KPI column (unit ``count`` in the glossary: ``inquiries``,
    ``final_states.open``, ``by_segment.strategic.orders_delivered``) as 64-bit integers.

    A column stays as it is where a value is missing (a KPI some grid points lack) or not
    whole, so no number is ever changed.
    """
    for column in table.columns:
        if column in KEY_COLUMNS or info(column).unit != "count" or table[column].dtype.kind != "f":
            continue
        values = table[column]
        if values.notna().all() and bool((values == values.round()).all()):
            table[column] = values.astype("int64")
    return table


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


def resolve_sets(
    scenario: Scenario, sets: SetsFile | Mapping[str, Any] | None
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
    problems = [
        f"objective.weights.{name}: unknown KPI" for name in scenario.objective.weights if name not in known
    ]
    problems += [
        f"objective.constraints.{i}.kpi: unknown KPI {bound.kpi!r}"
        for i, bound in enumerate(scenario.objective.constraints)
        if bound.kpi not in known
    ]
    if problems:
        raise ExperimentError(problems + [f"(known KPIs: {', '.join(kpi_names)})"])


def kpi_names(scenario: Scenario) -> list[str]:
    """The flat KPI names of ``scenario`` (from a one-day run: work centres name some of them)."""
    tiny = override(scenario, horizon_days=1.0, warmup_days=0.0)
    return list(flatten_kpis(simulate(tiny, 0, 0).kpis))


Progress = Callable[[str, int], Callable[[], None]]


def no_progress(stage: str, total: int) -> Callable[[], None]:
    """A progress reporter that shows nothing (the default of the Python API)."""
    return lambda: None


def run_tasks(
    tasks: list[ReplicationTask],
    executor: Executor,
    store: ResultStore | None,
    progress: Progress,
    stage: str,
) -> dict[str, dict[str, Any]]:
    """Outcomes by key of ``tasks`` (stored ones reused), with one progress bar for the stage."""
    tick = progress(stage, len({task.key for task in tasks}))
    return run_all(executor, run_replication, tasks, store, lambda task, outcome: tick())


def replication_tables(
    tasks: list[ReplicationTask],
    outcomes: Mapping[str, dict[str, Any]],
    warmup_days: float,
    set_order: list[str],
    with_point: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    replications = counts_as_integers(pd.DataFrame(rows))
    error_table = pd.DataFrame(errors, columns=["point", "set", "replication", "seed", "error"])
    if not with_point:
        replications = replications.drop(columns="point", errors="ignore")
        error_table = error_table.drop(columns="point")
    return replications, error_table
