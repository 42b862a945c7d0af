"""Fixtures of the workbench tests (helpers in ``ui_helpers.py``)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from ui_helpers import client_for


@pytest.fixture
def client(tmp_path) -> TestClient:
    """A workbench over an empty results folder."""
    return client_for(tmp_path / "out")
