"""Overtime of staff pools: exact times, throughput, cost, working time and the mechanism off.

The mechanism (``sim/steps/staff_overtime.py``, ``docs/model.md``): at each closing of a pool
that can work overtime the ``staff_overtime`` policy grants hours; a task in hand at the
closing goes on into them instead of pausing, tasks start in them, and each person-hour is
paid at the pool's overtime rate.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import simpy
import yaml

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.contexts import StaffOvertimeContext, StaffOvertimeDecision
from ordercycle.policies.overtime import QueueThreshold
from ordercycle.scenarios.loader import ScenarioError, content_hash, parse
from ordercycle.sim.calendar import OvertimeCalendar, WorkCalendar, scenario_calendars
from ordercycle.sim.clock import Environment
from ordercycle.sim.invariants import check_run, check_staff_working_time
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.run import simulate
from ordercycle.sim.steps import staff_overtime

H = 1 / 24
OFFICE_WEEK = [[(8.0, 16.5)]] * 5 + [[], []]  # Monday to Friday, 08:00-16:30
AROUND_THE_CLOCK = Path(__file__).resolve().parents[2] / "scenarios" / "around-the-clock.yaml"
OFFICE = {day: ["08:00-12:00", "12:30-16:30"] for day in ("mon", "tue", "wed", "thu", "fri")}
START = date(2027, 1, 4)  # a Monday
ENTRY_HOURS = 3.0  # constant: the open time of every entry is known
RATE = 30.0


# --- the mechanism on its own: one pool, tasks at chosen times -----------------------

class FixedHours:
    """A staff overtime policy granting the same hours at every closing (capped by the gap)."""

    def __init__(self, hours: float):
        self.hours = hours
        self.asked: list[StaffOvertimeContext] = []

    def extend(self, context: StaffOvertimeContext) -> StaffOvertimeDecision:
        self.asked.append(context)
        return StaffOvertimeDecision(min(self.hours, context.hours_to_next_opening), "fixed")


def _pool(policy: FixedHours, people: int = 1, week=OFFICE_WEEK) -> tuple[Environment, SimpleNamespace, Any]:
    env = Environment()
    calendar = OvertimeCalendar(WorkCalendar(week, first_weekday=0, name="office"))
    resource = simpy.Resource(env, capacity=people)
    state = staff_overtime.PoolOvertime("entry_clerks", resource, calendar, env.event(),
                                        calendar.next_closing(0.0))
    logged: list[tuple[float, float]] = []
    model = SimpleNamespace(
        env=env, policies=SimpleNamespace(staff_overtime=policy),
        decide=lambda kind, method, context: method(context),
        log=lambda t, activity, department, resource=None, quantity=None: logged.append((t, quantity)))
    model.logged = logged
    env.process(staff_overtime.closings(env, model, state))
    return env, model, state


def _task(env: Environment, state: Any, start: float, hours: float, done: dict[str, tuple[float, float]],
          name: str):
    """A task requested at ``start``: a seat, the opening (or the decision at a closing), the work."""
    yield env.timeout(start)
    state.waiting_hours += hours
    with state.resource.request() as request:
        yield request
        state.waiting_hours -= hours
        yield from state.until_open(env, hours)
        began = env.now
        yield from state.work(env, hours)
        done[name] = (began, env.now)


def test_a_task_crossing_the_closing_finishes_in_the_overtime():
    done: dict[str, tuple[float, float]] = {}
    env, model, state = _pool(FixedHours(2.0))
    env.process(_task(env, state, 15 * H, 3.0, done, "crosses"))  # Monday 15:00, 3 h
    env.run(until=3.0)
    # on through the closing at 16:30 into the overtime (till 18:30): done at 18:00, no pause
    assert done["crosses"] == (pytest.approx(15 * H), pytest.approx(18 * H, abs=1e-12))
    assert model.logged[0] == (pytest.approx(16.5 * H), 2.0)


@pytest.mark.parametrize(("overtime", "end"), [
    (0.0, 1 + 9.5 * H),  # no overtime: 1.5 h on Monday, 1.5 h from Tuesday 08:00
    (1.0, 1 + 8.5 * H),  # one hour: 2.5 h on Monday, the last half hour on Tuesday
    (1.5, 18 * H),  # exactly enough
    (4.0, 18 * H),  # more than enough: the task does not wait for the overtime's end
])
def test_the_end_of_a_task_is_laid_over_the_overtime_granted(overtime, end):
    done: dict[str, tuple[float, float]] = {}
    env, _, state = _pool(FixedHours(overtime))
    env.process(_task(env, state, 15 * H, 3.0, done, "t"))
    env.run(until=3.0)
    assert done["t"][1] == pytest.approx(end, abs=1e-12)


def test_tasks_start_in_the_overtime_and_pause_at_its_end():
    done: dict[str, tuple[float, float]] = {}
    env, _, state = _pool(FixedHours(2.0), people=1)
    env.process(_task(env, state, 15 * H, 3.0, done, "first"))  # ends 18:00 in the overtime
    env.process(_task(env, state, 15.5 * H, 2.0, done, "second"))  # waits for the seat
    env.process(_task(env, state, 17 * H, 1.0, done, "third"))  # waits behind it
    env.run(until=3.0)
    # the second starts at 18:00 in the overtime, works 0.5 h till 18:30, resumes Tuesday 08:00
    assert done["second"] == (pytest.approx(18 * H), pytest.approx(1 + 9.5 * H, abs=1e-12))
    # the third got its seat while the pool was closed: it waits for the opening as without overtime
    assert done["third"][0] == pytest.approx(1 + 9.5 * H, abs=1e-12)


def test_a_seat_freed_at_the_closing_waits_for_the_decision():
    done: dict[str, tuple[float, float]] = {}
    env, _, state = _pool(FixedHours(1.0))
    env.process(_task(env, state, 14.5 * H, 2.0, done, "ends at the closing"))
    env.process(_task(env, state, 15 * H, 0.5, done, "next"))  # its seat comes free at 16:30
    env.run(until=3.0)
    assert done["ends at the closing"][1] == pytest.approx(16.5 * H, abs=1e-12)
    assert done["next"] == (pytest.approx(16.5 * H), pytest.approx(17 * H, abs=1e-12))


def test_the_context_holds_the_queue_and_the_work_in_hand():
    policy = FixedHours(0.0)
    env, _, state = _pool(policy, people=2)
    done: dict[str, tuple[float, float]] = {}
    for k, hour in enumerate((14.5, 15.0, 15.5, 15.5, 16.0)):  # two in hand (1 h, 1.5 h left), three queued
        env.process(_task(env, state, hour * H, 3.0, done, f"t{k}"))
    env.run(until=16.6 * H)
    context = policy.asked[0]
    assert (context.people, context.waiting, context.in_progress) == (2, 3, 2)
    assert context.waiting_hours == pytest.approx(9.0)
    assert context.in_progress_hours == pytest.approx(1.0 + 1.5, abs=1e-5)
    assert context.hours_to_next_opening == pytest.approx(15.5)


def test_friday_overtime_runs_into_the_night_not_into_monday():
    week = [[(8.0, 22.0)]] * 5 + [[], []]
    env, model, state = _pool(FixedHours(4.0), week=week)
    done: dict[str, tuple[float, float]] = {}
    env.process(_task(env, state, 4 + 21 * H, 3.0, done, "friday night"))  # Friday 21:00
    env.run(until=8.0)
    assert done["friday night"][1] == pytest.approx(5 + 0 * H, abs=1e-12)  # Saturday 00:00
    assert state.calendar.is_open(5 + 1.5 * H) and not state.calendar.is_open(5 + 2.5 * H)
    # Friday: its 14 h, the 2 h of Thursday's overtime past midnight, its own 4 h into Saturday
    assert state.calendar.base.open_days(4, 6) * 24 == pytest.approx(14.0)
    assert state.calendar.open_days(4, 6) * 24 == pytest.approx(14.0 + 2.0 + 4.0)
    assert model.logged[3] == (pytest.approx(3 + 22 * H), 4.0)  # Thursday 22:00
    assert not state.calendar.is_open(7 + 1 * H)  # Monday 01:00: no overtime runs into it


def test_one_event_per_closing_not_per_hour():
    """A month of closings and a hundred tasks of several days each: the events the run
    processes grow with closings and tasks, not with the hours they span."""
    env, _, state = _pool(FixedHours(1.0), people=3)
    done: dict[str, tuple[float, float]] = {}
    for k in range(40):
        env.process(_task(env, state, k * 0.25, 20.0, done, f"t{k}"))  # each spans two to three days
    steps = 0
    while env.peek() < 60.0:
        env.step()
        steps += 1
    assert len(done) == 40
    closings = len(state.grants)  # one a working day
    assert 30 <= closings <= 45
    # per task: its start, request, seat and end (a handful) and one wake per closing it spans
    # (20 h at 9.5 h a day: 2-3); per closing: its wait and its event; never one per hour
    assert steps <= 40 * (6 + 3) + 3 * closings


# --- a company whose order desk works overtime ----------------------------------------

def _company(policy: dict | str | None, horizon: float = 56.0, entry_clerks: int = 2) -> dict:
    data = yaml.safe_load(AROUND_THE_CLOCK.read_text())
    data["horizon_days"], data["warmup_days"] = horizon, 7.0
    staff = data["staff"]
    for pool in ("sales_reps", "estimators", "junior_staff", "senior_managers", "warehouse_staff",
                 "billing_clerks", "returns_staff", "finance_clerks"):
        staff[pool] = staff[pool] * 4
    staff["entry_clerks"] = entry_clerks  # the bottleneck
    staff["hourly_cost"] = {"entry_clerks": 20.0, "warehouse_staff": 15.0}
    data["calendars"] = {
        "start_date": START.isoformat(),
        "patterns": {"office": {"week": copy.deepcopy(OFFICE), "holidays": ["2027-01-06"]}},
        "pools": {"entry_clerks": "office", "warehouse_staff": "office", "billing_clerks": "office"},
    }
    data["task_hours"]["order_entry"] = ENTRY_HOURS
    if policy is not None:
        data["policies"]["staff_overtime"] = policy
        staff["overtime_hour_cost"] = {"entry_clerks": RATE, "warehouse_staff": 22.0}
    return data


QUEUE = {"name": "queue-threshold", "params": {"threshold_per_person": 1.0, "max_hours_per_day": 2.0,
                                                "step_hours": 0.5}}


@pytest.fixture(scope="module")
def runs():
    return {"overtime": simulate(parse(_company(QUEUE)), seed=5),
            "none": simulate(parse(_company(None)), seed=5)}


def _entries(result) -> pd.DataFrame:
    events = result.events
    start = events[events["activity"] == "entry_started"].set_index("order_id")["time"]
    end = events[events["activity"] == "order_entered"].set_index("order_id")["time"]
    return start.to_frame("a").join(end.rename("b"), how="inner")


def _grants(result, pool: str) -> list[tuple[float, float]]:
    events = result.events
    grants = events[(events["activity"] == "overtime_granted") & (events["resource"].astype(str) == pool)]
    return [(float(t), float(t) + float(h) / 24)
            for t, h in zip(grants["time"], grants["quantity"], strict=True)]


def test_entries_finish_exactly_on_the_calendar_and_its_overtime(runs):
    """Each entry works exactly 3 h of the office's open time plus the overtime granted (from the
    events, not the model's calendar); those crossing a closing with enough overtime do not pause."""
    result = runs["overtime"]
    office = scenario_calendars(result.scenario)["entry_clerks"]
    grants = _grants(result, "entry_clerks")
    assert len(grants) > 10
    entries = _entries(result)

    def worked(a: float, b: float) -> float:
        extra = sum(max(0.0, min(b, hi) - max(a, lo)) for lo, hi in grants)
        return (office.open_days(a, b) + extra) * 24

    hours = np.array([worked(a, b) for a, b in entries.itertuples(index=False)])
    assert hours == pytest.approx(np.full(len(hours), ENTRY_HOURS), abs=1e-6)
    closings = [lo for lo, _ in grants]
    crossing = [(a, b) for a, b in entries.itertuples(index=False)
                if any(a < c < a + ENTRY_HOURS / 24 for c in closings)]
    unpaused = [(a, b) for a, b in crossing if b - a == pytest.approx(ENTRY_HOURS / 24, abs=1e-9)]
    assert len(unpaused) > 10  # tasks in hand at a closing went on into the overtime


