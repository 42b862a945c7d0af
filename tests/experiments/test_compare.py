"""``compare``: intervals that cover, common random numbers, the same tables on every executor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ordercycle.reports.queueing import mmc_w
from ordercycle.reports.statistics import t_interval
from ordercycle.scenarios.loader import load, override
from ordercycle.scenarios.schema import Objective
from ordercycle.sim.experiments import compare, replications, write_comparison
from ordercycle.sim.experiments.executors import DaskExecutor, ProcessExecutor, SerialExecutor

BLOCK = 5
MM1_MEAN_LEAD_TIME_DAYS = mmc_w(0.5, 1.0, 1)
"""W = 1 / (µ − λ) = 2 days: wait plus service of the conftest's M/M/1 company (λ = 0.5, µ = 1)."""


def test_intervals_cover_the_true_mean_at_about_their_nominal_rate(mm1):
    """160 M/M/1 replications cut into 32 experiments of 5: each 95 % t-interval of the mean
    lead time should cover W = 2 days about 95 % of the time (binomial: 28–32 of 32)."""
    comparison = compare(mm1, {"fifo": {}}, reps=160, seed=11, executor=ProcessExecutor(2))
    lead = comparison.replications["mean_lead_time_days"].to_numpy()
    assert len(lead) == 160 and not np.isnan(lead).any()
    covered = [t_interval(lead[i:i + BLOCK], 0.95) for i in range(0, len(lead), BLOCK)]
    hits = sum(interval.low <= MM1_MEAN_LEAD_TIME_DAYS <= interval.high for interval in covered)
    assert 28 <= hits <= 32, f"{hits} of {len(covered)} intervals cover the true mean"
    overall = comparison.summary.set_index("kpi").loc["mean_lead_time_days"]
    assert overall["ci_low"] - 0.05 <= MM1_MEAN_LEAD_TIME_DAYS <= overall["ci_high"] + 0.05
    assert overall["n"] == 160


@pytest.fixture(scope="module")
def short():
    """Three weeks of the around-the-clock company; the sets differ only in how work is sequenced.

    (On the baseline, sequencing reaches the customers' answers: through goodwill, and through
    the sales reps' time that expedite requests take, which moves quotes across the horizon.)
    """
    return override(load("around-the-clock"), horizon_days=21, warmup_days=3)


SETS = {"fifo": {}, "edd": {"priority": "edd"}}


