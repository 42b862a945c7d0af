"""Simulation optimisation: tune policy parameters (and choices) with Optuna under common random numbers.

A **space file** names the knobs (``scenarios/experiments/space-example.yaml``)::

    parameters:
      expedite.params.max_per_period: {low: 0, high: 20, integer: true}
      selection.params.min_units: {low: 1, high: 6, integer: true}
      priority.name: {choices: [fifo, edd, atc]}       # the policy choice itself
      scenario.staff.entry_clerks: {low: 1, high: 3, integer: true}  # a scenario parameter

Keys are ``DECISION.name``, ``DECISION.params.PARAM`` (a policy's parameter; it applies
to the policy the trial uses for that decision) or ``scenario.PATH`` (a scenario
parameter, as in sweep grids — for what-if designs, not for deployment).

Every trial is evaluated on the same ``reps`` replications (same seeds: common random
numbers), so two trials differ only by their parameters; the trial's value is the mean
of the objective over them. One objective (the scenario's weighted score, with its
constraints as Optuna constraints) is searched with TPE; several KPIs
(``--objective on_time_delivery_rate:max,operating_cost:min``) with NSGA-II, giving the
Pareto front. Trials are asked in fixed-size batches and their replications run on the
experiment executors; as every replication is kept in the result store and the
samplers are seeded, re-running an interrupted study replays the same trials from the
store and continues where it stopped.

The winner is chosen noise-aware: the best ``top`` trials are re-evaluated on
``confirm_reps`` fresh replications, next to the scenario's current policy set, and
ranked with the compare machinery (paired intervals); the report says how much better
than the current set the winner is, with its interval. With several objectives the
front's distinct settings are re-evaluated the same way, and :func:`front_pairs` says
which of them the fresh replications can tell apart. ``write_study`` saves the tables
that ``reports/study_report.py`` turns into ``report.html``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ordercycle.policies.registry import DECISIONS
from ordercycle.reports.statistics import paired_difference, rank_sets, scores, summarise
from ordercycle.scenarios.experiment_files import apply_point, read_yaml, validate_file
from ordercycle.scenarios.loader import content_hash
from ordercycle.scenarios.schema import PolicySet, Scenario
from ordercycle.sim.experiments.comparison import Comparison, Warmup, write_comparison
from ordercycle.sim.experiments.executors import Executor, SerialExecutor
from ordercycle.sim.experiments.replications import (
    SCHEMA_VERSION,
    ExperimentError,
    Progress,
    check_objective,
    counts_as_integers,
    kpi_names,
    make_task,
    no_progress,
    resolve_sets,
    run_tasks,
)
from ordercycle.sim.experiments.store import ResultStore
from ordercycle.sim.run import package_version

_CONFIG = ConfigDict(extra="forbid")
CURRENT = "current"
_TRIAL_COLUMNS = {"trial", "status", "error", "value", "feasible"}


class Knob(BaseModel):
    """One dimension of the search: a range (float or integer, optionally log-scaled) or choices."""

    model_config = _CONFIG
    low: float | None = None
    high: float | None = None
    integer: bool = False
    log: bool = False
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Knob:
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either choices or low/high, not both")
            if not self.choices:
                raise ValueError("choices: give at least one")
        elif self.low is None or self.high is None:
            raise ValueError("give low and high (a range) or choices")
        elif self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        elif self.log and self.low <= 0:
            raise ValueError("a log-scaled range needs low > 0")
        return self


class SpaceFile(BaseModel):
    """The knobs of an optimisation."""

    model_config = _CONFIG
    parameters: dict[str, Knob] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_targets(self) -> SpaceFile:
        problems = []
        for key in self.parameters:
            parts = key.split(".")
            if parts[0] == "scenario" and len(parts) > 1:
                continue
            if parts[0] not in DECISIONS:
                problems.append(
                    f"parameters.{key}: starts with neither a decision "
                    f"({', '.join(DECISIONS)}) nor 'scenario.'"
                )
            elif not (parts[1:] == ["name"] or (len(parts) == 3 and parts[1] == "params")):
                problems.append(f"parameters.{key}: use {parts[0]}.name or {parts[0]}.params.PARAMETER")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_space(path: str | Path) -> SpaceFile:
    """Read and validate a space file."""
    return validate_file(SpaceFile, read_yaml(path, "space"), str(path))


@dataclass(frozen=True)
class Direction:
    """One objective of a multi-objective search."""

    kpi: str
    maximise: bool


def parse_objectives(text: str | None) -> list[Direction] | None:
    """``kpi:max,kpi:min`` into directions; None means the scenario's weighted objective."""
    if not text:
        return None
    directions = []
    for item in text.split(","):
        kpi, _, sense = item.strip().partition(":")
        if sense not in ("max", "min") or not kpi:
            raise ExperimentError([f"--objective: {item.strip()!r} must be KPI:max or KPI:min"])
        directions.append(Direction(kpi, sense == "max"))
    return directions


