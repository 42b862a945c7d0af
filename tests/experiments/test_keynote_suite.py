"""The keynote suite's sequential replications: the rule inside ``compare``, the suite, the command line.

Replications are synthetic (a stand-in for ``run_replication`` with known effects per set and
sweep point), so these tests check the experiment layer's loop, not the model: where it stops,
that the first replications never change, that claims share runs, that conditions are swept at
the starting replications, and that bad flags exit 2 naming the flag.
"""

from __future__ import annotations

import json
import zlib

import numpy as np
import pandas as pd
import pytest
import yaml

from ordercycle.reports.keynotes import KeynoteFile
from ordercycle.scenarios.schema import Objective
from ordercycle.sim.cli import main
from ordercycle.sim.experiments import compare, replications
from ordercycle.sim.experiments.executors import SerialExecutor
from ordercycle.sim.experiments.keynote_suite import run_suite


class FakeReplications:
    """Replication r of set S at sweep point P: on-time delivery = a common part of r (common random
    numbers) + ``effects[(S, P)]`` + noise of (S, r); every call is recorded."""

    def __init__(self, effects: dict[tuple[str, int], float], noise: float):
        self.effects, self.noise = effects, noise
        self.calls: list[tuple[str, int, int, str]] = []

    def __call__(self, task: replications.ReplicationTask) -> dict:
        self.calls.append((task.set_name, task.point, task.replication, task.key))
        common = np.random.default_rng([task.replication, task.seed]).normal(0.9, 0.02)
        stream = zlib.crc32(task.set_name.encode())
        own = np.random.default_rng([task.replication, stream]).normal(0, self.noise)
        on_time = common + self.effects.get((task.set_name, task.point), 0.0) + own
        kpis = {"on_time_delivery_rate": on_time, "profit": 1e6 * on_time, "orders_delivered": 100.0}
        return {"status": "ok", "seconds": 0.0, "kpis": kpis}


def _keynote(name: str = "K1", **changes) -> KeynoteFile:
    data = {"id": name, "claim": "B serves better than A", "scenario": "mm1", "horizon_days": 30,
            "warmup_days": 5, "reps": 5, "reference": "A", "sets": {"A": {}, "B": {"priority": "spt"}},
            "checks": [{"set": "B", "against": "A", "kpi": "on_time_delivery_rate"}]}
    return KeynoteFile.model_validate(data | changes)


@pytest.fixture()
def mm1_file(mm1_data, tmp_path):
    """The M/M/1 company as a scenario file whose objective is on-time delivery (a stand-in KPI)."""
    path = tmp_path / "mm1.yaml"
    path.write_text(yaml.safe_dump({**mm1_data, "objective": {"weights": {"on_time_delivery_rate": 1.0}}}))
    return str(path)


def _fake(monkeypatch, effects, noise) -> FakeReplications:
    fake = FakeReplications(effects, noise)
    monkeypatch.setattr(replications, "run_replication", fake)
    return fake


def _rule(keynote: KeynoteFile):
    from ordercycle.reports.keynotes import open_checks

    return lambda table: open_checks(keynote, table, 0.95)


def _mm1(mm1):
    return mm1.model_copy(update={"objective": Objective(weights={"on_time_delivery_rate": 1.0})})


def test_compare_stops_at_the_first_look_when_every_interval_excludes_zero(mm1, monkeypatch):
    _fake(monkeypatch, {("B", 0): 0.05}, 0.002)
    sets = {"A": {}, "B": {"priority": "spt"}}
    comparison = compare(_mm1(mm1), sets, reps=5, max_reps=20, step=5, until=_rule(_keynote()))
    assert comparison.replications_used == 5 and comparison.open_checks == []
    assert comparison.stopping == {"start": 5, "step": 5, "max_reps": 20}


def test_compare_stops_when_the_difference_lies_inside_the_margin(mm1, monkeypatch):
    _fake(monkeypatch, {("B", 0): 0.0005}, 0.0005)
    comparison = compare(_mm1(mm1), {"A": {}, "B": {"priority": "spt"}}, reps=5, max_reps=20, step=5,
                         until=_rule(_keynote()))
    assert comparison.replications_used == 5 and comparison.open_checks == []


def test_compare_stops_at_the_cap_and_keeps_every_earlier_replication(mm1, monkeypatch):
    fake = _fake(monkeypatch, {("B", 0): 0.0}, 0.05)
    sets = {"A": {}, "B": {"priority": "spt"}}
    capped = compare(_mm1(mm1), sets, reps=5, max_reps=12, step=3, until=_rule(_keynote()))
    assert capped.replications_used == 12
    assert capped.open_checks == ["B − A: on_time_delivery_rate"]
    # each (set, replication) ran once: looks at 5, 8, 11, 12 add only the new replications
    assert sorted((s, r) for s, _, r, _ in fake.calls) == sorted((s, r) for s in sets for r in range(12))
    assert [r for s, _, r, _ in fake.calls if s == "A"] == list(range(12))
    fixed = compare(_mm1(mm1), sets, reps=5)
    pd.testing.assert_frame_equal(capped.replications.groupby("set").head(5).reset_index(drop=True),
                                  fixed.replications)


