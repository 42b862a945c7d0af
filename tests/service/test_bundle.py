"""Policy bundles: export from a compare results directory, loading, and every refusal."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from service_helpers import bundle_document

from ordercycle.policies.bundle import BundleError, bundle_hash, load_bundle, verify_bundle, write_bundle
from ordercycle.scenarios.loader import content_hash
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.cli import main
from ordercycle.sim.experiments.evidence import expected_keys

KPIS = ("profit", "on_time_delivery_rate")


def full_set(scenario: Scenario, **changes: dict[str, Any]) -> dict[str, Any]:
    """The scenario's policy set (JSON) with some decisions changed."""
    return {**scenario.policies.model_dump(mode="json"), **changes}


def write_results(folder: Path, scenario: Scenario, winner: str | None = "informed") -> Path:
    """A results directory in the format `ordercycle compare` writes (two sets, two KPIs)."""
    sets = {
        "status-quo": full_set(scenario),
        "informed": full_set(scenario, pricing={"name": "informed-sales", "params": {"stock_lead_days": 2.0}},
                             expedite={"name": "top-tier", "params": {"max_per_period": 4}}),
    }
    folder.mkdir(parents=True, exist_ok=True)
    experiment = {
        "schema_version": 1, "kind": "compare", "scenario": scenario.model_dump(mode="json"),
        "scenario_name": scenario.name, "scenario_hash": content_hash(scenario), "sets": sets,
        "reference": "status-quo", "seed": 7, "replications": 5, "warmup_days": 30.0,
        "horizon_days": scenario.horizon_days, "confidence": 0.95, "package_version": "0.1.0",
    }
    experiment["run_keys"] = {name: expected_keys(experiment, name) for name in sets}
    (folder / "experiment.json").write_text(json.dumps(experiment, indent=2))
    (folder / "runs").mkdir()
    for index, name in enumerate(sets):  # every replication of a set: the summary's mean
        for key in experiment["run_keys"][name]:
            record = {"status": "ok", "kpis": {kpi: 10.0 + index for kpi in KPIS}, "seconds": 1.0}
            (folder / "runs" / f"{key}.json").write_text(json.dumps(record))
    rows = []
    for index, name in enumerate(sets):
        for kpi in KPIS:
            diff = [math.nan] * 3 + [math.nan] if name == "status-quo" else [1.5, 0.5, 2.5, 0.01]
            rows.append({"set": name, "kpi": kpi, "n": 5, "mean": 10.0 + index, "std": 1.0,
                         "ci_low": 9.0 + index, "ci_high": 11.0 + index, "diff_mean": diff[0],
                         "diff_ci_low": diff[1], "diff_ci_high": diff[2], "p_value": diff[3]})
    pd.DataFrame(rows).to_parquet(folder / "summary.parquet", index=False)
    ranking = {"objective": {"weights": {"profit": 1.0}}, "confidence": 0.95, "winner": winner,
               "ranking": [{"set": "informed", "rank": 1, "score": 11.0, "feasible": True, "group": 1},
                           {"set": "status-quo", "rank": 2, "score": 10.0, "feasible": True, "group": 2}]}
    (folder / "ranking.json").write_text(json.dumps(ranking, indent=2))
    return folder


@pytest.fixture()
def results(tmp_path, baseline) -> Path:
    return write_results(tmp_path / "compare", baseline)


def test_export_winner_writes_a_verified_bundle_with_its_evidence(results, tmp_path, baseline):
    out = tmp_path / "bundle.json"
    assert main(["export", str(results), "--winner", "--out", str(out)]) == 0
    bundle = load_bundle(out)
    document = json.loads(out.read_text())
    assert document["content_hash"] == bundle.content_hash == bundle_hash(document)
    pricing = document["policies"]["pricing"]
    assert (pricing["name"], pricing["version"]) == ("informed-sales", 2)
    assert pricing["params"]["stock_lead_days"] == 2.0
    assert set(document["policies"]) == set(baseline.policies.model_dump())
    assert bundle.policies["expedite"].max_per_period == 4
    assert document["scenario_hash"] == content_hash(baseline)
    evidence = document["evidence"]
    assert evidence["source"]["set"] == "informed" and evidence["source"]["selected_by"] == "winner"
    assert (evidence["seed"], evidence["replications"]) == (7, 5)
    assert {row["set"] for row in evidence["summary"]} == {"informed"}
    assert sorted(row["kpi"] for row in evidence["summary"]) == sorted(KPIS)
    assert evidence["rank"]["rank"] == 1


