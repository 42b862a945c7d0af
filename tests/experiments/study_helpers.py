"""A synthetic optimisation study (no simulation): known trade-off, known ties, written with its report.

The space is the baseline's expedite cap ``x`` in 0 … 20; the "KPIs" of a replication
are drawn around true means that step every 5 units of ``x`` (on-time delivery +0.1,
operating cost +100 per step), so settings in one step are truly equal and settings in
different steps differ by 20 standard errors. Used by the study-report tests and the
headless-browser test, which need a study folder but not a simulation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ordercycle.reports.study_report import write_study_report
from ordercycle.scenarios.loader import load
from ordercycle.sim.experiments.optimisation import Direction, SpaceFile, configure, optimise, write_study

KNOB = "expedite.params.max_per_period"
SPACE = SpaceFile.model_validate({"parameters": {KNOB: {"low": 0, "high": 20, "integer": True}}})
OBJECTIVES = [Direction("on_time_delivery_rate", True), Direction("operating_cost", False)]


def step(cap: int) -> int:
    """The step of the true means a cap belongs to (caps in one step are truly equal)."""
    return min(cap // 5, 3)


def evaluate(candidates, replications) -> pd.DataFrame:
    """KPI rows around the true means; noise differs by setting and replication."""
    rows = []
    for name, variant in candidates:
        cap = int(variant.policies.expedite.params.get(KNOB.rsplit(".", 1)[1], 0))
        level = step(cap) if name != "current" else 0
        for r in replications:
            noise = np.random.default_rng([cap, r, name == "current"]).normal(size=2)
            rows.append({"set": name, "replication": r, "on_time_delivery_rate": 0.5 + 0.1 * level
                         + 0.01 * noise[0], "operating_cost": 1000.0 + 100 * level + 10 * noise[1]})
    return pd.DataFrame(rows)


def synthetic_study(folder: Path, trials: int = 16, confirm_reps: int = 8):
    """Run the synthetic multi-objective study, write it and its report into ``folder``; the study."""
    scenario = configure(load("baseline"), {"expedite.name": "top-tier"})
    study = optimise(scenario, SPACE, objectives=OBJECTIVES, trials=trials, reps=2, seed=4, batch=4, top=2,
                     confirm_reps=confirm_reps, evaluate=evaluate)
    write_study(study, folder, scenario, SPACE, seed=4, reps=2, confirm_reps=confirm_reps, confidence=0.95)
    write_study_report(folder)
    return study
