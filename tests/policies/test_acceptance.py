"""The CP-SAT order-acceptance optimiser: its choice is the brute-force optimum."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from ordercycle.policies.acceptance import CENTS, CpSatAcceptance, acceptance_data, solve_acceptance
from ordercycle.policies.contexts import (
    CandidateOrder,
    CapacityOutlook,
    CentreLoad,
    SelectionContext,
    WorkCentreHours,
)

CENTRES = ("machining", "testing")


def _context(outlook: CapacityOutlook) -> SelectionContext:
    return SelectionContext(outlook.order.order_id, 10.0, "senior", "regular", "pump", 3, 2850.0, 2.0, 0.43,
                            True, 100.0, 7.0, 8.0, outlook)


def _random_outlook(rng: random.Random) -> CapacityOutlook:
    periods = rng.randint(1, 5)

    def candidate(order_id: int, count: int = 1) -> CandidateOrder:
        work = tuple(WorkCentreHours(c, round(rng.uniform(1, 12), 2)) for c in CENTRES if rng.random() < 0.8)
        return CandidateOrder(order_id, round(rng.uniform(-100, 3000), 2), rng.choice([0.0, 25.0, 180.0]),
                              round(rng.uniform(-1, periods + 1), 2), work, count)

    centres = tuple(CentreLoad(c, tuple(round(rng.uniform(0, 16), 1) for _ in range(periods)),
                               tuple(round(rng.uniform(0, 20), 1) for _ in range(periods))) for c in CENTRES)
    pending = tuple(candidate(100 + k) for k in range(rng.randint(0, 4)))
    expected = tuple(candidate(-1 - k, rng.randint(1, 3)) for k in range(rng.randint(0, 2)))
    return CapacityOutlook(1.0, centres, candidate(1), pending, expected)


def _brute_force(outlook: CapacityOutlook, utilization: float) -> tuple[float, float]:
    """Best total contribution with the order taken, and without it (−inf: nothing feasible)."""
    periods = len(outlook.centres[0].capacity_hours)

    def period_of(due: float) -> int:
        return min(periods - 1, max(0, math.ceil(due) - 1))

    def fits(choice: list[tuple[CandidateOrder, int]]) -> bool:
        for centre in outlook.centres:
            room = 0.0
            for t in range(periods):
                room += utilization * centre.capacity_hours[t] - centre.committed_hours[t]
                need = sum(n * h.hours for c, n in choice if period_of(c.due_days) <= t
                           for h in c.work_hours if h.work_centre == centre.work_centre)
                if need > max(0.0, room) + 1e-6:
                    return False
        return True

    others = [c for c in outlook.pending if c.margin - c.shipping_cost > 0]
    others += [c for c in outlook.expected if c.margin - c.shipping_cost > 0]
    best = {True: -math.inf, False: -math.inf}
    for with_order in (True, False):
        for counts in itertools.product(*(range(c.count + 1) for c in others)):
            choice = [(c, n) for c, n in zip(others, counts, strict=True)]
            if with_order:
                choice.append((outlook.order, 1))
            if fits(choice):
                value = sum(n * (c.margin - c.shipping_cost) for c, n in choice)
                best[with_order] = max(best[with_order], value)
    return best[True], best[False]


@pytest.mark.parametrize("seed", range(40))
def test_choice_is_the_brute_force_optimum(seed):
    outlook = _random_outlook(random.Random(seed))
    policy = CpSatAcceptance(expected_share=1.0)
    with_order, without = _brute_force(outlook, policy.utilization)
    decision = policy.select(_context(outlook))
    # contributions are whole cents, so the ties the policy settles in favour of the order are exact
    assert decision.accept == (with_order >= without - 1e-6), (decision, with_order, without)
    data = acceptance_data(outlook, utilization=policy.utilization, count_shipping=True, expected_share=1.0,
                           max_pending=50)
    selection = solve_acceptance(data, time_limit_seconds=5, deterministic_time=5, random_seed=0)
    assert selection is not None and selection.optimal
    value = sum(item.value * n for item, n in zip(data.items, selection.counts, strict=True)) / CENTS
    assert value == pytest.approx(max(with_order, without), abs=1e-6)


def _pump(order_id: int, margin: float, due: float, hours: float) -> CandidateOrder:
    return CandidateOrder(order_id, margin, 0.0, due, (WorkCentreHours("machining", hours),))


def test_a_better_pending_order_displaces_the_order_and_the_reason_says_where():
    centres = (CentreLoad("machining", (5.0, 5.0), (0.0, 0.0)),)
    outlook = CapacityOutlook(1.0, centres, _pump(1, 500.0, 2.0, 10.0), (_pump(2, 2000.0, 2.0, 10.0),))
    decision = CpSatAcceptance(utilization=1.0).select(_context(outlook))
    assert not decision.accept
    assert "machining by day 2" in decision.reason and "50 per hour" in decision.reason
    # without the rival there is room
    alone = CapacityOutlook(1.0, centres, outlook.order)
    assert CpSatAcceptance(utilization=1.0).select(_context(alone)).accept


def test_expected_orders_reserve_capacity_only_when_asked():
    centres = (CentreLoad("machining", (10.0, 10.0, 10.0), (0.0, 0.0, 0.0)),)
    expected = (CandidateOrder(-1, 3000.0, 0.0, 3.0, (WorkCentreHours("machining", 10.0),), count=3),)
    outlook = CapacityOutlook(1.0, centres, _pump(1, 500.0, 3.0, 10.0), (), expected)
    assert CpSatAcceptance(utilization=1.0).select(_context(outlook)).accept
    assert not CpSatAcceptance(utilization=1.0, expected_share=1.0).select(_context(outlook)).accept


def test_money_losers_and_overruns_are_rejected_with_the_reason():
    loser = CandidateOrder(1, 100.0, 180.0, 5.0, ())
    decision = CpSatAcceptance().select(_context(CapacityOutlook(1.0, (), loser)))
    assert not decision.accept and "loses money" in decision.reason
    assert CpSatAcceptance(count_shipping=False).select(_context(CapacityOutlook(1.0, (), loser))).accept
    full = (CentreLoad("machining", (8.0, 8.0), (20.0, 0.0)),)
    outlook = CapacityOutlook(1.0, full, _pump(1, 900, 2, 1))
    decision = CpSatAcceptance(utilization=1.0).select(_context(outlook))
    assert not decision.accept and "machining lacks 1.0 h by day 2" in decision.reason


def test_accepted_work_that_overruns_only_blocks_work_due_before_it_is_caught_up():
    # 6 h over in period 0, caught up by the end of period 1 with 4 h to spare
    centres = (CentreLoad("machining", (10.0, 10.0, 10.0), (16.0, 0.0, 0.0)),)
    due_early, due_later = _pump(1, 900.0, 1.0, 1.0), _pump(1, 900.0, 2.0, 4.0)
    policy = CpSatAcceptance(utilization=1.0)
    assert not policy.select(_context(CapacityOutlook(1.0, centres, due_early))).accept
    assert policy.select(_context(CapacityOutlook(1.0, centres, due_later))).accept


def test_bad_outlooks_are_named():
    centres = (CentreLoad("machining", (10.0, 10.0), (0.0,)),)
    with pytest.raises(ValueError, match="capacity_outlook.centres: capacity_hours and committed_hours"):
        CpSatAcceptance().select(_context(CapacityOutlook(1.0, centres, _pump(1, 10.0, 1.0, 1.0))))
    with pytest.raises(ValueError, match="capacity_outlook.period_days: must be > 0"):
        CpSatAcceptance().select(_context(CapacityOutlook(0.0, (), _pump(1, 10.0, 1.0, 1.0))))
    context = SelectionContext(1, 0.0, "senior", "regular", "pump", 1, 950.0, 2.0, 0.4, True, 0.0, 8.0, 8.0)
    with pytest.raises(ValueError, match="needs a capacity_outlook"):
        CpSatAcceptance().select(context)