def test_overtime_raises_the_desks_throughput(runs):
    entered = {name: int(r.orders["entered_time"].notna().sum()) for name, r in runs.items()}
    hours = runs["overtime"].kpis["staff_overtime_hours"]["entry_clerks"]
    assert entered["overtime"] > entered["none"]
    # no more entries than the extra person-hours allow (the window's grants and the warm-up's)
    granted = sum(hi - lo for lo, hi in _grants(runs["overtime"], "entry_clerks")) * 24 * 2
    assert hours <= granted + 1e-6
    assert (entered["overtime"] - entered["none"]) * ENTRY_HOURS <= granted + 2 * ENTRY_HOURS
    queues = {name: r.pools[(r.pools["pool"] == "entry_clerks") & (r.pools["day"] >= 7)]["queue_end"].mean()
              for name, r in runs.items()}
    assert queues["overtime"] < queues["none"]


def test_overtime_costs_hours_times_people_times_rate(runs):
    result, plain = runs["overtime"], runs["none"]
    kpis = result.kpis
    pools = result.pools
    window = pools[pools["day"] >= 7]
    for pool, rate in (("entry_clerks", RATE), ("warehouse_staff", 22.0)):
        rows = window[window["pool"] == pool]
        assert kpis["staff_overtime_hours"][pool] == pytest.approx(rows["overtime_hours"].sum())
        assert kpis["staff_overtime_cost"][pool] == pytest.approx(kpis["staff_overtime_hours"][pool] * rate,
                                                                  abs=0.01)
    assert kpis["staff_overtime_hours"]["entry_clerks"] > 0
    # the regular hours are those of the run without overtime: the difference is the overtime's pay
    extra = sum(kpis["staff_overtime_cost"].values())
    assert kpis["staff_cost"] == pytest.approx(plain.kpis["staff_cost"] + extra, abs=0.05)
    # the pools table's open hours hold the overtime, so utilisation is on the hours worked
    both = pools.merge(plain.pools, on=["day", "pool"], suffixes=("", "_plain"))
    assert (both["open_hours"] - both["open_hours_plain"]).to_numpy() == pytest.approx(
        both["overtime_hours"].to_numpy(), abs=1e-6)
    events = result.events
    grants = events[events["activity"] == "overtime_granted"]
    hours = grants[grants["resource"].astype(str) == "entry_clerks"]["quantity"].sum() * 2
    assert pools[pools["pool"] == "entry_clerks"]["overtime_hours"].sum() == pytest.approx(hours)
    assert "staff_overtime_hours" not in plain.kpis and "overtime_hours" not in plain.pools


