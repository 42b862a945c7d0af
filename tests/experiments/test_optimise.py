"""``optimise``: finds a known optimum, keeps common random numbers, confirms the winner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml
from mmc_helpers import mmc_scenario_data

from ordercycle.reports.queueing import mmc_w
from ordercycle.scenarios.loader import parse
from ordercycle.sim.cli import main
from ordercycle.sim.experiments.optimisation import Direction, SpaceFile, configure, optimise

ARRIVALS = 3.0
WAIT_COST_PER_ORDER_DAY = 40.0
WINDOW_DAYS = 100.0


def staffing_scenario(machines: int) -> dict:
    """M/M/c with λ = 3/day, µ = 1/day; a machine costs 1 per hour (24 per day, three shifts),
    an order's day in the system costs 40. Objective per window: −(machine cost + λ·40·T·W)."""
    data = mmc_scenario_data(ARRIVALS, machines, WINDOW_DAYS + 10, 10)
    data["work_centres"][0]["machine_hour_cost"] = 1.0
    waiting = ARRIVALS * WAIT_COST_PER_ORDER_DAY * WINDOW_DAYS
    data["objective"] = {"weights": {"operating_cost": -1.0, "mean_lead_time_days": -waiting}}
    return data


def analytic_best() -> int:
    cost = {c: 24 * c + ARRIVALS * WAIT_COST_PER_ORDER_DAY * mmc_w(ARRIVALS, 1.0, c) for c in range(4, 10)}
    return min(cost, key=cost.get)


SPACE = SpaceFile.model_validate({"parameters": {
    "scenario.work_centres.station.machines": {"low": 4, "high": 9, "integer": True}}})


def test_optimiser_finds_the_staffing_level_queueing_theory_gives(tmp_path):
    assert analytic_best() == 5
    scenario = parse(staffing_scenario(8))  # the company today: over-staffed
    study = optimise(scenario, SPACE, trials=12, reps=3, seed=3, batch=4, top=3, confirm_reps=5,
                     out=tmp_path)
    assert study.winner is not None
    assert study.winner["params"] == {"scenario.work_centres.station.machines": 5}
    assert study.improvement["ci_low"] > 0  # better than 8 machines, and the interval says so
    trials = study.trials[study.trials["status"] == "ok"]
    # common random numbers: trials with the same setting got the same value
    by_setting = trials.groupby("scenario.work_centres.station.machines")["value"].nunique()
    assert (by_setting == 1).all() and len(trials) > trials.iloc[:, 1].nunique()
    assert set(study.confirmation["set"]) >= {"current", f"trial-{study.winner['trial']}"}


def test_two_evaluations_of_one_setting_are_equal(mm1):
    """CRN without the store: the same parameters give the same KPIs on the same replications."""
    from ordercycle.sim.experiments.executors import SerialExecutor
    from ordercycle.sim.experiments.optimisation import replication_evaluator
    from ordercycle.sim.experiments.replications import no_progress

    evaluate = replication_evaluator(9, SerialExecutor(), None, no_progress)
    setting = {"priority.name": "spt"}
    first = evaluate([("a", configure(mm1, setting))], range(2))
    second = evaluate([("b", configure(mm1, dict(setting)))], range(2))
    pd.testing.assert_frame_equal(first.drop(columns="set"), second.drop(columns="set"))
    other = evaluate([("c", configure(mm1, {"priority.name": "fifo"}))], range(2))
    assert (other["inquiries"].to_numpy() == first["inquiries"].to_numpy()).all()  # same demand


def test_configure_sets_choices_parameters_and_scenario_paths(short_baseline):
    variant = configure(short_baseline, {"expedite.name": "top-tier", "expedite.params.max_per_period": 2,
                                         "selection.params.min_units": 3, "scenario.staff.entry_clerks": 2})
    assert variant.policies.expedite.name == "top-tier"
    assert variant.policies.expedite.params == {"max_per_period": 2}
    assert variant.policies.selection.name == "size-threshold"
    assert variant.policies.selection.params == {"min_units": 3}
    assert variant.staff.entry_clerks == 2


def test_reevaluation_picks_the_truly_better_of_two_close_candidates_more_often(mm1):
    """Two settings 0.2 apart under unit noise that common random numbers do not remove:
    the raw best trial (2 replications) is right about Φ(0.2) ≈ 58 % of the time; the
    confirmation on 30 fresh replications ≈ Φ(0.77) ≈ 78 %."""
    truth = {1: 1.0, 2: 1.2}
    space = SpaceFile.model_validate({"parameters": {
        "scenario.work_centres.station.machines": {"choices": [1, 2]}}})
    objective = mm1.objective.model_copy(update={"weights": {"profit": 1.0}, "constraints": []})
    scenario = mm1.model_copy(update={"objective": objective})
    raw_right = confirmed_right = 0
    studies = 60
    for study_seed in range(studies):
        def evaluate(candidates, replications, study_seed=study_seed):
            rows = []
            for name, variant in candidates:
                machines = variant.work_centres[0].machines
                mean = 0.0 if name == "current" else truth[machines]
                for r in replications:
                    noise = np.random.default_rng([study_seed, machines, r, name == "current"]).normal()
                    rows.append({"set": name, "replication": r, "profit": mean + noise})
            return pd.DataFrame(rows)
        study = optimise(scenario, space, trials=6, reps=2, seed=study_seed, batch=6, top=2,
                         confirm_reps=30, evaluate=evaluate)
        ok = study.trials[study.trials["status"] == "ok"]
        raw = ok.sort_values(["value", "trial"], ascending=[False, True]).iloc[0]
        raw_right += raw["scenario.work_centres.station.machines"] == 2
        confirmed_right += study.winner["params"]["scenario.work_centres.station.machines"] == 2
    print(f"raw best right in {raw_right}/{studies}, confirmed winner right in {confirmed_right}/{studies}")
    assert confirmed_right >= raw_right + 0.1 * studies, (raw_right, confirmed_right)
    assert confirmed_right >= 0.65 * studies


