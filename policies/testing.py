"""Conformance checks that every policy, built-in or plug-in, must pass.

Each check is a plain function ``check_xxx(policy_cls)`` that builds the policy with
its defaults, asks it to decide the :func:`example_contexts` of its decision kind and
raises ``AssertionError`` naming the policy and what broke. Plug-in authors run the
same checks in their CI, either all at once::

    from ordercycle.policies.testing import check_policy
    check_policy(MyPolicy)

or as one pytest case per (policy, check)::

    @parametrize_with_checks([MyPolicy, MyOtherPolicy])
    def test_conformance(policy_cls, check):
        check(policy_cls)

A policy may declare written exemptions as a class attribute,
``expected_failed_checks = {"check_picklable": "holds a solver handle"}``; those cases
are marked as expected failures (strict, so a fixed policy must drop its exemption).
This module needs pytest only inside :func:`parametrize_with_checks`.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import math
import pickle
import random
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types

from ordercycle.policies.base import Policy, PolicyParameterError, build, params_model
from ordercycle.policies.contexts import (
    BillingContext,
    CapacityContext,
    CapacityPlan,
    DispatchContext,
    DispatchDecision,
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
    from_json,
    to_json,
)
from ordercycle.policies.examples import example_contexts, labelled_examples  # re-exported: the suite's API
from ordercycle.policies.registry import DECISION_SPECS, DECISIONS, DecisionSpec

__all__ = [
    "DECISION_SPECS", "DecisionSpec", "example_contexts", "labelled_examples", "policy_examples",
    "check_policy", "all_checks", "parametrize_with_checks",
]

TIME_LIMIT_SLACK_SECONDS = 1.0
"""Time a decision may take beyond its policy's ``time_limit_seconds`` (model building)."""


def policy_examples(policy_cls: type[Policy]) -> dict[str, Any]:
    """The examples a policy can be asked, as the simulation would ask it.

    Selection policies see only contexts of their ``decider`` (juniors do not see
    margins), and only contexts with a capacity outlook when they declare
    ``needs_capacity_outlook``; billing policies see consulted lines (shipped units and agreed price
    filled) exactly when they ``consults``.

    Raises:
        AssertionError: when no example fits (e.g. an unknown ``decider``).
    """
    examples = labelled_examples(_spec_kind(policy_cls))
    if policy_cls.decision == "selection":
        examples = {k: c for k, c in examples.items() if c.decider == policy_cls.decider
                    and (c.capacity_outlook is not None or not policy_cls.needs_capacity_outlook)}
    elif policy_cls.decision == "billing":
        examples = {k: c for k, c in examples.items()
                    if all((line.shipped_units is not None) == policy_cls.consults for line in c.lines)}
    _expect(examples, f"{_pid(policy_cls)}: no example context fits this policy (check decider/consults)")
    return examples


# --- helpers ---------------------------------------------------------------------------


def _pid(policy_cls: type) -> str:
    try:
        return policy_cls.policy_id()  # type: ignore[attr-defined]
    except Exception:  # a broken plug-in still gets a readable name
        return f"{policy_cls.__module__}.{policy_cls.__qualname__}"


def _spec_kind(policy_cls: type) -> str:
    kind = getattr(policy_cls, "decision", None)
    if kind not in DECISION_SPECS:
        raise AssertionError(
            f"{_pid(policy_cls)}: unknown decision kind {kind!r} (known: {sorted(DECISION_SPECS)})")
    return kind


def _make(policy_cls: type[Policy], params: dict[str, Any] | None = None) -> Policy:
    try:
        return build(policy_cls, params or {})
    except Exception as error:
        raise AssertionError(
            f"{_pid(policy_cls)}: cannot be built with {params or 'its defaults'}: {error}") from error


def _decide(policy: Policy, label: str, context: Any) -> Any:
    method = DECISION_SPECS[_spec_kind(type(policy))].method
    try:
        return getattr(policy, method)(context)
    except Exception as error:
        raise AssertionError(
            f"{_pid(type(policy))}: {method}() raised {type(error).__name__}: {error} on example {label!r}"
        ) from error


def _decide_all(policy: Policy, examples: dict[str, Any]) -> dict[str, Any]:
    return {label: _decide(policy, label, context) for label, context in examples.items()}


