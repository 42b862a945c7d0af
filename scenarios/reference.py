"""The scenario reference: Markdown generated from the pydantic models of the schema.

``python -m ordercycle.scenarios.reference > docs/scenario-reference.md`` regenerates
the committed reference; a test checks that the file matches :func:`render_reference`.
Every model reachable from :class:`~ordercycle.scenarios.schema.Scenario` gets one
section (in the order a scenario file mentions them), with one table row per field:
type, default (or "required"), constraints and description. The distribution forms
of :mod:`ordercycle.scenarios.distributions` follow in their own section. The output
depends on the models only, so it is the same on every machine.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ordercycle.policies.input_files import MAX_DEPTH, MAX_YAML_NODES
from ordercycle.scenarios.distributions import Distribution
from ordercycle.scenarios.numbers import MAX_EXPECTED_INQUIRIES, MAX_MAGNITUDE
from ordercycle.scenarios.schema import Scenario

REGENERATE = "python -m ordercycle.scenarios.reference > docs/scenario-reference.md"
"""The command that rewrites the committed reference."""

DISTRIBUTIONS: tuple[type[BaseModel], ...] = typing.get_args(typing.get_args(Distribution)[0])
"""The distribution forms, in the order of the ``Distribution`` union."""

_NOTES: dict[str, list[str]] = {
    "Scenario": [
        "Ids are unique within `products`, `work_centres`, `segments` and `logistics_providers`.",
        "`warmup_days` must be less than `horizon_days`.",
        "Every `products[].routing[].work_centre` names a work centre; every "
        "`segments[].product_mix` key names a product; every `segments[].logistics_provider` "
        "names a provider.",
        "Every skill in `products[].installation_skills`, and `products[].service_skill` when "
        "`repair_probability` > 0, must be a key of `staff.technicians`.",
        f"The inquiries a run can expect — every segment's `rate_per_day`, grown by its "
        f"`trend_per_year` to the horizon's end and at its seasonal peak, times `horizon_days` — "
        f"are at most {MAX_EXPECTED_INQUIRIES:,} (about ten minutes of simulation).",
        "Every name in `objective` is a KPI of the scenario (`ordercycle scenario check` and the "
        "experiments check it against the KPIs a run computes).",
    ],
    "WorkCentre": ["`initial_shifts` must not exceed `max_shifts`.",
                   "Every entry of `changeover_matrix_hours` is >= 0."],
    "Segment": ["`product_mix` shares must be >= 0 and not all zero; they are normalised to sum to 1."],
    "Staff": ["Every `technicians` count must be >= 1."],
    "PolicySet": [
        "An entry may be written as a bare policy name (`priority: edd`), short for "
        "`{name: edd, params: {}}`.",
        "Policy names and parameters are checked against the policy registry when the "
        "simulation builds the policies (and by `ordercycle scenario check`); "
        "`ordercycle policies list` prints them.",
    ],
    "Uniform": ["`high` must be >= `low`."],
    "Triangular": ["Needs `low` <= `mode` <= `high` and `low` < `high`."],
}
"""Cross-field rules enforced by model validators (not visible in the field tables)."""


# --- walking the models ------------------------------------------------------------------


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _is_distribution(tp: Any) -> bool:
    members = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    return _is_union(tp) and bool(members) and set(members) == set(DISTRIBUTIONS)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _nested_models(tp: Any) -> Iterator[type[BaseModel]]:
    """Models (not distributions) mentioned by a field type, in order."""
    if _is_distribution(tp):
        return
    if _is_model(tp):
        yield tp
        return
    for arg in typing.get_args(tp):
        yield from _nested_models(arg)


def models() -> list[type[BaseModel]]:
    """Every model reachable from :class:`Scenario`, depth first in field order."""
    found: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        found.append(model)
        for field in model.model_fields.values():
            for nested in _nested_models(field.annotation):
                if nested not in found:
                    visit(nested)

    visit(Scenario)
    return found


def _paths() -> dict[type[BaseModel], list[str]]:
    """The YAML paths where each model appears (``[]`` marks a list item)."""
    paths: dict[type[BaseModel], list[str]] = {Scenario: [""]}

    def visit(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            tp = field.annotation
            path = f"{prefix}.{name}" if prefix else name
            if typing.get_origin(tp) is list:
                path += "[]"
            for nested in _nested_models(tp):
                if nested in paths:
                    paths[nested].append(path)
                else:
                    paths[nested] = [path]
                    visit(nested, path)

    visit(Scenario, "")
    return paths


# --- formatting ---------------------------------------------------------------------------


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def _type(tp: Any) -> str:
    """A short, readable name of a field type."""
    if _is_distribution(tp):
        return "[distribution](#distributions)"
    if _is_model(tp):
        return f"[{tp.__name__}](#{_anchor(tp)})"
    if tp is type(None):
        return "null"
    simple = {str: "string", float: "number", int: "integer", bool: "boolean", object: "any"}
    if tp in simple:
        return simple[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return " or ".join(f"`{value}`" for value in args)
    if _is_union(tp):
        return " or ".join(_type(arg) for arg in args)
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"mapping of {_type(args[0])} to {_type(args[1])}"
    return f"`{getattr(tp, '__name__', str(tp))}`"  # pragma: no cover - no such field today


def _number(value: float) -> str:
    return json.dumps(value)


def _constraints(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            parts.append(f">= {_number(item.ge)}")
        elif isinstance(item, annotated_types.Gt):
            parts.append(f"> {_number(item.gt)}")
        elif isinstance(item, annotated_types.Le):
            parts.append(f"<= {_number(item.le)}")
        elif isinstance(item, annotated_types.Lt):
            parts.append(f"< {_number(item.lt)}")
        elif isinstance(item, annotated_types.MinLen):
            parts.append(f"at least {item.min_length} item{'s' if item.min_length != 1 else ''}")
        elif isinstance(item, annotated_types.MaxLen):
            parts.append(f"at most {item.max_length} items")
    return ", ".join(parts)


def _json(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_defaults=True)
    return json.dumps(value, ensure_ascii=False)


def _all_defaults(model: type[BaseModel]) -> BaseModel | None:
    """The model built from its defaults alone (``None`` when a field is required)."""
    if any(field.is_required() for field in model.model_fields.values()):
        return None
    return model()


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel) and value == _all_defaults(type(value)):
        return "all defaults"
    text = f"`{_json(value)}`"
    if _is_distribution(field.annotation) and isinstance(value, int | float):
        text += " (fixed)"
    return text


def _description(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    if field.description:
        return field.description
    nested = list(_nested_models(field.annotation))
    if model in DISTRIBUTIONS and name == "dist":
        return "selects this form"
    if model.__name__ == "PolicySet":
        return f"the policy that takes the `{name}` decision"
    if len(nested) == 1:
        return _first_line(nested[0].__doc__)
    return ""


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0].strip() if doc and doc.strip() else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: type[BaseModel]) -> list[str]:
    lines = [
        "| field | type | default | constraints | description |",
        "|---|---|---|---|---|",
    ]
    for name, field in model.model_fields.items():
        cells = [f"`{name}`", _type(field.annotation), _default(field), _constraints(field),
                 _description(model, name, field)]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def _section(model: type[BaseModel], level: str, where: list[str] | None) -> list[str]:
    lines = [f"{level} {model.__name__}", "", _first_line(model.__doc__)]
    if where == [""]:
        lines[-1] += " The top level of a scenario file."
    elif where:
        label = "YAML path" if len(where) == 1 else "YAML paths"
        lines[-1] += f" {label}: " + ", ".join(f"`{path}`" for path in where) + "."
    lines += ["", *_table(model), ""]
    notes = _NOTES.get(model.__name__, [])
    if notes:
        lines += ["Also checked:", "", *(f"- {note}" for note in notes), ""]
    return lines


def render_reference() -> str:
    """The scenario reference as Markdown (deterministic: depends on the models only)."""
    paths = _paths()
    lines = [
        "# Scenario reference",
        "",
        "<!-- Generated by ordercycle.scenarios.reference; do not edit by hand. -->",
        f"<!-- Regenerate: {REGENERATE} -->",
        "",
        "A scenario is one YAML file describing one simulated company, its horizon and its "
        "policy set (see `scenarios/baseline.yaml`). Units: the clock runs in **days**, work "
        "content in **hours**, money in the scenario's `currency`; each description names its "
        "unit. Unknown keys are errors, never ignored. `ordercycle scenario check FILE` "
        "validates a file and `ordercycle scenario schema` prints the same format as JSON Schema.",
        "",
        f"Every number, in every section, is finite (`.nan`, `.inf` and literals that overflow are "
        f"refused), is not a boolean (`machines: true` is an error, not 1) and is at most "
        f"{MAX_MAGNITUDE:,.0f} in magnitude; the fields that set how much the model simulates have "
        "tighter maxima in their *constraints* (machines, customers, rates, trends, the horizon) and "
        "periods that repeat an event have minima. A scenario file is UTF-8 YAML of at most 4 MiB, "
        f"nested at most {MAX_DEPTH} levels, with aliases that expand to at most {MAX_YAML_NODES:,} values.",
        "",
        "Columns: *default* is the value used when the key is absent (\"required\": the key must "
        "be given; \"all defaults\": the section may be omitted and every field takes its own "
        "default); *constraints* are the bounds a value must satisfy.",
        "",
        "Sections:",
        "",
    ]
    all_models = models()
    lines += [f"- [{m.__name__}](#{_anchor(m)})" for m in all_models]
    lines += ["- [Distributions](#distributions): "
              + ", ".join(f"[{d.__name__}](#{_anchor(d)})" for d in DISTRIBUTIONS), ""]
    for model in all_models:
        lines += _section(model, "##", paths[model])
    lines += [
        "## Distributions",
        "",
        "A field of type *distribution* takes a mapping whose `dist` key chooses the form, "
        "e.g. `{dist: lognormal, mean: 2.0, cv: 0.5}`, or a bare number for a fixed value "
        "(`0.25` means `{dist: fixed, value: 0.25}`). The unit is the unit of the field. "
        "Each stochastic source draws from its own random stream.",
        "",
    ]
    for dist in DISTRIBUTIONS:
        lines += _section(dist, "###", None)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the reference (or write it to the path given as the only argument)."""
    args = sys.argv[1:] if argv is None else argv
    text = render_reference()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8", newline="\n")
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
