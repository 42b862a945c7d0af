"""Policy sets composed from the registry, and said in words as the comparison report says them.

The catalogue is the registry (``ordercycle policies list``): every policy with its one-line
summary and its parameters — type, default and bounds in words from the policy's own
signature (:func:`~ordercycle.policies.base.describe_params`), input kinds from the JSON
Schema of its parameter model. A parameter form is checked by
:func:`~ordercycle.policies.base.build`, so a bad value gets the registry's ``param: reason``
line. The sets are a sets file (``ordercycle compare --sets``); what each set changes, and the
information its policies miss, come from :func:`~ordercycle.sim.experiments.set_notes.set_notes`
and :func:`~ordercycle.reports.explain.set_descriptions` — the functions the report uses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ordercycle.policies.base import PolicyParameterError, build, describe_params, params_model
from ordercycle.policies.registry import lookup, registry
from ordercycle.reports.explain import set_descriptions
from ordercycle.scenarios.experiment_files import SetsFile, validate_file
from ordercycle.scenarios.loader import ScenarioError
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.experiments.replications import ExperimentError, resolve_sets
from ordercycle.sim.experiments.set_notes import DECISIONS, set_notes

SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
"""A set name: letters, digits, ``_ . -``, at most 40 characters (it names report rows and bundles)."""


@dataclass(frozen=True)
class ParamField:
    """One parameter of a policy as a form input.

    Attributes:
        name: the parameter.
        kind: ``integer``, ``number``, ``boolean``, ``choice`` or ``yaml`` (maps, lists, nullable
            values: read as YAML, as ``--policy`` reads them).
        default: the default as the form shows it.
        type_words: the type in words (``whole number``).
        bounds: the range in words (``between 1 and 104``).
        description: what it does.
        choices: the values of a ``choice``.
        minimum: lowest value for the spinner.
        maximum: highest value for the spinner.
    """

    name: str
    kind: str
    default: str
    type_words: str
    bounds: str
    description: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    @property
    def step(self) -> str:
        """The input's step."""
        return "1" if self.kind == "integer" else "any"


def param_fields(decision: str, name: str) -> list[ParamField]:
    """The parameters of a registered policy as form inputs."""
    cls = lookup(decision, name)
    properties = params_model(cls).model_json_schema().get("properties", {})
    fields = []
    for row in describe_params(cls):
        node = properties.get(row["name"], {})
        kind, choices = "yaml", ()
        if "enum" in node:
            kind, choices = "choice", tuple(str(value) for value in node["enum"])
        elif node.get("type") in ("integer", "number", "boolean"):
            kind = node["type"]
        low = node.get("minimum", node.get("exclusiveMinimum"))
        high = node.get("maximum", node.get("exclusiveMaximum"))
        fields.append(ParamField(row["name"], kind, row["default"], row["type"], row["constraints"],
                                 row["description"], choices, low, high))
    return fields


def param_text(value: Any) -> str:
    """A parameter value as the form shows it (as a scenario writes it: ``true``, ``0.5``, ``none``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def catalogue() -> dict[str, list[tuple[str, str]]]:
    """Decision -> ``(policy name, summary)`` of every registered policy, names sorted."""
    return {decision: [(name, cls.summary) for name, cls in sorted(policies.items())]
            for decision, policies in registry().items()}


def _value(field: ParamField, text: str) -> Any:
    text = text.strip()
    if field.kind in ("integer", "number"):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if field.kind == "integer" and number.is_integer() else number
    if field.kind == "boolean":
        return text == "true"
    if field.kind == "choice":
        return text
    try:
        return yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return text


def read_params(decision: str, name: str, form: dict[str, str]
                ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The parameters a form gives (those differing from the default) and the problems by parameter.

    Problems are the registry's lines (``window: input should be less than or equal to 104 (got
    200)``); a problem no parameter owns is under ``""``.
    """
    fields = param_fields(decision, name)
    params = {field.name: _value(field, form.get(field.name, field.default))
              for field in fields if form.get(field.name, field.default).strip() != field.default}
    problems: dict[str, list[str]] = {}
    try:
        build(lookup(decision, name), params, where="params")
    except PolicyParameterError as error:
        names = {field.name for field in fields}
        for line in error.problems:
            where = line.removeprefix("params.").split(":", 1)[0].split(".", 1)[0]
            problems.setdefault(where if where in names else "", []).append(line.removeprefix("params."))
    return params, problems


