"""The HTTP service: auth on every protected route, bounds, JSON errors, the decision log,
metrics, shadow mode, `ordercycle decisions` and `ordercycle replay`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import AUTH, TOKEN, bundle_document, bundle_of

from ordercycle.policies.bundle import write_bundle
from ordercycle.policies.examples import example_contexts
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.sim.cli import main

SCHEMAS = route_schemas()


def body(kind: str, index: int = 0) -> dict:
    """JSON of the conformance suite's ``index``-th example context of ``kind``."""
    return SCHEMAS[kind].context_dict(example_contexts(kind)[index])


def has_path(document: Any, path: tuple[Any, ...]) -> bool:
    """Whether ``document[path[0]][path[1]]…`` exists and is not null."""
    for key in path:
        try:
            document = document[key]
        except (KeyError, IndexError):
            return False
    return document is not None


def protected_requests(client: TestClient) -> list[tuple[str, str, dict | None]]:
    """(method, path, JSON body) of every route but /healthz, read from the app itself."""
    requests = [("GET", "/openapi.json", None), ("GET", "/docs", None)]
    for path, item in client.get("/openapi.json", headers=AUTH).json()["paths"].items():
        for method in item:
            kind = next((k for k, s in SCHEMAS.items() if s.path == path), None)
            requests.append((method.upper(), path, body(kind) if kind else None))
    return [request for request in requests if request[1] != "/healthz"]


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer",
                                    f"bearer  {TOKEN}x"])
def test_every_protected_route_refuses_a_missing_or_wrong_token(client, header):
    requests = protected_requests(client)
    assert len(SCHEMAS) == 15  # decision kinds, both overtimes and fulfilment included
    assert len(requests) == 2 + 2 + len(SCHEMAS)  # docs, bundle and metrics, every decision route
    headers = {"Authorization": header} if header else {}
    for method, path, json_body in requests:
        response = client.request(method, path, json=json_body, headers=headers)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["detail"] == "missing or wrong bearer token"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.app.state.decision_log.count() == 0


def test_with_the_token_every_protected_route_answers(client):
    for method, path, json_body in protected_requests(client):
        response = client.request(method, path, json=json_body, headers=AUTH)
        assert response.status_code == 200, (method, path, response.text)


def test_decisions_are_logged_with_request_response_policy_and_bundle(client, baseline):
    bundle = bundle_of(baseline)
    responses = [client.post("/v1/select", json=body("selection", i), headers=AUTH) for i in range(3)]
    assert [r.headers["X-Decision-Id"] for r in responses] == ["1", "2", "3"]
    db = client.app.state.settings.db_path
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = connection.execute(
            "SELECT id, decision, policy, bundle_hash, outcome, request, response FROM decisions ORDER BY id"
        ).fetchall()
    assert [row[0] for row in rows] == [1, 2, 3]
    for (_, decision, policy, bundle_hash, outcome, request, response), answer, index in zip(
            rows, responses, range(3), strict=True):
        assert (decision, policy) == ("selection", "selection/size-threshold@1")
        assert bundle_hash == bundle.content_hash
        assert json.loads(request) == body("selection", index)
        assert json.loads(response) == answer.json()
        assert outcome == ("accept" if answer.json()["accept"] else "reject")


def test_bad_input_gets_json_errors_naming_the_field(client):
    ranking = body("priority", 2)
    ranking["orders"][1]["due_date"] = "soon"
    del ranking["orders"][2]["quantity"]
    response = client.post("/v1/prioritize", json=ranking, headers=AUTH)
    assert response.status_code == 422
    fields = {error["field"]: error["reason"] for error in response.json()["errors"]}
    assert set(fields) == {"orders.1.due_date", "orders.2.quantity"}
    assert "number" in fields["orders.1.due_date"] and "required" in fields["orders.2.quantity"].lower()

    extra = {**body("expedite"), "override": True}
    assert client.post("/v1/expedite", json=extra, headers=AUTH).json()["errors"][0]["field"] == "override"
    as_json = {**AUTH, "Content-Type": "application/json"}
    broken = client.post("/v1/expedite", content=b"{not json", headers=as_json)
    assert broken.status_code == 422 and broken.json()["errors"]
    assert client.get("/v1/nothing", headers=AUTH).json()["detail"] == "Not Found"
    assert client.app.state.decision_log.count() == 0


