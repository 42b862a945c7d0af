"""The pools table, staff utilisation on working hours, staff cost and the bottleneck warnings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ordercycle.reports import bottlenecks
from ordercycle.scenarios.loader import ScenarioError, load, override, parse
from ordercycle.sim.run import simulate

sys.path.insert(0, str(Path(__file__).parent))
from test_calendars import HOLIDAY, START, _office_company  # noqa: E402


@pytest.fixture(scope="module")
def office_run():
    data = _office_company(horizon=35.0)
    data["task_hours"]["expedite_request"] = 0.25
    return simulate(parse(data), seed=5)


def test_busy_hours_are_the_work_the_tasks_took(office_run):
    pools, events = office_run.pools, office_run.events
    contacts = int((events["activity"] == "sales_contact_started").sum())
    expedites = int((events["activity"] == "expedite_requested").sum())
    busy = pools.loc[pools["pool"] == "sales_reps", "busy_hours"].sum()
    assert busy == pytest.approx(3.0 * contacts + 0.25 * expedites)


def test_working_hours_follow_the_calendar(office_run):
    pools = office_run.pools
    staff = office_run.scenario.staff
    entry = pools[pools["pool"] == "entry_clerks"].set_index("day")
    weekday = (START.weekday() + entry.index.to_numpy()) % 7
    holiday = (HOLIDAY - START).days
    expected = np.where((weekday < 5) & (entry.index.to_numpy() != holiday), 8.0 * staff.entry_clerks, 0.0)
    assert entry["open_hours"].to_numpy() == pytest.approx(expected)
    assert set(entry["calendar"]) == {"office"}
    # pause and resume: nobody works more than the working hours over the run (work is booked on
    # the day it starts, so only the total is bounded)
    for pool, rows in pools.groupby("pool"):
        if rows["calendar"].iloc[0]:
            assert rows["busy_hours"].sum() <= rows["open_hours"].sum() + 8 * rows["people"].iloc[0], pool


def test_the_last_queue_sample_is_the_queue_at_the_horizon(office_run):
    pools, model = office_run.pools, office_run.model
    last = pools[pools["day"] == pools["day"].max()].set_index("pool")["queue_end"]
    for pool, (resource, _) in model.pools.items():
        assert last[pool] == len(resource.queue)
    assert len(pools) == len(model.pools) * 35


def test_pools_without_a_calendar_work_around_the_clock(short_baseline):
    result = simulate(override(short_baseline, horizon_days=20.5), seed=0)
    pools = result.pools
    sales = pools[pools["pool"] == "sales_reps"].set_index("day")["open_hours"]
    people = result.scenario.staff.sales_reps
    assert sales.iloc[:-1].to_numpy() == pytest.approx(24.0 * people)
    assert sales.iloc[-1] == pytest.approx(12.0 * people)  # the horizon ends at noon of day 20
    assert result.kpis["staff_utilization"]["sales_reps"] == pytest.approx(
        pools.loc[(pools["pool"] == "sales_reps") & (pools["day"] >= 7), "busy_hours"].sum()
        / pools.loc[(pools["pool"] == "sales_reps") & (pools["day"] >= 7), "open_hours"].sum())


def test_staff_cost_is_paid_working_hours_in_operating_cost(short_baseline):
    free = simulate(short_baseline, seed=1)
    rates = {"entry_clerks": 30.0, "technicians": 45.0}
    staff = short_baseline.staff.model_copy(update={"hourly_cost": rates})
    paid = simulate(short_baseline.model_copy(update={"staff": staff}), seed=1)
    pools = paid.pools[paid.pools["day"] >= 7]
    entry = pools.loc[pools["pool"] == "entry_clerks", "open_hours"].sum()
    technicians = pools.loc[pools["pool"].str.startswith("technicians."), "open_hours"].sum()
    assert paid.kpis["staff_cost"] == pytest.approx(30.0 * entry + 45.0 * technicians, abs=0.01)
    assert free.kpis["staff_cost"] == 0.0
    assert paid.kpis["operating_cost"] - free.kpis["operating_cost"] == pytest.approx(paid.kpis["staff_cost"],
                                                                                    abs=0.02)
    assert paid.kpis["orders_delivered"] == free.kpis["orders_delivered"]  # cost changes no decision


def test_an_unknown_pool_in_hourly_cost_is_named():
    data = _office_company()
    data["staff"]["hourly_cost"] = {"cleaners": 10.0}
    with pytest.raises(ScenarioError) as error:
        parse(data)
    assert any(line.startswith("staff.hourly_cost: unknown pool 'cleaners'") for line in error.value.problems)


def test_a_saturated_pool_is_named_with_the_field_that_staffs_it():
    scenario = override(load("baseline"), horizon_days=42, warmup_days=7,
                        policies={"selection": {"name": "strategic", "params": {}}})
    result = simulate(scenario, seed=0)
    lines = bottlenecks.warnings(*bottlenecks.from_kpis(result.kpis))
    assert len(lines) == 1 and "senior_managers" in lines[0] and "staff.senior_managers" in lines[0]
    assert result.kpis["staff_utilization"]["senior_managers"] >= bottlenecks.UTILISATION_LIMIT


def test_the_baseline_has_no_bottleneck(short_baseline):
    kpis = simulate(short_baseline, seed=0).kpis
    assert bottlenecks.warnings(*bottlenecks.from_kpis(kpis)) == []
    assert 0 < max(kpis["staff_utilization"].values()) < bottlenecks.UTILISATION_LIMIT


def test_warnings_read_flat_kpi_means_as_a_comparison_has_them():
    flat = {"staff_utilization.estimators": 0.97, "staff_utilization.sales_reps": 0.5,
            "queue_growth_per_week.sales_reps": 3.0, "queue_growth_per_week.estimators": 0.0,
            "staff_utilization.carrier.freight-line": 0.2}
    lines = bottlenecks.warnings(*bottlenecks.from_kpis(flat), where="in set x")
    assert [line.split()[1] for line in lines] == ["estimators", "sales_reps"]
    assert "grew by 3.0 requests a week" in lines[1] and "in set x" in lines[0]
    field = bottlenecks.staffing_field("carrier.freight-line")
    assert field == "logistics_providers[id=freight-line].pickups_at_once"
