"""The clock's parked waits fire exactly when plain SimPy timeouts would."""

from __future__ import annotations

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from ordercycle.policies.registry import make
from ordercycle.sim.clock import Environment
from ordercycle.sim.resources import JobStore

# (start offset, delay) pairs: waits begun at various times, short and long
waits = st.lists(
    st.tuples(st.floats(0.0, 20.0, allow_nan=False), st.floats(0.0, 60.0, allow_nan=False)),
    min_size=1, max_size=40,
)


def fire_times(env: simpy.Environment, plan: list[tuple[float, float]],
               long_waits: bool) -> list[tuple[float, int]]:
    """Start one process per (start, delay); each records (time it woke, its index)."""
    fired: list[tuple[float, int]] = []

    def sleeper(index: int, start: float, delay: float):
        yield env.timeout(start)
        yield env.wait(delay) if long_waits else env.timeout(delay)  # type: ignore[attr-defined]
        fired.append((env.now, index))

    for index, (start, delay) in enumerate(plan):
        env.process(sleeper(index, start, delay))
    env.run()  # no `until`: the pump must stop once nothing is parked
    return fired


@settings(max_examples=200, deadline=None)
@given(waits)
def test_waits_fire_at_the_times_of_timeouts(plan: list[tuple[float, float]]) -> None:
    expected = fire_times(simpy.Environment(), plan, long_waits=False)
    got = fire_times(Environment(far_days=1.0, pump_days=0.5), plan, long_waits=True)
    assert got == expected  # times bit for bit, and the order in which they fire


# whole days: many waits fall due at the same moment, and must fire in the order timeouts would
tied_waits = st.lists(st.tuples(st.integers(0, 10).map(float), st.integers(0, 8).map(float)),
                      min_size=2, max_size=40)


@settings(max_examples=200, deadline=None)
@given(tied_waits)
def test_simultaneous_waits_fire_in_the_order_of_timeouts(plan: list[tuple[float, float]]) -> None:
    assert fire_times(Environment(far_days=2.0, pump_days=1.0), plan, long_waits=True) == fire_times(
        simpy.Environment(), plan, long_waits=False)


@settings(max_examples=100, deadline=None)
@given(waits, st.floats(0.1, 5.0), st.floats(0.05, 1.0))
def test_any_pump_period_up_to_far_days_is_exact(plan, far_days, share) -> None:
    expected = fire_times(simpy.Environment(), plan, long_waits=False)
    got = fire_times(Environment(far_days=far_days, pump_days=far_days * share), plan, long_waits=True)
    assert got == expected


def test_long_waits_stay_off_the_heap_until_they_come_near() -> None:
    env = Environment(far_days=1.0, pump_days=0.5)
    woke: list[float] = []

    def payer(delay: float):
        yield env.wait(delay)
        woke.append(env.now)

    for k in range(100):
        env.process(payer(30.0 + k * 0.1))
    env.run(until=1.0)
    assert env.parked == 100
    assert len(env._queue) <= 2  # the pump's own next look (and nothing else)
    env.run(until=29.6)
    assert env.parked == 100 - 10  # the last look (29.5) moved the buckets up to [30.5, 31): due before 31
    env.run()
    assert woke == [30.0 + k * 0.1 for k in range(100)]
    assert env.parked == 0


def test_short_waits_are_plain_timeouts_and_bad_periods_are_refused() -> None:
    env = Environment(far_days=2.0, pump_days=1.0)
    assert isinstance(env.wait(1.5), simpy.Timeout)
    assert not isinstance(env.wait(2.0), simpy.Timeout)
    for far, pump in ((1.0, 2.0), (1.0, 0.0)):
        try:
            Environment(far_days=far, pump_days=pump)
        except ValueError as error:
            assert "pump_days" in str(error)
        else:
            raise AssertionError(f"far_days={far}, pump_days={pump} accepted")


def test_inherited_bound_classes_are_bound_per_instance_and_overrides_are_kept() -> None:
    env = Environment()
    store = JobStore(env, "wc", make("priority", "fifo"), make("dispatch", "priority-first"),
                     lambda kind, method, context: method(context))
    for name in ("timeout", "process", "event", "all_of", "any_of"):
        assert name in env.__dict__, f"env.{name} is not bound early"  # else a Python __get__ per call
    assert "put" in store.__dict__
    assert "get" not in store.__dict__  # JobStore's own get(machine) must stay in charge
    assert isinstance(env.timeout(1.0), simpy.Timeout) and env.now == 0.0