@pytest.fixture(scope="module")
def serial_run(short, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    comparison = compare(short, SETS, reps=3, seed=5, executor=SerialExecutor(), out=out)
    write_comparison(comparison, out)
    return comparison, out


def _same_tables(first: Path, second: Path) -> None:
    for name in ("replications.parquet", "summary.parquet", "summary.csv", "ranking.json",
                 "experiment.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs"


def test_process_pool_gives_the_serial_tables(short, serial_run, tmp_path):
    comparison = compare(short, SETS, reps=3, seed=5, executor=ProcessExecutor(2), out=tmp_path)
    write_comparison(comparison, tmp_path)
    pd.testing.assert_frame_equal(comparison.replications, serial_run[0].replications)
    _same_tables(serial_run[1], tmp_path)


def test_dask_cluster_gives_the_serial_tables(short, serial_run, tmp_path):
    executor = DaskExecutor(2)
    try:
        comparison = compare(short, SETS, reps=3, seed=5, executor=executor, out=tmp_path)
    finally:
        executor.close()
    write_comparison(comparison, tmp_path)
    _same_tables(serial_run[1], tmp_path)


def test_a_rerun_reads_every_replication_from_the_store(short, serial_run, monkeypatch):
    comparison, out = serial_run

    def must_not_run(task):
        raise AssertionError(f"replication {task.replication} of {task.set_name} was run again")
    monkeypatch.setattr(replications, "run_replication", must_not_run)
    again = compare(short, SETS, reps=3, seed=5, executor=SerialExecutor(), out=out)
    pd.testing.assert_frame_equal(again.replications, comparison.replications)


def test_every_set_sees_the_same_demand_and_pairing_reduces_variance(serial_run):
    comparison, _ = serial_run
    table = comparison.replications.set_index(["set", "replication"])
    # common random numbers: the inquiry stream does not depend on how work is sequenced, nor
    # do the customers' answers
    for kpi in ("inquiries", "orders_received"):
        by_set = table[kpi].unstack("set")
        assert (by_set.nunique(axis=1) == 1).all(), f"{kpi} differs between sets of one replication"
    assert table["mean_lead_time_days"].unstack("set").nunique(axis=1).max() > 1  # the sets do differ
    for kpi in ("mean_lead_time_days", "on_time_delivery_rate", "revenue"):
        by_set = table[kpi].unstack("set")
        paired = np.var(by_set["edd"] - by_set["fifo"], ddof=1)
        independent = np.var(by_set["edd"], ddof=1) + np.var(by_set["fifo"], ddof=1)
        assert paired < independent, f"{kpi}: paired variance {paired:g} ≥ independent {independent:g}"


def test_the_outputs_cite_their_evidence(serial_run, short):
    comparison, out = serial_run
    record = json.loads((out / "experiment.json").read_text())
    assert record["kind"] == "compare" and record["reference"] == "fifo"
    assert record["replications"] == 3 and record["seed"] == 5
    assert record["sets"]["edd"]["priority"] == {"name": "edd", "params": {}}
    assert record["sets"]["edd"]["selection"] == record["sets"]["fifo"]["selection"]
    ranking = json.loads((out / "ranking.json").read_text())
    assert {row["set"] for row in ranking["ranking"]} == set(SETS)
    assert ranking["winner"] in SETS
    summary = pd.read_parquet(out / "summary.parquet")
    assert list(summary.columns[:4]) == ["set", "kpi", "n", "mean"]
    assert summary[summary["set"] == "fifo"]["diff_mean"].isna().all()
    assert summary[summary["set"] != "fifo"]["diff_mean"].notna().any()


def test_a_failing_replication_is_recorded_and_the_others_stand(short, monkeypatch):
    real = replications.run_replication

    def flaky(task):
        if task.set_name == "edd" and task.replication == 1:
            raise RuntimeError("the MES refused the schedule")
        return real(task)
    monkeypatch.setattr(replications, "run_replication", flaky)
    comparison = compare(short, {"fifo": {}, "edd": {"priority": "edd"}}, reps=3, seed=5)
    errors = comparison.errors
    assert len(errors) == 1
    row = errors.iloc[0]
    assert (row["set"], row["replication"], row["seed"]) == ("edd", 1, 5)
    assert "RuntimeError: the MES refused the schedule" in row["error"]
    assert len(comparison.replications) == 5
    summary = comparison.summary.set_index(["set", "kpi"])
    assert summary.loc[("edd", "profit"), "n"] == 2
    assert summary.loc[("fifo", "profit"), "n"] == 3


def test_sequential_replications_stop_at_the_target_or_the_cap(mm1):
    scenario = mm1.model_copy(update={"objective": Objective(weights={"mean_lead_time_days": -1.0})})
    loose = compare(scenario, {"fifo": {}}, reps=3, seed=2, target_relative_half_width=10.0)
    assert loose.replications_used == 3 and loose.open_kpis == []
    tight = compare(scenario, {"fifo": {}}, reps=3, seed=2, target_relative_half_width=0.08, max_reps=40)
    row = tight.summary.set_index("kpi").loc["mean_lead_time_days"]
    assert tight.replications_used > 3 and (tight.replications_used - 3) % 4 == 0
    if tight.replications_used < 40:
        assert row["half_width"] / abs(row["mean"]) <= 0.08 and tight.open_kpis == []
    capped = compare(scenario, {"fifo": {}}, reps=3, seed=2, target_relative_half_width=1e-6, max_reps=7)
    assert capped.replications_used == 7 and capped.open_kpis == ["fifo:mean_lead_time_days"]
    # the first replications are the same whatever the stopping rule
    pd.testing.assert_frame_equal(capped.replications.head(3), loose.replications)


def test_automatic_warmup_is_detected_reported_and_plotted(mm1, tmp_path):
    comparison = compare(mm1, {"fifo": {}}, reps=2, seed=1, warmup="auto", pilots=3, out=tmp_path)
    write_comparison(comparison, tmp_path)
    warmup = comparison.warmup
    assert warmup.method == "mser-5" and warmup.pilot_replications == 3
    assert 0 <= warmup.days <= mm1.horizon_days / 2
    assert warmup.days == max(warmup.per_series.values())
    assert (comparison.replications["warmup_days"] == warmup.days).all()
    record = json.loads((tmp_path / "experiment.json").read_text())
    assert record["warmup"]["method"] == "mser-5" and record["warmup_days"] == warmup.days
    png = (tmp_path / "warmup.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