def test_domain_ranges_are_in_the_schema_and_refused_naming_the_field(client):
    document = client.get("/openapi.json", headers=AUTH).json()["components"]["schemas"]
    assert document["CapacityContext"]["properties"]["machines"]["minimum"] == 1
    assert document["OrderView"]["properties"]["quantity"]["minimum"] == 0
    assert document["ExpediteContext"]["properties"]["period_days"]["exclusiveMinimum"] == 0
    for kind, path, value in (("capacity", ("machines",), 0), ("priority", ("orders", 0, "quantity"), -1),
                              ("expedite", ("period_days",), 0.0), ("forecast", ("history_units", 0), -5.0),
                              ("selection", ("importance",), -1.0)):
        request = next(request for index in range(len(example_contexts(kind)))
                       if has_path(request := body(kind, index), path))
        target = request
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        response = client.post(SCHEMAS[kind].path, json=request, headers=AUTH)
        assert response.status_code == 422, (kind, response.text)
        assert [error["field"] for error in response.json()["errors"]] == [".".join(map(str, path))]
        assert "greater than" in response.json()["errors"][0]["reason"]
    assert client.app.state.decision_log.count() == 0


def test_lists_numbers_strings_and_bodies_are_bounded(baseline, tmp_path):
    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN, max_items=50,
                               max_body_bytes=64 * 1024)
    with TestClient(create_app(bundle_of(baseline), settings)) as client:
        many = body("priority", 5)  # forty orders: within the bound
        assert client.post("/v1/prioritize", json=many, headers=AUTH).status_code == 200
        many["orders"] = many["orders"] * 2
        response = client.post("/v1/prioritize", json=many, headers=AUTH)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "orders"
        huge = body("expedite")
        huge["now"] = 1e300
        assert client.post("/v1/expedite", json=huge, headers=AUTH).json()["errors"][0]["field"] == "now"
        long_id = body("forecast")
        long_id["product_id"] = "x" * 500
        assert client.post("/v1/forecast", json=long_id, headers=AUTH).status_code == 422
        oversized = client.post("/v1/forecast", content=b" " * (65 * 1024),
                                headers={**AUTH, "Content-Type": "application/json"})
        assert oversized.status_code == 413
        assert "at most 65536 bytes" in oversized.json()["errors"][0]["reason"]
        assert client.app.state.decision_log.count() == 1


def test_bundle_route_shows_what_is_deployed_with_its_evidence(client, baseline):
    deployed = client.get("/v1/bundle", headers=AUTH).json()
    assert deployed["live"] == bundle_document(baseline)
    assert deployed["shadow"] is None


