"""The rules every number of a scenario keeps, in one place: finite, not a boolean, bounded.

Every model of the scenario schema derives from :class:`ScenarioModel` (every
distribution form from :class:`DistributionModel`), so the rules hold for every field,
nested lists and mappings of numbers included, without a word on the field itself:

- **finite**: ``NaN`` and ``±Infinity`` (``.nan`` / ``.inf`` in YAML, or a literal that
  overflows, such as ``1e999``) are refused — a run would crash on them or compute
  garbage;
- **not a boolean**: ``machines: true`` is refused (pydantic would read it as 1);
- **bounded**: no number exceeds :data:`MAX_MAGNITUDE` in magnitude; fields that set how
  much the model has to simulate have tighter maxima of their own (``Field(le=…)``, in
  the scenario reference), and :data:`MAX_EXPECTED_INQUIRIES` bounds a run as a whole.

Fields typed ``object`` (policy parameters, the embedded snapshot) are left to the
checks of their own (the policy registry, the snapshot schema).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

MAX_MAGNITUDE = 1e9
"""Largest magnitude of any number in a scenario (money, days, hours, units, counts)."""
MAX_EXPECTED_INQUIRIES = 2_000_000
"""Most inquiries a scenario may expect over its horizon (every segment's rate, with trend and
seasonality at their highest): about ten minutes of simulation at the ~3,000 inquiries per
second measured on the baseline."""

Walk = Callable[[Any], Iterator[tuple[str, Any]]]
"""Yields ``(where, value)`` for every place of a field's value where its type expects a number
(``where`` is the path below the field: ``""``, ``"3"``, ``"profit"``)."""


def _leaf(value: Any) -> Iterator[tuple[str, Any]]:
    yield "", value


def _below(key: object, where: str) -> str:
    return f"{key}.{where}" if where else str(key)


def _items(inner: Walk) -> Walk:
    def walk(value: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                for where, leaf in inner(item):
                    yield _below(index, where), leaf

    return walk


def _values(inner: Walk) -> Walk:
    def walk(value: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(value, dict):
            for key, item in value.items():
                for where, leaf in inner(item):
                    yield _below(key, where), leaf

    return walk


def number_places(annotation: Any) -> Walk | None:
    """How to find the numbers in a value of a field's type, or ``None`` when the type holds no
    number to check (a string, a boolean, a date, a literal, ``object``, a nested model: models
    check their own fields)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (int, float):
        return _leaf
    if origin is Annotated:
        return number_places(args[0])
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in args if arg is not type(None)]
        walks = [walk for walk in map(number_places, members) if walk is not None]
        if len(walks) != 1 or any(arg in (bool, object, Any) for arg in members):
            return None  # number or None is the only union of a number in the schema
        return walks[0]
    if origin in (list, tuple) and args:
        inner = number_places(args[0])
        return _items(inner) if inner else None
    if origin is dict and len(args) == 2:
        inner = number_places(args[1])
        return _values(inner) if inner else None
    return None


NUMBER_ERROR = "scenario_number"
"""The pydantic error type of these rules; its context holds ``below`` (the path below the
field, ``""`` for the field itself) and ``reason``, so messages can name the exact place."""


def _problem(where: str, reason: str) -> PydanticCustomError:
    context = {"below": where, "below_prefix": f"{where}: " if where else "", "reason": reason}
    return PydanticCustomError(NUMBER_ERROR, "{below_prefix}{reason}", context)


def _no_boolean(walk: Walk | None, value: Any, prefix: str = "") -> None:
    for where, leaf in walk(value) if walk is not None else ():
        if isinstance(leaf, bool):
            raise _problem(_below(prefix, where) if prefix else where,
                           f"a boolean is not a number (got {str(leaf).lower()})")


class _NumberRules(BaseModel):
    """Finite numbers (pydantic's ``allow_inf_nan=False``) within :data:`MAX_MAGNITUDE`."""

    model_config = ConfigDict(allow_inf_nan=False)
    _number_places: ClassVar[dict[str, Walk | None]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields = cls.model_fields.items()
        cls._number_places = {name: number_places(field.annotation) for name, field in fields}

    @field_validator("*", mode="after")
    @classmethod
    def _within_magnitude(cls, value: Any, info: ValidationInfo) -> Any:
        walk = cls._number_places.get(info.field_name or "")
        for where, leaf in walk(value) if walk is not None else ():
            if isinstance(leaf, int | float) and not abs(leaf) <= MAX_MAGNITUDE:
                raise _problem(where, f"must be at most {MAX_MAGNITUDE:,.0f} in magnitude (got {leaf:g})")
        return value


class ScenarioModel(_NumberRules):
    """Base of every scenario model: its numbers are finite, not booleans, and bounded."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        _no_boolean(cls._number_places.get(info.field_name or ""), value)
        return value


class DistributionModel(_NumberRules):
    """Base of the distribution forms: the same rules, the boolean check on the whole mapping
    (a field validator may not touch the ``dist`` discriminator), naming the parameter."""

    @model_validator(mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                _no_boolean(cls._number_places.get(name), value, str(name))
        return data