def test_no_task_starts_outside_working_time_or_overtime_and_the_invariants_hold(runs):
    result = runs["overtime"]
    assert check_run(result) == []
    # the working-time invariant is not vacuous: without the grants, the starts in overtime break it
    events = result.events
    no_grants = events[events["activity"] != "overtime_granted"]
    lines = check_staff_working_time(no_grants, result.scenario, result.model)
    assert len(lines) > 10 and all("the pool is closed" in line for line in lines)


def test_a_policy_that_never_grants_changes_nothing():
    """The closing process and the tasks waiting on it, with no grant, reproduce the run
    without overtime under common random numbers (to rounding of the times)."""
    never = {"name": "queue-threshold", "params": {"threshold_per_person": 10_000.0}}
    quiet = simulate(parse(_company(never, horizon=21.0)), seed=2)
    plain = simulate(parse(_company(None, horizon=21.0)), seed=2)
    assert (quiet.events["activity"] == "overtime_granted").sum() == 0
    columns = [c for c in plain.events.columns if c != "time"]
    pd.testing.assert_frame_equal(quiet.events[columns], plain.events[columns])
    assert quiet.events["time"].to_numpy() == pytest.approx(plain.events["time"].to_numpy(), abs=1e-9)


def test_without_a_policy_the_run_is_byte_identical():
    data = _company(None, horizon=14.0)
    listed = copy.deepcopy(data)
    listed["staff"]["overtime_hour_cost"] = {"entry_clerks": RATE}  # a rate, but the policy is none
    first, second = simulate(parse(data), seed=1), simulate(parse(listed), seed=1)
    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.pools, second.pools)
    # a scenario that leaves the new fields at their defaults keeps its content hash
    explicit = copy.deepcopy(data)
    explicit["policies"]["staff_overtime"] = "none"
    explicit["staff"]["overtime_hour_cost"] = {}
    assert content_hash(parse(explicit)) == content_hash(parse(data))
    assert "staff_overtime" not in parse(data).model_dump(mode="json")["policies"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["staff"].update(overtime_hour_cost={"sales_reps": 30.0}),
     "staff.overtime_hour_cost.sales_reps: overtime needs a working calendar"),
    (lambda d: d["staff"].update(overtime_hour_cost={"cleaners": 30.0}), "unknown pool 'cleaners'"),
    (lambda d: d["staff"].update(overtime_hour_cost={"technicians": 30.0}),
     "technicians cannot work overtime"),
    (lambda d: d["staff"].update(overtime_hour_cost={"entry_clerks": -1.0}), "must be a finite number >= 0"),
])
def test_bad_overtime_input_is_named_by_field(change, message):
    data = _company(QUEUE, horizon=14.0)
    change(data)
    with pytest.raises(ScenarioError) as error:
        parse(data)
    assert any(message in line for line in error.value.problems), error.value.problems