def configure(scenario: Scenario, params: Mapping[str, Any]) -> Scenario:
    """``scenario`` with a trial's parameters applied (policy choices, policy parameters, scenario paths)."""
    scenario_point = {
        key.removeprefix("scenario."): value for key, value in params.items() if key.startswith("scenario.")
    }
    variant = apply_point(scenario, scenario_point) if scenario_point else scenario
    policies = variant.policies.model_dump(mode="python")
    for key, value in params.items():
        parts = key.split(".")
        if parts[0] == "scenario":
            continue
        if parts[1] == "name":
            if value != policies[parts[0]]["name"]:
                policies[parts[0]] = {"name": value, "params": {}}
    for key, value in params.items():
        parts = key.split(".")
        if parts[0] != "scenario" and parts[1] == "params":
            policies[parts[0]]["params"][parts[2]] = value
    return variant.model_copy(update={"policies": PolicySet.model_validate(policies)})


def _suggest(trial: Any, name: str, knob: Knob) -> Any:
    if knob.choices is not None:
        return trial.suggest_categorical(name, knob.choices)
    assert knob.low is not None and knob.high is not None
    if knob.integer:
        return trial.suggest_int(name, int(knob.low), int(knob.high), log=knob.log)
    return trial.suggest_float(name, knob.low, knob.high, log=knob.log)


@dataclass
class Study:
    """What :func:`optimise` found."""

    trials: pd.DataFrame
    directions: list[Direction] | None
    winner: dict[str, Any] | None
    confirmation: pd.DataFrame  # summary of the re-evaluation (sets: current, trial-N …)
    ranking: pd.DataFrame
    importances: dict[str, float]
    pareto: list[int] = field(default_factory=list)
    improvement: dict[str, float] = field(default_factory=dict)
    comparison: Comparison | None = None
    """The confirmation as a compare result (policy-only spaces): ``ordercycle export`` reads it."""
    replications: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The re-evaluation: one KPI row per (set, fresh replication)."""
    front_pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Multi-objective: paired differences between confirmed front points, per objective KPI."""
    objective_importances: dict[str, dict[str, float]] = field(default_factory=dict)
    """Multi-objective: parameter importances for each objective KPI."""

    def front(self) -> list[dict[str, Any]]:
        """The confirmed front points: setting, mean and interval per objective, difference to current."""
        if self.directions is None:
            return []
        settings = self.trials.set_index("trial")
        knobs = [
            c for c in self.trials.columns if c not in _TRIAL_COLUMNS and not c.startswith(("value", "mean."))
        ]
        points = []
        for name in dict.fromkeys(self.confirmation["set"]):
            if name == CURRENT:
                continue
            number = int(name.removeprefix("trial-"))
            rows = self.confirmation[self.confirmation["set"] == name].set_index("kpi")
            columns = ("mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high", "p_value")
            kpis = {d.kpi: {key: float(rows.loc[d.kpi, key]) for key in columns} for d in self.directions}
            points.append(
                {
                    "trial": number,
                    "params": _plain(settings.loc[number, knobs].to_dict()),
                    "kpis": kpis,
                    "indistinguishable_from": _indistinguishable(self.front_pairs, name),
                }
            )
        return points


