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
    (folder / "experiment.json").write_text(json.dumps(experiment, indent=2))
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


def test_export_of_a_real_compare_run_deploys_the_chosen_set(tmp_path, baseline):
    from ordercycle.scenarios.loader import override
    from ordercycle.sim.experiments import compare, write_comparison

    scenario = override(baseline, horizon_days=20, warmup_days=2)
    sets = {"status-quo": {}, "due-dates": {"priority": "edd", "expedite": {"name": "never"}}}
    results = write_comparison(compare(scenario, sets, reps=2, seed=1), tmp_path / "compare")
    out = tmp_path / "bundle.json"
    assert main(["export", str(results), "--set", "due-dates", "--out", str(out)]) == 0
    bundle = load_bundle(out)
    assert bundle.policy_id("priority") == "priority/edd@1"
    assert bundle.policy_id("expedite") == "expedite/never@1"
    assert bundle.document["scenario_hash"] == content_hash(scenario)
    assert bundle.document["evidence"]["replications"] == 2
    assert {row["set"] for row in bundle.document["evidence"]["summary"]} == {"due-dates"}
    winner = json.loads((results / "ranking.json").read_text())["winner"]
    code = main(["export", str(results), "--winner", "--out", str(tmp_path / "winner.json")])
    assert code == (0 if winner else 2)
