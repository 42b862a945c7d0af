"""HTTP schemas of the decision routes, generated from the decision contexts and decisions.

The simulation's frozen dataclasses (:mod:`ordercycle.policies.contexts`) are the single
source of the fields. For requests this module builds a pydantic model per dataclass
with the same field names and types plus the service's bounds: every number finite and
within ``±MAX_NUMBER`` (integers within JSON's safe range), every string at most
``MAX_STRING`` characters, every list at most ``max_items`` long; scalars are strict
(``false`` is not a number, ``1`` is not a string; an integer is a valid number and
``3.0`` a valid integer, as in JSON Schema). The domain ranges the dataclasses declare
(``quantity >= 0``, ``machines >= 1`` …) are kept, so the OpenAPI document names them
and an out-of-range request is refused (422) naming the field. A validated request
model is turned back into the very dataclass the simulation builds
(:meth:`RouteSchema.to_context`), so policies see the same values in both.

**Instants** — fields marked :data:`~ordercycle.policies.contexts.INSTANT` (``now``,
``due_date``, ``released_at`` …) — are days on the simulation clock, or an ISO 8601 local
date-time string (:data:`~.clock.LOCAL_TIME`) that the validator turns into those days
with the bundle's clock (:meth:`~.clock.CompanyClock.parse_days`) *before* the field's
bounds and domain range apply, so a policy sees the same days either way and a date
before day 0 is refused where a negative day is. Without a calendar (``route_schemas``
without ``start_date``) a string is refused naming the field and the reason.

Responses are serialised from the decision dataclasses directly; their documented
schema comes from unbounded models generated the same way, plus the optional ISO 8601
companions of the instants a decision implies (:data:`~.clock.COMPANIONS`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, create_model
from pydantic_core import PydanticCustomError, SchemaValidator, core_schema

from ordercycle.policies.contexts import INSTANT
from ordercycle.policies.examples import DECISION_SPECS, labelled_examples
from ordercycle.policies.service.clock import COMPANIONS, LOCAL_TIME_PATTERN, CompanyClock

MAX_NUMBER = 1e12
"""Largest magnitude of a number in a request (days, hours, units, money)."""
MAX_INTEGER = 2**53 - 1
"""Largest magnitude of an integer in a request (ids, counts): exact in every JSON reader."""
MAX_STRING = 200
"""Longest string in a request (ids, segment names, reason codes)."""
DEFAULT_MAX_ITEMS = 10_000
"""Default bound on every list in a request (orders to rank, jobs, history periods)."""

MIN_ITEMS: dict[tuple[str, str], int] = {("DispatchContext", "candidates"): 1}
"""Lists that must not be empty: (context type, field) -> fewest items (a free machine
choosing among no candidates is not a question)."""

ROUTE_NAMES: dict[str, str] = {
    "forecast": "forecast",
    "capacity": "capacity",
    "inventory": "replenish",
    "pricing": "quote",
    "selection": "select",
    "priority": "prioritize",
    "dispatch": "dispatch",
    "schedule": "schedule",
    "expedite": "expedite",
    "fulfilment": "ship",
    "billing": "invoice",
    "returns": "return",
    "debrief": "debrief",
    "overtime": "overtime",
    "staff_overtime": "staff-overtime",
}
"""Decision kind -> the last path segment of its route (``POST /v1/<name>``)."""


Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def instant_converter(start_date: date | None) -> Converter:
    """The before-validator of an instant field: an ISO 8601 string -> its days on the clock
    of ``start_date`` (anything else passes, for the number's own validation).

    Raises:
        PydanticCustomError: ``instant``, with the reason (no calendar, an offset, not a date-time).
    """
    clock = CompanyClock(start_date)

    def to_days(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if len(value) > MAX_STRING:
            raise PydanticCustomError("instant", "String should have at most {max} characters",
                                      {"max": MAX_STRING})
        try:
            return clock.parse_days(value)
        except ValueError as error:
            raise PydanticCustomError("instant", str(error)) from None

    return to_days


@dataclass(frozen=True)
class _InstantJsonSchema:
    """An instant's JSON schema: the bounded number, or a local date-time string."""

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        number = handler(schema)
        return {"anyOf": [number, {"type": "string", "maxLength": MAX_STRING, "pattern": LOCAL_TIME_PATTERN}],
                "description": "An instant: days on the simulation clock, or an ISO 8601 local date-time "
                               "on the scenario's calendar (`2027-01-06T12:00`; a date alone is 00:00; "
                               "no UTC offset)."}


def _integral(value: Any) -> Any:
    """A JSON number with no fractional part (``3.0``) is an integer, as JSON Schema says."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INTEGER:
        return int(value)
    return value


class _Mapper:
    """Maps dataclass field types to pydantic annotations, and validated values back."""

    def __init__(self, bounded: bool, max_items: int, suffix: str, instant: Converter | None = None):
        self.bounded = bounded
        self.max_items = max_items
        self.suffix = suffix
        self.instant = instant
        self.models: dict[type, type[BaseModel]] = {}
        self.converters: dict[type, Converter] = {}

    def annotation(self, hint: Any, domain: tuple[Any, ...] = ()) -> tuple[Any, Converter]:
        """Pydantic annotation for a field type, and the converter of its validated value.

        ``domain``: the metadata of an ``Annotated`` field type (its domain range, e.g.
        ``Field(ge=0)``), placed after the service's bounds so that it overrides them.
        """
        origin = typing.get_origin(hint)
        if origin is Annotated:
            base, *metadata = typing.get_args(hint)
            return self.annotation(base, (*domain, *metadata))
        if origin in (types.UnionType, typing.Union):
            args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            if len(args) != 1:
                raise TypeError(f"unsupported union {hint!r}")
            inner, convert = self.annotation(args[0], domain)
            if convert is _identity:
                return inner | None, _identity
            return inner | None, lambda value: None if value is None else convert(value)
        if origin is tuple:
            args = typing.get_args(hint)
            if len(args) != 2 or args[1] is not Ellipsis:
                raise TypeError(f"unsupported tuple {hint!r}")
            inner, convert = self.annotation(args[0])
            bounds = {"max_length": self.max_items} if self.bounded else {}
            annotated = Annotated[(tuple[inner, ...], Field(**bounds), *domain)]  # type: ignore[valid-type]
            if convert is _identity:
                return annotated, _identity
            return annotated, lambda values: tuple(convert(v) for v in values)
        if dataclasses.is_dataclass(hint):
            return self.model(hint), self.converter(hint)
        if not self.bounded:
            return (Annotated[(hint, *domain)] if domain else hint), _identity
        if hint is float:
            bounds = Field(ge=-MAX_NUMBER, le=MAX_NUMBER, allow_inf_nan=False, strict=True)
            if self.instant is not None and INSTANT in domain:
                return Annotated[(float, BeforeValidator(self.instant), bounds, *domain,
                                  _InstantJsonSchema())], _identity
            return Annotated[(float, bounds, *domain)], _identity
        if hint is int:
            bounds = Field(ge=-MAX_INTEGER, le=MAX_INTEGER, strict=True)
            return Annotated[(int, bounds, *domain, BeforeValidator(_integral))], _identity
        if hint is str:
            return Annotated[(str, Field(max_length=MAX_STRING, strict=True), *domain)], _identity
        if hint is bool:
            return Annotated[(bool, Field(strict=True), *domain)], _identity
        raise TypeError(f"unsupported field type {hint!r}")

    def model(self, cls: type) -> type[BaseModel]:
        """The pydantic model mirroring dataclass ``cls``."""
        if cls in self.models:
            return self.models[cls]
        hints = typing.get_type_hints(cls, include_extras=True)
        fields: dict[str, Any] = {}
        converters: list[tuple[str, Converter]] = []
        for item in dataclasses.fields(cls):
            annotation, convert = self.annotation(hints[item.name])
            fewest = MIN_ITEMS.get((cls.__name__, item.name))
            if fewest and self.bounded:
                annotation = Annotated[annotation, Field(min_length=fewest)]
            if item.default is not dataclasses.MISSING:
                default: Any = item.default
            elif item.default_factory is not dataclasses.MISSING:
                default = item.default_factory()
            else:
                default = ...
            fields[item.name] = (annotation, default)
            converters.append((item.name, convert))
        model = create_model(
            f"{cls.__name__}{self.suffix}",
            __config__=ConfigDict(extra="forbid", frozen=True, title=cls.__name__),
            __doc__=(cls.__doc__ or "").strip(),
            **fields,
        )
        self.models[cls] = model
        names = tuple(name for name, _ in converters)
        plain = all(convert is _identity for _, convert in converters)

        if plain:
            def to_dataclass(value: BaseModel) -> Any:
                return cls(*(getattr(value, name) for name in names))
        else:
            def to_dataclass(value: BaseModel) -> Any:
                return cls(*(convert(getattr(value, name)) for name, convert in converters))

        self.converters[cls] = to_dataclass
        return model

    def converter(self, cls: type) -> Converter:
        """Converter from a validated model of ``cls`` to the dataclass."""
        self.model(cls)
        return self.converters[cls]


def _tighter(node: dict[str, Any], key: str, bound: float, pick: Callable[[float, float], float]) -> None:
    node[key] = pick(node[key], bound) if key in node else bound


@cache
def instant_fields() -> frozenset[tuple[str, str]]:
    """(dataclass name, field) of every instant field of the contexts (marked
    :data:`~ordercycle.policies.contexts.INSTANT`), nested dataclasses included."""
    found: set[tuple[str, str]] = set()
    seen: set[type] = set()

    def visit(hint: Any) -> None:
        for inner in typing.get_args(hint):
            visit(inner)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type) and hint not in seen:
            seen.add(hint)
            for name, field_hint in typing.get_type_hints(hint, include_extras=True).items():
                if typing.get_origin(field_hint) is Annotated and INSTANT in field_hint.__metadata__:
                    found.add((hint.__name__, name))
                visit(field_hint)

    for spec in DECISION_SPECS.values():
        visit(spec.context)
    return frozenset(found)


def _bounded_core(node: Any, max_items: int, owner: str = "", field: str = "",
                  instant: Converter | None = None) -> Any:
    """A copy of a pydantic core schema of a context dataclass with the service's bounds:
    the same rules :class:`_Mapper` writes into the request models (and so into the
    OpenAPI document), applied to the schema that validates JSON straight into the
    dataclasses. Constraints the dataclass declares itself (domain ranges) are kept where
    tighter; an instant field gets ``instant`` (:func:`instant_converter`) before its number."""
    if isinstance(node, list):
        return [_bounded_core(item, max_items, owner, field, instant) for item in node]
    kind = node["type"]
    node = dict(node)
    if kind == "definitions":
        node["definitions"] = _bounded_core(node["definitions"], max_items, instant=instant)
        node["schema"] = _bounded_core(node["schema"], max_items, instant=instant)
    elif kind == "dataclass":
        node["schema"] = _bounded_core(node["schema"], max_items, node["cls"].__name__, instant=instant)
    elif kind == "dataclass-args":
        node["extra_behavior"] = "forbid"
        node["fields"] = [{**item, "schema": _bounded_core(item["schema"], max_items, owner, item["name"],
                                                           instant)}
                          for item in node["fields"]]
    elif kind in ("default", "nullable"):
        node["schema"] = _bounded_core(node["schema"], max_items, owner, field, instant)
    elif kind == "tuple":
        node["items_schema"] = _bounded_core(node["items_schema"], max_items, instant=instant)
        _tighter(node, "max_length", max_items, min)
        fewest = MIN_ITEMS.get((owner, field))
        if fewest:
            _tighter(node, "min_length", fewest, max)
    elif kind == "float":
        node.update(allow_inf_nan=False, strict=True)
        _tighter(node, "ge", -MAX_NUMBER, max)
        _tighter(node, "le", MAX_NUMBER, min)
        if instant is not None and (owner, field) in instant_fields():
            return core_schema.no_info_before_validator_function(instant, node)
    elif kind == "int":
        node["strict"] = True
        _tighter(node, "ge", -MAX_INTEGER, max)
        _tighter(node, "le", MAX_INTEGER, min)
        return core_schema.no_info_before_validator_function(_integral, node)
    elif kind == "str":
        node["strict"] = True
        _tighter(node, "max_length", MAX_STRING, min)
    elif kind == "bool":
        node["strict"] = True
    elif kind != "definition-ref":
        raise TypeError(f"unsupported schema {kind!r} in {owner}.{field}")
    return node


def body_validator(cls: type, max_items: int = DEFAULT_MAX_ITEMS,
                   start_date: date | None = None) -> Callable[[bytes | str], Any]:
    """``validate_json(body) -> context``: parses a request body and validates it, with the
    service's bounds, straight into the context dataclass ``cls`` in one pass (pydantic-core
    builds the dataclasses: no intermediate model, no conversion). Instants may be ISO 8601
    local date-times on the calendar starting at ``start_date`` (none: refused).

    Raises:
        pydantic.ValidationError: naming every field at fault.
    """
    core = _bounded_core(_adapter(cls).core_schema, max_items, instant=instant_converter(start_date))
    return SchemaValidator(core).validate_json


@dataclass(frozen=True)
class RouteSchema:
    """Everything a decision route needs to know about its kind.

    Attributes:
        decision: the decision kind (``selection``).
        path: the route path (``/v1/select``).
        method: the policy method that decides (``select``).
        request_model: bounded pydantic model of the context.
        response_model: pydantic model documenting the decision.
        to_context: validated request model -> context dataclass.
        context_from_body: raw JSON body -> context dataclass, validated against the same
            bounds as ``request_model`` (:func:`body_validator`); what the routes use.
        context_type: the context dataclass.
        decision_type: the decision dataclass.
    """

    decision: str
    path: str
    method: str
    request_model: type[BaseModel]
    response_model: type[BaseModel]
    to_context: Converter
    context_from_body: Callable[[bytes | str], Any]
    context_type: type
    decision_type: type

    def decision_json(self, decision: Any) -> bytes:
        """Compact JSON of a decision (the response body and the logged response)."""
        return _adapter(self.decision_type).dump_json(decision)

    def context_json(self, context: Any) -> bytes:
        """Compact JSON of a context (the logged request)."""
        return _adapter(self.context_type).dump_json(context)

    def context_dict(self, context: Any) -> Any:
        """JSON-compatible form of a context (what a client posts)."""
        return _adapter(self.context_type).dump_python(context, mode="json")

    def decision_dict(self, decision: Any) -> Any:
        """JSON-compatible form of a decision (what the service answers)."""
        return _adapter(self.decision_type).dump_python(decision, mode="json")

    def context_from_json(self, data: Any) -> Any:
        """A context dataclass from its JSON form (replay of logged requests)."""
        return _adapter(self.context_type).validate_python(data)

    def decision_from_json(self, data: Any) -> Any:
        """A decision dataclass from its JSON form."""
        return _adapter(self.decision_type).validate_python(data)

    def openapi_examples(self) -> dict[str, dict[str, Any]]:
        """The conformance suite's example contexts, as OpenAPI request examples."""
        adapter = _adapter(self.context_type)
        return {
            label.replace(" ", "-").replace(",", ""): {"summary": label,
                                                      "value": adapter.dump_python(context, mode="json")}
            for label, context in labelled_examples(self.decision).items()
        }


@cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def _with_companions(model: type[BaseModel], decision: str) -> type[BaseModel]:
    """The response model with the optional ISO 8601 companions of ``decision``'s instants."""
    extra = {companion.name: (str | None, Field(None, description=companion.description + " ISO 8601 "
                                                "local date-time; answered with `Prefer: times=iso`."))
             for companion in COMPANIONS.get(decision, ())}
    if not extra:
        return model
    return create_model(model.__name__, __base__=model, __doc__=model.__doc__, **extra)  # type: ignore[call-overload]


@cache
def route_schemas(max_items: int = DEFAULT_MAX_ITEMS,
                  start_date: date | None = None) -> dict[str, RouteSchema]:
    """Decision kind -> its :class:`RouteSchema`, lists bounded to ``max_items``; instants may be
    ISO 8601 local date-times on the calendar whose day 0 is ``start_date`` (``None``: days only)."""
    instant = instant_converter(start_date)
    requests = _Mapper(bounded=True, max_items=max_items, suffix="", instant=instant)
    responses = _Mapper(bounded=False, max_items=max_items, suffix="")
    schemas = {}
    for decision, spec in DECISION_SPECS.items():
        schemas[decision] = RouteSchema(
            decision=decision,
            path=f"/v1/{ROUTE_NAMES[decision]}",
            method=spec.method,
            request_model=requests.model(spec.context),
            response_model=_with_companions(responses.model(spec.decision), decision),
            to_context=requests.converter(spec.context),
            context_from_body=body_validator(spec.context, max_items, start_date),
            context_type=spec.context,
            decision_type=spec.decision,
        )
    return schemas
