"""Issue 18 item 6: request bodies may give every instant as an ISO 8601 local date-time on the
scenario's calendar, and answers add the instants a decision implies on request.

Parity: the same instant sent as days or as a timestamp gives the same context (the same logged
request) and the same decision, on every route, for every example context of the conformance
suite. Refusals name the field and say why: no calendar, a UTC offset, a date that is not on
the calendar, a date before day 0 where days may not be negative.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import AUTH, TOKEN, bundle_document

from ordercycle.policies.bundle import bundle_hash, verify_bundle
from ordercycle.policies.examples import DECISION_SPECS, example_contexts
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.clock import COMPANIONS
from ordercycle.policies.service.schemas import instant_fields, route_schemas

SCHEMAS = route_schemas()
MINUTES_PER_DAY = 1440
ISO = {"Prefer": "times=iso"}


def epoch_of(baseline: Any) -> datetime:
    return datetime.combine(baseline.calendars.start_date, datetime.min.time())


def on_the_minute(document: Any, owner: type) -> Any:
    """``document`` (a context's JSON) with every instant rounded to a whole minute: a minute is
    exact in microseconds, so days -> timestamp -> days gives back the very same float."""
    return _map_instants(document, owner, lambda days: round(days * MINUTES_PER_DAY) / MINUTES_PER_DAY)


def as_timestamps(document: Any, owner: type, epoch: datetime) -> Any:
    """``document`` with every instant written as an ISO 8601 local date-time (computed here with
    datetime arithmetic, independently of the service's clock)."""
    return _map_instants(document, owner, lambda days: (epoch + timedelta(days=days)).isoformat())


def _map_instants(document: Any, owner: type, change: Any) -> Any:
    instants = instant_fields()
    hints = _nested_types(owner)
    result = {}
    for name, value in document.items():
        if (owner.__name__, name) in instants and isinstance(value, float | int):
            result[name] = change(value)
        elif isinstance(value, dict):
            result[name] = _map_instants(value, hints[name], change)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            result[name] = [_map_instants(item, hints[name], change) for item in value]
        else:
            result[name] = value
    return result


def _nested_types(owner: type) -> dict[str, type]:
    """Field -> the dataclass it holds (directly, in a tuple or optional), for recursion."""
    import dataclasses
    import typing

    found = {}
    for name, hint in typing.get_type_hints(owner).items():
        stack = [hint]
        while stack:
            current = stack.pop()
            if dataclasses.is_dataclass(current):
                found[name] = current
                break
            stack.extend(typing.get_args(current))
    return found


def count_instants(document: Any, owner: type) -> int:
    counted = []
    _map_instants(document, owner, lambda days: counted.append(days) or days)
    return len(counted)


@pytest.mark.parametrize("kind", list(DECISION_SPECS))
def test_an_instant_as_days_or_as_a_timestamp_gives_the_same_context_and_decision(client, baseline, kind):
    if kind == "capacity":
        pytest.skip("a capacity context has no instant")
    schema = SCHEMAS[kind]
    epoch = epoch_of(baseline)
    converted = 0
    for context in example_contexts(kind):
        days_body = on_the_minute(schema.context_dict(context), schema.context_type)
        iso_body = as_timestamps(days_body, schema.context_type, epoch)
        converted += count_instants(days_body, schema.context_type)
        assert iso_body != days_body
        by_days = client.post(schema.path, json=days_body, headers=AUTH)
        by_time = client.post(schema.path, json=iso_body, headers=AUTH)
        assert by_days.status_code == by_time.status_code, (kind, by_time.text)
        assert by_days.content == by_time.content, kind
        assert by_days.headers.get("X-Context-Time") == by_time.headers.get("X-Context-Time")
        if by_days.status_code == 200:
            with sqlite3.connect(client.app.state.settings.db_path) as connection:
                logged = dict(connection.execute(
                    "SELECT id, request FROM decisions WHERE id IN (?, ?)",
                    (by_days.headers["X-Decision-Id"], by_time.headers["X-Decision-Id"])).fetchall())
            assert len(set(logged.values())) == 1  # the log holds days, the same bytes either way
            assert json.loads(next(iter(logged.values()))) == days_body
    assert converted > 0, kind


def test_every_instant_field_is_marked_and_no_duration_is():
    names = {field for _, field in instant_fields()}
    assert names == {"now", "period_start", "released_at", "due_date", "promised_date",
                     "projected_completion"}
    assert not any(field.endswith(("_days", "_hours")) for field in names)


def test_a_date_alone_is_midnight_and_fractions_of_a_second_count(client):
    sent = {"now": "2027-01-06", "orders": []}
    assert client.post("/v1/prioritize", json=sent, headers=AUTH).headers["X-Context-Time"] == \
        "2027-01-06T00:00:00.000"
    sent = {"now": "2027-01-06T12:00:30.250", "orders": []}
    assert client.post("/v1/prioritize", json=sent, headers=AUTH).headers["X-Context-Time"] == \
        "2027-01-06T12:00:30.250"


def inventory(now: Any) -> dict[str, Any]:
    return {**SCHEMAS["inventory"].context_dict(example_contexts("inventory")[0]), "now": now}


@pytest.mark.parametrize(("sent", "reason"), [
    ("2027-01-06T12:00Z", "has a UTC offset"),
    ("2027-01-06T12:00+01:00", "has a UTC offset"),
    ("2027-02-30", "not a date-time of the calendar (day is out of range for month)"),
    ("2027-13-01T00:00", "not a date-time of the calendar (month must be in 1..12)"),
    ("10000-01-01", "must be days on the simulation clock (a number) or an ISO 8601 local date-time"),
    ("06/01/2027", "must be days on the simulation clock"),
    ("2027-01-06 12:00", "must be days on the simulation clock"),
    ("2027-01-03T23:59", "greater than or equal to 0"),  # before day 0, where days may not be negative
])
def test_a_bad_timestamp_is_refused_naming_the_field_and_the_reason(client, sent, reason):
    response = client.post("/v1/replenish", json=inventory(sent), headers=AUTH)
    assert response.status_code == 422, sent
    (error,) = response.json()["errors"]
    assert error["field"] == "now" and reason in error["reason"], error
    assert client.app.state.decision_log.count() == 0


def test_a_nested_instant_is_named_by_its_path(client):
    body = next(document for document in map(SCHEMAS["priority"].context_dict, example_contexts("priority"))
                if len(document["orders"]) >= 2)
    body["orders"][1]["due_date"] = "2027-01-06T12:00-05:00"
    body["orders"][0]["released_at"] = "2027-01-05T08:00"  # accepted
    response = client.post("/v1/prioritize", json=body, headers=AUTH)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["orders.1.due_date"]


def test_before_day_0_is_allowed_where_days_may_be_negative(client):
    body = {"now": "2027-01-03T18:00", "orders": []}  # day -0.25: a ranking's now carries no range
    response = client.post("/v1/prioritize", json=body, headers=AUTH)
    assert response.status_code == 200 and response.headers["X-Context-Time"] == "2027-01-03T18:00:00.000"


def no_calendar_app(baseline, tmp_path):
    document = bundle_document(baseline)
    document["scenario"]["calendars"] = None
    document.pop("content_hash")
    document["content_hash"] = bundle_hash(document)
    settings = ServiceSettings(db_path=str(tmp_path / "log.sqlite"), token=TOKEN)
    return create_app(verify_bundle(document), settings)


def test_without_a_calendar_a_timestamp_or_the_iso_preference_is_refused_saying_why(baseline, tmp_path):
    with TestClient(no_calendar_app(baseline, tmp_path)) as client:
        response = client.post("/v1/prioritize", json={"now": "2027-01-06T12:00", "orders": []}, headers=AUTH)
        assert response.status_code == 422
        (error,) = response.json()["errors"]
        assert error["field"] == "now" and "no calendars.start_date" in error["reason"]
        assert client.post("/v1/prioritize", json={"now": 2.5, "orders": []}, headers=AUTH).status_code == 200
        quote = SCHEMAS["pricing"].context_dict(example_contexts("pricing")[0])
        refused = client.post("/v1/quote", json=quote, headers={**AUTH, **ISO})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "header.Prefer"
        assert "no calendars.start_date" in refused.json()["errors"][0]["reason"]


def implied_days(kind: str, now: float, decision: dict[str, Any]) -> float | None:
    """The instant a decision implies, as the simulation sets it (``sim/steps``)."""
    if kind == "pricing":
        return now + decision["promised_lead_days"]
    if kind == "selection":  # sales.py: promised_date = env.now + renegotiated_lead_days
        lead = decision["renegotiated_lead_days"]
        return now + lead if decision["accept"] and lead is not None else None
    return now + decision["hours"] / 24 if decision["hours"] > 0 else None  # shifts.py: overtime_until


def test_the_iso_preference_adds_the_instants_a_decision_implies(client, baseline):
    epoch = epoch_of(baseline)
    kinds_with_companions = set(COMPANIONS)
    assert kinds_with_companions == {"pricing", "selection", "overtime"}
    stamped: dict[str, int] = {}
    for kind in sorted(kinds_with_companions):
        schema = SCHEMAS[kind]
        for context in example_contexts(kind):
            body = schema.context_dict(context)
            plain = client.post(schema.path, json=body, headers=AUTH)
            iso = client.post(schema.path, json=body, headers={**AUTH, "Prefer": "return=minimal, times=iso"})
            if plain.status_code != 200:
                continue
            assert iso.headers["Preference-Applied"] == "times=iso"
            assert "Preference-Applied" not in plain.headers
            assert "Prefer" in plain.headers["Vary"] and "Prefer" in iso.headers["Vary"]
            answer, decision = iso.json(), plain.json()
            names = [companion.name for companion in COMPANIONS[kind]]
            assert {key: value for key, value in answer.items() if key not in names} == decision
            assert not set(names) & set(decision)  # the default answer is the decision alone
            expected = implied_days(kind, context.now, decision)
            stamp = answer[names[0]]
            stamped[kind] = stamped.get(kind, 0) + (stamp is not None)
            if expected is None:
                assert stamp is None
            else:
                error = datetime.fromisoformat(stamp) - (epoch + timedelta(days=expected))
                assert abs(error.total_seconds()) <= 0.0005, (kind, stamp, expected)  # to the millisecond
    assert stamped["pricing"] > 0 and stamped["overtime"] > 0, stamped


def test_a_retry_with_the_iso_preference_gets_the_companions_of_the_logged_decision(client):
    body = SCHEMAS["pricing"].context_dict(example_contexts("pricing")[0])
    key = {"Idempotency-Key": "quote-7"}
    first = client.post("/v1/quote", json=body, headers={**AUTH, **key})
    again = client.post("/v1/quote", json=body, headers={**AUTH, **key, **ISO})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == {**first.json(), "promised_date_at": again.json()["promised_date_at"]}
    assert again.json()["promised_date_at"].startswith("2027-")


def test_the_openapi_document_offers_both_forms_and_documents_the_companions(client):
    document = client.get("/openapi.json", headers=AUTH).json()
    components = document["components"]["schemas"]
    now = components["RankingContext"]["properties"]["now"]
    assert [branch["type"] for branch in now["anyOf"]] == ["number", "string"]
    assert "pattern" in now["anyOf"][1]
    period = components["ForecastContext"]["properties"]["period_days"]
    assert "anyOf" not in period  # a duration stays a number
    answer = document["paths"]["/v1/quote"]["post"]["responses"]["200"]["content"]["application/json"]
    quote = components[answer["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "promised_date_at" in quote["properties"] and "promised_date_at" not in quote["required"]
