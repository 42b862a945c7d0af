"""The workbench's runs for real, on a small scenario: the same folders and store as the command line.

A comparison started from the workbench is ``ordercycle compare`` in a child process: it
writes the CLI's result folder, the command it shows runs it again from the command line
reusing every replication, and its live progress finds the replications of each set in
the store. A run started from the command line shows up in the workbench with the files
that reproduce it. A cancelled run stops with its workers, and resuming it computes only
the replications not yet finished. The winner is exported as a bundle and the page gives
the command that serves it. (20-day horizon, 2 sets, one worker: about a minute on a busy
2-core machine.)
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from ui_helpers import SMALL_SETS, client_for

from ordercycle.scenarios.experiment_files import load_sets
from ordercycle.scenarios.loader import content_hash, parse
from ordercycle.sim.ui.jobs import read_record
from ordercycle.sim.ui.progress import planned_tasks

RUN = {
    "reps": "2",
    "workers": "1",
    "seed": "0",
    "confidence": "0.95",
    "horizon_days": "20",
    "warmup_days": "5",
}
"""The small comparison: 2 replications of 20 days (5 of warm-up) per set, one worker."""


def wait_until(condition, timeout: float = 240.0, step: float = 0.2):
    """Wait for ``condition()`` to be true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:g} s")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A workbench whose comparison ``cmp`` has finished."""
    results = tmp_path_factory.mktemp("workbench") / "out"
    client = client_for(results)
    client.post("/sets/load", data={"text": SMALL_SETS})
    answer = client.post("/run/compare", data={**RUN, "folder": "cmp"})
    assert answer.url.path == "/runs/cmp"
    workbench = client.app.state.workbench
    assert workbench.jobs.wait(results / "cmp", timeout=300), "the comparison did not end"
    return client, results / "cmp"


def test_a_workbench_comparison_is_the_command_lines(finished):
    client, folder = finished
    record = read_record(folder)
    assert record.returncode == 0, (folder / "workbench.log").read_text()[-3000:]
    for name in ("replications.parquet", "summary.parquet", "ranking.json", "experiment.json", "report.html"):
        assert (folder / name).is_file(), name
    page = client.get("/runs/cmp").text
    assert "finished" in page and 'src="/runs/cmp/files/report.html"' in page
    report = client.get("/runs/cmp/files/report.html")
    assert report.headers["content-type"].startswith("text/html")
    assert report.content == (folder / "report.html").read_bytes()  # the builders' file, as it is
    # the planned replications are exactly the store's files
    tasks, _, _ = planned_tasks(folder, record)
    assert {task.key for task in tasks} == {path.stem for path in (folder / "runs").glob("*.json")}
    # the command shown runs it again from the command line, computing nothing new
    before = {path.name: path.stat().st_mtime_ns for path in (folder / "runs").glob("*.json")}
    summary = pd.read_parquet(folder / "summary.parquet")
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordercycle.sim.cli",
            *shlex.split(record.command)[1:],
            "--no-report",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert {path.name: path.stat().st_mtime_ns for path in (folder / "runs").glob("*.json")} == before
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "summary.parquet"), summary)


def test_its_files_reproduce_it(finished):
    client, folder = finished
    downloads = client.get("/runs/cmp").text
    for name in (
        "report.html",
        "summary.csv",
        "ranking.csv",
        "scenario.yaml",
        "sets.yaml",
        "experiment.json",
    ):
        assert f'href="/runs/cmp/files/{name}"' in downloads, name
    scenario = client.get("/runs/cmp/files/scenario.yaml").text
    experiment = json.loads((folder / "experiment.json").read_text())
    assert content_hash(parse(yaml.safe_load(scenario))) == experiment["scenario_hash"]
    assert "edd" in load_sets(folder / "sets.yaml").sets
    assert client.get("/runs/cmp/files/summary.csv").text == (folder / "summary.csv").read_text()


