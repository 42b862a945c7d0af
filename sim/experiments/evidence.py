"""The evidence of a comparison, verified: each set's policies are those its cited replications ran.

A comparison's ``experiment.json`` cites, for every policy set, the content keys of its
replications (``run_keys``): a key is the hash of what the replication simulated — the
scenario with the set's policies, seed, replication number, package version
(:func:`~ordercycle.sim.experiments.replications.task_key`). :func:`check_evidence`
recomputes every key from the policies the file records and refuses a set whose keys
differ (its policies were edited after the run, so the ranking is not evidence for
them); it then reads every cited record of the result store (``runs/KEY.json``) and
checks that the summary's means and counts are those of the records. ``ordercycle
export`` runs it before writing a bundle, and the bundle records the keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ordercycle.policies.input_files import InputFileError, read_json
from ordercycle.scenarios.loader import ScenarioError, override
from ordercycle.scenarios.schema import PolicySet, Scenario
from ordercycle.sim.experiments.replications import canonical_json, task_key
from ordercycle.sim.experiments.store import MAX_RECORD_BYTES, record_problem

RELATIVE_TOLERANCE = 1e-9
"""How closely a summary mean must match the mean of its records (parquet keeps float64)."""


def cited_keys(experiment: Mapping[str, Any], set_name: str) -> list[str]:
    """The run keys ``experiment.json`` records for ``set_name`` (checked to be a list of strings)."""
    keys = (experiment.get("run_keys") or {}).get(set_name)
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise ValueError(f"run_keys.{set_name}: must be a list of run keys")
    return keys


def expected_keys(experiment: Mapping[str, Any], set_name: str) -> list[str]:
    """The run keys of ``set_name``'s replications computed from what ``experiment.json`` records
    (scenario, warm-up, the set's policies, seed, replications, package version)."""
    scenario = Scenario.model_validate(experiment["scenario"])
    base = override(scenario, warmup_days=float(experiment["warmup_days"]))
    policies = PolicySet.model_validate(experiment["sets"][set_name])
    scenario_json = canonical_json(base.model_copy(update={"policies": policies}))
    first = int(experiment.get("first_replication", 0))
    return [task_key(scenario_json, replication, int(experiment["seed"]), False,
                     str(experiment["package_version"]))
            for replication in range(first, first + int(experiment["replications"]))]


def _store(results: Path, experiment: Mapping[str, Any]) -> Path:
    relative = experiment.get("result_store", "runs")
    if relative not in ("runs", "../runs"):
        raise ValueError(f"result_store: must be 'runs' or '../runs', got {relative!r}")
    return (results / relative).resolve()


def _means(records: list[dict[str, Any]]) -> dict[str, tuple[int, float]]:
    """KPI -> (count of defined values, mean) over successful records."""
    values: dict[str, list[float]] = {}
    for record in records:
        for kpi, value in record["kpis"].items():
            if value is not None and not math.isnan(value):
                values.setdefault(kpi, []).append(float(value))
    return {kpi: (len(found), math.fsum(found) / len(found)) for kpi, found in values.items()}


def _summary_problems(where: str, set_name: str, rows: list[dict[str, Any]],
                      records: list[dict[str, Any]]) -> list[str]:
    means = _means(records)
    problems = []
    for row in rows:
        kpi, n, mean = row["kpi"], row["n"], row["mean"]
        count, expected = means.get(kpi, (0, math.nan))
        if count == 0:
            same_mean = mean is None or (isinstance(mean, float) and math.isnan(mean))
        else:
            same_mean = isinstance(mean, int | float) and math.isclose(
                mean, expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
        if n != count or not same_mean:
            problems.append(f"{where}: set {set_name!r}, KPI {kpi}: n {n} and mean {mean} are not those of "
                            f"its {len(records)} cited replications (n {count}, mean {expected}): the "
                            "summary was edited or belongs to other runs")
            break
    return problems


def check_evidence(results: Path, experiment: Mapping[str, Any],
                   summary_rows: Mapping[str, list[dict[str, Any]]] | None = None) -> list[str]:
    """Every problem with the evidence of ``results`` (a ``compare`` results directory), as lines.

    Args:
        results: the results directory (``experiment.json``, ``summary.parquet``, the store).
        experiment: its ``experiment.json``, already checked for its keys and scenario hash.
        summary_rows: per set, its ``summary.parquet`` rows (``kpi``, ``n``, ``mean``) to check
            against the records; ``None`` checks the keys and the records only.

    Checked for every set: the cited keys are those its recorded policies compute, and every
    cited record is in the result store and readable; then the summary's ``n`` and ``mean``
    per KPI are those of the successful records.
    """
    where = results / "experiment.json"
    if "run_keys" not in experiment:
        return [f"{where}: run_keys: missing: the results do not cite their replications (written by "
                "an older ordercycle); run the comparison again with the same --out (finished "
                "replications are reused)"]
    try:
        store = _store(results, experiment)
    except ValueError as error:
        return [f"{where}: {error}"]
    problems: list[str] = []
    for set_name in experiment["sets"]:
        try:
            cited = cited_keys(experiment, set_name)
            expected = expected_keys(experiment, set_name)
        except (ValueError, TypeError, KeyError, ScenarioError) as error:
            problems.append(f"{where}: sets.{set_name}: cannot compute its run keys ({error})")
            continue
        if cited != expected:
            problems.append(
                f"{where}: sets.{set_name}: its policies are not those of the replications it cites "
                f"(run keys {', '.join(key[:8] for key in cited[:3])}… do not match the policies recorded "
                "for the set): experiment.json was edited after the runs; the ranking is no evidence for "
                "these policies")
            continue
        records = []
        for key in cited:
            path = store / f"{key}.json"
            try:
                record = read_json(path, MAX_RECORD_BYTES, allow_nan=True)
            except InputFileError as error:
                reason = error.problems[0].removeprefix(f"{path}: ")
                problems.append(f"{path}: {reason} (a replication set {set_name!r} cites)")
                break
            problem = record_problem(record)
            if problem is not None:
                problems.append(f"{path}: {problem} (a replication set {set_name!r} cites)")
                break
            if record.get("status") == "ok":
                records.append(record)
        else:
            if summary_rows is not None and set_name in summary_rows:
                problems += _summary_problems(str(results / "summary.parquet"), set_name,
                                              summary_rows[set_name], records)
    return problems
