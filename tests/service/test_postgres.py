"""The decision log in PostgreSQL: several instances, one history, the guarantees of SQLite.

A throw-away PostgreSQL server (``postgres_server`` in ``conftest.py``) holds the log.
In-process services and real ``ordercycle serve`` processes write to it; the checks
look at the database from a connection of their own:

* every answered decision is already committed when the answer arrives, with request
  and response as ``jsonb`` values, the decision kind, order id, outcome and the
  context's timestamp in columns;
* two instances under concurrent load write one log, and a ``kill -9`` of one loses
  no acknowledged decision; the requests in flight, retried on the other instance with
  their idempotency keys, are decided once;
* a repeated idempotency key is one decision across both instances;
* ``ordercycle decisions`` and ``ordercycle replay`` read a PostgreSQL log exactly as they
  read a SQLite log of the same requests.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from serve_process import Server
from service_helpers import AUTH, TOKEN, bundle_document, bundle_of

from ordercycle.policies.bundle import write_bundle
from ordercycle.policies.contexts import OrderView, RankingContext, SelectionContext
from ordercycle.policies.examples import example_contexts
from ordercycle.policies.outcomes import outcome
from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.policies.service.schemas import route_schemas
from ordercycle.sim.cli import main

SCHEMAS = route_schemas()
KINDS = ("selection", "expedite", "priority", "pricing", "forecast", "capacity", "returns")
CANDIDATE = {"selection": {"name": "size-threshold", "params": {"min_units": 50}},
             "expedite": {"name": "never", "params": {}}}


def body(kind: str, index: int = 0) -> dict:
    """JSON of the conformance suite's ``index``-th example context of ``kind``."""
    return SCHEMAS[kind].context_dict(example_contexts(kind)[index])


def fill(client: TestClient) -> list[tuple[str, dict, Any]]:
    """Post every example context of :data:`KINDS`; (kind, request, response) of each."""
    answered = []
    for kind in KINDS:
        for index in range(len(example_contexts(kind))):
            sent = body(kind, index)
            response = client.post(SCHEMAS[kind].path, json=sent, headers=AUTH)
            assert response.status_code == 200, response.text
            answered.append((kind, sent, response))
    return answered