Evaluate = Callable[[list[tuple[str, Scenario]], Sequence[int]], pd.DataFrame]


def replication_evaluator(
    seed: int, executor: Executor, store: ResultStore | None, progress: Progress
) -> Evaluate:
    """Evaluate named scenarios on the given replication numbers: one KPI row per (name, replication)."""

    def evaluate(candidates: list[tuple[str, Scenario]], replications: Sequence[int]) -> pd.DataFrame:
        tasks = [make_task(scenario, name, r, seed) for name, scenario in candidates for r in replications]
        outcomes = run_tasks(tasks, executor, store, progress, f"{len(candidates)} candidates")
        rows = []
        for task in tasks:
            outcome = outcomes[task.key]
            if outcome.get("status") == "ok":
                rows.append({"set": task.set_name, "replication": task.replication, **outcome["kpis"]})
            else:
                rows.append(
                    {
                        "set": task.set_name,
                        "replication": task.replication,
                        "error": str(outcome.get("error")),
                    }
                )
        return counts_as_integers(pd.DataFrame(rows))

    return evaluate


def optimise(
    scenario: Scenario,
    space: SpaceFile,
    *,
    objectives: list[Direction] | None = None,
    trials: int = 30,
    reps: int = 3,
    seed: int = 0,
    batch: int = 4,
    top: int = 3,
    confirm_reps: int = 10,
    confidence: float = 0.95,
    executor: Executor | None = None,
    out: str | Path | None = None,
    progress: Progress = no_progress,
    evaluate: Evaluate | None = None,
) -> Study:
    """Search ``space`` for the best setting of ``scenario``'s policies; confirm the winner.

    ``batch`` trials are asked at a time (the sampler sees the results of earlier
    batches only), independently of the number of workers, so a study is the same on
    every executor.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    executor = executor or SerialExecutor()
    store = ResultStore(out) if out is not None else None
    if evaluate is None:
        names = kpi_names(scenario)
        if objectives is None:
            check_objective(scenario, names)
        else:
            unknown = [d.kpi for d in objectives if d.kpi not in names]
            if unknown:
                raise ExperimentError([f"--objective: unknown KPI {kpi!r}" for kpi in unknown])
        evaluate = replication_evaluator(seed, executor, store, no_progress)
    resolve_sets(scenario, {CURRENT: {}})  # the current set must be valid
    weights = scenario.objective.weights
    constraints = [(b.kpi, b.min, b.max) for b in scenario.objective.constraints]

    if objectives is None:
        sampler = optuna.samplers.TPESampler(seed=seed)
        study = optuna.create_study(direction="maximize", sampler=sampler)
    else:
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
        study = optuna.create_study(
            directions=["maximize" if d.maximise else "minimize" for d in objectives], sampler=sampler
        )
    records = []
    configured: dict[int, Scenario] = {}
    tick = progress("trials", trials)
    while len(records) < trials:
        asked = [study.ask() for _ in range(min(batch, trials - len(records)))]
        candidates = []
        for trial in asked:
            params = {name: _suggest(trial, name, knob) for name, knob in space.parameters.items()}
            try:
                variant = configure(scenario, params)
                resolve_sets(variant, {f"trial-{trial.number}": {}})
            except Exception as error:  # a parameter the chosen policy does not take, out of range …
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                records.append({"trial": trial.number, **params, "status": "invalid", "error": str(error)})
                tick()
                continue
            configured[trial.number] = variant
            candidates.append((trial, params, variant))
        table = evaluate([(f"trial-{t.number}", v) for t, _, v in candidates], range(reps))
        for trial, params, _ in candidates:
            rows = table[table["set"] == f"trial-{trial.number}"]
            if "error" in rows and rows["error"].notna().any():
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                records.append(
                    {
                        "trial": trial.number,
                        **params,
                        "status": "failed",
                        "error": str(rows["error"].dropna().iloc[0]),
                    }
                )
                tick()
                continue
            record = {"trial": trial.number, **params, "status": "ok"}
            if objectives is None:
                value = float(scores(rows, weights).mean())
                violations = []
                for kpi, low, high in constraints:
                    mean = float(rows[kpi].mean())
                    violation = max(
                        (low - mean) if low is not None else 0.0, (mean - high) if high is not None else 0.0
                    )
                    violations.append(violation)
                    trial.set_constraint(kpi, violation)
                record.update(value=value, feasible=all(v <= 0 for v in violations))
                study.tell(trial, value if math.isfinite(value) else -math.inf)
            else:
                values = [float(rows[d.kpi].mean()) for d in objectives]
                record.update({f"value.{d.kpi}": v for d, v in zip(objectives, values, strict=True)})
                study.tell(trial, values)
            for kpi in dict.fromkeys(
                list(weights) + [c[0] for c in constraints] + [d.kpi for d in objectives or []]
            ):
                if kpi in rows:  # the scenario objective's KPIs are not evaluated in every study
                    record[f"mean.{kpi}"] = float(rows[kpi].mean())
            records.append(record)
            tick()
    trials_table = pd.DataFrame(records).sort_values("trial", kind="stable").reset_index(drop=True)
    importances = _importances(study)
    if objectives is not None:
        pareto = sorted(t.number for t in study.best_trials)
        spread = _spread(trials_table, pareto, list(space.parameters), objectives, max(top, 1) * 3)
        confirmed = [(f"trial-{n}", configured[n]) for n in spread]
        table = evaluate([(CURRENT, scenario)] + confirmed, range(reps, reps + confirm_reps))
        table = table.drop(columns="error", errors="ignore")
        summary = summarise(table, CURRENT, confidence, kpis=[d.kpi for d in objectives])
        pairs = front_pairs(table, [name for name, _ in confirmed], objectives, confidence)
        by_objective = {
            d.kpi: _importances(study, lambda t, i=i: t.values[i]) for i, d in enumerate(objectives)
        }
        return Study(
            trials_table,
            objectives,
            None,
            summary,
            pd.DataFrame(),
            importances,
            pareto,
            replications=table,
            front_pairs=pairs,
            objective_importances=by_objective,
        )

    ok = trials_table[trials_table["status"] == "ok"]
    best = ok.sort_values(["feasible", "value", "trial"], ascending=[False, False, True])
    best = best.drop_duplicates(subset=list(space.parameters)).head(top)  # distinct settings only
    finalists = [(f"trial-{int(n)}", configured[int(n)]) for n in best["trial"]]
    table = evaluate([(CURRENT, scenario)] + finalists, range(reps, reps + confirm_reps))
    table = table.drop(columns="error", errors="ignore")
    ranked_kpis = list(dict.fromkeys(list(weights) + [c[0] for c in constraints]))
    summary = summarise(table, CURRENT, confidence, kpis=ranked_kpis)
    ranking = rank_sets(table, weights, constraints, confidence)
    winner_name = next((row.set for row in ranking.itertuples() if row.feasible), None)
    winner = None
    improvement: dict[str, float] = {}
    if winner_name is not None and winner_name != CURRENT:
        number = int(winner_name.removeprefix("trial-"))
        params = trials_table.set_index("trial").loc[number, list(space.parameters)].to_dict()
        winner = {
            "trial": number,
            "params": _plain(params),
            "policies": configured[number].policies.model_dump(mode="json"),
        }
        improvement = _improvement(table, winner_name, weights, confidence)
    elif winner_name == CURRENT:
        winner = {"trial": None, "params": {}, "policies": scenario.policies.model_dump(mode="json")}
    comparison = None
    if not any(key.startswith("scenario.") for key in space.parameters):
        sets = {CURRENT: scenario.policies} | {name: variant.policies for name, variant in finalists}
        replications = table.assign(seed=seed, warmup_days=scenario.warmup_days)
        replications = replications[
            ["set", "replication", "seed", "warmup_days"]
            + [c for c in table.columns if c not in ("set", "replication")]
        ]
        comparison = Comparison(
            scenario,
            sets,
            CURRENT,
            seed,
            replications,
            summarise(replications, CURRENT, confidence),
            ranking,
            pd.DataFrame(columns=["set", "replication", "seed", "error"]),
            Warmup(scenario.warmup_days, "scenario"),
            confidence,
            confirm_reps,
            run_keys={name: [make_task(variant, name, r, seed).key for r in range(reps, reps + confirm_reps)]
                      for name, variant in [(CURRENT, scenario), *finalists]},
            first_replication=reps,
            result_store="../runs",  # written to <out>/confirmation; the store is <out>/runs
        )
    return Study(
        trials_table,
        None,
        winner,
        summary,
        ranking,
        importances,
        [],
        improvement,
        comparison,
        replications=table,
    )


def _spread(
    trials: pd.DataFrame, pareto: list[int], knobs: list[str], objectives: Sequence[Direction], count: int
) -> list[int]:
    """At most ``count`` distinct settings of the front, evenly spaced along the first objective."""
    front = trials[trials["trial"].isin(pareto)].drop_duplicates(subset=knobs)  # lowest trial per setting
    front = front.sort_values([f"value.{objectives[0].kpi}", "trial"])
    chosen = np.unique(np.linspace(0, len(front) - 1, min(count, len(front))).round().astype(int))
    return sorted(int(n) for n in front["trial"].iloc[chosen])


def front_pairs(
    table: pd.DataFrame, names: Sequence[str], objectives: Sequence[Direction], confidence: float
) -> pd.DataFrame:
    """Paired differences (a − b) between every two confirmed front points on each objective KPI.

    Under common random numbers replication r of every point saw the same demand, so
    the difference is paired by replication (as in compare). Two points are
    *distinguishable* when at least one objective's interval excludes zero; otherwise the
    fresh replications cannot tell them apart on any objective.
    """
    by_set = {name: group.set_index("replication").sort_index() for name, group in table.groupby("set")}
    rows = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            common = by_set[first].index.intersection(by_set[second].index)
            for direction in objectives:
                diff = paired_difference(
                    by_set[first].loc[common, direction.kpi].to_numpy(),
                    by_set[second].loc[common, direction.kpi].to_numpy(),
                    confidence,
                )
                rows.append(
                    {
                        "a": first,
                        "b": second,
                        "kpi": direction.kpi,
                        "diff_mean": diff.interval.mean,
                        "diff_ci_low": diff.interval.low,
                        "diff_ci_high": diff.interval.high,
                        "p_value": diff.p_value,
                        "distinguishable": diff.excludes_zero(),
                    }
                )
    columns = ["a", "b", "kpi", "diff_mean", "diff_ci_low", "diff_ci_high", "p_value", "distinguishable"]
    return pd.DataFrame(rows, columns=columns)


def _indistinguishable(pairs: pd.DataFrame, name: str) -> list[int]:
    """Front points that no objective's interval tells apart from ``name`` (trial numbers)."""
    if pairs.empty:
        return []
    verdict = pairs.groupby(["a", "b"], sort=False)["distinguishable"].any().reset_index()
    others = [
        row.b if row.a == name else row.a
        for row in verdict.itertuples()
        if name in (row.a, row.b) and not row.distinguishable
    ]
    return sorted(int(other.removeprefix("trial-")) for other in others)


