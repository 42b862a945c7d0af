"""Issue 18 item 7: a PostgreSQL log commits concurrent decisions in parallel (a pool of
connections per worker), still each before its answer.

While another session holds a lock that blocks every insert into the log, four requests are
sent at once: with ``--db-connections 4`` all four wait *in PostgreSQL* at the same time
(four commits in flight, which the server's group commit then flushes together), and the
service keeps answering ``/healthz``; with ``--db-connections 1`` (the log as it was) one
waits in PostgreSQL and the others queue behind it in the service, whose event loop is held
by the blocked commit. Once the lock goes, every answer's row is in the log.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from serve_process import Server
from service_helpers import AUTH, bundle_document

from ordercycle.policies.examples import example_contexts
from ordercycle.policies.service.log_postgres import ConnectionPool, PostgresDecisionLog
from ordercycle.policies.service.schemas import route_schemas

BODY = route_schemas()["selection"].context_dict(example_contexts("selection")[0])
REQUESTS = 4


def waiting_inserts(admin, database: str) -> int:
    return admin.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s "
                         "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO decisions%%'",
                         (database,)).fetchone()[0]


def blocked_run(server: Server, url: str) -> tuple[int, bool, list[httpx.Response]]:
    """(most inserts waiting at once, whether /healthz answered meanwhile, the answers)."""
    import psycopg

    database = url.rsplit("/", 1)[1]
    answers: list[httpx.Response] = []
    with psycopg.connect(url, autocommit=True) as admin, psycopg.connect(url) as holder:
        earlier = {row[0] for row in admin.execute("SELECT id FROM decisions")}
        holder.execute("LOCK TABLE decisions IN SHARE MODE")  # blocks INSERT until the holder ends
        threads = [threading.Thread(target=lambda: answers.append(
            httpx.post(f"{server.url}/v1/select", json=BODY, headers=AUTH, timeout=60)))
            for _ in range(REQUESTS)]
        for thread in threads:
            thread.start()
        most, deadline = 0, time.monotonic() + 1.5
        while time.monotonic() < deadline and most < REQUESTS:
            most = max(most, waiting_inserts(admin, database))
            time.sleep(0.05)
        try:
            healthy = httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TimeoutException:
            healthy = False
        holder.rollback()  # the lock goes: the inserts commit
        for thread in threads:
            thread.join()
        rows = {row[0] for row in admin.execute("SELECT id FROM decisions")} - earlier
    assert sorted(int(answer.headers["X-Decision-Id"]) for answer in answers) == sorted(rows)
    return most, healthy, answers


@pytest.mark.parametrize(("connections", "in_flight", "healthy"), [(4, REQUESTS, True), (1, 1, False)])
def test_concurrent_decisions_commit_in_parallel_each_before_its_answer(postgres_url, baseline, tmp_path,
                                                                        connections, in_flight, healthy):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(bundle_document(baseline)))
    server = Server(bundle, postgres_url, tmp_path / "serve.log",
                    extra=["--db-connections", str(connections)]).wait_ready()
    try:
        httpx.post(f"{server.url}/v1/select", json=BODY, headers=AUTH, timeout=30)  # the table exists
        most, answered_health, answers = blocked_run(server, postgres_url)
    finally:
        server.stop()
    assert all(answer.status_code == 200 for answer in answers)
    assert most == in_flight
    assert answered_health is healthy


def test_the_pool_drops_a_broken_connection_and_opens_a_new_one(postgres_url):
    import psycopg

    log = PostgresDecisionLog(postgres_url, connections=2)
    try:
        assert log.count() == 0
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                          "AND application_name = 'ordercycle-decisions'", (postgres_url.rsplit("/", 1)[1],))
        from ordercycle.policies.service.log import DecisionLogUnavailable

        with pytest.raises(DecisionLogUnavailable):
            log.count()  # the request it served fails (503), and its connection is dropped
        assert log.count() == 0  # the next one opens a fresh connection
    finally:
        log.close()


def test_a_pool_lends_at_most_its_size_and_waits_for_a_connection_to_come_back(postgres_url):
    pool = ConnectionPool(postgres_url, 2)
    borrowed: list[object] = []
    lent = threading.Event()

    def third() -> None:
        with pool.connection() as connection:
            borrowed.append(connection)
            lent.set()

    with pool.connection() as first, pool.connection() as second:
        assert first is not second
        thread = threading.Thread(target=third)
        thread.start()
        assert not lent.wait(0.3)  # both are lent: the third borrower waits
    thread.join(5)
    assert lent.is_set() and borrowed[0] in (first, second)  # no third connection was opened
    pool.close()
    assert first.closed and second.closed


def test_the_number_of_connections_is_bounded(postgres_url):
    from ordercycle.policies.service.log import DecisionLogError

    with pytest.raises(DecisionLogError, match="connections must be between 1 and 64"):
        PostgresDecisionLog(postgres_url, connections=0)
