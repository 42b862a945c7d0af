"""Outcome labels of decisions, and when two decisions are the same.

An outcome is a short label for filtering the decision log and counting in metrics
(``accept``, ``reject``, ``grant`` …). Two decisions are *the same* when every field
but the human-readable ``reason`` is equal: a candidate policy that decides alike
for other words is not a disagreement.
"""

from __future__ import annotations

from typing import Any


def outcome(decision_kind: str, decision: Any) -> str:
    """Short label of what was decided (a decision dataclass of ``decision_kind``)."""
    match decision_kind:
        case "selection":
            if not decision.accept:
                return "reject"
            return "accept" if decision.renegotiated_lead_days is None else "renegotiate"
        case "expedite":
            return "grant" if decision.grant else "refuse"
        case "returns":
            return "approve" if decision.approve else "refuse"
        case "debrief":
            return "debrief" if decision.debrief else "skip"
        case "capacity":
            return f"shifts={decision.shifts}"
        case "billing":
            return "invoice" if any(line.amount for line in decision.lines) else "nothing-to-bill"
        case "schedule":
            return "plan" if decision.centres else "keep-dispatching"
        case "pricing":
            return "quote"
        case "priority":
            return "rank"
        case "dispatch":
            return "dispatch"
        case "forecast":
            return "forecast"
        case "overtime":
            return "overtime" if decision.hours > 0 else "no-overtime"
    return "decided"


def without_reason(decision_json: dict[str, Any]) -> dict[str, Any]:
    """The decision's JSON form without its ``reason``."""
    return {key: value for key, value in decision_json.items() if key != "reason"}


def same_decision(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether two decisions (JSON forms) agree on everything but the reason."""
    return without_reason(first) == without_reason(second)
