"""The sweep report's logic on synthetic saved results whose answer is known (no simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ordercycle.reports.statistics import summarise
from ordercycle.reports.sweep_report import (
    SweepTables,
    interval_level,
    point_ranking,
    shown_kpis,
    winner_sentence,
)

REPS = 6


def _tables(effects: list[float], confidence: float = 0.95, sets: tuple[str, ...] = ("A", "B")
            ) -> SweepTables:
    """One point per effect: set B's profit is A's plus the effect, with common random numbers."""
    rng = np.random.default_rng(3)
    rows = []
    for point, effect in enumerate(effects):
        common = rng.normal(1e6, 1e5, REPS)
        for name in sets:
            shift = effect if name == "B" else 0.0
            for r in range(REPS):
                profit = common[r] + shift + rng.normal(0, 1e3)
                rows.append({"point": point, "set": name, "replication": r, "seed": 0, "profit": profit,
                             "on_time_delivery_rate": 0.95})
    replications = pd.DataFrame(rows)
    summary = pd.concat(
        [summarise(g.drop(columns="point"), sets[0], confidence).assign(point=p)
         for p, g in replications.groupby("point")],
        ignore_index=True,
    )
    points = pd.DataFrame({"point": range(len(effects)), "staff.senior_managers": range(1, len(effects) + 1)})
    scenario = {"name": "synthetic", "objective": {"weights": {"profit": 1.0}, "constraints": []}}
    return SweepTables(points, replications, summary, {"kind": "sweep", "scenario": scenario})


def test_each_point_says_which_set_wins_or_that_they_cannot_be_told_apart():
    tables = _tables([50_000.0, 100.0, -50_000.0])
    said = [winner_sentence(tables, p, point_ranking(tables, p)) for p in range(3)]
    assert said[0].startswith("Point 0 (staff.senior_managers = 1): B wins (score")
    assert said[0].endswith("ahead of A, clearly at 95%.")
    assert "cannot be told apart from" in said[1]
    assert said[2].startswith("Point 2 (staff.senior_managers = 3): A wins")


def test_a_constraint_no_set_keeps_is_said():
    tables = _tables([50_000.0])
    bound = {"kpi": "on_time_delivery_rate", "min": 0.99}
    tables.experiment["scenario"]["objective"]["constraints"] = [bound]
    said = winner_sentence(tables, 0, point_ranking(tables, 0))
    assert said.endswith("no set keeps every constraint of the objective.")


def test_a_sweep_of_one_set_has_nothing_to_rank():
    tables = _tables([0.0], sets=("A",))
    assert "nothing to rank" in winner_sentence(tables, 0, point_ranking(tables, 0))


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_the_level_and_the_reference_are_read_back_from_the_saved_summary(confidence):
    tables = _tables([1_000.0, 2_000.0], confidence, sets=("B", "A"))
    assert interval_level(tables.summary) == pytest.approx(confidence)
    assert tables.confidence == pytest.approx(confidence)
    assert tables.reference == "B"  # the set without paired differences, not the first alphabetically
    assert shown_kpis(tables, ["on_time_delivery_rate"])[:2] == ["on_time_delivery_rate", "profit"]
