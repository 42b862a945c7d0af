"""Work centres on working calendars: shifts on working days, pause at shift end, overtime.

Deterministic machine-level cases (one machine, constant jobs put straight into the
centre's queue) measure pause-and-resume and throughput exactly; a calendared variant of
the baseline is checked from its event log (no operation runs outside working time plus
the overtime granted) and by the invariants.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ordercycle.reports.kpis import KpiInputs, overtime_kpis
from ordercycle.scenarios.loader import load, override
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.calendar import ShiftCalendar, WorkCalendar
from ordercycle.sim.entities import Job
from ordercycle.sim.invariants import check_run
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.run import simulate
from ordercycle.sim.steps import production

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
START = "2027-01-04"  # a Monday


def _variant(base: Scenario, days: tuple[str, ...] = WEEKDAYS, holidays: tuple[str, ...] = (),
             overtime: dict | None = None, rate: float = 0.0, centres: tuple[str, ...] | None = None,
             shifts: int | None = None, breakdowns: bool = True) -> Scenario:
    data = base.model_dump(mode="json")
    ids = [c["id"] for c in data["work_centres"]] if centres is None else list(centres)
    data["calendars"] = {"start_date": START,
                         "patterns": {"plant": {"week": {d: ["06:00-14:00"] for d in days},
                                                "holidays": list(holidays)}},
                         "pools": {cid: "plant" for cid in ids}}
    for centre in data["work_centres"]:
        centre["overtime_hour_cost"] = rate
        if shifts is not None:
            centre["initial_shifts"] = centre["max_shifts"] = shifts
        if not breakdowns:
            centre["mtbf_hours"] = None
    if overtime is not None:
        data["policies"]["overtime"] = overtime
    return Scenario.model_validate(data)


def _one_machine_run(days: tuple[str, ...], jobs: int, job_hours: float, until: float,
                     overtime: dict | None = None, rate: float = 0.0) -> CompanyModel:
    """One machine of ``cutting``, one shift, no breakdowns; ``jobs`` constant jobs queued at time 0."""
    base = load("around-the-clock")
    data = base.model_dump(mode="json")
    data["work_centres"] = [dict(c, machines=1) if c["id"] == "cutting" else c for c in data["work_centres"]]
    scenario = _variant(Scenario.model_validate(data), days, overtime=overtime, rate=rate,
                        centres=("cutting",), shifts=1, breakdowns=False)
    m = CompanyModel(scenario)
    env, centre = m.env, m.centres["cutting"]
    env.process(production.machine(env, m, centre, centre.machines[0]))
    from ordercycle.sim.steps import shifts

    if shifts.asks_overtime(m):
        env.process(shifts.closings(env, m, centre))
    for k in range(jobs):
        job = Job(k + 1, None, "valve", 1, "small", 0.0, job_hours, 100.0, 0.0, 0.0)
        job.expedited = False
        job.remaining_hours, job.remaining_days, job.route_load_days = job_hours, 0.0, 0.0
        job.done = env.event()
        centre.store.put(job)
    env.run(until=until)
    return m


def _events(m: CompanyModel) -> pd.DataFrame:
    return m.recorder.table()


def test_shift_calendar_counts_shifts_on_working_days_only():
    base = WorkCalendar([[(8.0, 16.5)]] * 5 + [[], []], 0, [2], "plant")  # Wednesday a holiday
    one, three = ShiftCalendar(base, 1), ShiftCalendar(base, 3)
    assert len(one.periods(0)) == 1 and one.periods(0)[0] == pytest.approx((0.25, 14 / 24))
    assert one.periods(2) == () and one.periods(5) == ()
    assert three.periods(0) == ((0.25, 1.0),)
    assert three.periods(2) == ((0.0, 0.25),)  # Tuesday's night shift ends on the holiday
    assert three.periods(5) == ((0.0, 0.25),)  # Friday's night shift ends Saturday 06:00
    assert one.weekly_open_hours == 40 and three.weekly_open_hours == 120
    assert three.open_until(0.5) == pytest.approx(2.25)  # Monday 12:00 runs on to Wednesday 06:00
    assert one.open_until(0.3) == pytest.approx(14 / 24)
    assert one.finish(0.25, 20) == pytest.approx(3 + 10 / 24)  # Mon 8 h, Tue 8 h, (Wed closed) Thu 4 h


def test_a_job_pauses_at_shift_end_and_resumes_at_the_next_shift():
    m = _one_machine_run(WEEKDAYS, jobs=1, job_hours=20.0, until=7.0)
    ev = _events(m)
    times = {a: list(ev.loc[ev["activity"] == a, "time"] * 24) for a in
             ("operation_started", "operation_paused", "operation_resumed", "operation_completed")}
    assert times["operation_started"] == pytest.approx([6.0])
    assert times["operation_paused"] == pytest.approx([14.0, 24 + 14.0])
    assert times["operation_resumed"] == pytest.approx([24 + 6.0, 48 + 6.0])
    assert times["operation_completed"] == pytest.approx([48 + 10.0])
    kpi_busy = production_busy(ev)
    assert kpi_busy == pytest.approx(20.0)  # pauses are not busy time


def production_busy(ev: pd.DataFrame) -> float:
    from ordercycle.reports.kpis import busy_hours

    return busy_hours(ev, 0.0)["cutting"]


def test_a_weekend_closed_centre_makes_five_sevenths_of_a_seven_day_centre():
    weeks = 4
    five = _one_machine_run(WEEKDAYS, jobs=500, job_hours=2.0, until=7.0 * weeks)
    seven = _one_machine_run((*WEEKDAYS, "sat", "sun"), jobs=500, job_hours=2.0, until=7.0 * weeks)
    done5 = int((_events(five)["activity"] == "operation_completed").sum())
    done7 = int((_events(seven)["activity"] == "operation_completed").sum())
    assert done7 == weeks * 7 * 4  # 8 h a day, 2 h jobs
    assert done5 == weeks * 5 * 4
    assert done5 / done7 == pytest.approx(5 / 7)


def test_overtime_raises_throughput_and_costs_hours_times_rate():
    weeks, rate = 2, 95.0
    policy = {"name": "backlog-threshold", "params": {"threshold_hours": 4.0, "max_hours_per_day": 2.0,
                                                      "step_hours": 0.5}}
    plain = _one_machine_run(WEEKDAYS, jobs=500, job_hours=2.0, until=7.0 * weeks)
    extra = _one_machine_run(WEEKDAYS, jobs=500, job_hours=2.0, until=7.0 * weeks, overtime=policy, rate=rate)
    ev = _events(extra)
    granted = ev[ev["activity"] == "overtime_granted"]
    assert len(granted) == weeks * 5  # one closing per working day, each with a long queue
    assert list(granted["quantity"]) == [2.0] * len(granted)
    assert list((granted["time"] * 24 % 24).round(6)) == [14.0] * len(granted)
    done_plain = int((_events(plain)["activity"] == "operation_completed").sum())
    done_extra = int((ev["activity"] == "operation_completed").sum())
    assert done_plain == weeks * 5 * 4 and done_extra == weeks * 5 * 5  # 10 h a day instead of 8
    inputs = KpiInputs(ev, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), 0.0, 7.0 * weeks, {}, {}, 0, 0,
                       0, 0, overtime_hour_cost={"cutting": rate})
    kpis = overtime_kpis(inputs, ev)
    assert kpis == {"overtime_hours": 2.0 * weeks * 5, "overtime_cost": 2.0 * weeks * 5 * rate}
    started = ev[ev["activity"].isin(["operation_started", "operation_resumed"])]["time"] * 24 % 24
    assert ((started >= 6.0 - 1e-6) & (started < 16.0 - 1e-6)).all()


@pytest.fixture(scope="module")
def calendared_run():
    base = override(load("around-the-clock"), horizon_days=35, warmup_days=7)
    policy = {"name": "backlog-threshold", "params": {"threshold_hours": 6.0, "max_hours_per_day": 3.0}}
    return simulate(_variant(base, holidays=("2027-01-06",), overtime=policy, rate=120.0), seed=3)


def test_no_operation_runs_outside_working_time_or_overtime(calendared_run):
    """From the event log (invariant (k)): every stretch a machine works — from a changeover,
    start, resume or repair to the job's next event — lies in the centre's shifts on working
    days or in overtime granted; and the log has plenty of such stretches and pauses."""
    from ordercycle.sim.invariants import check_working_time

    ev = calendared_run.events
    assert (ev["activity"] == "overtime_granted").sum() > 0, "the variant is built to need overtime"
    assert (ev["activity"] == "operation_paused").sum() > 50
    assert check_working_time(ev, calendared_run.model) == []
    moved = ev.copy()  # an operation started 3 hours early, at night: caught
    first = moved.index[(moved["activity"] == "operation_started") & (moved["time"] % 1 * 24 > 9)][0]
    moved.loc[first, "time"] -= 3.5 / 24 + (moved.loc[first, "time"] % 1 - 0.25)
    assert any("staffed" in line for line in check_working_time(moved, calendared_run.model))


def test_weekends_and_holidays_have_no_operation_start(calendared_run):
    """On Saturdays and the holiday work starts only in Friday's (the eve's) night shift or its
    overtime; on Sundays never (the variant's cap of 3 h cannot reach them)."""
    ev = calendared_run.events
    starts = ev[ev["activity"].isin(["operation_started", "changeover_started", "operation_resumed"])]
    grants = ev[ev["activity"] == "overtime_granted"]
    overtime = [(t, t + q / 24) for t, q in zip(grants["time"], grants["quantity"], strict=True)]
    holiday = 2  # 2027-01-06, a Wednesday
    for t in starts["time"]:
        day, hour = math.floor(t), (t % 1) * 24
        if day % 7 == 6:
            raise AssertionError(f"work started on a Sunday at day {t:.4f}")
        if day % 7 == 5 or day == holiday:
            assert hour < 6.0 or any(lo - 1e-9 <= t < hi for lo, hi in overtime), t
    assert len(starts) > 1000


def test_utilisation_is_on_working_hours_and_overtime_is_costed(calendared_run):
    run = calendared_run
    kpis, centres = run.kpis, run.centres
    assert centres is not None and set(centres["work_centre"]) == {c.id for c in run.scenario.work_centres}
    assert kpis["overtime_hours"] == pytest.approx(centres[centres["day"] >= 7]["overtime_hours"].sum())
    assert kpis["overtime_cost"] == pytest.approx(kpis["overtime_hours"] * 120.0)
    assert all(0 < u <= 1.0 + 1e-9 for u in kpis["utilization"].values()), kpis["utilization"]
    weekend = centres[(centres["day"] % 7 >= 5) & (centres["overtime_hours"] == 0)]
    shifts_below_3 = weekend[weekend["shifts"] < 3]
    assert (shifts_below_3["open_hours"] == 0).all()


def test_the_invariants_hold_on_calendared_centres(calendared_run):
    run = calendared_run
    problems = check_run(run)
    assert problems == []


def test_queue_waits_of_a_closed_centre_are_closed_time(calendared_run):
    orders = calendared_run.orders
    assert (orders["unattended_closed_hours"] <= orders["unattended_hours"] + 1e-9).all()
    assert orders["unattended_closed_hours"].sum() > 0


def test_capacity_figures_use_the_calendar():
    base = override(load("around-the-clock"), horizon_days=3, warmup_days=0)
    m = CompanyModel(_variant(base))
    centre = m.centres["cutting"]
    assert centre.hours_per_day() == pytest.approx(2 * 8 * 5 / 7)
    assert centre.staffed_hours(0.0, 7.0) == pytest.approx(2 * 2 * 8 * 5)
    product = m.products["valve"]
    surplus = production.surplus_capacity_hours(m, product)
    period = m.scenario.planning.period_days
    plain = CompanyModel(base)
    assert surplus < production.surplus_capacity_hours(plain, plain.products["valve"])
    assert surplus <= min(c.staffed_hours(0.0, period) for c in m.centres.values())
    assert plain.centres["cutting"].shift_calendars is None


def test_the_machine_invariant_catches_a_double_booked_machine_and_a_lost_resume(calendared_run):
    from ordercycle.sim.invariants import check_machines

    ev = calendared_run.events
    horizon = calendared_run.scenario.horizon_days
    assert check_machines(ev, horizon) == []
    resumed = ev.index[ev["activity"] == "operation_resumed"][0]
    lost = ev.drop(index=resumed)
    assert any("out of turn" in line or "completed while paused" in line
               for line in check_machines(lost, horizon))
    started = ev[ev["activity"] == "operation_started"]
    label = started["resource"].iloc[0]
    on_machine = started[started["resource"] == label]
    second = on_machine.index[1]
    double = ev.copy()
    double.loc[second, "time"] = on_machine["time"].iloc[0]  # the second job starts with the first
    assert any(f"machine {label}" in line for line in check_machines(double, horizon))


def test_the_run_report_reads_the_centres_table(calendared_run, tmp_path):
    from ordercycle.reports.run_report import load_run, write_run_report
    from ordercycle.sim.run import write_outputs

    folder = write_outputs(calendared_run, tmp_path / "run")
    assert (folder / "centres.parquet").is_file()
    tables = load_run(folder)
    pd.testing.assert_frame_equal(tables.centres, calendared_run.centres)
    html, markdown = write_run_report(folder)
    assert html.is_file() and markdown.is_file()


def test_without_centre_calendars_there_is_no_centres_table_nor_overtime_kpi(tmp_path):
    from ordercycle.sim.run import write_outputs

    run = simulate(override(load("around-the-clock"), horizon_days=10, warmup_days=0), seed=0)
    assert run.centres is None and "overtime_hours" not in run.kpis
    assert not (write_outputs(run, tmp_path / "run") / "centres.parquet").exists()
    assert not set(run.events["activity"].cat.categories) & {"operation_paused", "overtime_granted"}


def test_a_run_from_a_snapshot_keeps_the_centres_weekdays():
    """A snapshot taken on a Thursday evening: the restarted run's day 0 is that Thursday, so its
    machines work the following Friday and pause over the weekend."""
    from ordercycle.sim.snapshot import starting_from

    base = override(load("around-the-clock"), horizon_days=12, warmup_days=0)
    company = _variant(base, overtime={"name": "backlog-threshold", "params": {}}, rate=10.0)
    taken = simulate(company, seed=1, snapshot_at=10.8).snapshot  # Thursday 19:12
    restarted = simulate(starting_from(company, taken, 7.0), seed=2)
    assert check_run(restarted) == []
    ev = restarted.events
    starts = ev[ev["activity"].isin(["operation_started", "operation_resumed"])]["time"] + 10.8
    weekday = (starts // 1) % 7
    night = (starts % 1) * 24 < 6.0
    assert not ((weekday == 6) | ((weekday == 5) & ~night)).any()  # Saturday only in Friday's night shift
    assert (weekday == 4).any()  # and Friday works


def test_random_companies_with_centre_calendars_hold_every_invariant():
    """Seeded companies of the Hypothesis factory whose work centres keep calendars (seed 51: a
    shift change at a period start while a machine works overtime, 1 shift → 2) hold every
    invariant, (j) and (k) included, and pause and grant overtime."""
    from scenario_factory import RandomPicker, small_scenario

    from ordercycle.scenarios.loader import parse

    pauses = grants = 0
    for seed in (51, 2, 3, 4, 7, 10):
        scenario = parse(small_scenario(RandomPicker(seed)))
        assert scenario.calendars is not None and set(scenario.calendars.pools) & {
            w.id for w in scenario.work_centres}, seed
        run = simulate(scenario, seed=seed)
        assert check_run(run) == [], seed
        activity = run.events["activity"].astype(str)
        pauses += int((activity == "operation_paused").sum())
        grants += int((activity == "overtime_granted").sum())
    assert pauses > 0 and grants > 0


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["calendars"]["pools"].update(cuttting="plant"),
     "calendars.pools.cuttting: unknown resource"),
    (lambda d: d["work_centres"][0].update(id="sales_reps"), "calendars.pools.sales_reps: ambiguous"),
    (lambda d: d["work_centres"][0].update(overtime_hour_cost=-1), "work_centres.0.overtime_hour_cost"),
    (lambda d: d["policies"].update(overtime={"name": "backlog-threshold",
                                              "params": {"max_hours_per_day": 30}}),
     "policies.overtime.params.max_hours_per_day"),
])
def test_bad_centre_calendar_fields_are_named(change, message):
    from ordercycle.policies.registry import make_all

    data = _variant(override(load("around-the-clock"), horizon_days=5, warmup_days=0)).model_dump(mode="json")
    if "sales_reps" in message:  # a centre whose id is also a staff pool, put on a calendar
        data["calendars"]["pools"]["sales_reps"] = "plant"
        for product in data["products"]:
            for op in product["routing"]:
                if op["work_centre"] == data["work_centres"][0]["id"]:
                    op["work_centre"] = "sales_reps"
        data["calendars"]["pools"].pop(data["work_centres"][0]["id"])
    change(data)
    with pytest.raises(Exception, match=message.replace(".", r"\.")) as error:
        make_all(Scenario.model_validate(data).policies.model_dump())
    assert message in str(error.value)