def _expect(condition: Any, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` (survives ``python -O``)."""
    if not condition:
        raise AssertionError(message)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _json_round_trip(value: Any, kind: type) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydantic warns when a field holds the wrong type
        return from_json(kind, json.loads(json.dumps(to_json(value), allow_nan=False)))


# --- checks: construction and parameters -------------------------------------------


def check_policy_metadata(policy_cls: type[Policy]) -> None:
    """Declared decision kind and base class, name, version, summary, docstring and flags."""
    pid, kind = _pid(policy_cls), _spec_kind(policy_cls)
    base = DECISIONS[kind]
    _expect(issubclass(policy_cls, base), f"{pid}: must subclass {base.__name__} (decision {kind!r})")
    name = vars(policy_cls).get("name")
    _expect(
        isinstance(name, str) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name),
        f"{pid}: `name` must be declared on the class in lower-case-with-hyphens, got {name!r}")
    version = policy_cls.version
    _expect(
        isinstance(version, int) and not isinstance(version, bool) and version >= 1,
        f"{pid}: `version` must be an int >= 1, got {version!r}")
    summary = policy_cls.summary
    _expect(
        isinstance(summary, str) and summary.strip() and "\n" not in summary,
        f"{pid}: `summary` must be one non-empty line, got {summary!r}")
    _expect((policy_cls.__doc__ or "").strip(), f"{pid}: the class needs a docstring (what it does, source)")
    flags: dict[str, tuple[str, set[Any]]] = {
        "selection": ("decider", {"junior", "senior"}),
        "billing": ("consults", {True, False}),
        "priority": ("time_dependent", {True, False}),
    }
    if kind in flags:
        attribute, allowed = flags[kind]
        value = getattr(policy_cls, attribute)
        _expect(
            type(value) in (str, bool) and value in allowed,
            f"{pid}: `{attribute}` must be one of {sorted(allowed, key=str)}, got {value!r}")
    if kind == "selection":
        needs = getattr(policy_cls, "needs_capacity_outlook", False)
        _expect(type(needs) is bool, f"{pid}: `needs_capacity_outlook` must be True or False, got {needs!r}")
        _expect(not needs or policy_cls.decider == "senior",
                f"{pid}: only a senior decider gets a capacity outlook (needs_capacity_outlook with "
                f"decider {policy_cls.decider!r})")


def check_expected_failed_checks(policy_cls: type[Policy]) -> None:
    """Written exemptions name known checks and give a reason (cannot itself be exempted)."""
    pid = _pid(policy_cls)
    exemptions = getattr(policy_cls, "expected_failed_checks", {})
    _expect(isinstance(exemptions, dict), f"{pid}: expected_failed_checks must be a dict {{check: reason}}")
    for name, reason in exemptions.items():
        _expect(
            name in _CHECKS and name != "check_expected_failed_checks",
            f"{pid}: expected_failed_checks names {name!r}, which is not an exemptible check")
        _expect(isinstance(reason, str) and reason.strip(), f"{pid}: exempting {name} needs a written reason")


class _Placeholder:
    """An arbitrary value ``__init__`` must store unchanged (it may not validate)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<placeholder for {self.name}>"


def _instance_attributes(policy: Policy) -> set[str]:
    names = set(getattr(policy, "__dict__", {}))
    for klass in type(policy).__mro__:
        slots = getattr(klass, "__slots__", ())
        names.update(s for s in ([slots] if isinstance(slots, str) else slots) if hasattr(policy, s))
    return names - {"__dict__", "__weakref__"}


def check_no_logic_in_init(policy_cls: type[Policy]) -> None:
    """``__init__`` only stores its keyword parameters, unchanged, and nothing else."""
    pid = _pid(policy_cls)
    parameters = [p for p in inspect.signature(policy_cls.__init__).parameters.values() if p.name != "self"]
    varargs = [p.name for p in parameters if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    _expect(not varargs, f"{pid}: __init__ takes {varargs}; declare every parameter by name")
    required = [p.name for p in parameters if p.default is inspect.Parameter.empty]
    _expect(not required, f"{pid}: parameters {required} have no default; every parameter needs one")
    try:
        policy = policy_cls()
    except Exception as error:
        raise AssertionError(f"{pid}: cannot be built with its defaults: {error}") from error
    names = {p.name for p in parameters}
    attributes = _instance_attributes(policy)
    _expect(
        attributes == names,
        f"{pid}: __init__ must set exactly its parameters {sorted(names)}; it also sets "
        f"{sorted(attributes - names)} and misses {sorted(names - attributes)} (fitted state ending "
        "in `_` is set when deciding, not in __init__)")
    for p in parameters:
        _expect(
            getattr(policy, p.name) is p.default,
            f"{pid}: __init__ changes parameter {p.name!r}: default {p.default!r}, "
            f"stored {getattr(policy, p.name)!r}")
    placeholders = {p.name: _Placeholder(p.name) for p in parameters}
    try:
        policy = policy_cls(**placeholders)
    except Exception as error:
        raise AssertionError(
            f"{pid}: __init__ validates or converts its parameters ({type(error).__name__}: {error}); "
            "declare types and ranges in the signature instead") from error
    for name, placeholder in placeholders.items():
        _expect(getattr(policy, name) is placeholder, f"{pid}: __init__ does not store {name!r} unchanged")


def check_params_json_round_trip(policy_cls: type[Policy]) -> None:
    """``get_params()`` is JSON, and rebuilding from that JSON gives an equal policy."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    params = policy.get_params()
    _expect(list(params) == policy_cls.param_names(), f"{pid}: get_params() keys differ from the signature")
    try:
        text = json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{pid}: get_params() {params!r} is not JSON: {error}") from error
    rebuilt = _make(policy_cls, json.loads(text))
    _expect(rebuilt == policy, f"{pid}: rebuilt from JSON {text} gives {rebuilt!r}, not {policy!r}")


class _Nonsense:
    """A value of no type a parameter could declare."""

    def __repr__(self) -> str:
        return "<nonsense>"


def _wrong_types(annotation: Any) -> list[Any]:
    """Values of the wrong type for ``annotation`` ([] when it accepts anything)."""
    if annotation is Any:
        return []
    origin = get_origin(annotation)
    if origin is Annotated:
        return _wrong_types(get_args(annotation)[0])
    if origin is Union or type(annotation).__name__ == "UnionType":
        args = [a for a in get_args(annotation) if a is not type(None)]
        return [v for v in _wrong_types(args[0]) if v is not None] if len(args) == 1 else [_Nonsense()]
    if origin is Literal:
        return ["not-one-of-" + "-".join(map(str, get_args(annotation)))]
    if annotation is bool:
        return ["maybe"]
    if annotation is int:
        return [2.5, "three"]
    if annotation is float:
        return ["fast"]
    if annotation is str or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return [12345]
    return [_Nonsense()]


def _out_of_range(metadata: Sequence[Any]) -> list[Any]:
    """Values just outside each declared bound (one below ``ge``, ``gt`` itself, …)."""
    bad: list[Any] = []
    for bound in metadata:
        limit: Any = getattr(bound, type(bound).__name__.lower(), None)
        if isinstance(bound, annotated_types.Ge):
            bad.append(limit - 1)
        elif isinstance(bound, annotated_types.Le):
            bad.append(limit + 1)
        elif isinstance(bound, annotated_types.Gt | annotated_types.Lt):
            bad.append(limit)
    return bad


def check_invalid_params_rejected(policy_cls: type[Policy]) -> None:
    """Out-of-range, wrong-type and unknown parameters raise ``PolicyParameterError`` naming them."""
    pid = _pid(policy_cls)
    cases: list[tuple[str, Any]] = [("no_such_parameter", 1)]
    for name, field in params_model(policy_cls).model_fields.items():
        wrong = _wrong_types(field.annotation)
        _expect(wrong, f"{pid}: parameter {name!r} declares no type, so no bad value can be rejected")
        cases += [(name, value) for value in [*_out_of_range(field.metadata), *wrong]]
    for name, value in cases:
        try:
            build(policy_cls, {name: value})
        except PolicyParameterError as error:
            _expect(
                any(p.startswith(f"params.{name}:") for p in error.problems),
                f"{pid}: rejecting {name}={value!r} should name params.{name}, got {error.problems}")
        except Exception as error:
            raise AssertionError(
                f"{pid}: {name}={value!r} raised {type(error).__name__}, not PolicyParameterError") from error
        else:
            raise AssertionError(f"{pid}: accepted the invalid parameter {name}={value!r}")


def check_picklable(policy_cls: type[Policy]) -> None:
    """The policy pickles (process pools, Dask) and the copy decides alike."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    try:
        clone = pickle.loads(pickle.dumps(policy))
    except Exception as error:
        raise AssertionError(f"{pid}: cannot be pickled: {type(error).__name__}: {error}") from error
    _expect(clone == policy, f"{pid}: unpickled {clone!r} differs from {policy!r}")
    examples = policy_examples(policy_cls)
    _expect(
        _decide_all(clone, examples) == _decide_all(policy, examples),
        f"{pid}: the unpickled copy decides differently")


# --- checks: decisions -------------------------------------------------------------


def check_decision_type_and_reason(policy_cls: type[Policy]) -> None:
    """Every example (edge cases too) gets a decision of the right type with a reason."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    spec, examples = DECISION_SPECS[policy_cls.decision], policy_examples(policy_cls)
    for label, decision in _decide_all(policy, examples).items():
        _expect(
            type(decision) is spec.decision,
            f"{pid}: {spec.method}() returned {type(decision).__name__} on {label!r}, "
            f"not {spec.decision.__name__}")
        reason = decision.reason
        _expect(isinstance(reason, str) and reason.strip(), f"{pid}: empty reason {reason!r} on {label!r}")


def check_deterministic(policy_cls: type[Policy]) -> None:
    """Same context, same decision: asked twice, by a fresh instance, in another order."""
    pid, examples = _pid(policy_cls), policy_examples(policy_cls)
    policy = _make(policy_cls)
    first = _decide_all(policy, examples)
    second = _decide_all(policy, examples)
    fresh = _make(policy_cls, policy.get_params())
    backwards = {label: _decide(fresh, label, examples[label]) for label in reversed(examples)}
    for label in examples:
        _expect(
            first[label] == second[label],
            f"{pid}: asked twice on {label!r}, decided {first[label]!r} then {second[label]!r}")
        _expect(
            first[label] == backwards[label],
            f"{pid}: a fresh instance decided {backwards[label]!r} on {label!r}, not {first[label]!r}")


def check_does_not_mutate_context(policy_cls: type[Policy]) -> None:
    """Deciding leaves the context exactly as it was."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    for label, context in policy_examples(policy_cls).items():
        before = copy.deepcopy(context)
        _decide(policy, label, context)
        _expect(context == before, f"{pid}: changed the context of {label!r}: {before!r} -> {context!r}")


def check_decision_leaves_params_unchanged(policy_cls: type[Policy]) -> None:
    """Deciding neither changes a parameter nor adds public attributes (fitted state ends in ``_``)."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    before = copy.deepcopy(policy.get_params())
    attributes = _instance_attributes(policy)
    _decide_all(policy, policy_examples(policy_cls))
    _expect(
        policy.get_params() == before,
        f"{pid}: deciding changed its parameters {before} -> {policy.get_params()}")
    added = sorted(a for a in _instance_attributes(policy) - attributes if not a.endswith("_"))
    _expect(not added, f"{pid}: deciding added attributes {added}; state kept between calls must end in `_`")


def check_decision_json_round_trip(policy_cls: type[Policy]) -> None:
    """Every decision goes to JSON (no NaN or infinity) and back unchanged."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    spec = DECISION_SPECS[policy_cls.decision]
    for label, decision in _decide_all(policy, policy_examples(policy_cls)).items():
        try:
            back = _json_round_trip(decision, spec.decision)
        except Exception as error:
            raise AssertionError(f"{pid}: decision on {label!r} is not JSON: {error}") from error
        _expect(
            back == decision,
            f"{pid}: decision on {label!r} comes back from JSON as {back!r}, not {decision!r}")


def check_context_json_round_trip(policy_cls: type[Policy]) -> None:
    """Every example context of the policy's kind goes to JSON and back unchanged."""
    pid, spec = _pid(policy_cls), DECISION_SPECS[_spec_kind(policy_cls)]
    for label, context in policy_examples(policy_cls).items():
        _expect(type(context) is spec.context, f"{pid}: example {label!r} is not a {spec.context.__name__}")
        try:
            back = _json_round_trip(context, spec.context)
        except Exception as error:
            raise AssertionError(f"{pid}: context {label!r} is not JSON: {error}") from error
        _expect(back == context, f"{pid}: context {label!r} comes back from JSON as {back!r}")


def _forecast_contract(context: ForecastContext, decision: Forecast) -> list[str]:
    figures = ("statistical_units", "marketing_units", "planned_units")
    return [f"{name} = {getattr(decision, name)!r} is not a finite number >= 0" for name in figures
            if not _number(getattr(decision, name)) or getattr(decision, name) < 0]


def _capacity_contract(context: CapacityContext, decision: CapacityPlan) -> list[str]:
    shifts = decision.shifts
    if isinstance(shifts, int) and not isinstance(shifts, bool) and 1 <= shifts <= context.max_shifts:
        return []
    return [f"shifts = {shifts!r}, expected an int in 1..{context.max_shifts}"]


def _inventory_contract(context: InventoryContext, decision: InventoryDecision) -> list[str]:
    units = decision.order_units
    if not isinstance(units, int) or isinstance(units, bool) or units < 0:
        return [f"order_units = {units!r}, expected an int >= 0"]
    if units % context.batch_units:
        return [f"order_units = {units} is not a whole number of batches of {context.batch_units}"]
    return []


def _fulfilment_contract(context: FulfilmentContext, decision: FulfilmentDecision) -> list[str]:
    ready = {line.line_id: line.ready_units for line in context.lines}
    problems, seen = [], set()
    for item in decision.lines:
        units = item.units
        if item.line_id not in ready:
            problems.append(f"line {item.line_id!r} is not a line of order {context.order_id}")
        elif item.line_id in seen:
            problems.append(f"line {item.line_id} appears twice in one shipment")
        elif not isinstance(units, int) or isinstance(units, bool) or not 0 < units <= ready[item.line_id]:
            problems.append(f"line {item.line_id}: units = {units!r}, "
                            f"expected an int in 1..{ready[item.line_id]}")
        seen.add(item.line_id)
    return problems


def _pricing_contract(context: QuoteContext, decision: Quote) -> list[str]:
    problems = []
    if not _number(decision.unit_price) or decision.unit_price <= 0:
        problems.append(f"unit_price = {decision.unit_price!r}, expected a finite price > 0")
    if not _number(decision.promised_lead_days) or decision.promised_lead_days < 0:
        problems.append(f"promised_lead_days = {decision.promised_lead_days!r}, expected finite >= 0")
    return problems


def _ranking_contract(context: RankingContext, decision: Ranking) -> list[str]:
    given, ranked = Counter(o.order_id for o in context.orders), Counter(decision.order_ids)
    if ranked == given:
        return []
    lost, extra = sorted((given - ranked).elements()), sorted((ranked - given).elements())
    return [f"ranking {decision.order_ids} is not a permutation of {tuple(given)}: "
            f"lost {lost}, invented or repeated {extra}"]


def _dispatch_contract(context: DispatchContext, decision: DispatchDecision) -> list[str]:
    candidates = [job.job_id for job in context.candidates]
    if decision.job_id in candidates:
        return []
    return [f"job {decision.job_id!r} is not one of the candidates {candidates}"]


def _schedule_contract(context: ScheduleContext, decision: SchedulePlan) -> list[str]:
    waiting = {queue.work_centre: Counter(job.job_id for job in queue.jobs) for queue in context.centres}
    problems = []
    planned = Counter(plan.work_centre for plan in decision.centres)
    repeated = sorted(centre for centre, count in planned.items() if count > 1)
    if repeated:
        problems.append(f"work centres planned more than once: {repeated}")
    for plan in decision.centres:
        if plan.work_centre not in waiting:
            problems.append(f"plan for unknown work centre {plan.work_centre!r}")
            continue
        given, sequence = waiting[plan.work_centre], Counter(plan.job_ids)
        if sequence != given:
            lost, extra = sorted((given - sequence).elements()), sorted((sequence - given).elements())
            problems.append(f"{plan.work_centre}: plan {plan.job_ids} is not a permutation of the waiting "
                            f"jobs {tuple(given)}: lost {lost}, invented or repeated {extra}")
        figures = (plan.weighted_tardiness, plan.changeover_hours, plan.moved_jobs)
        if not all(_number(x) and x >= 0 for x in figures):
            problems.append(f"{plan.work_centre}: weighted_tardiness, changeover_hours and moved_jobs must "
                            f"be finite and >= 0, got {figures}")
    return problems


def _billing_contract(context: BillingContext, decision: InvoiceDecision) -> list[str]:
    wanted = Counter(line.order_id for line in context.lines)
    billed = Counter(line.order_id for line in decision.lines)
    problems = [] if billed == wanted else [f"invoice lines for orders {sorted(billed.elements())}, "
                                            f"expected exactly {sorted(wanted.elements())}"]
    for line in decision.lines:
        figures = (line.amount, line.unit_price, line.units)
        if not (all(_number(x) and x >= 0 for x in figures) and isinstance(line.units, int)):
            problems.append(f"invoice line {line!r} needs units, unit_price and amount finite and >= 0")
    return problems


def _selection_contract(context: SelectionContext, decision: SelectionDecision) -> list[str]:
    problems = _boolean_contract("accept")(context, decision)
    later = getattr(decision, "renegotiated_lead_days", None)
    if later is not None:
        promised = context.promised_lead_days
        if not decision.accept:
            problems.append(f"renegotiated_lead_days = {later!r} on a rejected order")
        if not _number(later) or later < 0 or (promised is not None and later < promised):
            problems.append(f"renegotiated_lead_days = {later!r} must be finite, >= 0 and not before "
                            f"the promise {promised!r}")
    return problems


def _returns_contract(context: ReturnContext, decision: ReturnDecision) -> list[str]:
    problems = _boolean_contract("approve")(context, decision)
    for name in ("pickup_booking_days", "refund_delay_days"):
        delay = getattr(decision, name, 0.0)
        if not _number(delay) or delay < 0:
            problems.append(f"{name} = {delay!r}, expected a finite delay >= 0")
    return problems


def _boolean_contract(field: str) -> Callable[[Any, Any], list[str]]:
    def contract(context: Any, decision: Any) -> list[str]:
        value = getattr(decision, field)
        return [] if isinstance(value, bool) else [f"{field} = {value!r} is not a bool"]
    return contract


def _overtime_contract(context: OvertimeContext, decision: OvertimeDecision) -> list[str]:
    hours = decision.hours
    if not _number(hours) or hours < 0:
        return [f"hours = {hours!r}, expected a finite number >= 0"]
    if hours > context.hours_to_next_shift + 1e-9:
        return [f"hours = {hours!r} runs into the next shift ({context.hours_to_next_shift} h away)"]
    return []


def _staff_overtime_contract(context: StaffOvertimeContext, decision: StaffOvertimeDecision) -> list[str]:
    hours = decision.hours
    if not _number(hours) or hours < 0:
        return [f"hours = {hours!r}, expected a finite number >= 0"]
    if hours > context.hours_to_next_opening + 1e-9:
        return [f"hours = {hours!r} runs into the next opening ({context.hours_to_next_opening} h away)"]
    return []


_CONTRACTS: dict[str, Callable[[Any, Any], list[str]]] = {
    "forecast": _forecast_contract, "capacity": _capacity_contract, "pricing": _pricing_contract,
    "inventory": _inventory_contract, "fulfilment": _fulfilment_contract,
    "selection": _selection_contract, "priority": _ranking_contract, "dispatch": _dispatch_contract,
    "schedule": _schedule_contract, "expedite": _boolean_contract("grant"), "billing": _billing_contract,
    "returns": _returns_contract, "debrief": _boolean_contract("debrief"), "overtime": _overtime_contract,
    "staff_overtime": _staff_overtime_contract,
}


def check_output_contract(policy_cls: type[Policy]) -> None:
    """The decision is usable by the model (e.g. a ranking is a permutation of the input ids)."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    examples = policy_examples(policy_cls)
    for label, decision in _decide_all(policy, examples).items():
        problems = _CONTRACTS[policy_cls.decision](examples[label], decision)
        _expect(not problems, f"{pid}: on {label!r}: " + "; ".join(problems))


def check_ranking_order_invariance(policy_cls: type[Policy]) -> None:
    """The ranking does not depend on the order the orders are given in."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    for label, context in policy_examples(policy_cls).items():
        expected = _decide(policy, label, context).order_ids
        shuffled = list(context.orders)
        random.Random(len(shuffled)).shuffle(shuffled)
        for orders in (tuple(reversed(context.orders)), tuple(shuffled)):
            got = _decide(policy, label, RankingContext(context.now, orders)).order_ids
            _expect(
                got == expected,
                f"{pid}: on {label!r} the ranking depends on input order: {expected} vs {got} for input "
                f"{tuple(o.order_id for o in orders)}; break ties by release time, then order id")


def check_ranking_follows_key(policy_cls: type[Policy]) -> None:
    """``rank`` sorts by (expedites first, ``key``, release time, order id), as the queues do."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    for label, context in policy_examples(policy_cls).items():
        try:
            order = sorted(context.orders, key=lambda o: (not o.expedited, policy.key(o, context.now),
                                                          o.released_at, o.order_id))
        except Exception as error:
            raise AssertionError(f"{pid}: key() fails or is not comparable on {label!r}: {error}") from error
        expected, got = tuple(o.order_id for o in order), _decide(policy, label, context).order_ids
        _expect(got == expected, f"{pid}: on {label!r} rank() gives {got}, its key() gives {expected}")


def check_key_time_independent(policy_cls: type[Policy]) -> None:
    """A policy with ``time_dependent = False`` has keys that do not change while orders wait."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    for label, context in policy_examples(policy_cls).items():
        for order in context.orders:
            try:
                now, later = policy.key(order, context.now), policy.key(order, context.now + 13.5)
            except Exception as error:
                raise AssertionError(f"{pid}: key() fails on {label!r}: {error}") from error
            _expect(
                now == later,
                f"{pid}: key of order {order.order_id} on {label!r} changes with time ({now!r} -> {later!r}) "
                "but the policy declares time_dependent = False")


def check_dispatch_expedites_first(policy_cls: type[Policy]) -> None:
    """An expedited candidate runs first, whatever the machine's setup family.

    On every example, each candidate in turn is made the only expedited one (and put
    first, as the priority order puts expedites); then all are expedited (the first must
    run). The rule is :func:`ordercycle.policies.sequencing.expedited_candidate`.
    """
    pid, policy = _pid(policy_cls), _make(policy_cls)
    for label, context in policy_examples(policy_cls).items():
        variants = []
        for job in context.candidates:
            others = tuple(dataclasses.replace(c, expedited=False)
                           for c in context.candidates if c.job_id != job.job_id)
            variants.append((f"{label} with job {job.job_id} expedited", job.job_id,
                             (dataclasses.replace(job, expedited=True), *others)))
        everyone = tuple(dataclasses.replace(c, expedited=True) for c in context.candidates)
        variants.append((f"{label} with every job expedited", everyone[0].job_id, everyone))
        for name, expected, candidates in variants:
            got = _decide(policy, name, dataclasses.replace(context, candidates=candidates)).job_id
            _expect(got == expected,
                    f"{pid}: on {name!r} (current family {context.current_family!r}) it ran job {got}, "
                    f"not the expedited job {expected}: an expedited job jumps the queue "
                    "(see ordercycle.policies.sequencing.expedited_candidate)")


def check_fulfilment_honours_partial_deliveries(policy_cls: type[Policy]) -> None:
    """A policy declaring ``honours_partial_deliveries`` never ships part of an order to a customer
    who does not accept partial deliveries: on every example whose context says so, it ships
    nothing, or every unit still owed (each line ready in full) at once."""
    pid, policy = _pid(policy_cls), _make(policy_cls)
    for label, context in policy_examples(policy_cls).items():
        if context.accepts_partial_deliveries:
            continue
        shipped = {item.line_id: item.units for item in _decide(policy, label, context).lines}
        owed = {line.line_id: line.quantity - line.shipped_units for line in context.lines
                if line.quantity > line.shipped_units}
        _expect(not shipped or shipped == owed,
                f"{pid}: on {label!r} it ships {shipped} to a customer who does not accept partial "
                f"deliveries; only nothing or everything still owed ({owed}) may leave")


def _test_time_limit(policy_cls: type[Policy]) -> float:
    field = params_model(policy_cls).model_fields["time_limit_seconds"]
    default = field.default
    if isinstance(default, int | float) and default <= 1.0:
        return float(default)
    try:
        build(policy_cls, {"time_limit_seconds": 1.0})
    except PolicyParameterError:
        return float(default)
    return 1.0


def check_time_limit(policy_cls: type[Policy]) -> None:
    """Every decision returns within ``time_limit_seconds`` plus :data:`TIME_LIMIT_SLACK_SECONDS`."""
    pid, limit = _pid(policy_cls), _test_time_limit(policy_cls)
    policy = _make(policy_cls, {"time_limit_seconds": limit})
    for label, context in policy_examples(policy_cls).items():
        started = time.perf_counter()
        _decide(policy, label, context)
        elapsed = time.perf_counter() - started
        _expect(
            elapsed <= limit + TIME_LIMIT_SLACK_SECONDS,
            f"{pid}: took {elapsed:.2f} s on {label!r} with time_limit_seconds={limit:g} "
            f"(slack {TIME_LIMIT_SLACK_SECONDS:g} s)")


# --- running the checks --------------------------------------------------------------

_CHECKS: dict[str, Callable[[type[Policy]], None]] = {
    check.__name__: check for check in (
        check_policy_metadata, check_expected_failed_checks, check_no_logic_in_init,
        check_params_json_round_trip, check_invalid_params_rejected, check_picklable,
        check_decision_type_and_reason, check_deterministic, check_does_not_mutate_context,
        check_decision_leaves_params_unchanged, check_decision_json_round_trip,
        check_context_json_round_trip, check_output_contract, check_ranking_order_invariance,
        check_ranking_follows_key, check_key_time_independent, check_dispatch_expedites_first,
        check_fulfilment_honours_partial_deliveries, check_time_limit,
    )
}


def all_checks(policy_cls: type[Policy]) -> Iterator[tuple[str, Callable[[type[Policy]], None]]]:
    """The checks that apply to ``policy_cls``, as (check name, check) pairs."""
    kind = getattr(policy_cls, "decision", None)
    for name, check in _CHECKS.items():
        if name in ("check_ranking_order_invariance", "check_ranking_follows_key") and kind != "priority":
            continue
        if name == "check_key_time_independent" and (kind != "priority" or policy_cls.time_dependent):
            continue
        if name == "check_dispatch_expedites_first" and kind != "dispatch":
            continue
        if name == "check_fulfilment_honours_partial_deliveries" and not (
                kind == "fulfilment" and getattr(policy_cls, "honours_partial_deliveries", False)):
            continue
        if name == "check_time_limit" and "time_limit_seconds" not in _param_names(policy_cls):
            continue
        yield name, check


def _param_names(policy_cls: type[Policy]) -> list[str]:
    try:
        return policy_cls.param_names()
    except Exception:
        return []


def _exemptions(policy_cls: type[Policy]) -> dict[str, str]:
    exemptions = getattr(policy_cls, "expected_failed_checks", {})
    if not isinstance(exemptions, dict):
        return {}  # check_expected_failed_checks reports it
    return {k: str(v) for k, v in exemptions.items() if k != "check_expected_failed_checks"}


def check_policy(policy_cls: type[Policy]) -> None:
    """Run every check on ``policy_cls``.

    Checks listed in the class's ``expected_failed_checks`` may fail; one that passes
    anyway gives a warning (drop the exemption).

    Raises:
        AssertionError: listing every check that failed and why.
    """
    exemptions, failures = _exemptions(policy_cls), []
    for name, check in all_checks(policy_cls):
        try:
            check(policy_cls)
        except AssertionError as error:
            if name not in exemptions:
                failures.append(f"{name}: {error}")
        else:
            if name in exemptions:
                message = f"{_pid(policy_cls)} passes {name}, exempted as {exemptions[name]!r}"
                warnings.warn(message, stacklevel=2)
    if failures:
        raise AssertionError(f"{_pid(policy_cls)} fails {len(failures)} check(s):\n" + "\n".join(failures))


def parametrize_with_checks(classes: Sequence[type[Policy]]) -> Any:
    """A ``pytest.mark.parametrize`` over (``policy_cls``, ``check``), one id per policy and check.

    Ids read ``<policy id>-<check name>``, e.g. ``priority/fifo@1-check_deterministic``.
    Exempted checks are strict expected failures.
    """
    import pytest  # only test runs need pytest

    cases = []
    for policy_cls in classes:
        exemptions = _exemptions(policy_cls)
        for name, check in all_checks(policy_cls):
            marks = ([pytest.mark.xfail(reason=exemptions[name], raises=AssertionError, strict=True)]
                     if name in exemptions else [])
            cases.append(pytest.param(policy_cls, check, id=f"{_pid(policy_cls)}-{name}", marks=marks))
    return pytest.mark.parametrize(("policy_cls", "check"), cases)
