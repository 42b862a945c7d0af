"""Sequencing policies: prioritisation, dispatching at machines, and expedites."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field

from ordercycle.policies.base import Policy
from ordercycle.policies.contexts import (
    DispatchContext,
    DispatchDecision,
    ExpediteContext,
    ExpediteDecision,
    JobView,
    OrderView,
    Ranking,
    RankingContext,
)


class PriorityPolicy(Policy):
    """Orders released work by a sort key: the smallest key is served first.

    ``time_dependent`` is ``False`` when the key does not change while an order waits
    (FIFO, EDD …); the simulation may then keep queues in a heap. Ties are broken by
    release time, then order id, so a ranking never depends on input order.
    """

    decision = "priority"
    time_dependent: bool = False

    def key(self, order: OrderView, now: float) -> Any:
        """Sort key of one order (smaller first)."""
        raise NotImplementedError

    def rank(self, context: RankingContext) -> Ranking:
        """Rank the orders of ``context``; the same keys the simulation queues by."""
        ordered = sorted(
            context.orders,
            key=lambda o: (not o.expedited, self.key(o, context.now), o.released_at, o.order_id),
        )
        return Ranking(tuple(o.order_id for o in ordered), f"ranked by {self.name}, expedites first")


class Fifo(PriorityPolicy):
    """First released, first served."""

    name = "fifo"
    summary = "first in, first out by release time"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Release time."""
        return order.released_at


class EarliestDueDate(PriorityPolicy):
    """Earliest promised date first."""

    name = "edd"
    summary = "earliest due (promised) date first"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Due date."""
        return order.due_date


class ShortestProcessingTime(PriorityPolicy):
    """Shortest operation first (maximises throughput, starves long jobs)."""

    name = "spt"
    summary = "shortest processing time of the queued operation first"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Hours of the queued operation."""
        return order.operation_hours


class MinimumSlack(PriorityPolicy):
    """Least slack first: due date minus the remaining work in days.

    Slack = due − now − remaining_days; ``now`` is common to all waiting orders, so
    the ranking is fixed at release.
    """

    name = "min-slack"
    summary = "least slack (due date minus remaining work days) first"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Due date minus remaining work days."""
        return order.due_date - order.remaining_days


class CriticalRatio(PriorityPolicy):
    """Smallest critical ratio first: time left to the due date / remaining work days.

    Ratios below 1 mean the order is behind; orders already past due (negative time
    left) come first, most overdue first.
    """

    name = "critical-ratio"
    summary = "smallest (due − now) / remaining work days first"
    time_dependent = True

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Critical ratio; past-due orders first by how late they are."""
        left = order.due_date - now
        if left <= 0:
            return (0, left)
        return (1, left / max(order.remaining_days, 1e-9))


class WeightedShortestProcessingTime(PriorityPolicy):
    """Largest customer importance per processing hour first (WSPT, Smith's rule)."""

    name = "wspt"
    summary = "largest importance / operation hours first"

    def __init__(self) -> None:
        pass

    def key(self, order: OrderView, now: float) -> Any:
        """Negative importance per hour."""
        return -order.importance / max(order.operation_hours, 1e-9)


class ApparentTardinessCost(PriorityPolicy):
    """Apparent tardiness cost (Vepsalainen & Morton 1987).

    Index = (w / p) · exp(−max(0, d − p − t) / (k · p̄)), with w the importance, p the
    operation's hours, d the due date and t now (both converted to hours), and
    k · p̄ given as ``lookahead_hours``. Largest index first.
    """

    name = "atc"
    summary = "apparent tardiness cost: importance per hour, discounted by slack"
    time_dependent = True

    def __init__(self, lookahead_hours: Annotated[float, Field(gt=0)] = 48.0):
        self.lookahead_hours = lookahead_hours

    def key(self, order: OrderView, now: float) -> Any:
        """Negative ATC index."""
        hours = max(order.operation_hours, 1e-9)
        slack_hours = max(0.0, (order.due_date - now) * 24.0 - hours)
        return -(order.importance / hours) * math.exp(-slack_hours / self.lookahead_hours)


class ImportanceCapacity(PriorityPolicy):
    """The essay's rule: customer importance and the availability of needed capacity.

    Key = slack − ``importance_weight_days`` × importance, where slack = due date −
    remaining work days − ``route_load_days`` (the work already waiting on the rest of
    the order's route, as production shares it). An order that needs congested
    capacity starts earlier; an important customer counts as having less slack.
    """

    name = "importance-capacity"
    summary = "slack net of downstream congestion, less a bonus per point of customer importance"

    def __init__(self, importance_weight_days: Annotated[float, Field(ge=0)] = 1.0):
        self.importance_weight_days = importance_weight_days

    def key(self, order: OrderView, now: float) -> Any:
        """Congestion-aware slack minus the importance bonus."""
        slack = order.due_date - order.remaining_days - order.route_load_days
        return slack - self.importance_weight_days * order.importance


def expedited_candidate(context: DispatchContext) -> JobView | None:
    """The expedited job that jumps the queue, if one waits: the first expedited candidate.

    The rule every dispatch policy applies before its own (the simulator and the decision
    service alike): a machine that asks for work takes an expedited job before any other,
    whatever the changeover. Candidates come in priority order, so among several expedited
    family heads the one the priority rule ranks first wins; the first in the given order
    also when a caller lists them otherwise. ``None`` when no candidate is expedited.
    """
    return next((job for job in context.candidates if job.expedited), None)


