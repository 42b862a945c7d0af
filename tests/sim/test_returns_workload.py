"""Ad-hoc returns slowed by the sales reps' workload, not by fixed delays (issue 16, item 8)."""

from __future__ import annotations

import pytest

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.invariants import check_run
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.resources import SeatPool
from ordercycle.sim.run import simulate


def _ad_hoc(company, contact_hours: float | None = None, **params):
    changes: dict = {"policies": {"returns": {"name": "ad-hoc", "params": params}}}
    if contact_hours is not None:
        hours = company.task_hours.model_dump()
        hours["sales_contact"] = {"dist": "lognormal", "mean": contact_hours, "cv": 0.5}
        changes["task_hours"] = hours
    return override(company, **changes)


@pytest.fixture(scope="module")
def company():
    staff = load("around-the-clock").staff.model_dump()
    staff["sales_reps"] = 2
    return override(load("around-the-clock"), horizon_days=150, warmup_days=7, staff=staff)


def _count(result, activity: str) -> int:
    return int((result.events["activity"] == activity).sum())


def _booking_waits(result):
    events = result.events
    booked = events[events["activity"] == "pickup_booking_started"].set_index("return_id")["time"]
    approved = events[events["activity"] == "return_approved"].set_index("return_id")["time"]
    return booked - approved.reindex(booked.index)


def test_the_fixed_delay_form_is_the_default_and_unchanged(company):
    default = CompanyModel(_ad_hoc(company), seed=0)
    assert type(default.departments["sales_reps"]) is SeatPool  # no priority queue
    assert simulate(_ad_hoc(company), seed=1).events.equals(
        simulate(_ad_hoc(company, between_other_work=False), seed=1).events)


def test_claims_wait_for_the_reps_and_more_when_the_reps_are_busy(company):
    light = simulate(_ad_hoc(company, between_other_work=True), seed=1)
    busy = simulate(_ad_hoc(company, 0.8, between_other_work=True), seed=1)
    for run in (light, busy):
        assert _count(run, "pickup_booking_started") <= _count(run, "return_approved")
        assert _count(run, "return_approved") > 50
        assert check_run(run) == []
    # the reps get to nearly every claim; near saturation most still wait at the horizon
    assert _count(light, "pickup_booking_started") >= _count(light, "return_approved") - 3
    assert _count(busy, "pickup_booking_started") < 0.5 * _count(busy, "return_approved")
    fixed = simulate(_ad_hoc(company), seed=1)
    # no fixed 3 + 7 days: with the reps at 71 % the claims move fast ...
    assert light.kpis["staff_utilization"]["sales_reps"] < 0.8
    assert light.kpis["mean_refund_days"] < fixed.kpis["mean_refund_days"] - 5
    assert _booking_waits(light).mean() < 0.2
    # ... and with the reps near saturation they wait for days
    assert busy.kpis["staff_utilization"]["sales_reps"] > 0.95
    assert _booking_waits(busy).mean() > 5 * _booking_waits(light).mean()  # those booked at all
    assert busy.kpis["mean_refund_days"] > light.kpis["mean_refund_days"] + 2


def test_a_follow_up_lets_every_other_request_of_the_pool_go_first(company):
    model = CompanyModel(override(_ad_hoc(company, between_other_work=True),
                                  staff={**company.staff.model_dump(), "sales_reps": 1}), seed=0)
    env, starts = model.env, []

    class Order:
        def __init__(self, order_id):
            self.order_id, self.state, self.owner, self.delivered = order_id, "", "", True

        def begin_wait(self, *args):
            pass

        def end_wait(self, *args):
            pass

    def task(order_id, delay, low):
        yield env.timeout(delay)
        yield from model.serve([Order(order_id)], "sales", "sales_reps", 2.4, "sales_contact_started", None,
                               "inquiry", low_priority=low)
        starts.append((order_id, env.now))

    env.process(task(1, 0.0, False))   # occupies the only rep for 0.1 day
    env.process(task(2, 0.01, True))   # a follow-up, asked first ...
    env.process(task(3, 0.02, False))  # ... and an inquiry asked later
    env.run(until=1.0)
    order = [order_id for order_id, _ in sorted(starts, key=lambda s: s[1])]
    assert order == [1, 3, 2]
