"""Scenario files as an attacker or an unlucky operator writes them (issue 18): every one is
refused by `ordercycle scenario check` with exit 2 and `path: reason` lines, never a traceback."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from ordercycle.scenarios.loader import ScenarioError, builtin_path, parse
from ordercycle.scenarios.numbers import MAX_EXPECTED_INQUIRIES
from ordercycle.sim.cli import main


@pytest.fixture(scope="module")
def baseline_data() -> dict:
    return yaml.safe_load(builtin_path("baseline").read_text())


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse(data)
    return caught.value.problems


def check(path: Path, capsys) -> list[str]:
    """`ordercycle scenario check PATH`: exit 2, its error lines."""
    assert main(["scenario", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines)
    return [line.removeprefix("error: ") for line in lines]


NON_FINITE = [
    (("segments", 0, "arrivals", "rate_per_day"), "segments.0.arrivals.rate_per_day"),
    (("products", 0, "list_price"), "products.0.list_price"),
    (("products", 0, "routing", 0, "hours_per_unit", "mean"), "products.0.routing.0.hours_per_unit.mean"),
    (("horizon_days",), "horizon_days"),
    (("segments", 0, "product_mix", "P1"), "segments.0.product_mix.P1"),
    (("objective", "weights", "profit"), "objective.weights.profit"),
]


def _set(data: dict, path: tuple, value: object) -> dict:
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target, dict) else target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(("path", "field"), NON_FINITE, ids=[field for _, field in NON_FINITE])
def test_nan_and_infinity_are_refused_everywhere(baseline_data, path, field, value):
    data = _set(baseline_data, path, value)
    if path[0] == "products" and "hours_per_unit" in path:
        data["products"][0]["routing"][0]["hours_per_unit"] = {"dist": "exponential", "mean": value}
    if path[0] == "objective":
        data["objective"] = {"weights": {"profit": value}}
    problems = problems_of(data)
    assert any(p.startswith(f"{field}: input should be a finite number") for p in problems), problems


def test_yaml_nan_literals_are_refused_by_the_check(tmp_path, capsys):
    text = builtin_path("baseline").read_text().replace("horizon_days: 365", "horizon_days: .nan")
    path = tmp_path / "nan.yaml"
    path.write_text(text)
    assert check(path, capsys) == ["horizon_days: input should be a finite number (got nan)"]


@pytest.mark.parametrize(("path", "expected"), [
    (("work_centres", 0, "machines"), "work_centres.0.machines: a boolean is not a number (got true)"),
    (("segments", 0, "product_mix", "P1"), "segments.0.product_mix.P1: a boolean is not a number (got true)"),
    (("staff", "technicians", "electrical"), "staff.technicians.electrical: a boolean is not a number"),
    (("work_centres", 0, "repair_hours"), "work_centres.0.repair_hours: input should be a valid dictionary"),
    (("products", 0, "routing", 0, "hours_per_unit", "cv"),
     "products.0.routing.0.hours_per_unit.cv: a boolean is not a number (got true)"),
])
def test_booleans_are_not_numbers(baseline_data, path, expected):
    problems = problems_of(_set(baseline_data, path, True))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_boolean_stays_a_boolean_where_one_is_expected(baseline_data):
    scenario = parse(_set(baseline_data, ("products", 0, "strategic"), True))
    assert scenario.products[0].strategic is True


AT_MOST = "input should be less than or equal to"
CANNOT_RUN = [
    (("work_centres", 0, "machines"), 1e30,
     "work_centres.0.machines: unable to parse input string as an integer, exceeded maximum size"),
    (("work_centres", 0, "machines"), 10**6, f"work_centres.0.machines: {AT_MOST} 1000"),
    (("segments", 0, "arrivals", "trend_per_year"), 1e18,
     f"segments.0.arrivals.trend_per_year: {AT_MOST} 10"),
    (("segments", 0, "customers"), 10**7, f"segments.0.customers: {AT_MOST} 100000"),
    (("horizon_days",), 365000, f"horizon_days: {AT_MOST} 36500"),
    (("planning", "period_days"), 1e-9, "planning.period_days: input should be greater than or equal to 0.1"),
    (("products", 0, "list_price"), 1e15,
     "products.0.list_price: must be at most 1,000,000,000 in magnitude"),
    (("work_centres", 0, "changeover_matrix_hours"), {"A": {"B": -1.0}},
     "work_centres.0.changeover_matrix_hours: a changeover from 'A' to 'B' must be >= 0 hours, got -1"),
]


@pytest.mark.parametrize(("path", "value", "expected"), CANNOT_RUN)
def test_what_the_model_cannot_run_is_refused(baseline_data, path, value, expected):
    problems = problems_of(_set(baseline_data, path, value))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_run_expecting_too_many_inquiries_is_refused(baseline_data):
    data = _set(baseline_data, ("horizon_days",), 3650)
    for segment in data["segments"]:
        segment["arrivals"]["trend_per_year"] = 10
    problems = problems_of(data)
    assert len(problems) == 1 and problems[0].startswith("segments: ")
    assert f"more than the {MAX_EXPECTED_INQUIRIES:,} a run may simulate" in problems[0]


def test_unknown_kpi_names_in_the_objective_are_refused_by_the_check(baseline_data, tmp_path, capsys):
    data = copy.deepcopy(baseline_data)
    data["objective"] = {"weights": {"profit": 1.0, "proft": 2.0},
                         "constraints": [{"kpi": "on_time_rate", "min": 0.9}]}
    path = tmp_path / "objective.yaml"
    path.write_text(yaml.safe_dump(data))
    lines = check(path, capsys)
    assert lines[:2] == ["objective.weights.proft: unknown KPI",
                         "objective.constraints.0.kpi: unknown KPI 'on_time_rate'"]
    assert lines[2].startswith("(known KPIs: ") and "on_time_delivery_rate" in lines[2]


def alias_bomb() -> str:
    lines = ["name: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("content", "expected"), [
    (b"name: caf\xe9\n", "not UTF-8 text (byte 0xe9 at offset 9)"),
    ("name: x\n".encode("utf-16"), "UTF-16 text (byte-order mark)"),
    (b"name: " + b"[" * 5000, "not valid YAML: line 1, column 70: nested deeper than 64 levels"),
    (b"horizon_days: " + b"1" * 5000, "not valid YAML: line 1, column 15: an integer of 5,000 digits"),
    (alias_bomb().encode(), "not valid YAML: line 6, column 5: more than 250,000 values once its aliases "
                            "are expanded"),
    (b"- just\n- a list\n", "<scenario>: must be a mapping, got list"),
])
def test_unreadable_files_exit_2_naming_the_file(tmp_path, capsys, content, expected):
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    lines = check(path, capsys)
    assert len(lines) == 1 and expected in lines[0], lines
    assert lines[0].startswith(str(path)) or lines[0].startswith("<scenario>")
    assert len(lines[0]) < 300  # the alias bomb's expansion is never printed


def test_serving_or_checking_dev_zero_does_not_read_it(capsys):
    assert check(Path("/dev/zero"), capsys) == ["/dev/zero: not a regular file (a device, pipe or socket)"]


@pytest.mark.parametrize(("name", "folder"), [
    ("../../../x", "run-x-0274b718-seed0"),
    ("n" * 5000, "run-" + "n" * 71 + "-"),
])
def test_output_folders_derived_from_the_name_stay_in_out(baseline_data, tmp_path, monkeypatch, name, folder):
    data = {**copy.deepcopy(baseline_data), "name": name, "horizon_days": 3, "warmup_days": 0}
    path = tmp_path / "named.yaml"
    path.write_text(yaml.safe_dump(data))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["run", str(path), "--quiet", "--no-report"]) == 0
    created = list((work / "out").iterdir())
    assert [item.name for item in work.iterdir()] == ["out"] and len(created) == 1
    assert created[0].name.startswith(folder) and (created[0] / "kpis.json").is_file()
    assert not (tmp_path / "x-seed0").exists() and not (tmp_path.parent / "x-seed0").exists()
