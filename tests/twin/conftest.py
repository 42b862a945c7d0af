"""A short, stationary baseline variant simulated once, exported as OCEL and calibrated."""

from __future__ import annotations

import pandas as pd
import pytest

from ordercycle.scenarios.loader import load, parse
from ordercycle.sim.run import simulate
from ordercycle.sim.twin import ocel

HORIZON = 28.0


@pytest.fixture(scope="package")
def generating():
    """Baseline over four weeks with constant arrival rates (no trend, no seasonality)."""
    data = load("around-the-clock").model_dump(mode="json")
    data.update(horizon_days=HORIZON, warmup_days=0.0, name="twin-truth")
    for segment in data["segments"]:
        segment["arrivals"]["trend_per_year"] = 0.0
        segment["arrivals"]["seasonality"]["amplitude"] = 0.0
    return parse(data)


@pytest.fixture(scope="package")
def simulated_ocel(generating, tmp_path_factory):
    """The generating scenario's run exported as OCEL 2.0 SQLite and JSON."""
    result = simulate(generating, seed=3)
    tables = ocel.from_run(result.events, result.orders, pd.Timestamp("2026-01-01"),
                           generating.model_dump(mode="json")["products"])
    folder = tmp_path_factory.mktemp("ocel")
    ocel.write_sqlite(tables, folder / "ocel.sqlite")
    ocel.write_json(tables, folder / "ocel.json")
    return result, folder