def test_a_command_line_run_shows_up_with_what_reproduces_it(finished, tmp_path):
    client, folder = finished
    results = folder.parent
    sets = tmp_path / "sets.yaml"
    sets.write_text(SMALL_SETS)
    company = tmp_path / "company.yaml"  # the workbench's company (the baseline's warm-up exceeds 20 days)
    company.write_text((folder / "scenario.yaml").read_text())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordercycle.sim.cli",
            "compare",
            str(company),
            "--sets",
            str(sets),
            "--reps",
            "2",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(results / "from-cli"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    listing = client.get("/runs").text
    assert 'href="/runs/from-cli"' in listing and "the command line" in listing
    page = client.get("/runs/from-cli").text
    assert "finished" in page and 'src="/runs/from-cli/files/report.html"' in page
    # the same company and sets as the workbench's run: the store's replications are the same
    assert {p.name for p in (results / "from-cli" / "runs").glob("*.json")} == {
        p.name for p in (folder / "runs").glob("*.json")
    }
    experiment = json.loads((results / "from-cli" / "experiment.json").read_text())
    scenario = parse(yaml.safe_load(client.get("/runs/from-cli/files/scenario.yaml").text))
    assert content_hash(scenario) == experiment["scenario_hash"]
    made = yaml.safe_load(client.get("/runs/from-cli/files/sets.yaml").text)
    assert made["reference"] == "fifo" and set(made["sets"]) == {"fifo", "edd"}
    assert (
        "ordercycle compare scenario.yaml --sets sets.yaml --reps 2 --seed 0 --confidence 0.95 --warmup 5"
        in page
    )


def test_the_winner_is_exported_and_its_serve_command_shown(finished):
    client, folder = finished
    page = client.post("/runs/cmp/export", data={"set": ""}).text
    bundle = json.loads((folder / "bundle.json").read_text())
    winner = json.loads((folder / "ranking.json").read_text())["winner"]
    assert (
        bundle["evidence"]["source"]["set"] == winner
        and bundle["evidence"]["source"]["selected_by"] == "winner"
    )
    assert f"ordercycle export {folder} --winner --out {folder}/bundle.json" in page
    assert f"ordercycle serve {folder}/bundle.json --port 8000 --db {folder}/decisions.sqlite" in page
    assert bundle["content_hash"][:12] in client.get("/deploy").text


def test_a_cancelled_run_stops_with_its_workers_and_resumes_from_the_store(finished):
    client, folder = finished
    results = folder.parent
    workbench = client.app.state.workbench
    client.post("/run/compare", data={**RUN, "reps": "4", "workers": "2", "folder": "long"})
    long = results / "long"
    runs = long / "runs"
    wait_until(lambda: len(list(runs.glob("*.json"))) >= 1 if runs.is_dir() else False)
    progress = client.get("/runs/long/progress").text
    assert 'data-state="running"' in progress and "/ 4</td>" in progress
    record = read_record(long)
    children = subprocess.run(["pgrep", "-g", str(record.pid)], capture_output=True, text=True).stdout.split()
    client.post("/runs/long/cancel")
    assert workbench.jobs.wait(long, timeout=30)
    wait_until(
        lambda: subprocess.run(["pgrep", "-g", str(record.pid)], capture_output=True).returncode == 1,
        timeout=30,
    )
    assert children  # the command and its worker processes were one process group, now gone
    page = client.get("/runs/long").text
    assert "cancelled" in page and 'action="/runs/long/resume"' in page
    kept = {path.name: path.read_bytes() for path in runs.glob("*.json")}
    assert 1 <= len(kept) < 8 and not (long / "ranking.json").exists()
    client.post("/runs/long/resume")
    assert workbench.jobs.wait(long, timeout=300)
    assert read_record(long).returncode == 0, (long / "workbench.log").read_text()[-2000:]
    assert len(list(runs.glob("*.json"))) == 8
    for name, content in kept.items():  # finished replications were reused, not run again
        assert (runs / name).read_bytes() == content
    tasks, _, _ = planned_tasks(long, read_record(long))
    live = client.get("/runs/long/progress").text
    assert f"{len(tasks) // 2} / {len(tasks) // 2}</td>" in live  # 4 of 4 per set, with their means


def test_the_runs_page_lists_both(finished):
    client, _ = finished
    listing = client.get("/runs").text
    assert 'href="/runs/cmp"' in listing and "the workbench" in listing


def test_a_keynote_claim_and_a_sweep_run_from_the_workbench(finished):
    client, folder = finished
    results = folder.parent
    workbench = client.app.state.workbench
    common = {"reps": "2", "workers": "1", "seed": "0", "confidence": "0.95"}
    client.post(
        "/run/keynote",
        data={**common, "folder": "k4", "keynote": "K4", "horizon": "35", "no_conditions": "on"},
    )
    grid = "parameters:\n  staff.entry_clerks: [3, 4]\n"
    client.post(
        "/run/sweep", data={**common, "folder": "sw", "horizon_days": "20", "warmup_days": "5", "grid": grid}
    )
    assert workbench.jobs.wait(results / "k4", timeout=300) and workbench.jobs.wait(
        results / "sw", timeout=300
    )
    keynote = client.get("/runs/k4").text
    assert read_record(results / "k4").returncode == 0, (results / "k4" / "workbench.log").read_text()[-2000:]
    assert (
        'src="/runs/k4/files/keynotes.html"' in keynote and 'src="/runs/k4/files/K4/report.html"' in keynote
    )
    assert (
        client.get("/runs/k4/files/K4/report.html").content
        == (results / "k4" / "K4" / "report.html").read_bytes()
    )
    page = client.post("/runs/k4/export", data={"set": "edd"}).text
    assert f"ordercycle serve {results}/k4/K4/bundle.json" in page
    sweep = client.get("/runs/sw").text
    assert read_record(results / "sw").returncode == 0, (results / "sw" / "workbench.log").read_text()[-2000:]
    assert 'src="/runs/sw/files/report.html"' in sweep and "export-form" not in sweep
    assert len(pd.read_parquet(results / "sw" / "points.parquet")) == 2