def _improvement(
    table: pd.DataFrame, name: str, weights: Mapping[str, float], confidence: float
) -> dict[str, float]:
    scored = table.assign(score=scores(table, weights))
    scored = scored.pivot(index="replication", columns="set", values="score")
    diff = paired_difference(scored[name].to_numpy(), scored[CURRENT].to_numpy(), confidence)
    return {
        "score_difference": diff.interval.mean,
        "ci_low": diff.interval.low,
        "ci_high": diff.interval.high,
        "p_value": diff.p_value,
        "current_score": float(scored[CURRENT].mean()),
        "winner_score": float(scored[name].mean()),
    }


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value.item() if isinstance(value, np.generic) else value for key, value in values.items()}


def _importances(study: Any, target: Callable[[Any], float] | None = None) -> dict[str, float]:
    """PED-ANOVA importances (Optuna's default, deterministic); ``target`` picks one objective of several."""
    import optuna

    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 4 or (len(study.directions) > 1 and target is None):
        return {}
    try:
        with warnings.catch_warnings():  # "importances will be equal" on flat studies: the numbers say so
            warnings.simplefilter("ignore", UserWarning)
            found = optuna.importance.get_param_importances(study, target=target)
            return {k: float(v) for k, v in found.items()}
    except (RuntimeError, ValueError):  # e.g. every trial has the same value
        return {}


