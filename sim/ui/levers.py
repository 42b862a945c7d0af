"""The scenario's key levers as form fields, generated from its JSON Schema.

The workbench does not keep a list of inputs of its own: the fields of each lever group
(staff per pool, work centres and their shifts, information sharing, costs, demand) are
the scalar properties the scenario's JSON Schema (``ordercycle scenario schema``) gives
for that part of the scenario — type, bounds and description included. A submitted form
is written into the scenario's data and validated by the scenario schema itself, so an
invalid value gets the schema's own ``path: reason`` line (``staff.entry_clerks: input
should be greater than or equal to 1 (got 0)``), shown beside the field it names.

Demand has one lever the schema does not hold: a factor on every segment's inquiry rate
(``segments.*.arrivals.rate_per_day``, as a sweep scales it).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ordercycle.scenarios.experiment_files import apply_point
from ordercycle.scenarios.loader import ScenarioError, parse
from ordercycle.scenarios.schema import Scenario

DEMAND_SCALE = "demand_scale"
"""Name of the demand lever: a factor on every segment's inquiry rate."""
FULL_FORM = "levers_form"
"""A hidden input of the lever form: present, an absent checkbox means unticked (false)."""
RATE_PATH = "segments.*.arrivals.rate_per_day"
"""What the demand lever scales (a sweep's dotted path)."""


@dataclass(frozen=True)
class LeverField:
    """One input of a lever form.

    Attributes:
        path: the dotted scenario path it sets (``work_centres.0.initial_shifts``), the path
            the schema's error lines name.
        label: what it is, in words.
        help: the schema's description.
        kind: ``integer``, ``number``, ``boolean`` or ``choice``.
        value: the current value as the form shows it (empty for null).
        nullable: whether an empty field means null.
        choices: the allowed values of a ``choice``.
        bounds: the schema's range in words (``at least 1``, ``between 1 and 3``).
        minimum: lowest value, for the input's spinner (the schema's, exclusive or not).
        maximum: highest value, for the spinner.
    """

    path: str
    label: str
    help: str
    kind: str
    value: str
    nullable: bool = False
    choices: tuple[str, ...] = ()
    bounds: str = ""
    minimum: float | None = None
    maximum: float | None = None

    @property
    def step(self) -> str:
        """The input's step: 1 for whole numbers, any for others."""
        return "1" if self.kind == "integer" else "any"


@dataclass
class LeverGroup:
    """A titled part of the lever form: the fields of one part of the scenario."""

    title: str
    intro: str
    fieldsets: list[tuple[str, str, list[LeverField]]] = field(default_factory=list)
    """``(legend, path prefix, fields)`` — one per scenario element (a work centre, a segment)."""

    @property
    def fields(self) -> list[LeverField]:
        """Every field of the group."""
        return [f for _, _, fields in self.fieldsets for f in fields]


@cache
def scenario_schema() -> dict[str, Any]:
    """The scenario's JSON Schema (what ``ordercycle scenario schema`` prints)."""
    return Scenario.model_json_schema()


