"""Load, validate, override and hash scenarios.

Bad input never produces a traceback: :class:`ScenarioError` carries one line per
problem, each naming the YAML path and the reason, e.g.
``segments.1.arrivals.rate_per_day: must be greater than 0 (got -3)``.
"""

from __future__ import annotations

import hashlib
import json
import reprlib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ordercycle.policies.input_files import InputFileError, read_json, read_yaml
from ordercycle.scenarios.numbers import NUMBER_ERROR
from ordercycle.scenarios.schema import Scenario

BUILTIN = ("baseline", "around-the-clock")
"""Names of the scenarios shipped in the package."""


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()
    short.maxlevel, short.maxstring, short.maxother, short.maxlong = 2, 60, 60, 40
    short.maxdict = short.maxlist = short.maxtuple = short.maxset = 4
    return short


_SHORT = _short_repr()
"""How a refused value is quoted in a message: never more than a line (an alias bomb's
expansion or a megabyte string is not printed)."""


def short_repr(value: Any) -> str:
    """``repr(value)``, cut to a few dozen characters."""
    return _SHORT.repr(value)


def _short_key(key: str, limit: int = 60) -> str:
    """A key of a path, cut to ``limit`` characters (an unknown key may be a megabyte long)."""
    return key if len(key) <= limit else f"{key[:limit - 11]}…({len(key):,} characters)"


def format_validation_error(error: ValidationError) -> list[str]:
    """Turn a pydantic error into ``path: reason`` lines."""
    lines: list[str] = []
    for item in error.errors():
        loc = [_short_key(str(part)) for part in item["loc"] if not str(part).startswith("function-")]
        # discriminated unions add the tag name to the path: drop it
        loc = [part for part in loc if part not in {"fixed", "exponential", "lognormal", "gamma",
                                                    "uniform", "triangular"}]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == NUMBER_ERROR:  # the number rules name the place below the field
            context = item.get("ctx") or {}
            loc += [part for part in str(context.get("below", "")).split(".") if part]
            message = str(context.get("reason", message))
        elif item["type"] == "extra_forbidden":
            message = "unknown key"
        elif "input" in item and item["type"] not in {"missing", "value_error"}:
            message = f"{_lower_first(message)} (got {short_repr(item['input'])})"
        path = ".".join(loc)
        if not path and ": " in message:  # cross-field checks name their own paths
            lines.extend(part.strip() for part in message.split("; "))
        else:
            lines.append(f"{path or '<scenario>'}: {_lower_first(message)}")
    return lines


def parse(data: Any) -> Scenario:
    """Validate a mapping (as read from YAML) into a :class:`Scenario`."""
    if not isinstance(data, dict):
        raise ScenarioError([f"<scenario>: must be a mapping, got {type(data).__name__}"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(format_validation_error(error)) from None


def builtin_path(name: str) -> Path:
    """Path of a scenario shipped in the package (``baseline`` …)."""
    return Path(str(resources.files("ordercycle.scenarios").joinpath(f"{name}.yaml")))


def load(source: str | Path | None = None) -> Scenario:
    """Load a scenario from a YAML file, or a built-in one by name (default: baseline)."""
    if source is None:
        source = "baseline"
    path = Path(source)
    if not path.exists() and str(source) in BUILTIN:
        path = builtin_path(str(source))
    if not path.exists():
        raise ScenarioError([f"{source}: no such scenario file (built-in: {', '.join(BUILTIN)})"])
    try:
        data = read_yaml(path)
    except InputFileError as error:
        raise ScenarioError(error.problems) from None
    if isinstance(data, dict) and isinstance(data.get("start"), dict):
        data["start"] = _with_snapshot(data["start"], path.parent)
    return parse(data)


def _with_snapshot(start: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``start`` with the content of the snapshot file it names (relative to ``folder``) as ``state``.

    The snapshot is checked against the scenario when a run starts (``ordercycle.sim.snapshot``);
    embedding it makes the scenario's content hash change with the snapshot.
    """
    name = start.get("snapshot")
    if not isinstance(name, str) or "state" in start:
        return start
    path = folder / name
    try:
        state = read_json(path)
    except InputFileError as error:
        raise ScenarioError([f"start.snapshot: {line}" for line in error.problems]) from None
    if not isinstance(state, dict):
        raise ScenarioError([f"start.snapshot: {path} must hold a JSON object, got {type(state).__name__}"])
    return {**start, "state": state}


def override(scenario: Scenario, **changes: Any) -> Scenario:
    """A copy of ``scenario`` with top-level fields replaced, validated again.

    ``policies`` may be given as a partial mapping; it is merged into the current set.
    """
    data = scenario.model_dump(mode="python")
    policies = changes.pop("policies", None)
    data.update({key: value for key, value in changes.items() if value is not None})
    if policies:
        data["policies"] = {**data["policies"], **policies}
    return parse(data)


def content_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON form (provenance of every output)."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