def write_study(
    study: Study,
    out: str | Path,
    scenario: Scenario,
    space: SpaceFile,
    *,
    seed: int,
    reps: int,
    confirm_reps: int,
    confidence: float,
) -> Path:
    """Trials, the confirmation, the winner, importances and plots into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    trials = study.trials.copy()
    if "feasible" in trials:  # True/False, missing for trials not evaluated: a nullable boolean, not text
        trials["feasible"] = trials["feasible"].astype("boolean")
    for column in trials.columns:
        if trials[column].dtype == object:
            trials[column] = trials[column].map(
                lambda v: v if v is None or isinstance(v, str) else json.dumps(_plain({"v": v})["v"])
            )
    trials.to_parquet(folder / "trials.parquet", index=False)
    study.trials.to_csv(folder / "trials.csv", index=False)
    study.confirmation.to_csv(folder / "confirmation.csv", index=False)
    study.replications.to_parquet(folder / "confirmation-replications.parquet", index=False)
    if study.directions is not None:
        study.front_pairs.to_csv(folder / "front-pairs.csv", index=False)
    if study.comparison is not None:  # a compare result: `ordercycle export OUT/confirmation --winner`
        write_comparison(study.comparison, folder / "confirmation")
    if len(study.ranking):
        study.ranking.to_csv(folder / "confirmation-ranking.csv", index=False)
    record = {
        "schema_version": SCHEMA_VERSION,
        "kind": "optimise",
        "scenario_name": scenario.name,
        "scenario_hash": content_hash(scenario),
        "space": space.model_dump(mode="json", exclude_none=True),
        "seed": seed,
        "replications_per_trial": reps,
        "confirmation_replications": confirm_reps,
        "confidence": confidence,
        "objectives": (
            [{"kpi": d.kpi, "direction": "max" if d.maximise else "min"} for d in study.directions]
            if study.directions
            else scenario.objective.model_dump(mode="json")
        ),
        "trials": len(study.trials),
        "winner": study.winner,
        "improvement_over_current": study.improvement,
        "pareto_trials": study.pareto,
        "front": study.front(),
        "parameter_importances": study.importances,
        "objective_importances": study.objective_importances,
        "horizon_days": scenario.horizon_days,
        "warmup_days": scenario.warmup_days,
        "package_version": package_version(),
    }
    (folder / "study.json").write_text(json.dumps(record, indent=2, default=_json_default) + "\n")
    _save_figures(study, folder, confidence, list(space.parameters))
    return folder


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _save_figures(study: Study, folder: Path, confidence: float, knobs: list[str]) -> None:
    """``history.png`` and, for two objectives or more, ``pareto.png`` (the report's figures)."""
    from ordercycle.reports.html import figure_png
    from ordercycle.reports.study_report import history_figure, pareto_figure

    directions = [(d.kpi, d.maximise) for d in study.directions] if study.directions is not None else None
    (folder / "history.png").write_bytes(figure_png(history_figure(study.trials, directions, study.pareto)))
    if directions is not None and len(directions) >= 2:
        figure = pareto_figure(study.trials, study.confirmation, study.pareto, directions, confidence, knobs)
        (folder / "pareto.png").write_bytes(figure_png(figure))
