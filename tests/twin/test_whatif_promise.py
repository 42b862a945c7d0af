"""What-if from a snapshot (bundles compared with CRN) and promise risk (CLI, service, estimator)."""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient

from ordercycle.policies.bundle import make_bundle, write_bundle
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.scenarios.loader import content_hash, load, override
from ordercycle.sim.cli import main
from ordercycle.sim.experiments.executors import SerialExecutor
from ordercycle.sim.placement import write_snapshot
from ordercycle.sim.run import simulate
from ordercycle.sim.snapshot import SnapshotError
from ordercycle.sim.twin.promise import (
    NewOrder,
    default_segment,
    promise_risk,
    service_estimator,
    wilson_interval,
)
from ordercycle.sim.twin.whatif import deployed_scenario, whatif

TOKEN = "promise-token-0123456789"


@pytest.fixture(scope="module")
def company():
    return override(load("around-the-clock"), horizon_days=10, warmup_days=0.0)


@pytest.fixture(scope="module")
def snapshot(company):
    """The baseline's state at day 8 (seed 1)."""
    return simulate(company, seed=1, snapshot_at=8.0).snapshot


def _bundle(scenario, policies, path):
    document = make_bundle(policies, scenario=scenario.model_dump(mode="json"), scenario_name=scenario.name,
                           scenario_hash=content_hash(scenario), evidence={"source": "test"},
                           package_version="0.1.0", created_at="2026-01-01T00:00:00Z")
    return write_bundle(document, path)


