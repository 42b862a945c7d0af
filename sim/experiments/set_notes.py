"""What each compared set *is*: the decisions it changes, and the information its policies miss.

A comparison's reader must be able to credit the right change. :func:`set_notes` states,
for every set, the decisions whose policy or parameters differ from the reference set's
(with each policy's one-line summary from the registry), and, for every set including the
reference, the policies that use information the scenario does not share
(``information.*``) and what they do without it — e.g. ``informed-sales`` on a company
whose production and warehouse share nothing quotes exactly as ``list-price`` does.

The result is saved in ``experiment.json`` (``set_notes``), so the reports, which work on
saved tables and never import the policies, can say it and rebuild byte-identically.
"""

from __future__ import annotations

from typing import Any

from ordercycle.policies.registry import lookup
from ordercycle.scenarios.schema import PolicySet, Scenario

DECISIONS = tuple(PolicySet.model_fields)
"""Decision kinds in the order the scenario schema lists them."""


def _information_set(scenario: Scenario, setting: str) -> bool:
    value = getattr(scenario.information, setting, None)
    return value is not None and value is not False


def set_notes(scenario: Scenario, sets: dict[str, PolicySet], reference: str) -> dict[str, Any]:
    """``{"changes": {set: [change, ...]}, "information": {set: [sentence, ...]}}``.

    A change is ``{"decision", "policy", "params", "summary", "reference_policy",
    "reference_params"}`` for a decision whose policy or parameters differ from the
    reference set's (empty for the reference itself).
    """
    base = sets[reference].model_dump(mode="json")
    changes: dict[str, list[dict[str, Any]]] = {}
    information: dict[str, list[str]] = {}
    for name, policies in sets.items():
        mine = policies.model_dump(mode="json")
        changes[name] = [
            {"decision": kind, "policy": mine[kind]["name"], "params": mine[kind]["params"],
             "summary": lookup(kind, mine[kind]["name"]).summary,
             "reference_policy": base[kind]["name"], "reference_params": base[kind]["params"]}
            for kind in DECISIONS if mine[kind] != base[kind]
        ]
        notes = []
        for kind in DECISIONS:
            policy = lookup(kind, mine[kind]["name"])
            used = policy.information_used(mine[kind]["params"])
            missing = [setting for setting in used if not _information_set(scenario, setting)]
            core = policy.reads_information
            if core and policy.without_information and set(core) <= set(missing):
                where = " or ".join(f"information.{setting}" for setting in core)
                notes.append(f"{kind}: {policy.name} uses {where}, which the scenario does not set: "
                             f"it {policy.without_information}")
                missing = [setting for setting in missing if setting not in core]
            if missing:
                where = " and ".join(f"information.{setting}" for setting in missing)
                notes.append(f"{kind}: {policy.name} would use {where}, which the scenario does not set")
        information[name] = notes
    return {"changes": changes, "information": information}