def _resolve(node: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """A property's schema with ``$ref`` followed and ``anyOf [X, null]`` unwrapped; and whether null is
    allowed."""
    defs = scenario_schema().get("$defs", {})
    nullable = False
    node = dict(node)
    if "anyOf" in node:
        options = [option for option in node["anyOf"] if option.get("type") != "null"]
        nullable = len(options) < len(node["anyOf"])
        if len(options) != 1:
            return {}, nullable
        node = {**{k: v for k, v in node.items() if k != "anyOf"}, **options[0]}
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node, nullable


def _bounds(node: Mapping[str, Any]) -> tuple[str, float | None, float | None]:
    low, high = node.get("minimum"), node.get("maximum")
    above, below = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    lower = f"at least {low:g}" if low is not None else f"above {above:g}" if above is not None else None
    upper = f"at most {high:g}" if high is not None else f"below {below:g}" if below is not None else None
    if low is not None and high is not None:
        words = [f"between {low:g} and {high:g}"]
    else:  # the lower bound first: "above 0, at most 10000"
        words = [w for w in (lower, upper) if w]
    return ", ".join(words), (low if low is not None else above), (high if high is not None else below)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else repr(value)
    return str(value)


def _label(name: str) -> str:
    return name.replace("_", " ")


def _scalar_field(path: str, name: str, node: Mapping[str, Any], value: Any) -> LeverField | None:
    """A field for a scalar property, or None for sections, lists, maps and distributions."""
    resolved, nullable = _resolve(node)
    kind = resolved.get("type")
    help_text = str(node.get("description") or resolved.get("description") or "")
    bounds, low, high = _bounds(resolved)
    if "enum" in resolved:
        return LeverField(path, _label(name), help_text, "choice", _text(value), nullable,
                          tuple(str(choice) for choice in resolved["enum"]))
    if kind in ("integer", "number"):
        return LeverField(path, _label(name), help_text, kind, _text(value), nullable, (), bounds, low, high)
    if kind == "boolean":
        return LeverField(path, _label(name), help_text, "boolean", _text(value), nullable)
    return None


def _section_fields(prefix: str, definition: Mapping[str, Any], data: Mapping[str, Any],
                    skip: tuple[str, ...] = ()) -> list[LeverField]:
    """Fields of every scalar property of a section, and of every entry of its maps of numbers."""
    fields = []
    for name, node in definition.get("properties", {}).items():
        if name in skip:
            continue
        path = f"{prefix}.{name}"
        made = _scalar_field(path, name, node, data.get(name))
        if made is not None:
            fields.append(made)
            continue
        resolved, _ = _resolve(node)
        values = resolved.get("additionalProperties")
        if resolved.get("type") == "object" and isinstance(values, dict) and "type" in values:
            for key, value in (data.get(name) or {}).items():
                entry = _scalar_field(f"{path}.{key}", f"{name}: {key}", values, value)
                if entry is not None:
                    fields.append(LeverField(entry.path, entry.label, str(node.get("description", "")),
                                             entry.kind, entry.value, entry.nullable, entry.choices,
                                             entry.bounds, entry.minimum, entry.maximum))
    return fields


def _definition(name: str) -> dict[str, Any]:
    return scenario_schema()["$defs"][name]


def lever_groups(data: Mapping[str, Any], demand_scale: float = 1.0) -> list[LeverGroup]:
    """The lever form of a scenario (its JSON form, ``model_dump(mode="json")``)."""
    demand = LeverGroup("Demand", "How many inquiries each customer segment sends. The factor multiplies "
                        "every segment's rate (as a sweep scales it); the rates below are before the factor.")
    demand.fieldsets.append(("every segment", DEMAND_SCALE, [LeverField(
        DEMAND_SCALE, "demand factor", "multiplies every segment's inquiry rate (1: as the scenario says)",
        "number", _text(demand_scale), bounds="above 0", minimum=0.0)]))
    segment_definition = _definition("Segment")
    arrivals_definition = _definition("Arrivals")
    for i, segment in enumerate(data.get("segments", [])):
        prefix = f"segments.{i}"
        fields = [made for made in (
            _scalar_field(f"{prefix}.customers", "customers", segment_definition["properties"]["customers"],
                          segment.get("customers")),
            _scalar_field(f"{prefix}.arrivals.rate_per_day", "inquiries per day",
                          arrivals_definition["properties"]["rate_per_day"],
                          segment.get("arrivals", {}).get("rate_per_day")),
        ) if made is not None]
        demand.fieldsets.append((f"segment {segment.get('id', i)}", prefix, fields))

    staff = LeverGroup("Staff", "People per department (each works on one task at a time) and what an hour "
                       "of theirs costs.")
    staff.fieldsets.append(("staff pools", "staff", _section_fields("staff", _definition("Staff"),
                                                                     data.get("staff", {}))))

    centres = LeverGroup("Work centres and shifts", "Machines, staffed 8-hour shifts and their costs.")
    centre_definition = _definition("WorkCentre")
    for i, centre in enumerate(data.get("work_centres", [])):
        prefix = f"work_centres.{i}"
        centres.fieldsets.append((f"work centre {centre.get('id', i)}", prefix,
                                  _section_fields(prefix, centre_definition, centre, skip=("id",))))

    information = LeverGroup("Information sharing", "What production, the warehouse and the carriers tell "
                             "sales when it quotes (the essay's order generation step).")
    information.fieldsets.append(("information", "information", _section_fields(
        "information", _definition("Information"), data.get("information", {}))))

    costs = LeverGroup("Costs", "Costs of changeovers, plan changes, stock and disputes.")
    costs.fieldsets.append(("costs", "costs", _section_fields("costs", _definition("Costs"),
                                                               data.get("costs", {}))))
    return [demand, staff, centres, information, costs]


def _set(data: Any, path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _typed(lever: LeverField, text: str | None) -> Any:
    """The submitted text as the value to validate: numbers as numbers where they read as one
    (else the text, for the schema to refuse), an unticked box as false, an empty field as null."""
    if lever.kind == "boolean":
        return text in ("on", "true", "1", "yes")
    text = (text or "").strip()
    if text == "" and lever.nullable:
        return None
    if lever.kind == "integer":
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    if lever.kind == "number":
        try:
            return float(text)
        except ValueError:
            return text
    return text


@dataclass
class LeverResult:
    """What a submitted lever form gave: the scenario data (valid or not) and the problems by path."""

    data: dict[str, Any]
    demand_scale: float | str
    problems: dict[str, list[str]]
    """Field or fieldset path -> its ``path: reason`` lines; ``""`` for lines no field names."""

    @property
    def valid(self) -> bool:
        """Whether the scenario validated."""
        return not self.problems


def field_for(line: str, paths: list[str]) -> str:
    """The field (or fieldset) path a ``path: reason`` line belongs to: the longest given path the
    line's path starts with; ``""`` when none does."""
    where = line.split(": ", 1)[0]
    best = ""
    for path in paths:
        if (where == path or where.startswith(path + ".")) and len(path) > len(best):
            best = path
    return best


def apply_levers(data: Mapping[str, Any], form: Mapping[str, str], demand_scale: float = 1.0) -> LeverResult:
    """Write the submitted form into the scenario data and validate it with the scenario schema."""
    groups = lever_groups(data, demand_scale)
    changed: dict[str, Any] = copy.deepcopy(dict(data))
    scale: float | str = demand_scale
    problems: dict[str, list[str]] = {}
    for group in groups:
        for lever in group.fields:
            if lever.path == DEMAND_SCALE:
                text = (form.get(DEMAND_SCALE) or "").strip()
                try:
                    scale = float(text)
                except ValueError:
                    scale = text
                if not isinstance(scale, float) or not scale > 0 or scale == float("inf"):
                    problems[DEMAND_SCALE] = [f"{DEMAND_SCALE}: must be a number above 0 (got {text!r})"]
                continue
            if lever.path not in form and (lever.kind != "boolean" or FULL_FORM not in form):
                continue  # not in this form: keep the value (an unticked box is absent from a full form)
            _set(changed, lever.path, _typed(lever, form.get(lever.path)))
    try:
        parse(changed)
    except ScenarioError as error:
        paths = [lever.path for group in groups for lever in group.fields]
        paths += [prefix for group in groups for _, prefix, _ in group.fieldsets]
        for line in error.problems:
            problems.setdefault(field_for(line, paths), []).append(line)
    return LeverResult(changed, scale, problems)


def effective(scenario: Scenario, demand_scale: float) -> Scenario:
    """The scenario with the demand factor applied (the company that is simulated)."""
    if demand_scale == 1.0:
        return scenario
    return apply_point(scenario, {RATE_PATH: {"scale": demand_scale}})