def test_a_bad_policy_parameter_is_named_by_field():
    data = _company({"name": "queue-threshold", "params": {"max_hours_per_day": 30}}, horizon=14.0)
    with pytest.raises(PolicyParameterError) as error:
        CompanyModel(parse(data))
    assert any("policies.staff_overtime.params.max_hours_per_day" in line for line in error.value.problems)


# --- the policy -----------------------------------------------------------------------

def test_queue_threshold_works_off_the_queue_up_to_the_cap():
    policy = QueueThreshold(threshold_per_person=2.0, max_hours_per_day=2.0, step_hours=0.5)
    long = StaffOvertimeContext("entry_clerks", 1.6875, 4, 12, 4.2, 4, 0.6, 15.5)
    assert policy.extend(long).hours == 1.5  # (4.2 + 0.6) / 4 = 1.2 h per person, in half hours
    assert policy.extend(StaffOvertimeContext("entry_clerks", 1.6875, 4, 8, 4.2, 4, 0.6, 15.5)).hours == 0
    huge = StaffOvertimeContext("entry_clerks", 1.6875, 4, 60, 40.0, 4, 2.0, 15.5)
    assert policy.extend(huge).hours == 2.0  # the daily cap
    evening = StaffOvertimeContext("entry_clerks", 1.6875, 4, 60, 40.0, 4, 2.0, 0.75)
    assert policy.extend(evening).hours == 0.75  # never into the next opening


def test_a_run_from_a_snapshot_keeps_the_pools_closings():
    """A snapshot taken at 17:00 on a working day (during possible overtime): the restarted run's
    day 0 is that evening, its first closing the next day's 16:30, and the invariants hold."""
    from ordercycle.sim.snapshot import starting_from

    company = parse(_company(QUEUE, horizon=21.0))
    taken = simulate(company, seed=1, snapshot_at=7 + 17 * H).snapshot  # Monday 11 January, 17:00
    restarted = simulate(starting_from(company, taken, 7.0), seed=2)
    assert check_run(restarted) == []
    grants = _grants(restarted, "entry_clerks")
    assert grants and (grants[0][0] + 17 * H) % 1 == pytest.approx(16.5 * H, abs=1e-9)
