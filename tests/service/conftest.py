"""Fixtures of the decision-service tests: the baseline scenario, a client with a token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
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
