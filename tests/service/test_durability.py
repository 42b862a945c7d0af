"""Durability: SIGKILL the service under load, restart it; no acknowledged decision is lost.

A real ``ordercycle serve`` process (uvicorn) takes concurrent requests from four
client threads; every answered request (200 with an ``X-Decision-Id``) is remembered
with the context sent and the decision received. Once enough are acknowledged the
process is killed with SIGKILL while requests are in flight, then restarted on the
same decision log: every acknowledged decision must be in the log, with its request
and response, the database must pass SQLite's integrity check, and new decisions
must get new ids.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from typing import Any

import httpx
from serve_process import Server
from service_helpers import AUTH, bundle_document

from ordercycle.policies.bundle import write_bundle
from ordercycle.policies.contexts import OrderView, RankingContext, SelectionContext
from ordercycle.policies.service.schemas import route_schemas

ACKNOWLEDGED_BEFORE_KILL = 300
CLIENTS = 4
SCHEMAS = route_schemas()


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


def load(url: str, client_number: int, acknowledged: list[tuple[int, dict, dict]], stop: threading.Event,
         lock: threading.Lock) -> None:
    """Post requests until stopped or the server goes away; remember every acknowledged one."""
    with httpx.Client(base_url=url, headers=AUTH, timeout=30.0) as client:
        index = 0
        while not stop.is_set():
            path, sent = request_for(client_number, index)
            index += 1
            try:
                response = client.post(path, json=sent)
            except httpx.TransportError:
                return  # the server was killed
            assert response.status_code == 200, response.text
            with lock:
                acknowledged.append((int(response.headers["X-Decision-Id"]), sent, response.json()))


def test_sigkill_under_load_loses_no_acknowledged_decision(tmp_path, baseline):
    bundle = write_bundle(bundle_document(baseline), tmp_path / "bundle.json")
    db, logs = tmp_path / "decisions.sqlite", tmp_path / "serve.log"
    server = Server(bundle, db, logs)
    acknowledged: list[tuple[int, dict, dict]] = []
    stop, lock = threading.Event(), threading.Lock()
    try:
        server.wait_ready()
        clients = [threading.Thread(target=load, args=(server.url, n, acknowledged, stop, lock))
                   for n in range(CLIENTS)]
        for thread in clients:
            thread.start()
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and all(t.is_alive() for t in clients):
            time.sleep(0.01)
        server.stop(signal.SIGKILL)  # requests are in flight
        for thread in clients:
            thread.join(timeout=60)
    finally:
        stop.set()
        server.stop(signal.SIGKILL)
    assert server.process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    restarted = Server(bundle, db, logs)
    try:
        restarted.wait_ready()
        path, sent = request_for(99, 1)
        after = httpx.post(f"{restarted.url}{path}", json=sent, headers=AUTH, timeout=30.0)
    finally:
        restarted.stop()
    assert after.status_code == 200
    assert int(after.headers["X-Decision-Id"]) > max(decision_id for decision_id, _, _ in acknowledged)

    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        logged = {row[0]: (json.loads(row[1]), json.loads(row[2]))
                  for row in connection.execute("SELECT id, request, response FROM decisions")}
    lost = [decision_id for decision_id, _, _ in acknowledged if decision_id not in logged]
    assert not lost, f"{len(lost)} acknowledged decisions missing from the log, e.g. {lost[:5]}"
    for decision_id, sent, answer in acknowledged:
        assert logged[decision_id] == (sent, answer)