def test_metrics_count_requests_latency_and_decisions_by_policy_and_outcome(client):
    for index in range(len(example_contexts("expedite"))):
        client.post("/v1/expedite", json=body("expedite", index), headers=AUTH)
    client.post("/v1/expedite", json={}, headers=AUTH)
    client.post("/v1/expedite", json=body("expedite"))
    text = client.get("/metrics", headers=AUTH).text
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    grants = [json.loads(r) for (r,) in sqlite3.connect(client.app.state.settings.db_path).execute(
        "SELECT response FROM decisions")]
    granted = sum(g["grant"] for g in grants)
    assert lines['ordercycle_http_requests_total{route="/v1/expedite",method="POST",status="200"}'] == "4"
    assert lines['ordercycle_http_requests_total{route="/v1/expedite",method="POST",status="422"}'] == "1"
    assert lines['ordercycle_http_requests_total{route="/v1/expedite",method="POST",status="401"}'] == "1"
    assert lines['ordercycle_http_request_duration_seconds_count{route="/v1/expedite"}'] == "6"
    assert lines['ordercycle_http_request_duration_seconds_bucket{route="/v1/expedite",le="+Inf"}'] == "6"
    key = 'ordercycle_decisions_total{decision="expedite",policy="expedite/bounded@1",outcome="%s"}'
    assert int(lines.get(key % "grant", 0)) == granted and int(lines.get(key % "refuse", 0)) == 4 - granted
    assert "text/plain; version=0.0.4" in client.get("/metrics", headers=AUTH).headers["content-type"]
    for response in (client.post("/v1/expedite", json=body("expedite"), headers=AUTH),
                     client.post("/v1/expedite", json={}, headers=AUTH), client.get("/healthz")):
        timings = dict(item.split(";dur=") for item in response.headers["Server-Timing"].split(", "))
        assert set(timings) == {"app", "cpu"} and all(float(value) >= 0 for value in timings.values())


