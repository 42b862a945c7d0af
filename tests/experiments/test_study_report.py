"""The Pareto front with its uncertainty; the study report, written by ``optimise``, rebuilt by ``report``."""

from __future__ import annotations

import base64
import json
import re
import shutil
import struct

import numpy as np
import pandas as pd
import pytest
import yaml
from study_helpers import KNOB, OBJECTIVES, evaluate, step, synthetic_study
from test_optimise import staffing_scenario

from ordercycle.reports.study_report import write_study_report
from ordercycle.scenarios.loader import load
from ordercycle.sim.cli import main
from ordercycle.sim.experiments.optimisation import (
    Direction,
    SpaceFile,
    configure,
    front_pairs,
    optimise,
    write_study,
)

IMG = re.compile(r"<img\b[^>]*\bsrc=\"([^\"]*)\"")


def embedded_pngs(html: str) -> list[bytes]:
    """The decoded images of a page; fails on any image that is not an embedded PNG."""
    images = []
    for source in IMG.findall(html):
        assert source.startswith("data:image/png;base64,"), source[:60]
        images.append(base64.b64decode(source.split(",", 1)[1], validate=True))
    return images


def assert_valid_png(data: bytes) -> None:
    """PNG signature, IHDR first with a plausible size, IEND last."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert 50 <= width <= 5000 and 50 <= height <= 10000
    assert data[-8:-4] == b"IEND"


def assert_self_contained(html: str) -> None:
    """No scripts and no resource outside the page."""
    assert "<script" not in html
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", html)
    assert "@import" not in html and "url(" not in html


def test_front_pairs_tell_apart_only_what_the_paired_intervals_do():
    base = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    table = pd.DataFrame({"set": ["a"] * 6 + ["b"] * 6 + ["c"] * 6, "replication": list(range(6)) * 3,
                          "x": np.concatenate([base, base + [0.1, -0.1] * 3, base + 5]),  # b ties a
                          "y": np.concatenate([base, base, base])})
    pairs = front_pairs(table, ["a", "b", "c"], [Direction("x", True), Direction("y", False)], 0.95)
    verdict = pairs.groupby(["a", "b"])["distinguishable"].any().to_dict()
    assert verdict == {("a", "b"): False, ("a", "c"): True, ("b", "c"): True}
    row = pairs[(pairs["a"] == "a") & (pairs["b"] == "c") & (pairs["kpi"] == "x")].iloc[0]
    assert row["diff_mean"] == pytest.approx(-5.0) and row["diff_ci_high"] < 0  # paired: a − c, no noise


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study") / "synthetic"
    return folder, synthetic_study(folder)


def test_the_front_is_re_evaluated_with_intervals_in_both_kpis(synthetic):
    folder, study = synthetic
    front = study.front()
    caps = [point["params"][KNOB] for point in front]
    assert len(front) >= 2 and len(set(caps)) == len(caps)  # distinct settings only
    assert set(study.confirmation["set"]) == {"current"} | {f"trial-{p['trial']}" for p in front}
    for point in front:
        for direction in OBJECTIVES:
            entry = point["kpis"][direction.kpi]
            assert entry["ci_low"] < entry["mean"] < entry["ci_high"]
    by_trial = {p["trial"]: p for p in front}
    for pair in study.front_pairs.groupby(["a", "b"])["distinguishable"].any().reset_index().itertuples():
        first, second = (by_trial[int(n.removeprefix("trial-"))] for n in (pair.a, pair.b))
        truly_apart = step(first["params"][KNOB]) != step(second["params"][KNOB])
        if truly_apart:  # 20 standard errors apart: every interval sees it
            assert pair.distinguishable
        told_apart = second["trial"] not in first["indistinguishable_from"]
        assert told_apart == pair.distinguishable
    record = json.loads((folder / "study.json").read_text())
    assert record["front"] == json.loads(json.dumps(front))
    assert set(record["objective_importances"]) == {d.kpi for d in OBJECTIVES}


def test_the_multi_objective_report_shows_the_front_and_which_points_differ(synthetic):
    folder, study = synthetic
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    images = embedded_pngs(html)
    assert len(images) == 3  # front, history, importances
    for data in images + [(folder / "pareto.png").read_bytes(), (folder / "history.png").read_bytes()]:
        assert_valid_png(data)
    for heading in ("In plain words", "The Pareto front with its uncertainty", "Optimisation history",
                    "Parameter importances", "Best trials"):
        assert f"<h2>{heading}</h2>" in html
    pairs = study.front_pairs.groupby(["a", "b"], sort=False)["distinguishable"].any()
    assert f"Of {len(pairs)} pairs of re-evaluated front points, {int(pairs.sum())} can be told apart" in html
    for (a, b), apart in pairs.items():
        if not apart:
            assert f"{a} and {b}" in html.split("Cannot be told apart on any objective")[1]
    markdown = (folder / "report.md").read_text()
    assert "## Pareto front (re-evaluated)" in markdown


def _no_simulation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a report must not re-run the simulation")

    import ordercycle.sim.experiments.replications as replication_tasks
    import ordercycle.sim.run as run

    monkeypatch.setattr(run, "simulate", refuse)
    monkeypatch.setattr(replication_tasks, "simulate", refuse)


def test_optimise_writes_the_study_report_and_report_rebuilds_it_without_simulating(tmp_path, capsys,
                                                                                      monkeypatch):
    scenario, space = tmp_path / "staffing.yaml", tmp_path / "space.yaml"
    scenario.write_text(yaml.safe_dump(staffing_scenario(8)))
    space.write_text(yaml.safe_dump({"parameters": {
        "scenario.work_centres.station.machines": {"low": 4, "high": 9, "integer": True}}}))
    common = ["optimise", str(scenario), "--space", str(space), "--trials", "4", "--reps", "2", "--horizon",
              "40", "--confirm-reps", "3", "--top", "2", "--workers", "1", "--quiet"]
    out = tmp_path / "study"
    assert main(common + ["--out", str(out)]) == 0
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    html = (out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    for data in embedded_pngs(html):
        assert_valid_png(data)
    record = json.loads((out / "study.json").read_text())
    gain = record["improvement_over_current"]
    if record["winner"]["trial"] is not None:  # the winner, its setting and its interval, in words
        assert f"Chosen setting: trial {record['winner']['trial']}" in html
        assert "paired interval" in html and "<h2>Re-evaluation ranking</h2>" in html
        assert f"{gain['score_difference']:+,.0f}" in html

    copy = tmp_path / "copy"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("runs", "report.*"))
    _no_simulation(monkeypatch)
    assert main(["report", str(copy)]) == 0
    assert str(copy / "report.html") in capsys.readouterr().out
    assert (copy / "report.html").read_text(encoding="utf-8") == html  # same files, same report
    assert (copy / "report.md").read_text() == (out / "report.md").read_text()
    monkeypatch.undo()

    quiet = tmp_path / "quiet"
    assert main(common + ["--out", str(quiet), "--no-report"]) == 0
    assert (quiet / "study.json").is_file() and not (quiet / "report.html").exists()


def test_invalid_trials_and_feasibility_survive_the_saved_files(tmp_path):
    """A policy choice that refuses the other knob makes invalid trials; the report counts them."""
    space = SpaceFile.model_validate({"parameters": {"expedite.name": {"choices": ["top-tier", "never"]},
                                                     KNOB: {"low": 0, "high": 20, "integer": True}}})
    scenario = configure(load("baseline"), {"expedite.name": "top-tier"})
    objective = scenario.objective.model_copy(update={
        "weights": {"on_time_delivery_rate": 1000.0, "operating_cost": -1.0}, "constraints": []})
    scenario = scenario.model_copy(update={"objective": objective})
    study = optimise(scenario, space, trials=8, reps=2, seed=1, batch=4, top=2, confirm_reps=3,
                     evaluate=evaluate)
    invalid = int((study.trials["status"] == "invalid").sum())
    assert 0 < invalid < len(study.trials)
    write_study(study, tmp_path, scenario, space, seed=1, reps=2, confirm_reps=3, confidence=0.95)
    saved = pd.read_parquet(tmp_path / "trials.parquet")
    assert saved["feasible"].dtype == "boolean"
    pd.testing.assert_series_equal(saved["feasible"], study.trials["feasible"].astype("boolean"))
    write_study_report(tmp_path)
    assert f"Not evaluated: {invalid} trials invalid" in (tmp_path / "report.md").read_text()
