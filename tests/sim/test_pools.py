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


def test_pools_without_a_calendar_work_around_the_clock(plain_short):
    result = simulate(override(plain_short, horizon_days=20.5), seed=0)
    pools = result.pools
    sales = pools[pools["pool"] == "sales_reps"].set_index("day")["open_hours"]
    people = result.scenario.staff.sales_reps
    assert sales.iloc[:-1].to_numpy() == pytest.approx(24.0 * people)
    assert sales.iloc[-1] == pytest.approx(12.0 * people)  # the horizon ends at noon of day 20
    assert result.kpis["staff_utilization"]["sales_reps"] == pytest.approx(
        pools.loc[(pools["pool"] == "sales_reps") & (pools["day"] >= 7), "busy_hours"].sum()
        / pools.loc[(pools["pool"] == "sales_reps") & (pools["day"] >= 7), "open_hours"].sum())


def test_staff_cost_is_paid_working_hours_in_operating_cost(plain_short):
    free = simulate(plain_short, seed=1)
    rates = {"entry_clerks": 30.0, "technicians": 45.0}
    staff = plain_short.staff.model_copy(update={"hourly_cost": rates})
    paid = simulate(plain_short.model_copy(update={"staff": staff}), seed=1)
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
    # the around-the-clock company has one senior manager: strategic selection swamps them
    scenario = override(load("around-the-clock"), horizon_days=42, warmup_days=7,
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
    flat = {"staff_utilization.estimators": 0.97, "staff_utilization.sales_reps": 0.85,
            "queue_growth_per_week.sales_reps": 3.0, "queue_growth_per_week.estimators": 0.0,
            "staff_utilization.carrier.freight-line": 0.2, "staff_utilization.entry_clerks": 0.61,
            "queue_growth_per_week.entry_clerks": 1.2}
    lines = bottlenecks.warnings(*bottlenecks.from_kpis(flat), where="in set x")
    # entry clerks: a queue rising with the season in a pool with slack is no bottleneck
    assert [line.split()[1] for line in lines] == ["estimators", "sales_reps"]
    assert "grew by 3.0 requests a week" in lines[1] and "in set x" in lines[0]
    field = bottlenecks.staffing_field("carrier.freight-line")
    assert field == "logistics_providers[id=freight-line].pickups_at_once"


# --- the baseline is staffed for every keynote set ----------------------------------------------

STAFF_LIMIT = 0.85
"""No office, warehouse or field pool of the baseline may be busier (issue 16, item 6)."""


def _keynote_runs() -> dict[str, dict]:
    """Every distinct (variant, policy set) of the built-in keynotes on the baseline."""
    from ordercycle.reports.keynotes import builtin_keynote_files, load_keynote
    from ordercycle.scenarios.experiment_files import apply_point
    from ordercycle.sim.experiments.replications import resolve_sets

    runs, seen = {}, set()
    for path in builtin_keynote_files():
        keynote = load_keynote(path)
        assert keynote.scenario == "baseline", keynote.id
        scenario = apply_point(override(load("baseline"), horizon_days=150, warmup_days=28), keynote.variant)
        for name, policies in resolve_sets(scenario, keynote.sets)[0].items():
            candidate = scenario.model_copy(update={"policies": policies})
            key = candidate.model_dump_json()
            if key not in seen:
                seen.add(key)
                runs[f"{keynote.id}:{name}"] = candidate
    return runs


def test_no_pool_is_saturated_under_any_keynote_set():
    runs = _keynote_runs()
    assert len(runs) >= 10  # the reference sets coincide; the rest each change a decision
    busiest, seniors = {}, {}
    for label, scenario in runs.items():
        kpis = simulate(scenario, seed=0).kpis
        staff = {pool: u for pool, u in kpis["staff_utilization"].items() if not pool.startswith("carrier.")}
        seniors[label] = staff["senior_managers"]
        pool = max(staff, key=staff.get)
        busiest[label] = (pool, round(staff[pool], 3))
        assert bottlenecks.warnings(*bottlenecks.from_kpis(kpis)) == [], label
    over = {label: top for label, top in busiest.items() if top[1] > STAFF_LIMIT}
    assert over == {}, f"pools above {STAFF_LIMIT:.0%} of their working hours: {over}"
    # the senior managers the strategic set needs are really at work in it, idle elsewhere
    assert seniors["K3:strategic"] > 0.5
    assert max(u for label, u in seniors.items() if label != "K3:strategic") < 0.05