def empty_sets(scenario: Scenario) -> dict[str, Any]:
    """The sets a new draft starts with: the scenario's own ``sets:`` section, or the status quo alone."""
    if scenario.sets:
        return {"reference": next(iter(scenario.sets)),
                "sets": {name: change.model_dump(mode="json", exclude_none=True)
                         for name, change in scenario.sets.items()}}
    return {"reference": "status-quo", "sets": {"status-quo": {}}}


def sets_from_yaml(text: str, source: str) -> dict[str, Any]:
    """A sets file's text, validated (``SetsFile``), as the draft keeps it; ScenarioError when invalid."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError([f"{source}: not valid YAML ({error})".replace("\n", " ")]) from None
    sets = validate_file(SetsFile, data, source)
    return {"reference": sets.reference or next(iter(sets.sets)),
            "sets": {name: change.model_dump(mode="json", exclude_none=True)
                     for name, change in sets.sets.items()}}


def sets_file(draft: dict[str, Any]) -> SetsFile:
    """The draft as a sets file (what ``compare --sets`` reads)."""
    return SetsFile.model_validate(draft)


def sets_yaml(draft: dict[str, Any]) -> str:
    """The draft as the text of a sets file."""
    head = ("# Policy sets composed in the ordercycle workbench: each set names only the decisions\n"
            "# it changes; the others keep the scenario's policies (`ordercycle policies list`).\n")
    return head + yaml.safe_dump({"reference": draft["reference"], "sets": draft["sets"]}, sort_keys=False)


@dataclass
class SetsInWords:
    """The draft's sets said as the comparison report says them, or what is wrong with them."""

    described: dict[str, list[str]]
    problems: dict[str, list[str]]
    """Set name -> its ``sets.NAME…: reason`` lines; ``""`` for lines about no one set."""


def describe_sets(scenario: Scenario, draft: dict[str, Any]) -> SetsInWords:
    """What each set changes against the reference, and the information its policies miss."""
    try:
        full, reference = resolve_sets(scenario, sets_file(draft))
    except ExperimentError as error:
        problems: dict[str, list[str]] = {}
        for line in error.problems:
            parts = line.split(".", 2)
            name = parts[1] if len(parts) > 1 and parts[0] == "sets" and parts[1] in draft["sets"] else ""
            problems.setdefault(name, []).append(line)
        return SetsInWords({}, problems)
    except ValueError as error:  # a sets file pydantic refuses (e.g. its reference is gone)
        return SetsInWords({}, {"": [str(error).splitlines()[-1]]})
    experiment = {"sets": full, "reference": reference, "set_notes": set_notes(scenario, full, reference)}
    return SetsInWords(set_descriptions(experiment), {})


def set_change(draft: dict[str, Any], set_name: str, decision: str, policy: str,
               params: dict[str, Any]) -> None:
    """Make ``set_name`` use ``policy`` (with ``params``) for ``decision``."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    draft["sets"][set_name][decision] = {"name": policy, "params": params} if params else policy


def change_of(draft: dict[str, Any], set_name: str, decision: str) -> tuple[str, dict[str, Any]] | None:
    """The policy a set gives a decision, with its parameters; None when it keeps the scenario's."""
    choice = draft["sets"].get(set_name, {}).get(decision)
    if choice is None:
        return None
    if isinstance(choice, str):
        return choice, {}
    return choice["name"], dict(choice.get("params") or {})


def check_set_name(draft: dict[str, Any], name: str) -> str | None:
    """Why ``name`` cannot name a new set, or None."""
    if not SET_NAME.match(name):
        return (f"name: {name!r} is not a set name (letters, digits, '_', '.', '-', "
                "starting with a letter or digit, at most 40 characters)")
    if name in draft["sets"]:
        return f"name: there is a set named {name!r} already"
    return None
