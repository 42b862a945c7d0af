"""The policy base class: estimator manners, declared and validated parameters.

A policy is a small class. ``__init__`` only stores its keyword parameters; their
types and ranges are declared in the signature with ``Annotated[..., Field(...)]``,
so :meth:`Policy.get_params` and the validation of a scenario or bundle can never
drift from the constructor. One method decides; its input is a frozen context and
its output a frozen decision carrying a ``reason`` (see :mod:`.contexts`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, create_model


class PolicyParameterError(ValueError):
    """Parameters that a policy does not accept; one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Policy:
    """Base class of every decision policy.

    Subclasses set ``decision`` (the decision kind), ``name`` (registered name),
    ``version`` and a one-line ``summary``, and implement the decision method of
    their kind (``forecast``, ``plan``, ``quote``, ``select``, ``key``, ``dispatch``,
    ``expedite``, ``invoice``, ``review_return``, ``debrief``).
    """

    decision: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[int] = 1
    summary: ClassVar[str] = ""
    reads_information: ClassVar[tuple[str, ...]] = ()
    """The scenario's ``information.*`` settings this policy uses when set (any of them)."""
    without_information: ClassVar[str] = ""
    """What the policy does when none of them is set (said in comparison reports)."""

    @classmethod
    def information_used(cls, params: dict[str, Any]) -> tuple[str, ...]:
        """The ``information.*`` settings this policy, with ``params``, uses when set."""
        return cls.reads_information

    @classmethod
    def policy_id(cls) -> str:
        """Versioned id, e.g. ``priority/fifo@1``."""
        return f"{cls.decision}/{cls.name}@{cls.version}"

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> list[str]:
        """Rules between parameters that a signature cannot state (e.g. s < S), checked by
        :func:`build` after each parameter's own type and range: one ``param: reason`` line
        per problem (none by default)."""
        return []

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor's keyword parameters."""
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values() if p.name != "self"]

    def get_params(self) -> dict[str, Any]:
        """The parameters this policy was built with (read from the signature)."""
        return {name: getattr(self, name) for name in self.param_names()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_params() == other.get_params()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_params().items()))))


@cache
def params_model(cls: type[Policy]) -> type[BaseModel]:
    """A pydantic model of ``cls``'s constructor parameters (types, ranges, defaults)."""
    fields: dict[str, Any] = {}
    hints = inspect.get_annotations(cls.__init__, eval_str=True)
    for param in inspect.signature(cls.__init__).parameters.values():
        if param.name == "self":
            continue
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    return create_model(f"{cls.__name__}Params", __config__=ConfigDict(extra="forbid", frozen=True), **fields)


def _number_only(annotation: Any) -> bool:
    """Whether a parameter's type takes numbers but not booleans (``int``, ``float``, their
    ``Annotated`` and optional forms): pydantic would read ``true`` there as 1."""
    if get_origin(annotation) is Annotated:
        return _number_only(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return bool(members) and all(_number_only(arg) for arg in members)
    return annotation in (int, float)


def _booleans_for_numbers(cls: type[Policy], params: Mapping[str, Any], where: str) -> list[str]:
    """``where.<param>: a boolean is not a number`` for each number parameter given ``true``/``false``."""
    hints = inspect.get_annotations(cls.__init__, eval_str=True)
    return [
        f"{where}.{name}: a boolean is not a number (got {str(value).lower()})"
        for name, value in params.items()
        if isinstance(value, bool) and _number_only(hints.get(name, Any))
    ]


def build(cls: type[Policy], params: dict[str, Any], where: str = "params") -> Policy:
    """Validate ``params`` against ``cls``'s signature and construct the policy.

    Raises:
        PolicyParameterError: naming ``where.<param>`` and the reason for each problem.
    """
    booleans = _booleans_for_numbers(cls, params, where)
    if booleans:
        raise PolicyParameterError(booleans)
    try:
        valid = params_model(cls).model_validate(params)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            path = ".".join([where, *(str(part) for part in item["loc"])])
            message = "unknown parameter" if item["type"] == "extra_forbidden" else item["msg"]
            if item["type"] not in {"extra_forbidden", "missing"}:
                message = f"{message} (got {item['input']!r})"
            problems.append(f"{path}: {message[:1].lower()}{message[1:]}")
        raise PolicyParameterError(problems) from None
    values = dict(valid)
    problems = cls.check_params(values)
    if problems:
        raise PolicyParameterError([f"{where}.{problem}" for problem in problems])
    return cls(**values)


def _plain(value: Any) -> str:
    """A parameter value as it is written in a scenario or on the command line (YAML)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value)
    return str(value)


def bounds_in_words(metadata: Iterable[Any]) -> str:
    """The range constraints of a parameter in words: ``at least 0``, ``between 0 and 1``, ``above 0 and
    below 1``; other constraints (validators) are left out."""
    low = high = None
    for item in metadata:
        for attribute, words, side in (
            ("ge", "at least", "low"),
            ("gt", "above", "low"),
            ("le", "at most", "high"),
            ("lt", "below", "high"),
        ):
            value = getattr(item, attribute, None)
            if value is not None and not isinstance(value, bool):
                if side == "low":
                    low = (words, value)
                else:
                    high = (words, value)
    if low and high:
        if low[0] == "at least" and high[0] == "at most":
            return f"between {_plain(low[1])} and {_plain(high[1])}"
        return f"{low[0]} {_plain(low[1])} and {high[0]} {_plain(high[1])}"
    bound = low or high
    return f"{bound[0]} {_plain(bound[1])}" if bound else ""


_TYPE_WORDS: dict[Any, str] = {
    int: "whole number",
    float: "number",
    bool: "true or false",
    str: "text",
    dict: "map",
    list: "list",
}


def type_in_words(annotation: Any) -> str:
    """A parameter's type in words: ``number``, ``whole number``, ``one of fifo, edd``, ``map of text to
    whole number at least 0, or none``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        inner, extra = args[0], args[1:]
        metadata = [m for item in extra for m in (getattr(item, "metadata", None) or [item])]
        bounds = bounds_in_words(metadata)
        return type_in_words(inner) + (f" {bounds}" if bounds else "")
    if origin is Literal:
        return "one of " + ", ".join(_plain(arg) for arg in args)
    if origin in (Union, UnionType):
        kinds = [type_in_words(arg) for arg in args if arg is not type(None)]
        optional = len(kinds) < len(args)
        return " or ".join(kinds) + (", or none" if optional else "")
    if origin in (dict, Mapping) and len(args) == 2:
        return f"map of {type_in_words(args[0])} to {type_in_words(args[1])}"
    if origin in (list, tuple, Sequence) and args:
        return f"list of {type_in_words(args[0])}"
    if annotation is Any:
        return "any value"
    return _TYPE_WORDS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def describe_params(cls: type[Policy]) -> list[dict[str, str]]:
    """Name, type, default and constraints of each parameter in words (for listings and docs).

    ``type`` is e.g. ``number`` or ``one of fifo, edd``; ``constraints`` the range in words
    (``between 0 and 1``, ``at least 0``, empty without one); ``default`` the value as a
    scenario would write it, or ``required``.
    """
    rows = []
    for name, field in params_model(cls).model_fields.items():
        rows.append(
            {
                "name": name,
                "type": type_in_words(field.annotation),
                "default": "required" if field.is_required() else _plain(field.default),
                "constraints": bounds_in_words(field.metadata),
                "description": field.description or "",
            }
        )
    return rows
