"""Live progress of a run: its stage from the log, replications and running means from the result store.

The command's own progress lines (``compare (10 replications per set): 8/20 runs (40 %), …``,
one at every tenth of a stage) say which stage it is in. For a comparison, the replications
it will run are known in advance — the same task list :func:`~ordercycle.sim.experiments.
comparison.comparison_tasks` gives ``compare`` — so the result store's files say how many of
each set are done, and their KPIs give running means with t-intervals
(:func:`~ordercycle.reports.statistics.t_interval`, as the summary computes them).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordercycle.reports.glossary import format_amount, format_value, info
from ordercycle.reports.statistics import t_interval
from ordercycle.scenarios.experiment_files import load_sets
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.experiments.comparison import comparison_tasks
from ordercycle.sim.experiments.replications import ReplicationTask, resolve_sets
from ordercycle.sim.ui.jobs import LOG, JobRecord

STAGE_LINE = re.compile(r"^(?P<stage>.+?): (?P<done>[\d,]+)/(?P<total>[\d,]+) runs?\b(?P<rest>.*)$")
LIVE_KPIS = ("on_time_delivery_rate", "profit", "mean_lead_time_days", "operating_cost_per_order")
"""Shown live besides the objective's KPIs."""


@dataclass
class Stage:
    """The last progress line of a run."""

    stage: str
    done: int
    total: int
    line: str


@dataclass
class LiveSet:
    """Replications done of one set, and its running means."""

    name: str
    done: int
    planned: int
    means: dict[str, str] = field(default_factory=dict)
    """KPI -> ``mean ± half-width`` in the KPI's unit (``–`` for the half-width below 2 replications)."""


@dataclass
class Progress:
    """What a running (or stopped) run has done so far."""

    stage: Stage | None
    stored: int
    sets: list[LiveSet]
    kpis: list[str]
    errors: list[str]
    log_tail: list[str]


def last_stage(log: str) -> Stage | None:
    """The last progress line of a log."""
    for line in reversed(log.splitlines()):
        match = STAGE_LINE.match(line.strip())
        if match:
            return Stage(match["stage"], int(match["done"].replace(",", "")),
                         int(match["total"].replace(",", "")), line.strip())
    return None


def read_log(folder: Path) -> str:
    """The run's output so far (empty when there is none)."""
    try:
        return (folder / LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def planned_tasks(folder: Path, record: JobRecord) -> tuple[list[ReplicationTask], str, Any] | None:
    """The replications a workbench comparison will run, its reference and scenario; None for other runs."""
    if record.kind != "compare":
        return None
    try:
        scenario = load(folder / "scenario.yaml")
        sets, reference = resolve_sets(scenario, load_sets(folder / "sets.yaml"))
    except Exception:  # noqa: BLE001 - an unreadable input: the run's own log says why
        return None
    base = override(scenario, warmup_days=scenario.warmup_days)
    tasks = comparison_tasks(base, sets, int(record.params.get("reps", 2)), int(record.params.get("seed", 0)))
    return tasks, reference, scenario


class ProgressReader:
    """Reads the progress of runs, keeping the planned tasks and finished outcomes it has read."""

    def __init__(self) -> None:
        self._plans: dict[tuple[Path, float], Any] = {}
        self._outcomes: dict[Path, dict[str, dict[str, Any]]] = {}

    def read(self, folder: Path, record: JobRecord | None) -> Progress:
        """The progress of the run in ``folder``."""
        log = read_log(folder)
        runs = folder / "runs"
        stored = len(list(runs.glob("*.json"))) if runs.is_dir() else 0
        errors = [line.removeprefix("error: ") for line in log.splitlines() if line.startswith("error: ")]
        tail = [line for line in log.splitlines() if line.strip()][-12:]
        if record is None:
            return Progress(last_stage(log), stored, [], [], errors, tail)
        key = (folder, record.started_at)
        if key not in self._plans:
            self._plans[key] = planned_tasks(folder, record)
        plan = self._plans[key]
        if plan is None:
            return Progress(last_stage(log), stored, [], [], errors, tail)
        tasks, _, scenario = plan
        outcomes = self._outcomes.setdefault(folder, {})
        for task in tasks:
            if task.key not in outcomes:
                path = runs / f"{task.key}.json"
                try:
                    outcome = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if outcome.get("status") == "ok":
                    outcomes[task.key] = outcome
        confidence = float(record.params.get("confidence", 0.95))
        kpis = list(dict.fromkeys([*scenario.objective.kpis(), *LIVE_KPIS]))
        live = []
        for name in dict.fromkeys(task.set_name for task in tasks):
            mine = [outcomes[t.key]["kpis"] for t in tasks if t.set_name == name and t.key in outcomes]
            entry = LiveSet(name, len(mine), sum(1 for t in tasks if t.set_name == name))
            for kpi in kpis:
                values = [row[kpi] for row in mine if kpi in row and row[kpi] is not None
                          and math.isfinite(row[kpi])]
                if not values:
                    entry.means[kpi] = "–"
                    continue
                interval = t_interval(values, confidence)
                half = (format_amount(kpi, interval.half_width, scenario.currency)
                        if math.isfinite(interval.half_width) else "–")
                entry.means[kpi] = f"{format_value(kpi, interval.mean, scenario.currency)} ± {half}"
            live.append(entry)
        return Progress(last_stage(log), stored, live, kpis, errors, tail)


def kpi_label(kpi: str) -> str:
    """A KPI's label from the glossary."""
    return info(kpi).label
