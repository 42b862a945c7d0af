"""Order acceptance over a rolling horizon with CP-SAT: take the orders that pay most.

:class:`CpSatAcceptance` decides one entered order at a time, but chooses it as part
of a plan: over the outlook of the :class:`~.contexts.CapacityOutlook` (periods of
``period_days`` from now) it selects, among the order, the other orders awaiting a
decision (``pending``) and the orders sales expects (``expected``, aggregated by
kind with a ``count``), the set of largest total contribution (margin less shipping)
whose work fits the capacity left by the accepted work at every work centre by every
due date. The order is accepted when it belongs to that set.

**The capacity model** (a rough-cut check; routing order and changeovers are ignored,
``utilization`` leaves room for them and for breakdowns). Per work centre *c* and
period *p*, with staffed hours *K* and accepted work due in the period *C*, the hours
left for new work due by the end of period *t* are

    free(c, t) = max(0, Σ_{p ≤ t} (utilization · K(c, p) − C(c, p)))

and the new work chosen must satisfy Σ_{i due ≤ t} hours(i, c) · x_i ≤ free(c, t) for
every *t* (earliest-due-date feasibility on one aggregated resource per centre: the
accepted work keeps its place; where it alone overruns, nothing new fits before).

**The optimisation** (a multi-period multi-dimensional knapsack): maximise
Σ contribution_i · x_i, x binary for the order and the pending orders, integer in
0..count for an expected kind. Ties favour accepting the order. The decision is
deterministic: one worker, a fixed seed and a deterministic-time limit (a wall-clock
limit guards the service). Source: the order-acceptance literature (Slotnick 2011,
"Order acceptance and scheduling: a taxonomy and review", EJOR 212; rolling-horizon
workload-based acceptance as in Ebben, Hans & Olde Weghuis 2005, OR Spectrum 27);
expected demand as capacity reservations is the deterministic-LP bid-price idea of
revenue management (Talluri & van Ryzin 2004).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from ordercycle.policies.commercial import SelectionPolicy
from ordercycle.policies.contexts import CandidateOrder, CapacityOutlook, SelectionContext, SelectionDecision

CENTS = 100
"""Contribution and hours are scaled to hundredths (CP-SAT needs integers)."""


# --- data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One decision variable of the knapsack: the order, a pending order or an expected kind.

    Attributes:
        candidate: the order(s) as the context gives them.
        role: ``"order"``, ``"pending"`` or ``"expected"``.
        value: contribution per order, cents (margin less shipping when counted).
        due_period: the period its due date falls in (clamped to the outlook).
        hours: work centre -> hundredths of an hour per order (only centres of the outlook).
        count: how many of it may be chosen.
    """

    candidate: CandidateOrder
    role: str
    value: int
    due_period: int
    hours: dict[str, int]
    count: int


@dataclass(frozen=True)
class AcceptanceData:
    """The knapsack of one decision.

    Attributes:
        periods: number of periods of the outlook.
        period_days: their length, days.
        free: work centre -> hundredths of an hour left for new work due by the end of
            each period (cumulative, see the module docstring).
        items: the order first, then the pending orders, then the expected kinds.
    """

    periods: int
    period_days: float
    free: dict[str, list[int]]
    items: tuple[Item, ...]


def due_period(due_days: float, period_days: float, periods: int) -> int:
    """The period in which ``due_days`` from now falls (0 when past due, the last when beyond)."""
    return min(periods - 1, max(0, math.ceil(due_days / period_days) - 1))


def free_capacity(outlook: CapacityOutlook, utilization: float) -> dict[str, list[int]]:
    """Hundredths of an hour left for new work by the end of each period, per work centre."""
    free: dict[str, list[int]] = {}
    for centre in outlook.centres:
        left, cumulative = [], 0.0
        for capacity, committed in zip(centre.capacity_hours, centre.committed_hours, strict=True):
            cumulative += utilization * capacity - committed
            left.append(max(0, math.floor(CENTS * cumulative + 1e-6)))
        free[centre.work_centre] = left
    return free