def test_without_a_token_there_is_no_auth_and_serve_refuses_other_than_loopback(baseline, tmp_path, capsys,
                                                                                 monkeypatch):
    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"))
    with TestClient(create_app(bundle_of(baseline), settings)) as client:
        assert client.post("/v1/select", json=body("selection")).status_code == 200
    path = write_bundle(bundle_document(baseline), tmp_path / "bundle.json")
    monkeypatch.delenv("ORDERCYCLE_TOKEN", raising=False)
    assert main(["serve", str(path), "--host", "0.0.0.0", "--db", str(tmp_path / "x.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "--host 0.0.0.0: refusing to listen beyond loopback without a bearer token" in err
    assert main(["serve", str(path), "--port", "70000"]) == 2
    assert "--port: must be between 0 and 65535" in capsys.readouterr().err


# --- shadow mode, the decisions command, replay -------------------------------------------

CANDIDATE = {"selection": {"name": "size-threshold", "params": {"min_units": 50}},
             "expedite": {"name": "never", "params": {}}}


def test_shadow_mode_logs_both_decisions_and_answers_with_the_live_one(baseline, tmp_path, capsys):
    db = tmp_path / "log.sqlite"
    live, shadow = bundle_of(baseline), bundle_of(baseline, CANDIDATE)
    with TestClient(create_app(live, ServiceSettings(db_path=str(db), token=TOKEN), shadow)) as client:
        answers = [client.post("/v1/select", json=body("selection", i), headers=AUTH).json()
                   for i in range(len(example_contexts("selection")))]
        client.post("/v1/quote", json=body("pricing"), headers=AUTH)  # not in the shadow bundle
        metrics = client.get("/metrics", headers=AUTH).text
    live_policy, shadow_policy = live.policies["selection"], shadow.policies["selection"]
    contexts = example_contexts("selection")
    expected_live = [SCHEMAS["selection"].decision_dict(live_policy.select(c)) for c in contexts]
    expected_shadow = [shadow_policy.select(c) for c in example_contexts("selection")]
    assert answers == expected_live
    rows = sqlite3.connect(db).execute(
        "SELECT shadow_policy, shadow_bundle_hash, shadow_response, shadow_agrees FROM decisions ORDER BY id"
    ).fetchall()
    disagreements = 0
    for (policy, bundle_hash, response, agrees), live_answer, shadow_decision in zip(
            rows, answers, expected_shadow, strict=False):
        assert (policy, bundle_hash) == ("selection/size-threshold@1", shadow.content_hash)
        assert json.loads(response) == SCHEMAS["selection"].decision_dict(shadow_decision)
        assert agrees == (live_answer["accept"] == shadow_decision.accept)
        disagreements += not agrees
    assert disagreements > 0 and rows[-1] == (None, None, None, None)
    counted = 'ordercycle_shadow_decisions_total{decision="selection",agreement="disagree"}'
    assert f"{counted} {disagreements}" in metrics

    assert main(["decisions", str(db), "--summary", "--format", "json"]) == 0
    summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    shadowed = [row for row in summary if row["decision"] == "selection"]
    assert sum(row["disagreements"] for row in shadowed) == disagreements
    assert sum(row["shadowed"] for row in shadowed) == len(answers)


@pytest.fixture()
def filled_log(baseline, tmp_path):
    """A decision log with every example context of selection, expedite, priority and pricing."""
    db = tmp_path / "log.sqlite"
    with TestClient(create_app(bundle_of(baseline), ServiceSettings(db_path=str(db), token=TOKEN))) as client:
        for kind in ("selection", "expedite", "priority", "pricing"):
            for index in range(len(example_contexts(kind))):
                response = client.post(SCHEMAS[kind].path, json=body(kind, index), headers=AUTH)
                assert response.status_code == 200
    return db


def test_decisions_command_filters_by_decision_outcome_and_time(filled_log, capsys):
    assert main(["decisions", str(filled_log), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    kinds = ("selection", "expedite", "priority", "pricing")
    assert len(rows) == sum(len(example_contexts(kind)) for kind in kinds)
    assert main(["decisions", str(filled_log), "--decision", "selection", "--outcome", "reject",
                 "--format", "csv"]) == 0
    rejected = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    expected = [r for r in rows if r["decision"] == "selection" and r["outcome"] == "reject"]
    assert [r["id"] for r in rejected] == [r["id"] for r in expected] and expected
    assert all(json.loads(r["response"])["accept"] is False for r in rejected)
    assert main(["decisions", str(filled_log), "--until", "2000-01-01", "--format", "csv"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 0
    assert main(["decisions", str(filled_log), "--since", "2000-01-01T00:00", "--limit", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["id", "at", "context_at", "decision", "order_id"] and len(table) == 3
    assert main(["decisions", str(filled_log), "--since", "yesterday"]) == 2
    assert "--since: not an ISO 8601 date or time" in capsys.readouterr().err
    assert main(["decisions", str(filled_log.parent / "none.sqlite")]) == 2
    assert "no such decision log" in capsys.readouterr().err


def test_replay_reports_how_a_candidate_would_have_decided(filled_log, baseline, tmp_path, capsys):
    candidate = write_bundle(bundle_document(baseline, CANDIDATE), tmp_path / "candidate.json")
    assert main(["replay", str(filled_log), "--bundle", str(candidate), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_kind = {row["decision"]: row for row in report["decisions"]}
    assert report["skipped_not_in_candidate"] == {"priority": len(example_contexts("priority")),
                                                  "pricing": len(example_contexts("pricing"))}
    selection = by_kind["selection"]
    live, candidate_bundle = bundle_of(baseline), bundle_of(baseline, CANDIDATE)
    flips = [c.order_id for c in example_contexts("selection")
             if live.policies["selection"].select(c).accept
             and not candidate_bundle.policies["selection"].select(c).accept]
    assert selection["outcome_changes"].get("accept -> reject", 0) == len(flips) > 0
    assert selection["examples"]["accept -> reject"] == flips
    expedite = by_kind["expedite"]
    grants = [c.order_id for c in example_contexts("expedite") if live.policies["expedite"].expedite(c).grant]
    assert expedite["differing"] == len(grants) and expedite["examples"].get("grant -> refuse", []) == grants

    reranked = write_bundle(bundle_document(baseline, {"priority": {"name": "edd", "params": {}}}),
                            tmp_path / "edd.json")
    assert main(["replay", str(filled_log), "--bundle", str(reranked), "--decision", "priority",
                 "--format", "json"]) == 0
    priority = json.loads(capsys.readouterr().out)["decisions"][0]
    assert priority["replayed"] == len(example_contexts("priority")) and priority["differing"] > 0
    assert priority["mean_changes"]["rank_displacement"] > 0
    assert main(["replay", str(filled_log), "--bundle", str(reranked)]) == 0
    assert "priority" in capsys.readouterr().out
