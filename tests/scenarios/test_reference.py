"""The committed scenario reference is generated from the schema and covers every field."""

from __future__ import annotations

import re
from pathlib import Path

from ordercycle.scenarios import reference
from ordercycle.scenarios.reference import REGENERATE, render_reference
from ordercycle.scenarios.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "scenario-reference.md"


def sections(text: str) -> dict[str, str]:
    """Heading text -> body, for every ``##`` and ``###`` heading."""
    parts = re.split(r"^#{2,3} (.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_committed_reference_is_up_to_date():
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    assert committed == render_reference(), (
        f"{COMMITTED.relative_to(ROOT)} is out of date with the scenario schema; "
        f"regenerate it with:\n    {REGENERATE}"
    )


def test_every_field_of_every_model_appears():
    """Walk the JSON Schema (independently of the generator's own walk)."""
    schema = Scenario.model_json_schema()
    found = sections(render_reference())
    definitions = {**schema["$defs"], "Scenario": schema}
    assert len(definitions) >= 23
    for name, definition in definitions.items():
        assert name in found, f"no section for model {name}"
        rows = set(re.findall(r"^\| `([^`]+)` \|", found[name], flags=re.MULTILINE))
        fields = set(definition.get("properties", {}))
        assert fields <= rows, f"{name}: fields missing from the reference: {sorted(fields - rows)}"
        assert rows <= fields, f"{name}: rows that are not fields: {sorted(rows - fields)}"


def test_required_defaults_and_constraints_are_shown():
    found = sections(render_reference())
    assert ("| `horizon_days` | number | required | > 0, <= 36500 | simulated time, days (at most a hundred "
            "years: queueing validations run long; the expected inquiries are bounded separately) |"
            in found["Scenario"])
    assert "| `initial_shifts` | integer | `2` | >= 1, <= 3 |" in found["WorkCentre"]
    assert "| `routing` | list of [Operation](#operation) | required | at least 1 item |" in found["Product"]
    assert "| `repair_hours` | [distribution](#distributions) | `2.0` (fixed) |" in found["WorkCentre"]
    assert "| `planning` | [Planning](#planning) | all defaults |" in found["Scenario"]


def test_render_is_deterministic_and_main_writes_the_same_text(tmp_path):
    assert render_reference() == render_reference()
    out = tmp_path / "reference.md"
    assert reference.main([str(out)]) == 0
    assert out.read_bytes() == render_reference().encode("utf-8")


def test_notes_name_existing_models():
    names = {model.__name__ for model in (*reference.models(), *reference.DISTRIBUTIONS)}
    assert set(reference._NOTES) <= names