def acceptance_data(outlook: CapacityOutlook, *, utilization: float, count_shipping: bool,
                    expected_share: float, max_pending: int) -> AcceptanceData:
    """The knapsack of the outlook (see the module docstring).

    Pending and expected orders that would lose money are left out; only the
    ``max_pending`` pending orders due first are considered; ``expected_share`` of
    each expected count is.

    Raises:
        ValueError: when the outlook is inconsistent (no periods, unequal lengths,
            a non-positive period, a negative count), naming the field.
    """
    if outlook.period_days <= 0:
        raise ValueError(f"capacity_outlook.period_days: must be > 0, got {outlook.period_days}")
    lengths = ({len(c.capacity_hours) for c in outlook.centres}
               | {len(c.committed_hours) for c in outlook.centres})
    if len(lengths) > 1:
        raise ValueError("capacity_outlook.centres: capacity_hours and committed_hours must all have "
                         f"the same length, got lengths {sorted(lengths)}")
    periods = lengths.pop() if lengths else 1
    if periods == 0:
        raise ValueError("capacity_outlook.centres: the outlook needs at least one period")
    free = free_capacity(outlook, utilization)

    def item(candidate: CandidateOrder, role: str, count: int) -> Item:
        if candidate.count < 0:
            raise ValueError(f"capacity_outlook.{role}: order {candidate.order_id} has count "
                             f"{candidate.count}, must be >= 0")
        contribution = candidate.margin - (candidate.shipping_cost if count_shipping else 0.0)
        hours: dict[str, int] = {}
        for need in candidate.work_hours:
            if need.work_centre in free and need.hours > 0:
                scaled = math.ceil(CENTS * need.hours - 1e-6)
                hours[need.work_centre] = hours.get(need.work_centre, 0) + scaled
        return Item(candidate, role, round(CENTS * contribution),
                    due_period(candidate.due_days, outlook.period_days, periods), hours, count)

    order = item(outlook.order, "order", 1)
    others = sorted((p for p in outlook.pending if p.order_id != outlook.order.order_id),
                    key=lambda p: (p.due_days, p.order_id))[:max_pending]
    items = [order]
    items += [i for i in (item(p, "pending", 1) for p in others) if i.value > 0]
    items += [i for i in (item(e, "expected", math.floor(e.count * expected_share + 1e-9))
                          for e in outlook.expected) if i.value > 0 and i.count > 0]
    return AcceptanceData(periods, outlook.period_days, free, tuple(items))


def shortfall(data: AcceptanceData, chosen: Sequence[tuple[Item, int]]) -> tuple[str, int, int] | None:
    """The first (work centre, period, hundredths of an hour over) the chosen items break, if any."""
    for centre, left in data.free.items():
        load = [0] * data.periods
        for item, count in chosen:
            if count and centre in item.hours:
                load[item.due_period] += item.hours[centre] * count
        cumulative = 0
        for period in range(data.periods):
            cumulative += load[period]
            if cumulative > left[period]:
                return centre, period, cumulative - left[period]
    return None


# --- the CP-SAT model ----------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What the solver chose: count per item (same order as ``data.items``) and how sure it is."""

    counts: tuple[int, ...]
    optimal: bool


def solve_acceptance(data: AcceptanceData, *, time_limit_seconds: float, deterministic_time: float,
                     random_seed: int) -> Selection | None:
    """The contribution-maximising choice of items under the capacity of every centre.

    Returns ``None`` when the solver found no solution in its limits.
    """
    from ortools.sat.python import cp_model

    # Variables: how many of each item are taken (0/1 for real orders).
    model = cp_model.CpModel()
    take = [model.new_int_var(0, item.count, f"take_{item.role}_{item.candidate.order_id}_{k}")
            for k, item in enumerate(data.items)]

    # Constraints: cumulative capacity by every due period at every centre.
    for centre, left in data.free.items():
        for period in range(data.periods):
            terms = [item.hours[centre] * variable for item, variable in zip(data.items, take, strict=True)
                     if centre in item.hours and item.due_period <= period]
            if terms:
                model.add(sum(terms) <= left[period])

    # Objective: contribution (doubled) plus one for the order, so that ties accept it.
    model.maximize(sum(2 * item.value * variable for item, variable in zip(data.items, take, strict=True))
                   + take[0])

    # Solve: deterministic (one worker, seed, deterministic-time limit).
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = random_seed
    solver.parameters.max_time_in_seconds = time_limit_seconds
    solver.parameters.max_deterministic_time = deterministic_time
    status = solver.solve(model)

    # Extract, with explicit status handling.
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model: {model.validate()}")
    if status == cp_model.INFEASIBLE:
        raise RuntimeError("CP-SAT reports infeasible a knapsack whose empty choice is feasible")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return Selection(tuple(solver.value(variable) for variable in take), status == cp_model.OPTIMAL)


# --- the policy ------------------------------------------------------------------------------


