"""Scenario validation: every problem named by its YAML path, exit code 2, no traceback."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from ordercycle.scenarios.loader import ScenarioError, builtin_path, content_hash, load, override, parse
from ordercycle.sim.cli import main


@pytest.fixture(scope="module")
def baseline_data() -> dict:
    return yaml.safe_load(builtin_path("baseline").read_text())


def problems_of(data: dict) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse(data)
    return caught.value.problems


def test_baseline_is_valid_and_sized_for_a_year(baseline_data):
    scenario = parse(baseline_data)
    assert scenario.horizon_days == 365
    daily = sum(segment.arrivals.rate_per_day for segment in scenario.segments)
    assert daily * 365 >= 10_000


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["segments"][1]["arrivals"].update(rate_per_day=-3),
            "segments.1.arrivals.rate_per_day: input should be greater than 0 (got -3)",
        ),
        (
            lambda d: d["segments"][0].update(customers="many"),
            "segments.0.customers: input should be a valid integer, unable to parse string as an "
            "integer (got 'many')",
        ),
        (lambda d: d.update(colour="blue"), "colour: unknown key"),
        (
            lambda d: d["products"][0]["routing"][0].update(work_centre="painting"),
            "products.0.routing.0.work_centre: unknown work centre 'painting'",
        ),
        (
            lambda d: d["segments"][2]["product_mix"].update(gadget=0.1),
            "segments.2.product_mix: unknown product 'gadget'",
        ),
        (lambda d: d["staff"].pop("sales_reps"), "staff.sales_reps: field required"),
        (
            lambda d: d["work_centres"][0]["repair_hours"].update(cv=-1),
            "work_centres.0.repair_hours.cv: input should be greater than 0 (got -1)",
        ),
        (
            lambda d: d["products"][1].update(defect_rate=1.5),
            "products.1.defect_rate: input should be less than or equal to 1 (got 1.5)",
        ),
    ],
)
def test_bad_field_is_named_with_reason(baseline_data, mutate, expected):
    data = copy.deepcopy(baseline_data)
    mutate(data)
    assert expected in problems_of(data)


def test_several_problems_are_all_reported(baseline_data):
    data = copy.deepcopy(baseline_data)
    data["segments"][0]["arrivals"]["rate_per_day"] = 0
    data["products"][0]["routing"][0]["work_centre"] = "painting"
    data["horizon_days"] = -1
    problems = problems_of(data)
    assert any(p.startswith("segments.0.arrivals.rate_per_day") for p in problems)
    assert any(p.startswith("horizon_days") for p in problems)


def test_cross_field_problems_are_all_listed(baseline_data):
    data = copy.deepcopy(baseline_data)
    data["warmup_days"] = 500
    data["products"][0]["routing"][0]["work_centre"] = "painting"
    data["segments"][0]["logistics_provider"] = "pigeon-post"
    assert problems_of(data) == [
        "warmup_days: must be less than horizon_days (365), got 500",
        "products.0.routing.0.work_centre: unknown work centre 'painting'",
        "segments.0.logistics_provider: unknown provider 'pigeon-post'",
    ]


def test_cli_exits_2_with_one_line_per_problem(tmp_path: Path, baseline_data, capsys):
    data = copy.deepcopy(baseline_data)
    data["segments"][1]["arrivals"]["rate_per_day"] = -3
    data["logistics_providers"][0]["reliability"] = 2
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: segments.1.arrivals.rate_per_day: input should be greater than 0 (got -3)",
        "error: logistics_providers.0.reliability: input should be less than or equal to 1 (got 2)",
    ]
    assert "Traceback" not in "\n".join(err)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "no-such-file.yaml"], "error: no-such-file.yaml: no such scenario file"),
        (
            ["run", "--policy", "priority=random-pick", "--quiet"],
            "error: --policy priority=random-pick: unknown policy 'random-pick' for priority",
        ),
        (["run", "--policy", "colour=red", "--quiet"], "error: --policy colour=red: unknown decision"),
    ],
)
def test_cli_bad_arguments(argv, expected, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(expected)


def test_not_yaml(tmp_path: Path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    assert main(["scenario", "check", str(path)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_bad_policy_parameter_is_named(baseline_data):
    data = copy.deepcopy(baseline_data)
    data["policies"]["selection"] = {"name": "size-threshold", "params": {"min_units": -1}}
    scenario = parse(data)
    with pytest.raises(Exception) as caught:
        from ordercycle.policies.registry import make_all

        make_all(scenario.policies.model_dump())
    assert caught.value.problems == [
        "policies.selection.params.min_units: input should be greater than or equal to 0 (got -1)"
    ]


def test_override_revalidates_and_hash_tracks_content():
    base = load("baseline")
    shorter = override(base, horizon_days=30, warmup_days=5)
    assert shorter.horizon_days == 30
    assert content_hash(shorter) != content_hash(base)
    assert content_hash(load("baseline")) == content_hash(base)
    with pytest.raises(ScenarioError):
        override(base, warmup_days=400)
    edd = override(base, policies={"priority": {"name": "edd", "params": {}}})
    assert edd.policies.priority.name == "edd"
    assert edd.policies.billing == base.policies.billing
