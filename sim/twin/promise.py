"""Promise risk: how likely is a new order delivered by each candidate promised date?

For each candidate date d and replication r, the model starts from the state snapshot,
the new order (product, quantity, segment) is released to fulfilment at time 0 with
promised date d — as if sales had quoted d and the customer accepted — and the run goes
on (new inquiries arrive as usual) until the order is delivered or d has passed. The
share of replications delivered by d estimates P(delivered by d), with a Wilson score
interval (Wilson 1927), which keeps its coverage for shares near 0 or 1 and few
replications.

The promised date is a due date for the priority, dispatch and expedite policies (EDD,
critical ratio, expedite when the promise is at risk), so it can change how the order is
treated: each date is therefore simulated on its own, every date of replication r with
the same random streams (common random numbers), so that the probabilities of two dates
differ only through the date. When no policy looks at due dates (and no expedite is
asked for), the runs of two dates are identical up to the earlier date and the
probabilities never decrease with the date; otherwise a later promise may lower the
order's priority enough to make the later date *less* likely to be kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist
from typing import Any

from ordercycle.scenarios.loader import parse
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.entities import Line, Order
from ordercycle.sim.experiments.executors import Executor, SerialExecutor, guarded
from ordercycle.sim.model import CompanyModel, relaxed_gc
from ordercycle.sim.snapshot import Snapshot, SnapshotError, snapshot_of_scenario, starting_from

MAX_REPS = 200
"""At most this many replications per date (each is a run of up to the date's length)."""
MAX_DATES = 12
"""At most this many candidate dates."""
MAX_DAYS = 365.0
"""The latest candidate date, days from the snapshot."""
STEP_DAYS = 1.0
"""The run is stopped as soon as the order is delivered, checked every this many days."""


@dataclass(frozen=True)
class NewOrder:
    """The order sales is about to quote."""

    product: str
    quantity: int
    segment: str
    customer_id: str = ""


@dataclass(frozen=True)
class DateRisk:
    """The estimate for one candidate promised date (days from the snapshot)."""

    promised_day: float
    reps: int
    delivered_by: int
    probability: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class PromiseRisk:
    """Every candidate date's estimate, and where the deliveries fell."""

    order: NewOrder
    confidence: float
    seed: int
    dates: list[DateRisk]
    delivery_days: list[float | None] = field(default_factory=list)
    """Delivery day of the new order in each replication of the latest date (None: not by then)."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--json`` and the service's response)."""
        return {
            "product": self.order.product, "quantity": self.order.quantity, "segment": self.order.segment,
            "confidence": self.confidence, "seed": self.seed,
            "dates": [
                {"promised_day": d.promised_day, "replications": d.reps, "delivered_by": d.delivered_by,
                 "probability": d.probability, "ci_low": d.ci_low, "ci_high": d.ci_high}
                for d in self.dates
            ],
        }


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``(0, 1)`` when there are no trials)."""
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def check_request(scenario: Scenario, order: NewOrder, dates: list[float], reps: int,
                  confidence: float) -> list[str]:
    """Every problem of a promise-risk request, as ``field: reason`` lines."""
    problems = []
    products = {p.id for p in scenario.products}
    segments = {s.id for s in scenario.segments}
    if order.product not in products:
        problems.append(f"product: unknown product {order.product!r} (known: {', '.join(sorted(products))})")
    if order.segment not in segments:
        problems.append(f"segment: unknown segment {order.segment!r} (known: {', '.join(sorted(segments))})")
    if order.quantity < 1:
        problems.append(f"quantity: must be at least 1, got {order.quantity}")
    if not dates:
        problems.append("dates: give at least one candidate date")
    elif len(dates) > MAX_DATES:
        problems.append(f"dates: at most {MAX_DATES} candidate dates, got {len(dates)}")
    problems += [f"dates: each must be in (0, {MAX_DAYS:g}] days, got {d:g}"
                 for d in dates if not 0 < d <= MAX_DAYS]
    if len(set(dates)) != len(dates):
        problems.append("dates: a date is given twice")
    if not 1 <= reps <= MAX_REPS:
        problems.append(f"reps: must be in [1, {MAX_REPS}], got {reps}")
    if not 0 < confidence < 1:
        problems.append(f"confidence: must be between 0 and 1, got {confidence:g}")
    return problems


def default_segment(scenario: Scenario, product: str) -> str:
    """The segment that buys most of ``product`` (by arrival rate × product share)."""
    def volume(segment: Any) -> float:
        mix = segment.product_mix
        return segment.arrivals.rate_per_day * mix.get(product, 0.0) / sum(mix.values())

    return max(scenario.segments, key=volume).id


def delivery_day(start: Scenario, order: NewOrder, promised_day: float, seed: int, replication: int,
                 until: float) -> float | None:
    """One replication: the day the new order is delivered (None if not by ``until``)."""
    from ordercycle.sim.steps import fulfilment

    model = CompanyModel(start, seed, replication)
    model.start()
    segment = model.segments[order.segment]
    product = model.products[order.product]
    new = Order(model.next_id("order"), order.customer_id or f"{segment.id}-quote", segment.id,
                segment.importance, product.id, order.quantity, 0.0)
    new.list_price = new.unit_price = new.entered_unit_price = product.list_price
    new.unit_cost = product.unit_cost
    new.quoted_lead_days = new.promised_date = promised_day
    new.quote_time = new.entered_time = new.decision_time = 0.0
    new.entered_units = order.quantity
    line = Line(model.next_id("line"), new, 1, product.id, order.quantity)  # a one-line order
    line.list_price = line.unit_price = product.list_price
    line.unit_cost = product.unit_cost
    new.lines.append(line)
    new.accepted = True
    model.orders.append(new)
    model.log(0.0, "inquiry_received", "sales", new.order_id, product=product.id, quantity=order.quantity)
    model.env.process(fulfilment.fulfil_order(model.env, model, new))
    t = 0.0
    with relaxed_gc():
        while t < until and not new.delivered:
            t = min(until, t + STEP_DAYS)
            model.env.run(until=t)
    return new.delivered_time if new.delivered and new.delivered_time <= until else None


@dataclass(frozen=True)
class PromiseTask:
    """One replication of one candidate date (picklable, for worker processes)."""

    key: str
    scenario_json: str
    order: NewOrder
    promised_day: float
    seed: int
    replication: int


@lru_cache(maxsize=2)
def _scenario(scenario_json: str) -> Scenario:
    """The scenario of a task, parsed once per process (its snapshot is then checked once too)."""
    return parse(json.loads(scenario_json))


def run_promise_task(task: PromiseTask) -> dict[str, Any]:
    """Simulate one task: ``{"status": "ok", "day": delivery day or None}``."""
    day = delivery_day(_scenario(task.scenario_json), task.order, task.promised_day, task.seed,
                       task.replication, task.promised_day)
    return {"status": "ok", "day": day}


def promise_risk(scenario: Scenario, snapshot: Snapshot, order: NewOrder, dates: list[float], *,
                 reps: int = 20, seed: int = 0, confidence: float = 0.95,
                 executor: Executor | None = None) -> PromiseRisk:
    """P(delivered by d) for each candidate date ``d`` (days from the snapshot), with Wilson intervals.

    The dates × reps runs go to ``executor`` (default: serially in this process); the
    answer does not depend on it.

    Raises:
        SnapshotError: for a request or snapshot that does not fit the scenario (``field: reason``).
    """
    problems = check_request(scenario, order, dates, reps, confidence)
    if problems:
        raise SnapshotError(problems)
    dates = sorted(dates)
    start = starting_from(scenario, snapshot, max(dates))
    snapshot_of_scenario(start)  # a snapshot that does not fit is refused here, not in every run
    scenario_json = json.dumps(start.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    tasks = [PromiseTask(f"{i:03d}-{r:04d}", scenario_json, order, promised_day, seed, r)
             for i, promised_day in enumerate(dates) for r in range(reps)]
    outcomes = {task.key: outcome
                for task, outcome in (executor or SerialExecutor()).run(guarded(run_promise_task), tasks)}
    failed = [f"{key}: {outcome.get('error', '')}" for key, outcome in sorted(outcomes.items())
              if outcome.get("status") != "ok"]
    if failed:
        raise RuntimeError("promise-risk replications failed:\n" + "\n".join(failed))
    risks, days = [], []
    for i, promised_day in enumerate(dates):
        days = [outcomes[f"{i:03d}-{r:04d}"]["day"] for r in range(reps)]
        delivered = sum(1 for day in days if day is not None)
        low, high = wilson_interval(delivered, reps, confidence)
        risks.append(DateRisk(promised_day, reps, delivered, delivered / reps, low, high))
    return PromiseRisk(order, confidence, seed, risks, days)


def format_promise_risk(result: PromiseRisk) -> str:
    """The console table: one row per candidate date."""
    order = result.order
    level = f"{result.confidence:.0%}"
    lines = [f"New order: {order.quantity} x {order.product} for segment {order.segment} "
             f"(seed {result.seed})",
             f"{'promised day':>12}  {'delivered by':>12}  {'P(on time)':>10}  "
             f"{level + ' interval (Wilson)':>24}"]
    for d in result.dates:
        lines.append(f"{d.promised_day:>12g}  {f'{d.delivered_by}/{d.reps}':>12}  {d.probability:>10.1%}  "
                     f"{f'[{d.ci_low:.1%}, {d.ci_high:.1%}]':>24}")
    return "\n".join(lines)


def service_estimator(scenario: Scenario, snapshot: Snapshot) -> Callable[[Any], dict[str, Any]]:
    """The estimator ``ordercycle serve --snapshot`` injects into the decision service.

    It answers a :class:`~ordercycle.policies.service.promise.PromiseRiskRequest` from
    ``snapshot`` under ``scenario`` (the deployed policies already in place); a request
    that does not fit the scenario raises ``PromiseRequestError`` naming the field.
    """
    from ordercycle.policies.service.promise import PromiseRequestError

    def estimate(request: Any) -> dict[str, Any]:
        if request.product not in {p.id for p in scenario.products}:
            raise PromiseRequestError([("product", f"unknown product {request.product!r}")])
        segment = request.segment or default_segment(scenario, request.product)
        order = NewOrder(request.product, request.quantity, segment)
        try:
            result = promise_risk(scenario, snapshot, order, list(request.dates), reps=request.reps,
                                  seed=request.seed, confidence=request.confidence)
        except SnapshotError as error:
            errors: list[tuple[str | None, str]] = []
            for line in error.problems:
                field_name, _, reason = line.partition(": ")
                errors.append((field_name, reason) if reason else (None, line))
            raise PromiseRequestError(errors) from None
        return {**result.to_json(), "snapshot_day": snapshot.taken_at_day}

    return estimate