class CpSatAcceptance(SelectionPolicy):
    """Accept the order when it belongs to the most profitable set of orders capacity allows.

    Over the rolling outlook of the context (capacity and accepted work per work centre
    and period, the other orders awaiting a decision, the orders expected from the
    recent intake) a CP-SAT knapsack chooses the orders of largest total contribution
    (margin less shipping, when ``count_shipping``) whose work fits, at every centre,
    ``utilization`` of the staffed hours left by the accepted work by each due date;
    the order is accepted when it is chosen. Orders that lose money are rejected;
    ``expected_share`` of the expected orders reserve capacity (0: first come, first
    served). Deterministic: one worker, ``random_seed``, ``deterministic_time``.
    Source: the module docstring (order acceptance, Slotnick 2011; Ebben et al. 2005;
    bid prices, Talluri & van Ryzin 2004) and OR-Tools CP-SAT.
    """

    name = "cpsat-acceptance"
    summary = "CP-SAT knapsack over a rolling horizon: accept the order if it is in the most profitable set"
    decider = "senior"
    needs_capacity_outlook = True

    def __init__(
        self,
        utilization: Annotated[float, Field(gt=0, le=1.5)] = 0.9,
        count_shipping: bool = True,
        expected_share: Annotated[float, Field(ge=0, le=1)] = 0.0,
        max_pending: Annotated[int, Field(ge=0, le=500)] = 50,
        time_limit_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0,
        deterministic_time: Annotated[float, Field(gt=0)] = 1.0,
        random_seed: Annotated[int, Field(ge=0)] = 0,
    ):
        self.utilization = utilization
        self.count_shipping = count_shipping
        self.expected_share = expected_share
        self.max_pending = max_pending
        self.time_limit_seconds = time_limit_seconds
        self.deterministic_time = deterministic_time
        self.random_seed = random_seed

    def select(self, context: SelectionContext) -> SelectionDecision:
        """Solve the knapsack of the outlook; accept when the order is chosen."""
        outlook = context.capacity_outlook
        if outlook is None:
            raise ValueError("cpsat-acceptance needs a capacity_outlook in the selection context")
        data = acceptance_data(outlook, utilization=self.utilization, count_shipping=self.count_shipping,
                               expected_share=self.expected_share, max_pending=self.max_pending)
        order = data.items[0]
        contribution = order.value / CENTS
        if order.value < 0:
            shipping = f" less shipping {order.candidate.shipping_cost:,.0f}" if self.count_shipping else ""
            return SelectionDecision(False, f"rejected: contribution {contribution:,.0f} (margin "
                                            f"{order.candidate.margin:,.0f}{shipping}) loses money")
        alone = shortfall(data, [(order, 1)])
        if alone is not None:
            centre, period, over = alone
            return SelectionDecision(False, (
                f"rejected: {centre} lacks {over / CENTS:.1f} h by day {(period + 1) * data.period_days:g} "
                f"even for this order alone (accepted work fills it)"))
        if not order.hours or shortfall(data, [(item, item.count) for item in data.items]) is None:
            why = "needs no production" if not order.hours else "everything fits"
            return SelectionDecision(True, f"accepted: contribution {contribution:,.0f} and {why} "
                                           f"({len(data.items) - 1} other candidates)")
        selection = solve_acceptance(data, time_limit_seconds=self.time_limit_seconds,
                                     deterministic_time=self.deterministic_time, random_seed=self.random_seed)
        if selection is None:  # nothing found in the limits: the order fits on its own
            return SelectionDecision(True, f"accepted: fits the free capacity (contribution "
                                           f"{contribution:,.0f}); no optimised plan within the time limit")
        chosen = list(zip(data.items, selection.counts, strict=True))
        pending = [c for item, c in chosen if item.role == "pending"]
        expected = [(c, item.count) for item, c in chosen if item.role == "expected"]
        plan = (f"{sum(pending)} of {len(pending)} pending and {sum(c for c, _ in expected)} of "
                f"{sum(n for _, n in expected)} expected orders"
                + ("" if selection.optimal else "; not proven optimal"))
        if selection.counts[0]:
            return SelectionDecision(True, f"accepted: in the most profitable plan (contribution "
                                           f"{contribution:,.0f}; with {plan})")
        blocked = shortfall(data, [*chosen[1:], (order, 1)])
        where = ""
        if blocked is not None:
            centre, period, _ = blocked
            per_hour = contribution / (order.hours[centre] / CENTS)
            where = (f" {centre} by day {(period + 1) * data.period_days:g} goes to orders paying more "
                     f"than its {per_hour:,.0f} per hour;")
        return SelectionDecision(False, f"rejected:{where} the most profitable plan takes {plan}")