def _expedite_decision(job: JobView, context: DispatchContext) -> DispatchDecision:
    """Run the expedited ``job``, saying whether it breaks the machine's setup sequence."""
    if context.current_family is None or job.setup_family == context.current_family:
        return DispatchDecision(job.job_id, f"expedited job {job.job_id} jumps the queue")
    return DispatchDecision(
        job.job_id, f"expedited job {job.job_id} jumps the queue: out of the "
        f"{context.current_family} sequence into {job.setup_family}"
    )


class DispatchPolicy(Policy):
    """A free machine chooses its next job among the best job of each setup family.

    Every dispatch policy gives an expedited candidate precedence: it returns
    :func:`expedited_candidate` when there is one (the conformance check
    ``check_dispatch_expedites_first`` holds each policy to it) and applies its own
    rule only among jobs that are not expedited.
    """

    decision = "dispatch"

    def dispatch(self, context: DispatchContext) -> DispatchDecision:
        """Return the job to run next."""
        raise NotImplementedError


class PriorityFirst(DispatchPolicy):
    """Run the highest-priority job, whatever the changeover (expedited jobs first)."""

    name = "priority-first"
    summary = "run the highest-priority waiting job"

    def __init__(self) -> None:
        pass

    def dispatch(self, context: DispatchContext) -> DispatchDecision:
        """The expedited candidate if any, else the first (candidates come in priority order)."""
        expedited = expedited_candidate(context)
        if expedited is not None:
            return _expedite_decision(expedited, context)
        best = context.candidates[0]
        return DispatchDecision(best.job_id, f"highest priority job {best.job_id}")


class SetupAware(DispatchPolicy):
    """Stay on the current setup family unless an expedited job waits elsewhere.

    Avoids changeovers (production's wish) while letting expedites through (the
    bounded concession to marketing): an expedited job jumps the sequence, whatever
    its family. In the simulation a machine whose sequence an expedite interrupted is
    told the interrupted family as its ``current_family``, so it goes back to it.
    """

    name = "setup-aware"
    summary = "keep the current setup family unless an expedited job waits"

    def __init__(self) -> None:
        pass

    def dispatch(self, context: DispatchContext) -> DispatchDecision:
        """The expedited candidate if any, else a same-family candidate, else the best."""
        expedited = expedited_candidate(context)
        if expedited is not None:
            return _expedite_decision(expedited, context)
        best = context.candidates[0]
        if best.setup_family == context.current_family:
            return DispatchDecision(best.job_id, f"highest priority job {best.job_id}")
        for job in context.candidates:
            if job.setup_family == context.current_family:
                return DispatchDecision(
                    job.job_id, f"job {job.job_id} keeps setup {job.setup_family}: no changeover"
                )
        return DispatchDecision(best.job_id, f"no job of setup {context.current_family}; changeover")


class ExpeditePolicy(Policy):
    """Grants or refuses sales' requests to expedite an order."""

    decision = "expedite"

    def expedite(self, context: ExpediteContext) -> ExpediteDecision:
        """Return grant or refuse."""
        raise NotImplementedError


class Bounded(ExpeditePolicy):
    """Grant at most ``max_per_period`` expedites per planning period."""

    name = "bounded"
    summary = "grant up to max_per_period expedites per planning period"

    def __init__(self, max_per_period: Annotated[int, Field(ge=0)] = 5):
        self.max_per_period = max_per_period

    def expedite(self, context: ExpediteContext) -> ExpediteDecision:
        """Grant while under the cap."""
        late_by = context.projected_completion - context.promised_date
        if context.expedites_last_period < self.max_per_period:
            return ExpediteDecision(
                True,
                f"granted: projected {late_by:.1f} d late; "
                f"{context.expedites_last_period + 1}/{self.max_per_period} this period",
            )
        return ExpediteDecision(
            False, f"refused: cap of {self.max_per_period} expedites per period reached"
        )


class AlwaysExpedite(ExpeditePolicy):
    """Marketing's wish: grant every expedite."""

    name = "always"
    summary = "grant every expedite request"

    def __init__(self) -> None:
        pass

    def expedite(self, context: ExpediteContext) -> ExpediteDecision:
        """Always grant."""
        return ExpediteDecision(True, "granted: every expedite is granted")


class TopTier(ExpeditePolicy):
    """Grant expedites only for customers of at least ``min_importance``, within a cap."""

    name = "top-tier"
    summary = "grant expedites only for top-tier customers, at most max_per_period"

    def __init__(self, min_importance: Annotated[float, Field(gt=0)] = 3.0,
                 max_per_period: Annotated[int, Field(ge=0)] = 10):
        self.min_importance = min_importance
        self.max_per_period = max_per_period

    def expedite(self, context: ExpediteContext) -> ExpediteDecision:
        """Importance first, then the cap."""
        if context.importance < self.min_importance:
            return ExpediteDecision(
                False, f"refused: importance {context.importance:g} below {self.min_importance:g}"
            )
        if context.expedites_last_period >= self.max_per_period:
            return ExpediteDecision(False, f"refused: cap of {self.max_per_period} per period reached")
        return ExpediteDecision(True, f"granted: top-tier customer (importance {context.importance:g})")


class NeverExpedite(ExpeditePolicy):
    """The frozen plan: refuse every expedite."""

    name = "never"
    summary = "frozen plan: refuse every expedite"

    def __init__(self) -> None:
        pass

    def expedite(self, context: ExpediteContext) -> ExpediteDecision:
        """Always refuse."""
        return ExpediteDecision(False, "refused: the plan is frozen")
