"""The workbench's draft: the scenario being set up, its demand factor, the policy sets and a sweep grid.

Kept as plain files in ``RESULTS/.workbench/`` (``scenario.yaml``, ``sets.yaml``,
``grid.yaml``, ``draft.json``), so it survives a restart of the workbench and is the same
text a run's folder receives. A new draft starts from the built-in baseline.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ordercycle.scenarios.experiment_files import GridFile, apply_point, validate_file
from ordercycle.scenarios.loader import BUILTIN, ScenarioError, builtin_path, load, parse
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.ui.levers import effective
from ordercycle.sim.ui.policy_sets import empty_sets, sets_yaml

DRAFT_FOLDER = ".workbench"


def scenario_yaml(data: dict[str, Any], note: str = "") -> str:
    """A scenario's JSON form as the text of a scenario file."""
    head = f"# {note}\n" if note else ""
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def builtin_grid_text() -> str:
    """The packaged example grid (``scenarios/experiments/grid-example.yaml``)."""
    path = builtin_path("baseline").parent / "experiments" / "grid-example.yaml"
    return path.read_text(encoding="utf-8")


def builtin_sets_files() -> dict[str, Path]:
    """Packaged sets files by label: the example and the sets of each keynote claim."""
    from ordercycle.reports.keynotes import builtin_keynote_files

    found = {"sets-example": builtin_path("baseline").parent / "experiments" / "sets-example.yaml"}
    for path in builtin_keynote_files():
        found[f"keynote {path.stem}"] = path
    return found


def check_grid(text: str, scenario: Scenario) -> tuple[GridFile | None, list[str]]:
    """A grid file's text, validated, and every point applied to ``scenario``; the problems."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return None, [f"grid: not valid YAML ({error})".replace("\n", " ")]
    try:
        grid = validate_file(GridFile, data, "grid")
        for point in grid.points():
            apply_point(scenario, point)
    except ScenarioError as error:
        return None, error.problems
    return grid, []


@dataclass
class Draft:
    """What the strategist is setting up."""

    source: str
    data: dict[str, Any]
    demand_scale: float
    sets: dict[str, Any]
    grid_text: str

    def scenario(self) -> Scenario:
        """The scenario with the levers set (before the demand factor)."""
        return parse(self.data)

    def company(self) -> Scenario:
        """The scenario that is simulated: levers and demand factor applied."""
        return effective(self.scenario(), self.demand_scale)


class Workspace:
    """The draft's files under the results folder."""

    def __init__(self, results: Path):
        self.results = results
        self.folder = results / DRAFT_FOLDER

    def _write(self, name: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)

    def draft(self) -> Draft:
        """The current draft (the baseline's, the first time)."""
        try:
            meta = json.loads((self.folder / "draft.json").read_text(encoding="utf-8"))
            data = yaml.safe_load((self.folder / "scenario.yaml").read_text(encoding="utf-8"))
            sets = yaml.safe_load((self.folder / "sets.yaml").read_text(encoding="utf-8"))
            grid = (self.folder / "grid.yaml").read_text(encoding="utf-8")
            draft = Draft(meta["source"], data, float(meta["demand_scale"]), sets, grid)
            draft.scenario()
            return draft
        except (OSError, ValueError, KeyError, TypeError, ScenarioError):
            return self.start_from("baseline")

    def save(self, draft: Draft) -> None:
        """Write the draft's files."""
        self._write("scenario.yaml", scenario_yaml(draft.data, f"workbench draft from {draft.source}"))
        self._write("sets.yaml", sets_yaml(draft.sets))
        self._write("grid.yaml", draft.grid_text)
        meta = {"source": draft.source, "demand_scale": draft.demand_scale}
        self._write("draft.json", json.dumps(meta) + "\n")

    def start_from(self, source: str | Path, label: str | None = None) -> Draft:
        """A new draft from a built-in scenario or a file (raises ScenarioError); saved."""
        scenario = load(source)
        name = label or (str(source) if str(source) in BUILTIN else str(Path(source)))
        draft = Draft(name, scenario.model_dump(mode="json"), 1.0, empty_sets(scenario), builtin_grid_text())
        self.save(draft)
        return draft

    def upload(self, filename: str, content: bytes) -> Draft:
        """A new draft from an uploaded scenario file (raises ScenarioError)."""
        safe = Path(filename or "scenario.yaml").name or "scenario.yaml"
        uploads = self.folder / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        path = uploads / safe
        path.write_bytes(content)
        return self.start_from(path, label=f"uploaded {safe}")
