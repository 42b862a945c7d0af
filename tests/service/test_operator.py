"""Fit for an operator's systems: timestamps on the company's calendar, a log of JSON values
with labelled columns, idempotent retries, older logs upgraded, a subset of the decisions
exported, and a 503 (never a silent answer) when the log cannot commit."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from service_helpers import AUTH, TOKEN, bundle_document, bundle_of
from test_bundle import write_results

from ordercycle.policies.bundle import load_bundle, verify_bundle
from ordercycle.policies.examples import example_contexts
from ordercycle.policies.outcomes import outcome
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.clock import CompanyClock
from ordercycle.policies.service.log import DecisionLog, DecisionLogUnavailable
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.sim.cli import main

SCHEMAS = route_schemas()


def body(kind: str, index: int = 0) -> dict:
    """JSON of the conformance suite's ``index``-th example context of ``kind``."""
    return SCHEMAS[kind].context_dict(example_contexts(kind)[index])


def test_the_clock_maps_days_to_local_timestamps_from_the_calendars_start_date():
    clock = CompanyClock(date(2027, 1, 4))
    assert clock.timestamp(0.0) == "2027-01-04T00:00:00.000"
    assert clock.timestamp(2.5) == "2027-01-06T12:00:00.000"
    assert clock.timestamp(-0.25) == "2027-01-03T18:00:00.000"
    assert clock.timestamp(1e12) is None and clock.timestamp(None) is None  # beyond year 9999
    assert clock.days(datetime(2027, 1, 6, 12)) == 2.5
    assert CompanyClock.of_scenario({"calendars": {"start_date": "2027-01-04"}}).timestamp(1) == \
        "2027-01-05T00:00:00.000"
    assert CompanyClock.of_scenario({"calendars": None}).timestamp(1) is None
    forecast, capacity = example_contexts("forecast")[0], example_contexts("capacity")[0]
    assert clock.context_timestamp(forecast) == clock.timestamp(forecast.period_start)
    assert clock.context_timestamp(capacity) is None  # a capacity context has no time


def test_answers_and_log_rows_carry_the_contexts_time_kind_order_and_outcome(client, baseline):
    epoch = datetime.combine(baseline.calendars.start_date, datetime.min.time())
    sent = []
    for kind in ("selection", "expedite", "returns", "priority", "forecast", "capacity", "pricing"):
        for index, context in enumerate(example_contexts(kind)):
            response = client.post(SCHEMAS[kind].path, json=body(kind, index), headers=AUTH)
            assert response.status_code == 200
            sent.append((kind, context, response))
    with sqlite3.connect(client.app.state.settings.db_path) as connection:
        rows = {row[0]: row[1:] for row in connection.execute(
            "SELECT id, decision, order_id, outcome, context_at, json_extract(request, '$.order_id'), "
            "json_type(response) FROM decisions")}
    for kind, context, response in sent:
        decision, order_id, label, context_at, requested_order, response_type = \
            rows[int(response.headers["X-Decision-Id"])]
        days = getattr(context, "now", getattr(context, "period_start", None))
        expected = None if days is None else (epoch + timedelta(days=days)).isoformat(timespec="milliseconds")
        assert context_at == expected == response.headers.get("X-Context-Time"), kind
        assert (decision, order_id, requested_order) == (kind, getattr(context, "order_id", None),
                                                         getattr(context, "order_id", None))
        assert label == outcome(kind, context, SCHEMAS[kind].decision_from_json(response.json()))
        assert response_type == "object"  # stored as JSON, not as an escaped string
    assert rows and any(row[3].startswith("2027-01") for row in rows.values() if row[3])


def test_the_sqlite_log_refuses_text_that_is_not_json(client):
    client.post("/v1/select", json=body("selection"), headers=AUTH)
    with sqlite3.connect(client.app.state.settings.db_path) as connection:
        columns = "at, at_unix, decision, policy, bundle_hash, outcome, latency_ms, request, response"
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint"):
            connection.execute(f"INSERT INTO decisions ({columns}) VALUES ('t', 0, 'selection', 'p', 'h', "
                               "'accept', 0, '{\"order_id\": 1', '{}')")


