"""Counterfactual replay: what a candidate bundle would have decided on the logged contexts.

Every logged request is re-decided by the candidate's policy for its kind (kinds the
candidate does not cover are counted as skipped) and compared with the logged
decision. A decision *differs* when any field but the reason differs
(:func:`~.outcomes.same_decision`). Per decision kind the report gives how often the
candidate differs, how outcomes move (``accept -> reject`` …) with the ids concerned,
and a kind-specific measure of *how* it differs: price and lead-time changes for
quotes, rank displacement for rankings, forecast changes, shift changes, billed
amounts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ordercycle.policies.bundle import Bundle
from ordercycle.policies.service.log import Filters, query
from ordercycle.policies.service.outcomes import outcome, same_decision
from ordercycle.policies.service.schemas import route_schemas

MAX_IDS = 20
"""At most this many example ids are listed per outcome change."""

ID_FIELDS = {"selection": "order_id", "expedite": "order_id", "returns": "order_id", "debrief": "ticket_id",
             "pricing": "inquiry_id", "billing": "customer_id", "forecast": "product_id",
             "capacity": "work_centre", "dispatch": "work_centre", "overtime": "work_centre",
             "staff_overtime": "pool"}
"""The context field that names what a decision was about, for the examples listed."""


@dataclass
class KindReport:
    """How a candidate would have decided one kind of decision differently.

    Attributes:
        decision: the decision kind.
        replayed: logged decisions re-decided.
        differing: how many the candidate decides differently (ignoring the reason).
        errors: contexts on which the candidate's policy raised, or that no longer validate.
        outcome_changes: ``"accept -> reject"`` -> count.
        examples: ``"accept -> reject"`` -> the first ids concerned (see :data:`ID_FIELDS`).
        measures: kind-specific averages of the change (see :func:`measure`).
    """

    decision: str
    replayed: int = 0
    differing: int = 0
    errors: int = 0
    outcome_changes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Any]] = field(default_factory=dict)
    sums: Counter[str] = field(default_factory=Counter)

    @property
    def difference_rate(self) -> float | None:
        """Share of replayed decisions that differ."""
        return self.differing / self.replayed if self.replayed else None

    def measures(self) -> dict[str, float]:
        """Kind-specific mean changes, over the replayed decisions."""
        if not self.replayed:
            return {}
        return {name: total / self.replayed for name, total in sorted(self.sums.items())}

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"decision": self.decision, "replayed": self.replayed, "differing": self.differing,
                "difference_rate": self.difference_rate, "errors": self.errors,
                "outcome_changes": dict(sorted(self.outcome_changes.items())),
                "examples": self.examples, "mean_changes": self.measures()}


def _displacement(logged: list[int], candidate: list[int]) -> tuple[float, int]:
    """Mean absolute change of position of the ranked ids, and the largest change."""
    position = {}
    for index, order_id in enumerate(candidate):
        position.setdefault(order_id, index)
    moves = [abs(position.get(order_id, index) - index) for index, order_id in enumerate(logged)]
    return (sum(moves) / len(moves), max(moves)) if moves else (0.0, 0)


def measure(kind: str, logged: dict[str, Any], candidate: dict[str, Any]) -> dict[str, float]:
    """Kind-specific size of the change from ``logged`` to ``candidate`` (JSON forms)."""
    match kind:
        case "pricing":
            old, new = logged["unit_price"], candidate["unit_price"]
            return {"unit_price_change": new - old,
                    "unit_price_change_rate": (new - old) / old if old else 0.0,
                    "promised_lead_days_change":
                        candidate["promised_lead_days"] - logged["promised_lead_days"]}
        case "priority":
            mean_move, max_move = _displacement(logged["order_ids"], candidate["order_ids"])
            first_changed = float(logged["order_ids"][:1] != candidate["order_ids"][:1])
            return {"rank_displacement": mean_move, "max_rank_displacement": float(max_move),
                    "first_order_changed": first_changed}
        case "forecast":
            return {"planned_units_change": candidate["planned_units"] - logged["planned_units"],
                    "abs_planned_units_change": abs(candidate["planned_units"] - logged["planned_units"])}
        case "capacity":
            return {"shifts_change": float(candidate["shifts"] - logged["shifts"])}
        case "billing":
            old = sum(line["amount"] for line in logged["lines"])
            return {"billed_amount_change": sum(line["amount"] for line in candidate["lines"]) - old}
        case "selection":
            old_days = logged.get("renegotiated_lead_days") or 0.0
            new_days = candidate.get("renegotiated_lead_days") or 0.0
            return {"renegotiated_lead_days_change": new_days - old_days}
        case "schedule":
            old_plans = {plan["work_centre"]: plan["job_ids"] for plan in logged["centres"]}
            changed = sum(old_plans.get(plan["work_centre"]) != plan["job_ids"]
                          for plan in candidate["centres"])
            return {"centres_resequenced": float(changed)}
    return {}


@dataclass
class ReplayReport:
    """The replay of a decision log by a candidate bundle."""

    candidate_hash: str
    kinds: dict[str, KindReport]
    skipped: Counter[str]

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"candidate_bundle": self.candidate_hash,
                "decisions": [report.as_dict() for _, report in sorted(self.kinds.items())],
                "skipped_not_in_candidate": dict(sorted(self.skipped.items()))}


def replay(path: str | Path, candidate: Bundle, filters: Filters | None = None) -> ReplayReport:
    """Re-decide every logged decision matching ``filters`` with ``candidate``'s policies
    (``path``: a SQLite log or a ``postgresql://`` URL).

    Raises:
        DecisionLogError: if ``path`` is not a decision log.
    """
    schemas = route_schemas()
    kinds: dict[str, KindReport] = {}
    skipped: Counter[str] = Counter()
    for row in query(path, filters or Filters()):
        kind = row["decision"]
        if kind not in candidate.policies or kind not in schemas:
            skipped[kind] += 1
            continue
        schema, report = schemas[kind], kinds.setdefault(kind, KindReport(kind))
        logged = row["response"]
        report.replayed += 1
        try:
            context = schema.context_from_json(row["request"])
        except ValueError:  # logged before a domain range it breaks was declared: not decidable now
            report.errors += 1
            continue
        try:
            decided = getattr(candidate.policies[kind], schema.method)(context)
        except Exception:  # a candidate that cannot decide a logged context is part of the report
            report.errors += 1
            continue
        new = schema.decision_dict(decided)
        if same_decision(logged, new):
            continue
        report.differing += 1
        report.sums.update(measure(kind, logged, new))
        label = outcome(kind, context, decided)
        change = f"{row['outcome']} -> {label}"
        if row["outcome"] != label:
            report.outcome_changes[change] += 1
            examples = report.examples.setdefault(change, [])
            id_field = ID_FIELDS.get(kind)
            if id_field and len(examples) < MAX_IDS:
                examples.append(getattr(context, id_field))
    return ReplayReport(candidate.content_hash, kinds, skipped)