def test_export_named_set_and_nan_evidence_becomes_null(results, tmp_path):
    out = tmp_path / "quo.json"
    assert main(["export", str(results), "--set", "status-quo", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["evidence"]["source"]["selected_by"] == "set"
    assert all(row["diff_mean"] is None for row in document["evidence"]["summary"])
    assert document["policies"]["pricing"]["name"] == "list-price"


def test_export_is_reproducible_with_source_date_epoch(results, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        assert main(["export", str(results), "--winner", "--out", str(out)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text())["created_at"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize(("change", "expected"), [
    ("no-winner", "winner: null"),
    ("unknown-set", "--set nope: no such policy set"),
    ("edited-scenario", "scenario_hash"),
    ("unknown-policy", "sets.informed.selection.name: unknown policy 'oracle'"),
    ("bad-parameter", "sets.informed.expedite.params.max_per_period"),
    ("missing-summary", "summary.parquet: missing"),
    ("not-compare", "kind: must be 'compare'"),
])
def test_export_refuses_bad_results_clearly(change, expected, tmp_path, baseline, capsys):
    winner = None if change == "no-winner" else "informed"
    results = write_results(tmp_path / "compare", baseline, winner=winner)
    experiment = json.loads((results / "experiment.json").read_text())
    if change == "edited-scenario":
        experiment["scenario"]["horizon_days"] = 400.0
    elif change == "unknown-policy":
        experiment["sets"]["informed"]["selection"] = {"name": "oracle", "params": {}}
    elif change == "bad-parameter":
        experiment["sets"]["informed"]["expedite"]["params"]["max_per_period"] = -1
    elif change == "missing-summary":
        (results / "summary.parquet").unlink()
    elif change == "not-compare":
        experiment["kind"] = "sweep"
    (results / "experiment.json").write_text(json.dumps(experiment))
    args = ["export", str(results), *(["--set", "nope"] if change == "unknown-set" else ["--winner"])]
    assert main([*args, "--out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err, err
    assert "Traceback" not in err and not (tmp_path / "b.json").exists()


# --- the evidence is bound to the policies (issue 18 item 3) -------------------------------


def export_fails(results: Path, tmp_path: Path, capsys, *args: str) -> str:
    """Run `ordercycle export RESULTS --winner`: it must exit 2 and write nothing; its stderr."""
    out = tmp_path / "bundle.json"
    assert main(["export", str(results), *(args or ("--winner",)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and not out.exists()
    return err


def edit_experiment(results: Path, edit) -> dict[str, Any]:
    experiment = json.loads((results / "experiment.json").read_text())
    edit(experiment)
    (results / "experiment.json").write_text(json.dumps(experiment))
    return experiment


def test_the_bundle_records_the_run_keys_its_evidence_cites(results, tmp_path):
    out = tmp_path / "bundle.json"
    assert main(["export", str(results), "--winner", "--out", str(out)]) == 0
    evidence = load_bundle(out).document["evidence"]
    experiment = json.loads((results / "experiment.json").read_text())
    assert evidence["run_keys"] == experiment["run_keys"]
    assert len(evidence["run_keys"]["informed"]) == 5 and len(set(evidence["run_keys"]["informed"])) == 5


@pytest.mark.parametrize("set_name", ["informed", "status-quo"])
def test_an_experiment_whose_policies_were_edited_is_refused_naming_the_set(results, tmp_path, capsys,
                                                                           set_name):
    def edit(experiment):
        experiment["sets"][set_name]["expedite"] = {"name": "top-tier", "params": {"max_per_period": 9}}

    edit_experiment(results, edit)
    err = export_fails(results, tmp_path, capsys)
    assert (f"experiment.json: sets.{set_name}: its policies are not those of the replications it cites"
            in err), err
    assert "the ranking is no evidence for these policies" in err


def test_rehashed_run_keys_of_edited_policies_name_the_missing_records(results, tmp_path, capsys):
    def edit(experiment):
        experiment["sets"]["informed"]["expedite"]["params"]["max_per_period"] = 9
        experiment["run_keys"]["informed"] = expected_keys(experiment, "informed")

    experiment = edit_experiment(results, edit)
    err = export_fails(results, tmp_path, capsys)
    first = experiment["run_keys"]["informed"][0]
    assert f"runs/{first}.json: cannot read (No such file or directory) (a replication set 'informed' " \
           "cites)" in err, err


def test_an_edited_summary_or_a_damaged_record_is_refused(results, tmp_path, capsys):
    experiment = json.loads((results / "experiment.json").read_text())
    record = results / "runs" / f"{experiment['run_keys']['informed'][2]}.json"
    record.write_text(json.dumps({"status": "ok", "kpis": {"profit": 99.0, "on_time_delivery_rate": 11.0}}))
    err = export_fails(results, tmp_path, capsys)
    assert "summary.parquet: set 'informed', KPI on_time_delivery_rate" not in err
    assert "summary.parquet: set 'informed', KPI profit: n 5 and mean 11.0 are not those of its 5 cited " \
           "replications (n 5, mean 28.6)" in err, err
    record.write_bytes(b'{"status": "ok", "kpis": {"profit": \xff}}')
    err = export_fails(results, tmp_path, capsys)
    assert f"{record}: not UTF-8 text (byte 0xff at offset 36); save the file as UTF-8 (a replication " \
           "set 'informed' cites)" in err, err


def test_results_that_cite_no_replications_are_refused(results, tmp_path, capsys):
    edit_experiment(results, lambda experiment: experiment.pop("run_keys"))
    err = export_fails(results, tmp_path, capsys)
    assert "experiment.json: run_keys: missing: the results do not cite their replications" in err


# --- loading and its refusals ------------------------------------------------------------


def rehashed(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with a content hash matching its (edited) content."""
    document["content_hash"] = bundle_hash(document)
    return document


def test_a_tampered_bundle_is_refused(tmp_path, baseline, capsys):
    document = bundle_document(baseline)
    document["policies"]["expedite"]["params"]["max_per_period"] = 500
    path = write_bundle(document, tmp_path / "tampered.json")
    with pytest.raises(BundleError, match="content_hash: does not match the bundle's content") as error:
        load_bundle(path)
    assert str(path) in error.value.problems[0]
    assert main(["serve", str(path), "--db", str(tmp_path / "log.sqlite")]) == 2
    assert "changed after export" in capsys.readouterr().err


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["policies"]["selection"].update(name="os.system"),
     "policies.selection.name: unknown policy 'os.system' for selection"),
    (lambda d: d["policies"]["expedite"]["params"].update(max_per_period="many"),
     "policies.expedite.params.max_per_period: input should be a valid integer"),
    (lambda d: d["policies"]["expedite"]["params"].update(cap=3),
     "policies.expedite.params.cap: unknown parameter"),
    (lambda d: d["policies"]["priority"].update(version=99),
     "policies.priority.version: the bundle was exported"),
    (lambda d: d["policies"].update(oracle={"name": "x", "version": 1, "params": {}}),
     "policies.oracle: unknown decision 'oracle'"),
    (lambda d: d.update(schema_version=2), "schema_version: this ordercycle reads version 1"),
    (lambda d: d.update(kind="pickle"), "kind: must be 'ordercycle-policy-bundle'"),
    (lambda d: d.pop("evidence"), "evidence: missing"),
    (lambda d: d.update(policies={}), "policies: must be a non-empty object"),
])
def test_a_bundle_naming_an_unknown_policy_or_bad_parameter_is_refused(edit, expected, baseline):
    document = bundle_document(baseline)
    edit(document)
    with pytest.raises(BundleError) as error:
        verify_bundle(rehashed(document))
    assert any(expected in line for line in error.value.problems), error.value.problems


def test_a_partial_bundle_serves_only_its_decisions(baseline):
    policies = {"selection": {"name": "margin-floor", "params": {"min_margin_rate": 0.2}}}
    bundle = verify_bundle(bundle_document(baseline, policies))
    assert set(bundle.policies) == {"selection"}
    assert bundle.policy_id("selection") == "selection/margin-floor@1"


def test_unreadable_bundles_are_refused_with_the_file_named(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(BundleError, match="missing.json: cannot read"):
        load_bundle(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(BundleError, match="broken.json: not valid JSON"):
        load_bundle(broken)


HOSTILE_FILES = [
    (b'{"kind": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at offset 13); save the file as UTF-8"),
    ('{"kind": "x"}'.encode("utf-16"), "UTF-16 text (byte-order mark); save the file as UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
    (b'{"seed": ' + b"7" * 5000 + b"}", "an integer of 5,000 digits (at most 30 are read)"),
]


@pytest.mark.parametrize(("content", "reason"), HOSTILE_FILES, ids=["latin-1", "utf-16", "deep", "digits"])
@pytest.mark.parametrize("role", ["serve", "serve --shadow", "export experiment.json", "export ranking.json"])
def test_hostile_bundle_and_results_files_exit_2_naming_the_file(results, tmp_path, baseline, capsys, role,
                                                                 content, reason):
    good = write_bundle(bundle_document(baseline), tmp_path / "good.json")
    hostile = tmp_path / "hostile.json"
    hostile.write_bytes(content)
    db = tmp_path / "log.sqlite"
    if role == "serve":
        argv = ["serve", str(hostile), "--db", str(db)]
    elif role == "serve --shadow":
        argv = ["serve", str(good), "--shadow", str(hostile), "--db", str(db)]
    else:
        hostile = results / role.split()[1]
        hostile.write_bytes(content)
        argv = ["export", str(results), "--winner", "--out", str(tmp_path / "b.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    prefix = "--shadow " if role == "serve --shadow" else ""
    assert err == f"error: {prefix}{hostile}: {reason}\n", err
    assert not db.exists() and not (tmp_path / "b.json").exists()


def test_export_of_a_real_compare_run_deploys_the_chosen_set(tmp_path, baseline):
    from ordercycle.scenarios.loader import override
    from ordercycle.sim.experiments import compare, write_comparison

    scenario = override(baseline, horizon_days=20, warmup_days=2)
    sets = {"status-quo": {}, "due-dates": {"priority": "edd", "expedite": {"name": "never"}}}
    comparison = compare(scenario, sets, reps=2, seed=1, out=tmp_path / "compare")
    results = write_comparison(comparison, tmp_path / "compare")
    out = tmp_path / "bundle.json"
    assert main(["export", str(results), "--set", "due-dates", "--out", str(out)]) == 0
    bundle = load_bundle(out)
    assert bundle.policy_id("priority") == "priority/edd@1"
    assert bundle.policy_id("expedite") == "expedite/never@1"
    assert bundle.document["scenario_hash"] == content_hash(scenario)
    assert bundle.document["evidence"]["replications"] == 2
    assert {row["set"] for row in bundle.document["evidence"]["summary"]} == {"due-dates"}
    assert bundle.document["evidence"]["run_keys"] == comparison.run_keys
    assert all((results / "runs" / f"{key}.json").is_file() for keys in comparison.run_keys.values()
               for key in keys)
    winner = json.loads((results / "ranking.json").read_text())["winner"]
    code = main(["export", str(results), "--winner", "--out", str(tmp_path / "winner.json")])
    assert code == (0 if winner else 2)
