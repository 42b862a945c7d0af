"""Kill an experiment and resume it; bad input; a worker that dies; sweeps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ordercycle.scenarios.experiment_files import GridFile, apply_point
from ordercycle.scenarios.loader import ScenarioError
from ordercycle.sim.cli import main
from ordercycle.sim.experiments import sweep
from ordercycle.sim.experiments.executors import MAX_WORKER_DEATHS, ProcessExecutor

REPS = 12


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ordercycle.sim.cli", *args]


@pytest.fixture()
def mm1_files(mm1_data, tmp_path):
    scenario = tmp_path / "mm1.yaml"
    scenario.write_text(yaml.safe_dump({**mm1_data, "horizon_days": 90, "warmup_days": 10}))
    sets = tmp_path / "sets.yaml"
    sets.write_text(yaml.safe_dump({"sets": {"fifo": {}, "spt": {"priority": "spt"}}}))
    return scenario, sets


def test_killed_experiment_resumes_to_the_uninterrupted_result(mm1_files, tmp_path):
    scenario, sets = mm1_files
    args = ["compare", str(scenario), "--sets", str(sets), "--reps", str(REPS), "--seed", "4", "--quiet"]
    interrupted = tmp_path / "interrupted"
    runs = interrupted / "runs"
    process = subprocess.Popen(_cli(*args, "--workers", "2", "--out", str(interrupted)),
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(runs.glob("*.json"))) < 4:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {path.name: path.stat().st_mtime_ns for path in runs.glob("*.json")}
    assert 4 <= len(done_before) < 2 * REPS, "the kill came too late to interrupt anything"
    assert not (interrupted / "replications.parquet").exists()

    resumed = subprocess.run(_cli(*args, "--workers", "2", "--out", str(interrupted)),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    after = {path.name: path.stat().st_mtime_ns for path in runs.glob("*.json")}
    assert len(after) == 2 * REPS
    assert all(after[name] == stamp for name, stamp in done_before.items()), "finished work was redone"
    assert not list(runs.glob("*.tmp"))

    clean = tmp_path / "clean"
    assert main([*args, "--workers", "1", "--out", str(clean)]) == 0
    for name in ("replications.parquet", "summary.parquet", "ranking.json", "experiment.json"):
        assert (interrupted / name).read_bytes() == (clean / name).read_bytes(), f"{name} differs"
    assert "Winner:" in resumed.stdout and "mean_lead_time_days" in resumed.stdout


DAMAGED_RECORDS = [
    (b'{"status": "ok", "kpis": {"profit": 1.0', "not valid JSON"),
    (b'{"status": "ok", "kpis": {"profit": "\xff"}}', "not UTF-8 text (byte 0xff at offset 37)"),
    ('{"status": "ok", "kpis": {}}'.encode("utf-16"), "UTF-16 text (byte-order mark)"),
    (b"[" * 100_000, "nested deeper than 64 levels"),
    (b'{"status": "ok", "kpis": {"profit": ' + b"9" * 5000 + b"}}", "an integer of 5,000 digits"),
    (b"[1, 2, 3]", "must be a JSON object, got list"),
    (b'{"status": "ok", "kpis": {"profit": "a lot"}}', "kpis.profit: must be a number or null, got str"),
    (b'{"status": "ok"}', "kpis: must be a non-empty object of KPI values"),
]


@pytest.mark.parametrize(("content", "reason"), DAMAGED_RECORDS, ids=[r for _, r in DAMAGED_RECORDS])
def test_a_damaged_record_is_run_again_with_a_warning_naming_it(mm1_files, tmp_path, capsys, content, reason):
    scenario, sets = mm1_files
    args = ["compare", str(scenario), "--sets", str(sets), "--reps", "2", "--seed", "3", "--quiet",
            "--workers", "1", "--no-report"]
    first, clean = tmp_path / "first", tmp_path / "clean"
    assert main([*args, "--out", str(first)]) == 0
    assert main([*args, "--out", str(clean)]) == 0
    capsys.readouterr()
    damaged = sorted((first / "runs").glob("*.json"))[1]
    damaged.write_bytes(content)
    assert main([*args, "--out", str(first)]) == 0  # every later resume works, not only this one
    err = capsys.readouterr().err
    assert f"warning: {damaged}: damaged result record ({reason}" in err, err
    assert "running the replication again" in err and "Traceback" not in err
    assert (damaged.parent / f"{damaged.name}.damaged").read_bytes() == content
    for name in ("replications.parquet", "summary.parquet", "ranking.json"):
        assert (first / name).read_bytes() == (clean / name).read_bytes(), f"{name} differs"
    kpis = [json.dumps(json.loads((folder / "runs" / damaged.name).read_text())["kpis"])
            for folder in (first, clean)]
    assert kpis[0] == kpis[1]  # the replication was computed again (only its run time differs)
    assert main([*args, "--out", str(first)]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(("sets", "expected"), [
    ({"sets": {"a": {}, "b": {"priority": "fastest"}}}, "sets.b.priority.name: unknown policy 'fastest'"),
    ({"sets": {"a": {}, "b": {"priorty": "edd"}}}, "sets.b.priorty: unknown key"),
    ({"sets": {"a": {}, "b": {"expedite": {"name": "bounded", "params": {"max_per_period": -1}}}}},
     "sets.b.expedite.params.max_per_period"),
    ({"reference": "c", "sets": {"a": {}}}, "no set named 'c'"),
    ({"sets": {}}, "sets: "),
])
def test_bad_sets_are_refused_naming_the_field(mm1_files, tmp_path, capsys, sets, expected):
    scenario, _ = mm1_files
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(sets))
    code = main(["compare", str(scenario), "--sets", str(bad), "--reps", "2", "--quiet",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err, err
    assert "Traceback" not in err


def test_an_objective_on_an_unknown_kpi_is_refused(mm1_data, mm1_files, tmp_path, capsys):
    _, sets = mm1_files
    data = {**mm1_data, "objective": {"weights": {"proft": 1.0},
                                      "constraints": [{"kpi": "on_time", "min": 0.9}]}}
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(yaml.safe_dump(data))
    code = main(["compare", str(scenario), "--sets", str(sets), "--reps", "2", "--quiet",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "objective.weights.proft: unknown KPI" in err
    assert "objective.constraints.0.kpi: unknown KPI 'on_time'" in err


def test_bad_command_line_values_are_refused(mm1_files, tmp_path, capsys):
    scenario, sets = mm1_files
    for extra, expected in ((["--warmup", "soon"], "--warmup: 'auto' or a number of days"),
                            (["--reps", "1"], "reps: at least 2"),
                            (["--confidence", "95"], "confidence: must be between 0 and 1"),
                            (["--workers", "0"], "--workers: must be at least 1")):
        code = main(["compare", str(scenario), "--sets", str(sets), "--quiet",
                     "--out", str(tmp_path / "out"), *extra])
        err = capsys.readouterr().err
        assert code == 2 and expected in err, (extra, err)


@dataclass(frozen=True)
class _Job:
    key: str
    dies: bool


def _maybe_die(job: _Job) -> dict:
    if job.dies:
        os._exit(3)  # a worker killed mid-task (out of memory, a segfault in a library)
    return {"status": "ok", "value": job.key}


def test_a_dying_worker_fails_only_its_own_task():
    jobs = [_Job(f"k{i}", dies=(i == 3)) for i in range(8)]
    outcomes = dict((job.key, outcome) for job, outcome in ProcessExecutor(2).run(_maybe_die, jobs))
    assert set(outcomes) == {job.key for job in jobs}
    assert outcomes["k3"]["status"] == "error" and "died" in outcomes["k3"]["error"]
    assert all(outcomes[f"k{i}"] == {"status": "ok", "value": f"k{i}"} for i in range(8) if i != 3)
    assert MAX_WORKER_DEATHS >= 2  # a task that merely shared a pool with a dying one gets another chance


def test_sweep_moves_the_kpis_the_way_queueing_theory_says(mm1, tmp_path):
    grid = GridFile.model_validate({"parameters": {
        "segments.*.arrivals.rate_per_day": {"scale": [0.6, 1.0]},
        "work_centres.station.machines": [1, 2],
    }})
    result = sweep(mm1, grid, reps=3, seed=8, out=tmp_path)
    assert len(result.points) == 4 and len(result.replications) == 12
    assert list(result.points.columns) == ["point", "segments.*.arrivals.rate_per_day (scale)",
                                           "work_centres.station.machines"]
    lead = result.replications.groupby("point")["mean_lead_time_days"].mean()
    delivered = result.replications.groupby("point")["orders_delivered"].mean()
    points = result.points.set_index("point")
    for load in (0.6, 1.0):
        one, two = (points[(points.iloc[:, 0] == load) & (points.iloc[:, 1] == m)].index[0] for m in (1, 2))
        assert lead[two] < lead[one], f"a second machine did not shorten lead time at load ×{load}"
    light, heavy = (points[(points.iloc[:, 0] == s) & (points.iloc[:, 1] == 1)].index[0] for s in (0.6, 1.0))
    assert lead[heavy] > lead[light] and delivered[heavy] > delivered[light]
    # common random numbers across points: more machines do not change the demand
    inquiries = result.replications.set_index(["point", "replication"])["inquiries"]
    for load in (0.6, 1.0):
        one, two = (points[(points.iloc[:, 0] == load) & (points.iloc[:, 1] == m)].index[0] for m in (1, 2))
        assert (inquiries.loc[one].to_numpy() == inquiries.loc[two].to_numpy()).all()


def test_sweep_command_writes_a_partitioned_dataset(mm1_files, tmp_path):
    scenario, _ = mm1_files
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"sample": {"points": 3, "seed": 2},
                                    "parameters": {"work_centres.station.machines":
                                                   {"low": 1, "high": 3, "integer": True}}}))
    out = tmp_path / "sweep"
    code = main(["sweep", str(scenario), "--grid", str(grid), "--reps", "2", "--workers", "1",
                 "--confidence", "0.9", "--quiet", "--out", str(out)])
    assert code == 0
    dataset = pd.read_parquet(out / "results")
    assert len(dataset) == 6
    assert sorted(p.name for p in (out / "results").iterdir()) == ["point=0", "point=1", "point=2"]
    points = pd.read_parquet(out / "points.parquet")
    assert points["work_centres.station.machines"].between(1, 3).all()
    record = json.loads((out / "experiment.json").read_text())
    assert record["kind"] == "sweep" and record["points"] == 3
    # the report is written at the end and reads the level and reference from the record
    assert record["confidence"] == 0.9 and record["reference"] == "scenario"
    assert "confidence 90%" in (out / "report.html").read_text()


def test_latin_hypercube_covers_every_stratum_once():
    grid = GridFile.model_validate({"sample": {"points": 10, "seed": 3}, "parameters": {
        "segments.*.arrivals.rate_per_day": {"scale": {"low": 0.5, "high": 1.5}},
        "staff.entry_clerks": {"low": 1, "high": 5, "integer": True}}})
    points = grid.points()
    factors = sorted(p["segments.*.arrivals.rate_per_day"]["scale"] for p in points)
    # one sample in each tenth of [0.5, 1.5]
    assert [int((f - 0.5) * 10) for f in factors] == list(range(10))
    clerks = [p["staff.entry_clerks"] for p in points]
    assert set(clerks) == {1, 2, 3, 4, 5} and all(isinstance(c, int) for c in clerks)
    assert grid.points() == points  # the sample is seeded


@pytest.mark.parametrize(("point", "expected"), [
    ({"staff.clerks": 2}, "parameters.staff.clerks: no field 'clerks'"),
    ({"work_centres.lathe.machines": 2}, "parameters.work_centres.lathe.machines: no element 'lathe'"),
    ({"work_centres.station.machines": 0}, "work_centres.0.machines"),
    ({"name": {"scale": 2}}, "only a number can be scaled"),
])
def test_bad_grid_points_are_refused_naming_the_path(mm1, point, expected):
    with pytest.raises(ScenarioError) as error:
        apply_point(mm1, point)
    assert any(expected in line for line in error.value.problems), error.value.problems


def test_a_grid_mixing_lists_and_ranges_is_refused():
    with pytest.raises(ValueError, match="needs a `sample:` section"):
        GridFile.model_validate({"parameters": {"staff.entry_clerks": {"low": 1, "high": 2}}})


def test_the_shipped_example_files_are_valid_for_the_baseline():
    from ordercycle.scenarios.experiment_files import load_grid, load_sets
    from ordercycle.scenarios.loader import load
    from ordercycle.sim.experiments import resolve_sets

    baseline = load("baseline")
    examples = Path(__file__).resolve().parents[2] / "scenarios" / "experiments"
    sets, reference = resolve_sets(baseline, load_sets(examples / "sets-example.yaml"))
    assert reference == "status-quo" and sets["status-quo"] == baseline.policies
    assert sets["informed"].pricing.name == "informed-sales"
    grid = load_grid(examples / "grid-example.yaml")
    variants = [apply_point(baseline, point) for point in grid.points()]
    assert len(variants) == 6
    rates = sorted({v.segments[0].arrivals.rate_per_day for v in variants})
    assert rates == pytest.approx([baseline.segments[0].arrivals.rate_per_day * f for f in (0.9, 1.0, 1.1)])


def test_sets_may_live_in_the_scenario(mm1_data, tmp_path):
    from ordercycle.scenarios.loader import parse
    from ordercycle.sim.experiments import compare

    scenario = parse({**mm1_data, "horizon_days": 60, "warmup_days": 5,
                      "sets": {"fifo": {}, "spt": {"priority": "spt"}}})
    comparison = compare(scenario, reps=2, seed=1)
    assert list(comparison.ranking["set"].sort_values()) == ["fifo", "spt"]
    assert comparison.reference == "fifo"