def test_multi_objective_search_returns_a_pareto_front(tmp_path):
    scenario = parse(staffing_scenario(8))
    study = optimise(scenario, SPACE, objectives=[Direction("operating_cost", False),
                                                  Direction("mean_lead_time_days", False)],
                     trials=8, reps=2, seed=1, batch=4, confirm_reps=2, out=tmp_path)
    front = study.trials[study.trials["trial"].isin(study.pareto)]
    assert len(front) >= 2
    # more machines cost more and wait less: along the front the two objectives trade off
    front = front.sort_values("value.operating_cost")
    assert front["value.mean_lead_time_days"].is_monotonic_decreasing
    # re-evaluated on fresh replications: distinct settings, each with an interval in both KPIs; the
    # machine cost is deterministic, so any two staffing levels are told apart on operating cost
    confirmed = study.front()
    machines = [point["params"]["scenario.work_centres.station.machines"] for point in confirmed]
    assert len(confirmed) >= 2 and len(set(machines)) == len(machines)
    lead_times = [point["kpis"]["mean_lead_time_days"] for point in confirmed]
    assert all(entry["ci_low"] < entry["mean"] < entry["ci_high"] for entry in lead_times)
    on_cost = study.front_pairs[study.front_pairs["kpi"] == "operating_cost"]
    assert len(on_cost) == len(confirmed) * (len(confirmed) - 1) // 2 and on_cost["distinguishable"].all()


def test_optimise_command_writes_the_study_and_refuses_bad_spaces(tmp_path, capsys):
    scenario = tmp_path / "staffing.yaml"
    scenario.write_text(yaml.safe_dump(staffing_scenario(8)))
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"parameters": {
        "scenario.work_centres.station.machines": {"low": 4, "high": 9, "integer": True}}}))
    out = tmp_path / "study"
    code = main(["optimise", str(scenario), "--space", str(space), "--trials", "4", "--reps", "2",
                 "--confirm-reps", "3", "--top", "2", "--workers", "1", "--quiet", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "trials/min" in printed
    record = json.loads((out / "study.json").read_text())
    assert record["kind"] == "optimise" and record["trials"] == 4
    assert (out / "history.png").read_bytes().startswith(b"\x89PNG")
    assert len(pd.read_parquet(out / "trials.parquet")) == 4

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"parameters": {"priorty.name": {"choices": ["edd"]},
                                                  "expedite.max_per_period": {"low": 1, "high": 2}}}))
    code = main(["optimise", str(scenario), "--space", str(bad), "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "parameters.priorty.name: starts with neither a decision" in err
    assert "parameters.expedite.max_per_period: use expedite.name or expedite.params.PARAMETER" in err


def test_the_shipped_space_example_configures_the_baseline(short_baseline):
    from pathlib import Path

    from ordercycle.sim.experiments.optimisation import load_space

    examples = Path(__file__).resolve().parents[2] / "scenarios" / "experiments"
    space = load_space(examples / "space-example.yaml")
    assert set(space.parameters) == {"expedite.params.max_per_period", "selection.params.min_units",
                                     "priority.name"}
    variant = configure(short_baseline, {"expedite.params.max_per_period": 0, "selection.params.min_units": 1,
                                         "priority.name": "atc"})
    assert variant.policies.priority.name == "atc" and variant.policies.selection.params["min_units"] == 1


def test_the_winner_exports_straight_into_a_policy_bundle(mm1, tmp_path, capsys):
    from ordercycle.policies.bundle import load_bundle
    from ordercycle.sim.experiments.optimisation import write_study

    space = SpaceFile.model_validate({"parameters": {"priority.name": {"choices": ["fifo", "spt", "edd"]}}})
    objective = mm1.objective.model_copy(update={"weights": {"mean_lead_time_days": -1.0}, "constraints": []})
    scenario = mm1.model_copy(update={"objective": objective})
    study = optimise(scenario, space, trials=4, reps=2, seed=2, top=2, confirm_reps=3, out=tmp_path)
    write_study(study, tmp_path, scenario, space, seed=2, reps=2, confirm_reps=3, confidence=0.95)
    assert study.comparison is not None
    bundle_file = tmp_path / "bundle.json"
    code = main(["export", str(tmp_path / "confirmation"), "--winner", "--out", str(bundle_file)])
    assert code == 0, capsys.readouterr().err
    winner = study.comparison.winner()
    bundle = load_bundle(bundle_file)
    assert bundle.policies["priority"].name == study.comparison.sets[winner].priority.name
