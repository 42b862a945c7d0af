"""When two decisions are the same; the outcome labels of the log and the metrics.

An outcome is a short label for filtering the decision log and counting in metrics
(``accept``, ``reject``, ``grant`` …): :func:`ordercycle.policies.outcomes.outcome`, the
rule the simulation counts decisions by, so a run's ``decisions`` KPIs and a service's
log use the same words. Two decisions are *the same* when every field but the
human-readable ``reason`` is equal: a candidate policy that decides alike for other
words is not a disagreement.
"""

from __future__ import annotations

from typing import Any

from ordercycle.policies.outcomes import outcome

__all__ = ["outcome", "same_decision", "without_reason"]


def without_reason(decision_json: dict[str, Any]) -> dict[str, Any]:
    """The decision's JSON form without its ``reason``."""
    return {key: value for key, value in decision_json.items() if key != "reason"}


def same_decision(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether two decisions (JSON forms) agree on everything but the reason."""
    return without_reason(first) == without_reason(second)