@pytest.fixture(scope="module")
def bundles(company, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundles")
    return {name: _bundle(company, {"priority": {"name": rule, "params": {}}}, folder / f"{name}.json")
            for name, rule in (("fifo", "fifo"), ("fifo-again", "fifo"), ("edd", "edd"))}


# --- what-if -------------------------------------------------------------------------------------


def test_whatif_with_identical_bundles_gives_identical_replications(snapshot, bundles):
    from ordercycle.policies.bundle import load_bundle

    comparison = whatif(snapshot, [load_bundle(bundles["fifo"]), load_bundle(bundles["fifo-again"])],
                        days=3.0, reps=2, executor=SerialExecutor())
    table = comparison.replications.set_index(["set", "replication"]).sort_index()
    first, second = table.loc["fifo"], table.loc["fifo-again"]
    assert first.drop(columns=["seconds"], errors="ignore").equals(second.drop(columns=["seconds"],
                                                                               errors="ignore"))
    assert first["carried_over.open_orders"].iloc[0] == sum(
        1 for o in snapshot.orders if o.step != "delivered")


def test_whatif_cli_writes_the_comparison_and_its_report(tmp_path, snapshot, bundles, capsys):
    path = write_snapshot(snapshot, tmp_path / "today.json")
    out = tmp_path / "out"
    code = main(["whatif", str(path), "--bundle", str(bundles["fifo"]), "--bundle", str(bundles["edd"]),
                 "--days", "3", "--reps", "2", "--executor", "serial", "--quiet", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "carried_over.on_time_rate" in printed and "edd" in printed
    experiment = json.loads((out / "experiment.json").read_text())
    assert sorted(experiment["sets"]) == ["edd", "fifo"] and experiment["horizon_days"] == 3
    assert (out / "report.html").exists() and (out / "summary.csv").exists()


def test_whatif_cli_refuses_a_snapshot_that_contradicts_the_scenario(tmp_path, bundles, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"stock": {"unobtainium": 4}}))
    assert main(["whatif", str(path), "--bundle", str(bundles["fifo"]), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "stock.unobtainium: unknown product" in err and "Traceback" not in err


# --- promise risk --------------------------------------------------------------------------------


def test_wilson_interval_matches_statsmodels():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for successes, trials in ((0, 5), (3, 10), (20, 20), (7, 31)):
        low, high = wilson_interval(successes, trials, 0.9)
        expected = proportion.proportion_confint(successes, trials, alpha=0.1, method="wilson")
        assert (low, high) == pytest.approx(expected)


def test_under_due_date_blind_policies_each_date_counts_the_same_deliveries(company, snapshot):
    blind = override(company, policies={"priority": {"name": "fifo"}, "expedite": {"name": "never"}})
    result = promise_risk(blind, snapshot, NewOrder("valve", 4, "strategic"), [1.5, 3.0, 6.0], reps=3, seed=2)
    latest = result.delivery_days  # the runs of the latest date
    assert any(day is not None for day in latest), "the check below would be vacuous"
    for date in result.dates:
        assert date.delivered_by == sum(1 for day in latest if day is not None and day <= date.promised_day)
        assert date.ci_low <= date.probability <= date.ci_high
    assert [d.probability for d in result.dates] == sorted(d.probability for d in result.dates)


def test_promise_risk_is_reproducible(company, snapshot):
    order = NewOrder("valve", 10, "regular")
    assert promise_risk(company, snapshot, order, [2.0], reps=2, seed=5) == promise_risk(
        company, snapshot, order, [2.0], reps=2, seed=5)


def test_a_bad_promise_request_is_refused_by_field(company, snapshot):
    with pytest.raises(SnapshotError) as error:
        promise_risk(company, snapshot, NewOrder("widget", 0, "nobody"), [0.0, 900.0], reps=0)
    problems = error.value.problems
    for expected in ("product: unknown product 'widget'", "segment: unknown segment 'nobody'",
                     "quantity: must be at least 1", "dates: each must be in (0, 365] days, got 0",
                     "reps: must be in [1, 200], got 0"):
        assert any(line.startswith(expected) for line in problems), (expected, problems)


def test_promise_risk_cli_prints_json(tmp_path, snapshot, capsys):
    path = write_snapshot(snapshot, tmp_path / "today.json")
    code = main(["promise-risk", str(path), "--product", "filter", "--quantity", "3", "--dates", "1,2",
                 "--reps", "2", "--json", "--scenario", "baseline"])
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert [d["promised_day"] for d in answer["dates"]] == [1.0, 2.0]
    assert all(0 <= d["ci_low"] <= d["probability"] <= d["ci_high"] <= 1 for d in answer["dates"])
    assert main(["promise-risk", str(path), "--product", "filter", "--quantity", "3", "--dates", "x"]) == 2


# --- the service route ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(company, snapshot, bundles, tmp_path_factory):
    from ordercycle.policies.bundle import load_bundle

    live = load_bundle(bundles["edd"])
    estimator = service_estimator(deployed_scenario(live, company), snapshot)
    settings = ServiceSettings(db_path=str(tmp_path_factory.mktemp("db") / "d.sqlite"), token=TOKEN)
    with TestClient(create_app(live, settings, promise_risk=estimator, promise_max_reps=4)) as test_client:
        yield test_client


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_the_route_answers_with_an_interval_per_date(client, company):
    response = client.post("/v1/promise-risk", headers=AUTH,
                           json={"product": "pump", "quantity": 2, "dates": [1, 3], "reps": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["segment"] == default_segment(company, "pump")
    assert [d["promised_day"] for d in body["dates"]] == [1, 3]
    assert all(d["replications"] == 2 for d in body["dates"])
    assert all(d["ci_low"] <= d["probability"] <= d["ci_high"] for d in body["dates"])
    assert not math.isnan(body["snapshot_day"])


def test_the_route_needs_the_token_and_bounds_the_request(client):
    payload = {"product": "pump", "quantity": 2, "dates": [1]}
    assert client.post("/v1/promise-risk", json=payload).status_code == 401
    too_many = client.post("/v1/promise-risk", headers=AUTH, json={**payload, "reps": 5})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "reps"
    dates = client.post("/v1/promise-risk", headers=AUTH, json={**payload, "dates": list(range(1, 20))})
    assert dates.status_code == 422 and dates.json()["errors"][0]["field"] == "dates"
    unknown = client.post("/v1/promise-risk", headers=AUTH, json={**payload, "product": "widget", "reps": 1})
    assert unknown.status_code == 422 and unknown.json()["errors"] == [
        {"field": "product", "reason": "unknown product 'widget'"}]
    extra = client.post("/v1/promise-risk", headers=AUTH, json={**payload, "colour": "red"})
    assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "colour"


def test_without_an_estimator_there_is_no_route(bundles, tmp_path):
    from ordercycle.policies.bundle import load_bundle

    app = create_app(load_bundle(bundles["fifo"]), ServiceSettings(db_path=str(tmp_path / "d.sqlite")))
    with TestClient(app) as test_client:
        assert test_client.post("/v1/promise-risk", json={}).status_code == 404


def test_serve_builds_the_estimator_from_the_bundle_and_the_snapshot(tmp_path, snapshot, bundles):
    import argparse

    from ordercycle.policies.bundle import load_bundle
    from ordercycle.policies.service.promise import PromiseRiskRequest
    from ordercycle.sim.cli.service import _promise_estimator

    live = load_bundle(bundles["edd"])
    path = write_snapshot(snapshot, tmp_path / "today.json")
    args = argparse.Namespace(snapshot=str(path), promise_scenario=None, promise_max_reps=4)
    request = PromiseRiskRequest(product="valve", quantity=2, dates=[1], reps=1)
    answer = _promise_estimator(args, live)(request)
    assert answer["dates"][0]["replications"] == 1
    assert answer["segment"] == default_segment(deployed_scenario(live), "valve")
    (tmp_path / "bad.json").write_text(json.dumps({"machines": [{"work_centre": "moon", "index": 0}]}))
    with pytest.raises(SnapshotError, match="machines.0.work_centre: unknown work centre 'moon'"):
        _promise_estimator(argparse.Namespace(snapshot=str(tmp_path / "bad.json"), promise_scenario=None,
                                              promise_max_reps=4), live)


def test_promise_risk_does_not_depend_on_the_executor(company, snapshot):
    from ordercycle.sim.experiments.executors import ProcessExecutor

    order = NewOrder("filter", 6, "regular")
    serial = promise_risk(company, snapshot, order, [1.0, 2.5], reps=2, seed=7)
    executor = ProcessExecutor(2)
    try:
        pooled = promise_risk(company, snapshot, order, [1.0, 2.5], reps=2, seed=7, executor=executor)
    finally:
        executor.close()
    assert pooled == serial


def test_promise_risk_answers_for_the_company_the_snapshot_came_from(tmp_path, capsys):
    """Without --scenario: the scenario in the run.json beside the snapshot (a twin, here a variant of
    the around-the-clock company with more sales reps), not the built-in baseline."""
    twin = override(load("around-the-clock"), horizon_days=10.0, warmup_days=0.0, name="my-twin")
    path = tmp_path / "twin.json"
    path.write_text(json.dumps(twin.model_dump(mode="json")))
    out = tmp_path / "run"
    assert main(["run", str(path), "--snapshot-at", "8", "--out", str(out), "--quiet", "--no-report"]) == 0
    capsys.readouterr()
    args = ["--product", "filter", "--quantity", "3", "--dates", "2", "--reps", "2", "--json"]
    assert main(["promise-risk", str(out / "snapshot.json"), *args]) == 0
    printed = capsys.readouterr()
    assert "'my-twin', the one the snapshot was taken from" in printed.err
    assert json.loads(printed.out)["dates"][0]["promised_day"] == 2.0
    alone = tmp_path / "alone.json"
    alone.write_text((out / "snapshot.json").read_text())
    assert main(["promise-risk", str(alone), *args]) == 2
    assert "give --scenario" in capsys.readouterr().err
