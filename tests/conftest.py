"""Shared fixtures: short and full-year baseline runs, computed once per session."""

from __future__ import annotations

import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.run import RunResult, simulate


@pytest.fixture(scope="session")
def baseline_year() -> RunResult:
    """The built-in baseline over its full simulated year, seed 0."""
    return simulate(load("baseline"), seed=0)


@pytest.fixture(scope="session")
def short_baseline():
    """A 60-day baseline scenario (for tests that run the model several times)."""
    return override(load("baseline"), horizon_days=60, warmup_days=7)


@pytest.fixture(scope="session")
def plain_short():
    """60 days of the plain around-the-clock company (the pre-calibration baseline):
    for tests that check a mechanism against theory or that a mechanism left off
    changes nothing."""
    return override(load("around-the-clock"), horizon_days=60, warmup_days=7)
