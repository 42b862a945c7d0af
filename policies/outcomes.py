"""What a decision did, in a few words: the outcome of every decision kind, for counting.

A comparison must say whether a set's policy *acted* — whether the strategic selection
rejected anything, whether informed pricing gave any discount, whether a bound on
expedites ever refused one. :func:`outcome` names the outcome of one decision from its
context and decision objects (the same ones the decision service receives and returns),
so the simulation counts outcomes per run (``decisions.parquet``, the ``decisions``
KPIs) and the decision service labels its log and metrics by the same rule. Outcomes
describe the decision, not the policy: the ``list-price`` and ``informed-sales``
policies both give ``list price`` when they quote list price, which is how a comparison
finds a policy that behaved like another.

Labels are short, fixed strings (a handful per kind, never a number), so that the counts
of two runs can be compared label by label.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ordercycle.policies.contexts import (
    BillingContext,
    CapacityContext,
    CapacityPlan,
    DebriefDecision,
    DispatchContext,
    DispatchDecision,
    ExpediteDecision,
    Forecast,
    FulfilmentDecision,
    InventoryDecision,
    InvoiceDecision,
    OvertimeDecision,
    Quote,
    QuoteContext,
    ReturnDecision,
    SchedulePlan,
    SelectionDecision,
)

_REL = 1e-9
"""Relative tolerance when comparing a price or a figure with its reference."""


def _compare(value: float, reference: float) -> int:
    """-1, 0 or +1: ``value`` below, at or above ``reference`` (within a relative tolerance)."""
    margin = _REL * max(1.0, abs(reference))
    return -1 if value < reference - margin else 1 if value > reference + margin else 0


def _pricing(context: QuoteContext, quote: Quote) -> str:
    price = ("discount", "list price", "surcharge")[_compare(quote.unit_price, context.list_price) + 1]
    side = _compare(quote.promised_lead_days, context.standard_lead_days)
    lead = ("shorter", "standard", "longer")[side + 1]
    return f"{price}, {lead} lead"


def _selection(_context: Any, decision: SelectionDecision) -> str:
    if not decision.accept:
        return "reject"
    return "accept, lead renegotiated" if decision.renegotiated_lead_days is not None else "accept"


def _forecast(_context: Any, forecast: Forecast) -> str:
    side = _compare(forecast.planned_units, forecast.statistical_units)
    return ("planned below statistical", "planned = statistical", "planned above statistical")[side + 1]


def _capacity(context: CapacityContext, plan: CapacityPlan) -> str:
    change = (plan.shifts > context.current_shifts) - (plan.shifts < context.current_shifts)
    return ("fewer shifts", "same shifts", "more shifts")[change + 1]


def _schedule(_context: Any, plan: SchedulePlan) -> str:
    if not plan.centres:
        return "dispatch by priority"
    return "re-sequenced" if any(centre.moved_jobs for centre in plan.centres) else "sequence kept"


def _billing(context: BillingContext, decision: InvoiceDecision) -> str:
    entered = {line.order_id: line for line in context.lines}
    for line in decision.lines:
        source = entered.get(line.order_id)
        if source is None or line.units != source.entered_units \
                or _compare(line.unit_price, source.entered_unit_price):
            return "billed other than entered"
    return "billed as entered"


def _flag(yes: str, no: str, attribute: str) -> Callable[[Any, Any], str]:
    def label(_context: Any, decision: Any) -> str:
        return yes if getattr(decision, attribute) else no

    return label


def _dispatch(context: DispatchContext, decision: DispatchDecision) -> str:
    """Candidates come one per setup family, in priority order: did the machine keep its family?"""
    chosen = next((job for job in context.candidates if job.job_id == decision.job_id), None)
    if chosen is None or len(context.candidates) == 1:
        return "only candidate"
    if chosen.setup_family == context.current_family:
        return "same family" if chosen is context.candidates[0] else "same family over priority"
    return "first in priority" if chosen is context.candidates[0] else "other family over priority"


def _inventory(_context: Any, decision: InventoryDecision) -> str:
    return "replenish" if decision.order_units > 0 else "no order"


def _overtime(_context: Any, decision: OvertimeDecision) -> str:
    return "overtime" if decision.hours > 0 else "no overtime"


def _fulfilment(_context: Any, decision: FulfilmentDecision) -> str:
    return "ship now" if decision.lines else "wait"


_expedite: Callable[[Any, ExpediteDecision], str] = _flag("grant", "refuse", "grant")
_returns: Callable[[Any, ReturnDecision], str] = _flag("approve", "refuse", "approve")
_debrief: Callable[[Any, DebriefDecision], str] = _flag("debrief", "skip", "debrief")

OUTCOMES: dict[str, Callable[[Any, Any], str]] = {
    "forecast": _forecast,
    "capacity": _capacity,
    "inventory": _inventory,
    "overtime": _overtime,
    "staff_overtime": _overtime,
    "pricing": _pricing,
    "selection": _selection,
    "schedule": _schedule,
    "dispatch": _dispatch,
    "expedite": _expedite,
    "fulfilment": _fulfilment,
    "billing": _billing,
    "returns": _returns,
    "debrief": _debrief,
    "priority": lambda _context, _decision: "ranked",  # a ranking: nothing to tell apart
}
"""Decision kind -> the function naming one decision's outcome."""


def outcome(kind: str, context: Any, decision: Any) -> str:
    """The outcome label of one ``kind`` decision (``"decided"`` for a kind without labels)."""
    label = OUTCOMES.get(kind)
    return label(context, decision) if label is not None else "decided"
