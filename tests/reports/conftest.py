"""Saved results of a short run and a short comparison, made once per session, with their reports."""

from __future__ import annotations

import pytest
import yaml

from ordercycle.sim.cli import main


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory):
    """A 30-day baseline run (warm-up 5 d) written by ``ordercycle run``, report included."""
    folder = tmp_path_factory.mktemp("reports") / "run"
    assert main(["run", "baseline", "--horizon", "30", "--warmup", "5", "--out", str(folder), "--quiet"]) == 0
    return folder


@pytest.fixture(scope="session")
def compare_folder(tmp_path_factory):
    """``ordercycle compare`` of FIFO against EDD, 3 replications of 35 days, report included."""
    root = tmp_path_factory.mktemp("reports")
    sets = root / "sets.yaml"
    sets.write_text(yaml.safe_dump({"reference": "fifo", "sets": {"fifo": {}, "edd": {"priority": "edd"}}}))
    folder = root / "compare"
    args = [
        "compare",
        "baseline",
        "--sets",
        str(sets),
        "--reps",
        "3",
        "--horizon",
        "35",
        "--warmup",
        "5",
        "--workers",
        "1",
        "--out",
        str(folder),
        "--quiet",
    ]
    assert main(args) == 0
    return folder


@pytest.fixture(scope="session")
def sweep_folder(tmp_path_factory):
    """``ordercycle sweep`` of FIFO against EDD over two parameters (2 points), 2 replications of 35 days,
    intervals at 90 %, then ``ordercycle report`` on it."""
    root = tmp_path_factory.mktemp("reports")
    sets = root / "sets.yaml"
    sets.write_text(yaml.safe_dump({"reference": "fifo", "sets": {"fifo": {}, "edd": {"priority": "edd"}}}))
    grid = root / "grid.yaml"
    grid.write_text(
        yaml.safe_dump(
            {
                "parameters": {
                    "segments.*.arrivals.rate_per_day": {"scale": [1.0, 1.2]},
                    "planning.expedite_margin_days": [1.0],
                }
            }
        )
    )
    folder = root / "sweep"
    args = ["sweep", "baseline", "--sets", str(sets), "--grid", str(grid), "--reps", "2", "--horizon", "35",
            "--confidence", "0.9", "--workers", "1", "--out", str(folder), "--quiet"]
    assert main(args) == 0
    assert main(["report", str(folder)]) == 0
    return folder