def test_each_decision_is_committed_before_the_answer_with_json_and_labelled_columns(postgres_url, baseline):
    import psycopg

    epoch = datetime.combine(baseline.calendars.start_date, datetime.min.time())
    app = create_app(bundle_of(baseline), ServiceSettings(db_path=postgres_url, token=TOKEN))
    with TestClient(app) as client, psycopg.connect(postgres_url, autocommit=True) as observer:
        answered = []
        for kind in KINDS:
            for index, context in enumerate(example_contexts(kind)):
                sent = body(kind, index)
                response = client.post(SCHEMAS[kind].path, json=sent, headers=AUTH)
                assert response.status_code == 200, response.text
                # another connection sees the row as soon as the answer is there: it was committed first
                row = observer.execute(
                    "SELECT decision, order_id, outcome, context_at, request, response FROM decisions "
                    "WHERE id = %s", (int(response.headers["X-Decision-Id"]),)).fetchone()
                assert row is not None, f"decision {response.headers['X-Decision-Id']} not committed"
                decision = SCHEMAS[kind].decision_from_json(response.json())
                time_field = "now" if hasattr(context, "now") else "period_start"
                expected_at = (epoch + timedelta(days=getattr(context, time_field))
                               if hasattr(context, time_field) else None)
                assert row[0] == kind and row[2] == outcome(kind, context, decision)
                assert row[1] == getattr(context, "order_id", None)
                assert row[3] == (expected_at.replace(microsecond=expected_at.microsecond // 1000 * 1000)
                                  if expected_at else None)
                assert response.headers.get("X-Context-Time") == (
                    row[3].isoformat(timespec="milliseconds") if row[3] else None)
                assert (row[4], row[5]) == (sent, response.json())  # jsonb values, not escaped text
                answered.append((kind, context, response.json()))
        types = dict(observer.execute("SELECT column_name, data_type FROM information_schema.columns "
                                      "WHERE table_name = 'decisions'").fetchall())
        rejected = observer.execute("SELECT order_id FROM decisions WHERE decision = 'selection' "
                                    "AND (response->>'accept')::boolean = false ORDER BY id").fetchall()
        by_order = observer.execute("SELECT count(*) FROM decisions WHERE (request->>'order_id')::bigint "
                                    "= order_id").fetchone()[0]
    assert {types[column] for column in ("request", "response", "shadow_response")} == {"jsonb"}
    assert types["at"] == "timestamp with time zone" and types["context_at"] == "timestamp without time zone"
    assert [order for (order,) in rejected] == [context.order_id for kind, context, answer in answered
                                                if kind == "selection" and not answer["accept"]]
    assert rejected and by_order == sum(hasattr(context, "order_id") for _, context, _ in answered)


# --- two instances, one log -------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_log(postgres_server) -> str:
    """A database for the module's two instances."""
    import psycopg

    name = f"shared_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return postgres_server.url(name)


@pytest.fixture(scope="module")
def instances(shared_log, baseline, tmp_path_factory):
    """Two ``ordercycle serve`` processes on two ports writing ``shared_log`` (a list: a test
    may replace one)."""
    folder = tmp_path_factory.mktemp("instances")
    bundle = write_bundle(bundle_document(baseline), folder / "bundle.json")
    servers = [Server(bundle, shared_log, folder / f"serve-{n}.log") for n in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop(signal.SIGKILL)


def request_for(client: int, index: int) -> tuple[str, dict[str, Any]]:
    """A distinct context per request: a selection, or a ranking of 20 orders."""
    key = client * 1_000_000 + index
    if index % 2:
        context: Any = SelectionContext(key, float(index), "junior", "regular", "valve", 1 + index % 9,
                                        120.0 * (1 + index % 9))
        return SCHEMAS["selection"].path, SCHEMAS["selection"].context_dict(context)
    orders = tuple(OrderView(key * 100 + k, float(k % 5), 10.0 + (k * 7 + index) % 13, 1.0, 1 + k % 4, 2.0)
                   for k in range(20))
    return SCHEMAS["priority"].path, SCHEMAS["priority"].context_dict(RankingContext(float(index), orders))


def test_a_repeated_idempotency_key_is_one_decision_across_two_instances(instances, shared_log):
    import psycopg

    run = uuid.uuid4().hex[:8]
    answers: dict[str, list[httpx.Response]] = {}
    for n in range(24):
        key, (path, sent) = f"{run}-{n}", request_for(7, n)
        start = threading.Barrier(2)
        answers[key] = []

        def post(server: Server, key: str = key, path: str = path, sent: dict = sent,
                 start: threading.Barrier = start) -> None:
            start.wait()
            response = httpx.post(f"{server.url}{path}", json=sent, timeout=30,
                                  headers={**AUTH, "Idempotency-Key": key})
            answers[key].append(response)

        threads = [threading.Thread(target=post, args=(server,)) for server in instances]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for key, (first, second) in answers.items():
        assert first.status_code == second.status_code == 200, (first.text, second.text)
        assert first.headers["X-Decision-Id"] == second.headers["X-Decision-Id"]
        assert first.content == second.content  # the logged decision, to the byte
        replayed = [r.headers.get("Idempotent-Replayed") == "true" for r in (first, second)]
        assert sorted(replayed) == [False, True], key  # one decided, the other got its decision back
    with psycopg.connect(shared_log) as observer:
        counts = dict(observer.execute("SELECT idempotency_key, count(*) FROM decisions "
                                       "WHERE idempotency_key LIKE %s GROUP BY 1", (f"{run}-%",)).fetchall())
    assert counts == dict.fromkeys(answers, 1)
    path, other = request_for(8, 1)
    reused = httpx.post(f"{instances[1].url}{path}", json=other, timeout=30,
                        headers={**AUTH, "Idempotency-Key": f"{run}-1"})
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "header.Idempotency-Key"


ACKNOWLEDGED_BEFORE_KILL = 300
CLIENTS_PER_INSTANCE = 2


def load(server: Server, others: list[Server], client_number: int, acknowledged: list, retried: list,
         stop: threading.Event, lock: threading.Lock) -> None:
    """Post distinct requests with idempotency keys until stopped; remember every acknowledged one.
    When ``server`` goes away, the request in flight is retried on another instance with its key."""
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30.0) as client:
        index = 0
        while not stop.is_set():
            path, sent = request_for(client_number, index)
            key = f"load-{client_number}-{index}"
            index += 1
            try:
                response = client.post(path, json=sent, headers={"Idempotency-Key": key})
            except httpx.TransportError:  # killed: fail over, as a load balancer's client would
                for other in others:
                    response = httpx.post(f"{other.url}{path}", json=sent, timeout=30.0,
                                          headers={**AUTH, "Idempotency-Key": key})
                    assert response.status_code == 200, response.text
                    with lock:
                        retried.append((key, int(response.headers["X-Decision-Id"]), sent, response.json()))
                return
            assert response.status_code == 200, response.text
            with lock:
                acknowledged.append((server.port, int(response.headers["X-Decision-Id"]), sent,
                                     response.json()))


def test_two_instances_share_one_log_under_load_and_kill_9_loses_nothing(instances, shared_log, baseline,
                                                                         tmp_path):
    import psycopg

    victim, survivor = instances
    acknowledged: list[tuple[int, int, dict, dict]] = []
    retried: list[tuple[str, int, dict, dict]] = []
    stop, lock = threading.Event(), threading.Lock()
    clients = [threading.Thread(target=load, args=(server, [other], 10 * n + k, acknowledged, retried, stop,
                                                   lock))
               for n, (server, other) in enumerate(((victim, survivor), (survivor, victim)))
               for k in range(CLIENTS_PER_INSTANCE)]
    try:
        for thread in clients:
            thread.start()
        deadline = time.monotonic() + 120
        while (len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL or
               min(sum(port == server.port for port, *_ in acknowledged) for server in instances) < 100):
            assert time.monotonic() < deadline and all(t.is_alive() for t in clients), "load stalled"
            time.sleep(0.01)
        victim.stop(signal.SIGKILL)  # requests are in flight
        after_kill = len(acknowledged)
        while len(acknowledged) < after_kill + 100:  # the survivor keeps serving
            assert time.monotonic() < deadline, "the surviving instance stopped answering"
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
    assert victim.process.returncode == -signal.SIGKILL

    restarted = Server(victim.process.args[4], shared_log, tmp_path / "restarted.log").wait_ready()
    instances[0] = restarted
    path, sent = request_for(99, 1)
    after = httpx.post(f"{restarted.url}{path}", json=sent, headers=AUTH, timeout=30.0)
    assert after.status_code == 200

    with psycopg.connect(shared_log) as observer:
        logged = {row[0]: (row[1], row[2], row[3]) for row in observer.execute(
            "SELECT id, request, response, idempotency_key FROM decisions "
            "WHERE idempotency_key LIKE 'load-%'")}
    by_instance = {port: sum(p == port for p, *_ in acknowledged) for port in (victim.port, survivor.port)}
    assert min(by_instance.values()) >= 100, by_instance  # both instances wrote the log
    lost = [decision_id for _, decision_id, _, _ in acknowledged if decision_id not in logged]
    assert not lost, f"{len(lost)} acknowledged decisions missing from the log, e.g. {lost[:5]}"
    for _, decision_id, sent, answer in acknowledged:
        assert logged[decision_id][:2] == (sent, answer)
    assert len({decision_id for _, decision_id, _, _ in acknowledged}) == len(acknowledged)
    keys = [key for _, _, key in logged.values()]
    assert len(keys) == len(set(keys))  # every key decided once, retried or not
    assert retried, "no request was in flight on the killed instance"
    for key, decision_id, sent, answer in retried:
        assert logged[decision_id] == (sent, answer, key)


# --- reading: decisions and replay ------------------------------------------------------


def comparable(lines: str) -> list[dict[str, Any]]:
    """JSON lines of ``decisions --format json`` without what differs between two runs."""
    rows = [json.loads(line) for line in lines.splitlines()]
    return [{key: value for key, value in row.items() if key not in ("at", "at_unix", "latency_ms")}
            for row in rows]


def test_decisions_and_replay_read_a_postgres_log_as_they_read_a_sqlite_one(postgres_url, baseline, tmp_path,
                                                                            capsys):
    sqlite_log = tmp_path / "log.sqlite"
    live, shadow = bundle_of(baseline), bundle_of(baseline, CANDIDATE)
    for target in (sqlite_log, postgres_url):
        app = create_app(live, ServiceSettings(db_path=str(target), token=TOKEN), shadow)
        with TestClient(app) as client:
            fill(client)
    outputs = {}
    for target in (str(sqlite_log), postgres_url):
        for options in (["--format", "json"], ["--decision", "selection", "--outcome", "reject", "--format",
                                               "json"], ["--summary", "--format", "json"],
                        ["--order", str(example_contexts("expedite")[0].order_id), "--format", "json"],
                        ["--since", "2000-01-01", "--limit", "3", "--format", "csv"]):
            assert main(["decisions", target, *options]) == 0
            outputs.setdefault(tuple(options), []).append(capsys.readouterr().out)
    for options, (from_sqlite, from_postgres) in outputs.items():
        if "csv" in options:
            assert from_sqlite.splitlines()[0] == from_postgres.splitlines()[0]
            assert len(from_postgres.splitlines()) == 4
        elif "--summary" in options:
            strip = [{k: v for k, v in row.items() if k != "mean_latency_ms"}
                     for row in comparable(from_sqlite)]
            assert strip == [{k: v for k, v in row.items() if k != "mean_latency_ms"}
                             for row in comparable(from_postgres)]
            assert sum(row["shadowed"] for row in strip) > 0
        else:
            assert comparable(from_sqlite) == comparable(from_postgres) and from_postgres.strip(), options
    everything = comparable(outputs[("--format", "json")][1])
    assert isinstance(everything[0]["request"], dict) and everything[0]["context_at"].startswith("20")
    assert {row["decision"] for row in everything} == set(KINDS)

    candidate = write_bundle(bundle_document(baseline, CANDIDATE), tmp_path / "candidate.json")
    reports = []
    for target in (str(sqlite_log), postgres_url):
        assert main(["replay", target, "--bundle", str(candidate), "--format", "json"]) == 0
        reports.append(json.loads(capsys.readouterr().out))
    assert reports[0] == reports[1]
    assert {row["decision"] for row in reports[1]["decisions"]} == {"selection", "expedite"}
    assert any(row["differing"] for row in reports[1]["decisions"])


def test_a_missing_driver_or_server_is_a_clear_error_without_the_password(monkeypatch, capsys, tmp_path,
                                                                          baseline):
    unreachable = "postgresql://clerk:s3cret@127.0.0.1:1/decisions"
    if "psycopg" not in sys.modules:
        pytest.importorskip("psycopg", reason="psycopg is not installed")
    assert main(["decisions", unreachable]) == 2
    err = capsys.readouterr().err
    assert "postgresql://clerk:***@127.0.0.1:1/decisions: cannot connect" in err and "s3cret" not in err
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    assert main(["decisions", unreachable]) == 2
    assert "needs the psycopg package: pip install 'ordercycle[postgres]'" in capsys.readouterr().err
    bundle = write_bundle(bundle_document(baseline), tmp_path / "bundle.json")
    assert main(["serve", str(bundle), "--db", unreachable]) == 2
    assert "--db postgresql://clerk:***@127.0.0.1:1/decisions: a PostgreSQL decision log needs the psycopg" \
        in capsys.readouterr().err