def test_the_suite_shares_runs_sweeps_at_the_starting_replications_and_records_the_rule(
        mm1_file, monkeypatch, tmp_path):
    # K1: a clear win, stops at 5. K2: the same reference, no effect on the scenario (cap 9);
    # swept at demand x 1.0 (point 0: the scenario itself) and x 1.1 (point 1: a clear win).
    fake = _fake(monkeypatch, {("B", 0): 0.05, ("C", 0): 0.0, ("C", 1): 0.1}, 0.02)
    won = _keynote("K1", scenario=mm1_file)
    unclear = _keynote("K2", scenario=mm1_file, sets={"A": {}, "C": {"priority": "edd"}},
                       checks=[{"set": "C", "against": "A", "kpi": "on_time_delivery_rate"}],
                       conditions={"parameters": {"segments.*.arrivals.rate_per_day": {"scale": [1.0, 1.1]}}})
    out = tmp_path / "keynotes"
    runs = run_suite([won, unclear], out, SerialExecutor(), max_reps=9, step=2)
    assert [(r.keynote_id, r.verdict, r.replications, r.swept) for r in runs] == [
        ("K1", "supported", 5, False), ("K2", "inconclusive", 9, True)]
    # one store for the suite: K2's reference runs A r0-r4 are K1's
    keys = [key for _, point, _, key in fake.calls if point == 0]
    assert len(keys) == len(set(keys))
    assert sum(1 for s, p, _, _ in fake.calls if s == "A" and p == 0) == 9
    assert (out / "runs").is_dir() and not (out / "K1" / "runs").exists()
    # the conditions at the starting 5 replications, the claim at 9
    swept = pd.read_parquet(out / "K2" / "conditions" / "results")
    assert sorted(swept["replication"].unique()) == list(range(5))
    experiment = json.loads((out / "K2" / "experiment.json").read_text())
    assert experiment["stopping"] == {"start": 5, "step": 2, "max_reps": 9, "replications": 9,
                                      "open": ["C − A: on_time_delivery_rate"]}
    verdicts = json.loads((out / "verdicts.json").read_text())
    assert verdicts["K1"]["verdict"] == "supported" and verdicts["K2"]["replications"] == 9
    assert "the cap was reached" in verdicts["K2"]["stopped"]
    (said,) = [s for s in verdicts["K2"]["conditions"] if s.startswith("What the conditions change")]
    assert "at arrivals rate per day × 1.1 the on-time delivery check (C − A) is supported" in said


@pytest.mark.parametrize(("args", "flag"), [
    (["--max-reps", "3"], "--max-reps: must be at least the replications to start with, 5 from the keynote"),
    (["--reps", "8", "--max-reps", "6"], "--max-reps: must be at least the replications to start with, 8 "
                                          "from --reps; got 6"),
    (["--step", "0"], "--step: must be at least 1, got 0"),
    (["--reps", "1"], "--reps: at least 2 replications"),
    (["--workers", "0"], "--workers: must be at least 1"),
])
def test_bad_keynote_flags_exit_2_naming_the_flag(args, flag, capsys, tmp_path):
    assert main(["keynotes", "--only", "K6", "--out", str(tmp_path), *args]) == 2
    assert flag in capsys.readouterr().err
    assert not (tmp_path / "K6").exists()  # refused before anything ran


def test_the_keynotes_command_runs_the_sequential_rule_and_says_why_it_stopped(
        mm1_file, monkeypatch, tmp_path, capsys):
    _fake(monkeypatch, {("B", 0): 0.0}, 0.05)
    keynote = tmp_path / "K1.yaml"
    keynote.write_text(yaml.safe_dump(_keynote(scenario=mm1_file).model_dump(mode="json")))
    out = tmp_path / "out"
    args = ["keynotes", str(keynote), "--workers", "1", "--max-reps", "9", "--step", "2", "--quiet",
            "--out", str(out)]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert "K1: inconclusive" in said and "(undecided at the replications run; 9 reps, at the cap with 1 " \
        "check(s) undecided" in said
    record = json.loads((out / "verdicts.json").read_text())["K1"]
    assert record["replications"] == 9 and record["stopping"]["max_reps"] == 9
    assert main([*args[:-2], "--max-reps", "5", "--out", str(tmp_path / "fixed")]) == 0
    assert json.loads((tmp_path / "fixed" / "verdicts.json").read_text())["K1"]["replications"] == 5
