"""The sweep's console summary, integer counts in the saved tables, and the seed column of a sweep."""

from __future__ import annotations

import re

import pandas as pd
import yaml

from ordercycle.reports.glossary import info
from ordercycle.scenarios.experiment_files import GridFile, apply_point
from ordercycle.sim.cli import main
from ordercycle.sim.experiments import compare, flatten_kpis, sweep, write_comparison
from ordercycle.sim.run import simulate


def _count_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if info(c).unit == "count"]


def test_the_sweep_ends_with_a_summary_per_point_and_set(mm1_data, tmp_path, capsys):
    scenario = tmp_path / "mm1.yaml"
    scenario.write_text(yaml.safe_dump({**mm1_data, "horizon_days": 60, "warmup_days": 10}))
    sets = tmp_path / "sets.yaml"
    sets.write_text(yaml.safe_dump({"sets": {"fifo": {}, "spt": {"priority": "spt"}}}))
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"parameters": {"work_centres.station.machines": [1, 2]}}))
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            str(scenario),
            "--grid",
            str(grid),
            "--sets",
            str(sets),
            "--reps",
            "2",
            "--seed",
            "3",
            "--workers",
            "1",
            "--quiet",
            "--no-report",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith(
        "Sweep summary: means of 2 replications per point and set, ranked at each point "
        "by the objective (score = "
    )
    header = re.split(r"\s{2,}", lines[1].strip())
    assert header[:5] == ["point", "work_centres.station.machines", "set", "rank", "score"]
    assert "mean lead time (days)" in header
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[2:6]]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("0", "1", "fifo"),
        ("0", "1", "spt"),
        ("1", "2", "fifo"),
        ("1", "2", "spt"),
    ]
    assert sorted(row[3] for row in rows[:2]) == ["1", "2"]  # ranked within the point
    summary = pd.read_parquet(out / "summary.parquet")
    column = header.index("mean lead time (days)")
    for row in rows:
        mean = summary[
            (summary["point"] == int(row[0]))
            & (summary["set"] == row[2])
            & (summary["kpi"] == "mean_lead_time_days")
        ]["mean"].iloc[0]
        assert row[column] == f"{mean:.2f}"
    assert lines[6].startswith("  keys: ") and "mean_lead_time_days" in lines[6]
    assert re.search(r"^2 points × 2 sets × 2 replications in [\d.]+ s; results in ", text, re.M)

    dataset = pd.read_parquet(out / "results")
    assert (dataset["seed"] == 3).all()  # the root seed the command was given
    for column in ("inquiries", "orders_delivered", "final_states.open", "by_segment.market.inquiries"):
        assert dataset[column].dtype == "int64", column


def test_the_seed_column_reproduces_each_replication(mm1, tmp_path):
    grid = GridFile.model_validate(
        {
            "sample": {"points": 2, "seed": 11},
            "parameters": {"work_centres.station.machines": {"low": 1, "high": 2, "integer": True}},
        }
    )
    result = sweep(mm1, grid, reps=2, seed=5, out=tmp_path)
    assert set(result.replications["seed"]) == {5}  # the root seed, never the sample's
    row = result.replications.iloc[-1]
    point = grid.points()[int(row["point"])]
    again = flatten_kpis(simulate(apply_point(mm1, point), int(row["seed"]), int(row["replication"])).kpis)
    assert again["inquiries"] == row["inquiries"] and again["profit"] == row["profit"]


def test_counts_are_integers_in_replications_parquet(mm1, tmp_path):
    comparison = compare(mm1, {"fifo": {}, "spt": {"priority": "spt"}}, reps=2, seed=1)
    folder = write_comparison(comparison, tmp_path)
    replications = pd.read_parquet(folder / "replications.parquet")
    counts = _count_columns(replications)
    assert {"inquiries", "orders_delivered", "changeovers", "final_states.open"} <= set(counts)
    assert all(replications[c].dtype == "int64" for c in counts), replications[counts].dtypes
    assert replications["mean_lead_time_days"].dtype == "float64"
    assert replications["on_time_delivery_rate"].dtype == "float64"
    for column in ("replication", "seed"):
        assert replications[column].dtype == "int64"
    summary = pd.read_parquet(folder / "summary.parquet")
    assert summary["n"].dtype == "int64"  # means of counts stay floats