def test_decisions_gives_json_values_in_json_lines_and_json_text_in_csv(client, capsys):
    answer = client.post("/v1/select", json=body("selection"), headers=AUTH).json()
    db = client.app.state.settings.db_path
    assert main(["decisions", db, "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["request"] == body("selection") and row["response"] == answer  # nested, not escaped
    assert row["order_id"] == example_contexts("selection")[0].order_id
    assert main(["decisions", db, "--format", "csv"]) == 0
    cell = next(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert json.loads(cell["request"]) == body("selection")
    assert main(["decisions", db, "--order", str(row["order_id"] + 1), "--format", "json"]) == 0
    assert capsys.readouterr().out == ""


def test_a_repeated_idempotency_key_gets_the_logged_decision_back(client):
    key = {"Idempotency-Key": "3f1c2a9e-order-17-selection"}
    first = client.post("/v1/select", json=body("selection"), headers={**AUTH, **key})
    again = client.post("/v1/select", json=body("selection"), headers={**AUTH, **key})
    assert first.status_code == again.status_code == 200
    assert again.headers["X-Decision-Id"] == first.headers["X-Decision-Id"]
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert client.app.state.decision_log.count() == 1
    other = client.post("/v1/select", json=body("selection", 1), headers={**AUTH, **key})
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert "already used for another request" in other.json()["errors"][0]["reason"]
    for bad in ("", "has space", "x" * 201, "naïve"):
        response = client.post("/v1/select", json=body("selection"),
                               headers={**AUTH, "Idempotency-Key": bad.encode("utf-8")})
        assert response.status_code == 422, bad
    without = [client.post("/v1/select", json=body("selection"), headers=AUTH) for _ in range(2)]
    assert without[0].headers["X-Decision-Id"] != without[1].headers["X-Decision-Id"]
    assert client.app.state.decision_log.count() == 3
    parameters = client.get("/openapi.json", headers=AUTH).json()["paths"]["/v1/select"]["post"]["parameters"]
    assert [(p["name"], p["in"]) for p in parameters] == [("Idempotency-Key", "header"), ("Prefer", "header")]


def test_an_older_log_is_read_as_it_is_and_upgraded_when_the_service_opens_it(tmp_path, capsys):
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as connection:  # the table of the previous version, one row
        connection.executescript("""
            CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
                at_unix REAL NOT NULL, decision TEXT NOT NULL, policy TEXT NOT NULL,
                bundle_hash TEXT NOT NULL, outcome TEXT NOT NULL, latency_ms REAL NOT NULL,
                request TEXT NOT NULL, response TEXT NOT NULL, shadow_policy TEXT,
                shadow_bundle_hash TEXT, shadow_outcome TEXT, shadow_response TEXT, shadow_agrees INTEGER);
            INSERT INTO decisions (at, at_unix, decision, policy, bundle_hash, outcome, latency_ms, request,
                response) VALUES ('2025-01-01T00:00:00.000000Z', 1735689600, 'selection', 'p@1', 'h',
                'accept', 0.1, '{"order_id": 5}', '{"accept": true}');
        """)
    assert main(["decisions", str(db), "--format", "json"]) == 0
    old = json.loads(capsys.readouterr().out)
    assert old["request"] == {"order_id": 5} and old["context_at"] is None and old["order_id"] is None
    log = DecisionLog(db)
    try:
        logged = log.append(decision="selection", policy="p@1", bundle_hash="h", outcome="reject",
                            latency_ms=0.1, request='{"order_id": 6}', response='{"accept": false}',
                            order_id=6, context_at="2027-01-04T00:00:00.000", idempotency_key="k")
        assert (logged.id, logged.earlier) == (2, False)
        assert log.append(decision="selection", policy="p@1", bundle_hash="h", outcome="reject",
                          latency_ms=0.1, request='{"order_id": 6}', response='{"accept": false}',
                          idempotency_key="k").earlier
        assert log.count() == 2
    finally:
        log.close()
    assert main(["decisions", str(db), "--order", "6", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["context_at"] == "2027-01-04T00:00:00.000"


def test_export_ships_only_the_decisions_asked_for(tmp_path, baseline, capsys):
    results = write_results(tmp_path / "compare", baseline)
    out = tmp_path / "subset.json"
    assert main(["export", str(results), "--set", "informed", "--decisions", "pricing,expedite",
                 "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert set(document["policies"]) == {"pricing", "expedite"}
    assert document["policies"]["pricing"]["name"] == "informed-sales"
    assert document["evidence"]["source"]["decisions"] == ["expedite", "pricing"]
    bundle = load_bundle(out)
    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN)
    with TestClient(create_app(bundle, settings)) as client:
        assert client.post("/v1/quote", json=body("pricing"), headers=AUTH).status_code == 200
        assert client.post("/v1/expedite", json=body("expedite"), headers=AUTH).status_code == 200
        assert client.post("/v1/select", json=body("selection"), headers=AUTH).status_code == 404
    assert main(["export", str(results), "--set", "informed", "--decisions", "pricing,haggling",
                 "--out", str(tmp_path / "bad.json")]) == 2
    assert "--decisions haggling: unknown decision" in capsys.readouterr().err
    assert main(["export", str(results), "--set", "informed", "--decisions", ",",
                 "--out", str(tmp_path / "bad.json")]) == 2
    assert "--decisions: name at least one decision kind" in capsys.readouterr().err
    assert not (tmp_path / "bad.json").exists()


def test_a_log_that_cannot_commit_answers_503_and_logs_nothing(client, monkeypatch):
    def refuse(**_row: object) -> None:
        raise DecisionLogUnavailable("disk full")

    monkeypatch.setattr(client.app.state.decision_log, "append", refuse)
    response = client.post("/v1/select", json=body("selection"), headers=AUTH)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["errors"] == [{"field": None, "reason": "decision log unavailable"}]
    assert "X-Decision-Id" not in response.headers
    metrics = client.get("/metrics", headers=AUTH).text
    assert 'ordercycle_decisions_total{decision="selection"' not in metrics


def test_a_bundle_without_calendars_gives_no_timestamps(baseline, tmp_path):
    document = bundle_document(baseline)
    document["scenario"]["calendars"] = None
    document.pop("content_hash")
    from ordercycle.policies.bundle import bundle_hash

    document["content_hash"] = bundle_hash(document)
    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN)
    with TestClient(create_app(verify_bundle(document), settings)) as client:
        response = client.post("/v1/select", json=body("selection"), headers=AUTH)
    assert response.status_code == 200 and "X-Context-Time" not in response.headers
    assert bundle_of(baseline).document["scenario"]["calendars"]["start_date"] == "2027-01-04"
