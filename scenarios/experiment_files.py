"""Formats of the files experiments read besides the scenario: policy sets and sweep grids.

A **sets file** (``ordercycle compare --sets SETS.yaml``)::

    reference: status-quo          # optional; default: the first set
    sets:
      status-quo: {}               # the scenario's own policies
      informed: {pricing: informed-sales, selection: {name: strategic, params: {…}}}

A **grid file** (``ordercycle sweep --grid GRID.yaml``) names scenario parameters by
their dotted path in the scenario (a list element by its ``id`` or its position; ``*``
for every element) and either lists values (full factorial) or gives ranges to sample
(Latin hypercube)::

    parameters:
      segments.*.arrivals.rate_per_day: {scale: [0.8, 1.0, 1.2]}  # multiply every segment's rate
      staff.entry_clerks: [1, 2]                                     # set the value
    # or
    sample: {method: latin-hypercube, points: 16, seed: 1}
    parameters:
      segments.*.arrivals.rate_per_day: {scale: {low: 0.8, high: 1.2}}
      staff.entry_clerks: {low: 1, high: 3, integer: true}
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ordercycle.policies.input_files import InputFileError
from ordercycle.policies.input_files import read_yaml as read_bounded_yaml
from ordercycle.scenarios.loader import ScenarioError, format_validation_error, parse
from ordercycle.scenarios.numbers import ScenarioModel
from ordercycle.scenarios.schema import PolicySetChanges, Scenario

_CONFIG = ConfigDict(extra="forbid", validate_default=True)


class SetsFile(BaseModel):
    """Named policy sets to compare."""

    model_config = _CONFIG
    reference: str | None = Field(None, description="the set others are compared with (default: the first)")
    sets: dict[str, PolicySetChanges] = Field(min_length=1, description="set name -> decisions it changes")

    @model_validator(mode="after")
    def _known_reference(self) -> SetsFile:
        if self.reference is not None and self.reference not in self.sets:
            raise ValueError(f"reference: no set named {self.reference!r} (sets: {', '.join(self.sets)})")
        return self


class Range(ScenarioModel):
    """An interval to sample uniformly (integers when ``integer``)."""

    model_config = _CONFIG
    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self


class Scaled(ScenarioModel):
    """Multiply the current value(s) by a factor: listed factors, or a range of factors."""

    model_config = _CONFIG
    scale: list[float] | Range


class Sample(BaseModel):
    """How to sample the parameter ranges."""

    model_config = _CONFIG
    method: Literal["latin-hypercube"] = "latin-hypercube"
    points: int = Field(ge=1, le=100_000, description="number of sampled points")
    seed: int = Field(0, ge=0, description="seed of the sample")


Parameter = list[Any] | Range | Scaled


class GridFile(BaseModel):
    """Scenario parameters to vary: a full factorial of listed values, or a sample of ranges."""

    model_config = _CONFIG
    parameters: dict[str, Parameter] = Field(min_length=1, description="dotted scenario path -> values")
    sample: Sample | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GridFile:
        for path, spec in self.parameters.items():
            ranged = isinstance(spec, Range) or (isinstance(spec, Scaled) and isinstance(spec.scale, Range))
            if self.sample is None and ranged:
                raise ValueError(f"parameters.{path}: a range needs a `sample:` section (or list values)")
            if self.sample is not None and not ranged:
                raise ValueError(f"parameters.{path}: with `sample:` give a range {{low, high}}, not a list")
            if isinstance(spec, list) and not spec:
                raise ValueError(f"parameters.{path}: give at least one value")
        return self

    def points(self) -> list[dict[str, Any]]:
        """Every point of the grid: ``{path: value}``, or ``{path: {"scale": factor}}``."""
        names = list(self.parameters)
        if self.sample is None:
            axes = []
            for spec in self.parameters.values():
                if isinstance(spec, Scaled):
                    axes.append([{"scale": factor} for factor in spec.scale])  # type: ignore[union-attr]
                else:
                    axes.append(list(spec))  # type: ignore[arg-type]
            return [dict(zip(names, combination, strict=True)) for combination in itertools.product(*axes)]
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(self.sample.seed)).random(
            self.sample.points
        )
        result = []
        for row in unit:
            point: dict[str, Any] = {}
            for name, u in zip(names, row, strict=True):
                spec = self.parameters[name]
                bounds = spec.scale if isinstance(spec, Scaled) else spec
                assert isinstance(bounds, Range)
                if bounds.integer:  # every integer of [low, high] equally likely
                    value: float = int(min(np.floor(bounds.low + float(u) * (bounds.high - bounds.low + 1)),
                                           bounds.high))
                else:
                    value = bounds.low + float(u) * (bounds.high - bounds.low)
                point[name] = {"scale": value} if isinstance(spec, Scaled) else value
            result.append(point)
        return result


def read_yaml(path: str | Path, what: str) -> Any:
    """The YAML content of an experiment file; a missing or unparsable file is a ScenarioError."""
    file = Path(path)
    if not file.is_file():
        raise ScenarioError([f"{file}: {what} file not found"])
    try:
        return read_bounded_yaml(file)
    except InputFileError as error:
        raise ScenarioError(error.problems) from None


def validate_file(model: type[BaseModel], data: Any, source: str) -> Any:
    """``data`` validated as ``model``; problems as ``SOURCE: path: reason`` lines (ScenarioError)."""
    if not isinstance(data, dict):
        raise ScenarioError([f"{source}: must be a mapping, got {type(data).__name__}"])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ScenarioError([f"{source}: {line}" for line in format_validation_error(error)]) from None


def load_sets(path: str | Path) -> SetsFile:
    """Read and validate a sets file."""
    return validate_file(SetsFile, read_yaml(path, "sets"), str(path))


def load_grid(path: str | Path) -> GridFile:
    """Read and validate a grid file."""
    return validate_file(GridFile, read_yaml(path, "grid"), str(path))


def _targets(node: Any, parts: list[str], where: str) -> list[tuple[Any, Any]]:
    """The (container, key) pairs that a dotted path names in the scenario's JSON form."""
    if not parts:
        raise ScenarioError([f"{where}: empty path"])
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        if head == "*":
            keys = list(range(len(node)))
        elif head.isdigit() and int(head) < len(node):
            keys = [int(head)]
        else:
            keys = [i for i, item in enumerate(node) if isinstance(item, dict) and item.get("id") == head]
            if not keys:
                ids = [str(item.get("id")) for item in node if isinstance(item, dict)]
                raise ScenarioError([f"{where}: no element {head!r} (ids: {', '.join(ids)})"])
    elif isinstance(node, dict):
        if head not in node:
            raise ScenarioError([f"{where}: no field {head!r} (fields: {', '.join(node)})"])
        keys = [head]
    else:
        raise ScenarioError([f"{where}: {head!r} is below a value, not a section"])
    if not rest:
        return [(node, key) for key in keys]
    pairs = []
    for key in keys:
        pairs.extend(_targets(node[key], rest, where))
    return pairs


def apply_point(scenario: Scenario, point: dict[str, Any]) -> Scenario:
    """``scenario`` with the point's parameters set (or scaled), validated again."""
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    for path, value in point.items():
        where = f"parameters.{path}"
        for container, key in _targets(data, path.split("."), where):
            if isinstance(value, dict) and set(value) == {"scale"}:
                current = container[key]
                if not isinstance(current, int | float) or isinstance(current, bool):
                    raise ScenarioError([f"{where}: only a number can be scaled, found {current!r}"])
                scaled = current * value["scale"]
                container[key] = round(scaled) if isinstance(current, int) else scaled
            else:
                container[key] = value
    try:
        return parse(data)
    except ScenarioError as error:
        raise ScenarioError([f"grid point {point}: {line}" for line in error.problems]) from None
