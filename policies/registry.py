"""The policy registry: every policy by decision kind and name.

:data:`DECISION_SPECS` is the one table of decision kinds (method, context and
decision types, base class); :data:`DECISIONS` derives from it. Built-in policies are
listed here; third-party packages add theirs through the
``ordercycle.policies`` entry-point group (``name = "package.module:Class"``), loaded
lazily the first time the registry is read. Scenarios and bundles refer to policies
by name only: nothing is ever imported from a path found in a file.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from ordercycle.policies.aftersales import BillingPolicy, DebriefPolicy, ReturnsPolicy
from ordercycle.policies.base import Policy, PolicyParameterError, build
from ordercycle.policies.commercial import PricingPolicy, SelectionPolicy
from ordercycle.policies.contexts import (
    BillingContext,
    CapacityContext,
    CapacityPlan,
    DebriefContext,
    DebriefDecision,
    DispatchContext,
    DispatchDecision,
    ExpediteContext,
    ExpediteDecision,
    Forecast,
    ForecastContext,
    FulfilmentContext,
    FulfilmentDecision,
    InventoryContext,
    InventoryDecision,
    InvoiceDecision,
    OvertimeContext,
    OvertimeDecision,
    Quote,
    QuoteContext,
    Ranking,
    RankingContext,
    ReturnContext,
    ReturnDecision,
    ScheduleContext,
    SchedulePlan,
    SelectionContext,
    SelectionDecision,
    StaffOvertimeContext,
    StaffOvertimeDecision,
)
from ordercycle.policies.forecasting import ForecastPolicy
from ordercycle.policies.fulfilment import FulfilmentPolicy
from ordercycle.policies.inventory import InventoryPolicy
from ordercycle.policies.overtime import OvertimePolicy, StaffOvertimePolicy
from ordercycle.policies.planning import CapacityPolicy
from ordercycle.policies.replanning import SchedulingPolicy
from ordercycle.policies.sequencing import DispatchPolicy, ExpeditePolicy, PriorityPolicy


@dataclass(frozen=True)
class DecisionSpec:
    """How a decision kind is asked.

    Attributes:
        method: the policy method that takes the context and returns the decision
            (``rank`` for priority: the simulation's queues sort by ``key``, from which
            :meth:`~ordercycle.policies.sequencing.PriorityPolicy.rank` derives).
        context: type of the context.
        decision: type of the decision.
        base: the base class every policy of the kind derives from.
    """

    method: str
    context: type
    decision: type
    base: type[Policy]


DECISION_SPECS: dict[str, DecisionSpec] = {
    "forecast": DecisionSpec("forecast", ForecastContext, Forecast, ForecastPolicy),
    "capacity": DecisionSpec("plan", CapacityContext, CapacityPlan, CapacityPolicy),
    "inventory": DecisionSpec("review", InventoryContext, InventoryDecision, InventoryPolicy),
    "pricing": DecisionSpec("quote", QuoteContext, Quote, PricingPolicy),
    "selection": DecisionSpec("select", SelectionContext, SelectionDecision, SelectionPolicy),
    "priority": DecisionSpec("rank", RankingContext, Ranking, PriorityPolicy),
    "dispatch": DecisionSpec("dispatch", DispatchContext, DispatchDecision, DispatchPolicy),
    "schedule": DecisionSpec("schedule", ScheduleContext, SchedulePlan, SchedulingPolicy),
    "expedite": DecisionSpec("expedite", ExpediteContext, ExpediteDecision, ExpeditePolicy),
    "fulfilment": DecisionSpec("ship", FulfilmentContext, FulfilmentDecision, FulfilmentPolicy),
    "billing": DecisionSpec("invoice", BillingContext, InvoiceDecision, BillingPolicy),
    "returns": DecisionSpec("review_return", ReturnContext, ReturnDecision, ReturnsPolicy),
    "debrief": DecisionSpec("debrief", DebriefContext, DebriefDecision, DebriefPolicy),
    "overtime": DecisionSpec("extend", OvertimeContext, OvertimeDecision, OvertimePolicy),
    "staff_overtime": DecisionSpec("extend", StaffOvertimeContext, StaffOvertimeDecision,
                                   StaffOvertimePolicy),
}
"""The one table of decision kinds: method name, context and decision types, base class."""

DECISIONS: dict[str, type[Policy]] = {kind: spec.base for kind, spec in DECISION_SPECS.items()}
"""Decision kind -> the base class every policy of that kind derives from (from :data:`DECISION_SPECS`)."""

BUILTIN_MODULES = (
    "ordercycle.policies.planning",
    "ordercycle.policies.inventory",
    "ordercycle.policies.forecasting",
    "ordercycle.policies.field_informed",
    "ordercycle.policies.commercial",
    "ordercycle.policies.acceptance",
    "ordercycle.policies.sequencing",
    "ordercycle.policies.replanning",
    "ordercycle.policies.fulfilment",
    "ordercycle.policies.aftersales",
    "ordercycle.policies.overtime",
)
"""Modules whose concrete policy classes (those defining ``name``) are built in."""


def builtin_policies() -> list[type[Policy]]:
    """Every concrete policy class defined in :data:`BUILTIN_MODULES`, in source order."""
    found: list[type[Policy]] = []
    for module_name in BUILTIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue  # an optional built-in module not (yet) present
            raise
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Policy) and "name" in vars(value)
                    and value.__module__ == module_name):
                found.append(value)
    return found


ENTRY_POINT_GROUP = "ordercycle.policies"


@cache
def registry() -> dict[str, dict[str, type[Policy]]]:
    """Decision kind -> policy name -> class, built-ins first, then plug-ins."""
    table: dict[str, dict[str, type[Policy]]] = {kind: {} for kind in DECISIONS}
    for cls in builtin_policies():
        register(cls, table)
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        cls = entry.load()
        register(cls, table)
    return table


def register(cls: type[Policy], table: dict[str, dict[str, type[Policy]]] | None = None) -> None:
    """Add a policy class to the registry (plug-ins, tests).

    Raises:
        TypeError: if ``cls`` does not derive from its decision's base class.
        ValueError: if the name is taken by another class.
    """
    table = registry() if table is None else table
    kind = getattr(cls, "decision", None)
    if kind not in DECISIONS or not issubclass(cls, DECISIONS[kind]):
        raise TypeError(f"{cls!r} must subclass one of the decision bases {sorted(DECISIONS)}")
    known = table[kind].get(cls.name)
    if known is not None and known is not cls:
        raise ValueError(f"policy name {kind}/{cls.name} is taken by {known!r}")
    table[kind][cls.name] = cls


def lookup(decision: str, name: str, where: str = "") -> type[Policy]:
    """The class registered as ``name`` for ``decision``."""
    where = where or f"policies.{decision}"
    if decision not in DECISIONS:
        known_kinds = ", ".join(DECISIONS)
        raise PolicyParameterError([f"{where}: unknown decision {decision!r} (known: {known_kinds})"])
    known = registry()[decision]
    if name not in known:
        raise PolicyParameterError(
            [f"{where}.name: unknown policy {name!r} for {decision} (known: {', '.join(sorted(known))})"]
        )
    return known[name]


def make(decision: str, name: str, params: dict[str, Any] | None = None) -> Policy:
    """Build a validated policy instance by decision and name."""
    cls = lookup(decision, name)
    return build(cls, params or {}, where=f"policies.{decision}.params")


@dataclass(frozen=True)
class PolicyInstances:
    """One built policy per decision of the cycle."""

    forecast: ForecastPolicy
    capacity: CapacityPolicy
    inventory: InventoryPolicy
    pricing: PricingPolicy
    selection: SelectionPolicy
    priority: PriorityPolicy
    dispatch: DispatchPolicy
    schedule: SchedulingPolicy
    expedite: ExpeditePolicy
    fulfilment: FulfilmentPolicy
    billing: BillingPolicy
    returns: ReturnsPolicy
    debrief: DebriefPolicy
    overtime: OvertimePolicy
    staff_overtime: StaffOvertimePolicy


def make_all(choices: dict[str, dict[str, Any]]) -> PolicyInstances:
    """Build every policy from ``{decision: {"name": …, "params": {…}}}``.

    Raises:
        PolicyParameterError: listing every unknown name or bad parameter at once.
    """
    built: dict[str, Policy] = {}
    problems: list[str] = []
    for decision in DECISIONS:
        choice = choices[decision]
        try:
            built[decision] = make(decision, choice["name"], choice.get("params") or {})
        except PolicyParameterError as error:
            problems.extend(error.problems)
    if problems:
        raise PolicyParameterError(problems)
    return PolicyInstances(**built)  # type: ignore[arg-type]
