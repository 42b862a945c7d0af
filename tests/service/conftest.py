"""Fixtures of the decision-service tests: the baseline scenario, a client with a token, a
throw-away PostgreSQL server (:mod:`postgres_server`) and a fresh database on it per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from postgres_server import PostgresServer, binaries, unavailable, wait_accepting
from service_helpers import TOKEN, bundle_of

from ordercycle.policies.service.app import ServiceSettings, create_app
from ordercycle.scenarios.loader import load
from ordercycle.scenarios.schema import Scenario


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    """The built-in baseline scenario."""
    return load("baseline")


@pytest.fixture()
def client(baseline: Scenario, tmp_path: Path) -> Iterator[TestClient]:
    """A client of the service deploying the baseline's policies, with a token."""
    settings = ServiceSettings(db_path=str(tmp_path / "decisions.sqlite"), token=TOKEN)
    app = create_app(bundle_of(baseline), settings)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (skipped, or failed in CI, where there is none)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install 'ordercycle[postgres]')")
    bin_dir = binaries()
    if bin_dir is None:
        unavailable("no PostgreSQL server binaries (initdb, pg_ctl) on this machine "
                    "(on the PATH, in /usr/lib/postgresql/N/bin, or in $ORDERCYCLE_POSTGRES_BIN)")
    server = PostgresServer(bin_dir).start()  # type: ignore[arg-type]
    try:
        wait_accepting(server.url())
        yield server
    finally:
        server.stop()


@pytest.fixture()
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database on the session's server (dropped afterwards)."""
    import psycopg

    name = f"decisions_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
