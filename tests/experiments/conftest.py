"""Fixtures of the experiment tests: an M/M/1 company (known answers) and a short baseline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The M/M/c scenario builder lives with the queueing validation in tests/sim.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))

from mmc_helpers import mmc_scenario, mmc_scenario_data  # noqa: E402

MM1_ARRIVALS_PER_DAY = 0.5


@pytest.fixture(scope="session")
def mm1():
    """An M/M/1 company: 170 days with a 20-day warm-up, ≈ 75 orders per replication."""
    return mmc_scenario(MM1_ARRIVALS_PER_DAY, 1, 170, 20)


@pytest.fixture(scope="session")
def mm1_data():
    """The M/M/1 scenario as a mapping (to write it as YAML for the command line)."""
    return mmc_scenario_data(MM1_ARRIVALS_PER_DAY, 1, 170, 20)
