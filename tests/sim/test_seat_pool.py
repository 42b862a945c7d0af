"""The model's lean seat pool schedules exactly what ``simpy.Resource`` schedules.

:class:`~ordercycle.sim.resources.SeatPool` replaces SimPy's resource for staff, technicians
and carriers for speed; a run must stay byte-identical to one on SimPy's resource. Random
workloads (several pools, crews holding two seats, ``with`` blocks left before the grant,
releases of seats never granted) run once on each, in the model's own environment, and must
give the same trace of every process step and the same count of scheduled event ids at each
(SimPy breaks ties between simultaneous events by that id).
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from ordercycle.sim.clock import Environment
from ordercycle.sim.resources import SeatPool


def _workload(kind: type, seed: int, pools: int, capacity: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    env = Environment()
    seats = [kind(env, capacity=int(rng.integers(1, capacity + 1))) for _ in range(pools)]
    trace: list[tuple] = []

    def worker(n: int, plan: dict):
        yield env.timeout(plan["arrive"])
        pool = seats[plan["pool"]]
        if plan["style"] == "with":  # as the carriers' loading: a with block, maybe left early
            with pool.request() as seat:
                outcome = yield seat | env.timeout(plan["patience"])
                trace.append((env.now, n, "granted" if seat in outcome else "gave up", repr(env._eid)))
                if seat in outcome:
                    yield env.timeout(plan["hold"])
        elif plan["style"] == "crew":  # as the technicians: two seats, in a fixed order
            other = seats[(plan["pool"] + 1) % len(seats)]
            first, second = pool.request(), other.request()
            yield first
            yield second
            trace.append((env.now, n, "crew", pool.count, other.count, len(pool.queue), repr(env._eid)))
            yield env.timeout(plan["hold"])
            pool.release(first)
            other.release(second)
        else:  # as serve(): request, hold, release
            seat = pool.request()
            yield seat
            trace.append((env.now, n, "seat", pool.count, len(pool.queue), repr(env._eid)))
            yield env.timeout(plan["hold"])
            pool.release(seat)
        trace.append((env.now, n, "done", pool.count, len(pool.queue), repr(env._eid)))

    styles = ["serve", "serve", "with", "crew"]
    for n in range(60):
        plan = {"arrive": float(rng.choice([0.0, 0.5, 1.0, rng.exponential(2.0)])),
                "pool": int(rng.integers(pools)), "style": styles[int(rng.integers(len(styles)))],
                "hold": float(rng.choice([0.0, 1.0, rng.exponential(1.5)])),
                "patience": float(rng.choice([0.0, 0.5, rng.exponential(1.0)]))}
        env.process(worker(n, plan))
    env.run(until=200)
    trace.append(("end", env.now, repr(env._eid), [(p.count, len(p.queue)) for p in seats]))
    return trace


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pools=st.integers(1, 3), capacity=st.integers(1, 3))
def test_a_seat_pool_schedules_what_simpys_resource_schedules(seed, pools, capacity):
    assert _workload(SeatPool, seed, pools, capacity) == _workload(simpy.Resource, seed, pools, capacity)


def test_a_release_grants_the_next_request_only_when_its_event_is_processed():
    env = Environment()
    pool = SeatPool(env, capacity=1)
    first = pool.request()
    second = pool.request()
    assert first.triggered and not second.triggered
    release = pool.release(first)
    assert pool.count == 0 and not second.triggered  # the seat is free, the grant is later
    env.step()  # the first request
    env.step()  # the release: now the second request is granted
    assert release.processed and second.triggered and pool.count == 1
    pool.release(pool.request())  # a request never granted: releasing it frees nothing
    assert pool.count == 1 and len(pool.queue) == 1


def test_a_seat_pool_refuses_no_seats():
    with pytest.raises(ValueError, match="capacity"):
        SeatPool(Environment(), capacity=0)
