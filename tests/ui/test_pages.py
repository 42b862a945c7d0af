"""The workbench's pages without a browser and without a simulation: forms, words, problems, access.

Step 1 (scenario) and step 2 (policy sets) are driven through the app as a browser would
post its forms; the start of a run is checked up to the command it would run (the
runner is replaced by a recorder). ``test_runs.py`` runs the commands for real.
"""

from __future__ import annotations

import html as markup
import re
import shlex

import yaml
from ui_helpers import SMALL_SETS, client_for, field_block, texts

from ordercycle.reports.explain import set_descriptions
from ordercycle.scenarios.experiment_files import load_sets
from ordercycle.scenarios.loader import builtin_path, content_hash, load, override
from ordercycle.scenarios.schema import STAFF_POOLS, Scenario
from ordercycle.sim.experiments.replications import resolve_sets
from ordercycle.sim.experiments.set_notes import set_notes
from ordercycle.sim.ui.levers import lever_groups

# --- step 1: the scenario -------------------------------------------------------------------


def test_the_company_is_said_in_plain_words(client):
    page = client.get("/scenario").text
    said = markup.unescape(re.sub(r"<[^>]+>", " ", page))
    for words in (
        "strategic: 25 customers of importance 3, 12 inquiries a day",
        "pump: list price 950 EUR",
        "Day 0 is 2027-01-04.",
        "Production does not share its surplus capacity with sales.",
        "selection: size-threshold",
        "Score = 1 × profit",
    ):
        assert words in said, words


def test_the_lever_fields_are_the_schema_properties():
    schema = Scenario.model_json_schema()
    data = load("baseline").model_dump(mode="json")
    paths = {field.path: field for group in lever_groups(data) for field in group.fields}
    for pool in STAFF_POOLS:
        assert paths[f"staff.{pool}"].kind == "integer" and paths[f"staff.{pool}"].bounds == "at least 1"
    for name, node in schema["$defs"]["Costs"]["properties"].items():
        assert paths[f"costs.{name}"].help == node["description"]
    assert paths["work_centres.0.initial_shifts"].bounds == "between 1 and 3"
    assert paths["information.production_shares_capacity"].kind == "boolean"
    assert paths["information.carrier_transit_quantile"].nullable
    assert paths["segments.0.arrivals.rate_per_day"].bounds == "above 0, at most 10000"
    assert "staff.technicians.mechanical" in paths


def test_an_invalid_lever_gets_the_schemas_path_and_reason_beside_it(client):
    form = client.get("/scenario").text
    assert 'name="staff.entry_clerks"' in form
    answer = client.post(
        "/scenario/levers",
        data={
            "levers_form": "1",
            "staff.entry_clerks": "0",
            "work_centres.1.initial_shifts": "3",
            "work_centres.1.max_shifts": "2",
            "demand_scale": "1",
        },
    )
    assert answer.headers.get("x-workbench-refused") == "1"
    block = field_block(answer.text, "staff.entry_clerks")
    assert "staff.entry_clerks: input should be greater than or equal to 1 (got 0)" in block
    assert 'value="0"' in block  # the value typed is shown again
    assert "work_centres.1: initial_shifts (3) exceeds max_shifts (2)" in texts(answer.text, "problems")
    assert (
        load(client.app.state.workbench.workspace.folder / "scenario.yaml").staff.entry_clerks
        == load("baseline").staff.entry_clerks
    )


def test_valid_levers_are_saved_into_the_draft_and_the_words(client):
    answer = client.post(
        "/scenario/levers",
        data={
            "levers_form": "1",
            "staff.entry_clerks": "4",
            "information.production_shares_capacity": "on",
            "demand_scale": "1.5",
            "costs.changeover_cost": "80",
        },
    )
    assert "x-workbench-refused" not in answer.headers and "Saved." in answer.text
    draft = client.app.state.workbench.workspace.draft()
    company = draft.company()
    assert company.staff.entry_clerks == 4 and company.costs.changeover_cost == 80
    assert company.information.production_shares_capacity
    assert not company.information.warehouse_shares_stock  # unticked in a full form: false
    assert company.segments[0].arrivals.rate_per_day == 18  # 12 × 1.5
    assert draft.scenario().segments[0].arrivals.rate_per_day == 12  # the factor stays a factor
    assert "Production shares its surplus capacity with sales." in answer.text
    bad = client.post("/scenario/levers", data={"demand_scale": "-1"})
    assert "demand_scale: must be a number above 0 (got '-1')" in field_block(bad.text, "demand_scale")


def test_a_scenario_is_picked_built_in_from_a_path_or_uploaded(client, tmp_path):
    assert "around-the-clock" in client.post("/scenario/source", data={"builtin": "around-the-clock"}).text
    copy = tmp_path / "my-company.yaml"
    copy.write_text(builtin_path("baseline").read_text().replace("name: baseline", "name: my-company"))
    assert "The company: my-company" in client.post("/scenario/source", data={"path": str(copy)}).text
    text = copy.read_text().replace("name: my-company", "name: uploaded-co")
    page = client.post("/scenario/source", files={"upload": ("co.yaml", text.encode())}).text
    assert "The company: uploaded-co" in page and "uploaded co.yaml" in page
    broken = client.post("/scenario/source", files={"upload": ("bad.yaml", b"name: x\nhorizon_days: -1\n")})
    assert broken.headers.get("x-workbench-refused") == "1"
    assert any(
        line.startswith("horizon_days: input should be greater than 0")
        for line in texts(broken.text, "problems")
    )


# --- step 2: the policy sets ----------------------------------------------------------------


def test_sets_are_said_as_the_comparison_report_says_them(client):
    page = client.post("/sets/load", data={"builtin": "sets-example"}).text
    scenario = load("baseline")
    full, reference = resolve_sets(
        scenario, load_sets(builtin_path("baseline").parent / "experiments" / "sets-example.yaml")
    )
    expected = set_descriptions(
        {"sets": full, "reference": reference, "set_notes": set_notes(scenario, full, reference)}
    )
    said = texts(page, "in-words")
    for lines in expected.values():
        for line in lines:
            assert line in said
    assert any(
        line.startswith("note — pricing: informed-sales uses information.production_shares_capacity")
        for line in said
    )


def test_a_set_is_composed_from_the_registry_with_bounds_and_reasons(client):
    client.post("/sets/add", data={"name": "moving"})
    form = client.get("/sets/moving/policy", params={"choice": "forecast/moving-average"}).text
    assert "whole number, between 1 and 104; default 4" in field_block(form, "window")
    bad = client.post(
        "/sets/moving/policy", data={"decision": "forecast", "policy": "moving-average", "window": "200"}
    )
    assert bad.headers.get("x-workbench-refused") == "1"
    assert "window: input should be less than or equal to 104 (got 200)" in field_block(bad.text, "window")
    page = client.post(
        "/sets/moving/policy", data={"decision": "forecast", "policy": "moving-average", "window": "8"}
    ).text
    assert any(line.startswith("forecast: moving-average (window = 8) —") for line in texts(page, "in-words"))
    sets = yaml.safe_load((client.app.state.workbench.workspace.folder / "sets.yaml").read_text())
    assert sets["sets"]["moving"] == {"forecast": {"name": "moving-average", "params": {"window": 8}}}
    client.post("/sets/reference", data={"name": "moving"})
    page = client.get("/sets/moving/policy", params={"choice": "forecast/"}).text  # keep the scenario's
    assert "the reference: the scenario's policies" in texts(page, "in-words")
    assert (
        yaml.safe_load((client.app.state.workbench.workspace.folder / "sets.yaml").read_text())["sets"][
            "moving"
        ]
        == {}
    )
    refused = client.post("/sets/add", data={"name": "bad name"})
    assert any(
        line.startswith("name: 'bad name' is not a set name") for line in texts(refused.text, "problems")
    )
    page = client.post("/sets/remove", data={"name": "moving"}).text
    assert 'data-set="moving"' not in page


def test_a_pasted_or_uploaded_sets_file_is_checked(client):
    page = client.post("/sets/load", data={"text": SMALL_SETS}).text
    assert (
        'data-set="edd"' in page
        and "priority: edd — earliest due (promised) date first; instead of fifo" in texts(page, "in-words")
    )
    bad = client.post("/sets/load", files={"upload": ("s.yaml", b"sets:\n  a: {priority: nope}\n")})
    assert "x-workbench-refused" not in bad.headers  # a valid sets file; the registry refuses the policy:
    assert "sets.a.priority.name: unknown policy 'nope' for priority" in " ".join(texts(bad.text, "problems"))
    unknown = client.post("/sets/load", data={"text": "sets:\n  a: {colour: red}\n"})
    assert unknown.headers.get(
        "x-workbench-refused"
    ) == "1" and "pasted sets: sets.a.colour: unknown key" in texts(unknown.text, "problems")


# --- step 3: starting a run (the command it would run) -----------------------------------------


class Recorder:
    """Stands in for the runner: records what would be started."""

    def __init__(self):
        self.started = []

    def start(self, folder, kind, argv, params=None):
        self.started.append((folder, kind, argv, params))

    def running(self, folder):
        return False


def test_a_comparison_starts_the_command_line_on_the_draft(client):
    workbench = client.app.state.workbench
    workbench.jobs = recorder = Recorder()
    client.post("/sets/load", data={"text": SMALL_SETS})
    client.post("/scenario/levers", data={"staff.entry_clerks": "5", "demand_scale": "1.1"})
    answer = client.post(
        "/run/compare",
        data={
            "folder": "cmp",
            "reps": "3",
            "workers": "1",
            "seed": "4",
            "confidence": "0.9",
            "horizon_days": "30",
            "warmup_days": "5",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/runs/cmp"
    (folder, kind, argv, params) = recorder.started[0]
    out = str(workbench.settings.results / "cmp")
    assert kind == "compare" and argv == shlex.split(
        f"ordercycle compare {out}/scenario.yaml --sets {out}/sets.yaml --reps 3 --seed 4 --workers 1 "
        f"--confidence 0.9 --out {out}"
    )
    assert params == {"reps": 3, "seed": 4, "confidence": 0.9}
    ran = load(folder / "scenario.yaml")
    expected = override(workbench.workspace.draft().company(), horizon_days=30, warmup_days=5)
    assert content_hash(ran) == content_hash(expected) and ran.staff.entry_clerks == 5
    assert list(load_sets(folder / "sets.yaml").sets) == ["fifo", "edd"]


def test_run_options_are_checked_beside_their_fields(client):
    client.app.state.workbench.jobs = recorder = Recorder()
    page = client.post(
        "/run/compare",
        data={
            "folder": "../x",
            "reps": "1",
            "workers": "0",
            "seed": "0",
            "confidence": "0.95",
            "horizon_days": "20",
            "warmup_days": "28",
        },
    )
    assert page.headers.get("x-workbench-refused") == "1" and not recorder.started
    assert "reps: must be at least 2, got 1" in field_block(page.text, "reps")
    assert "workers: must be at least 1, got 0" in field_block(page.text, "workers")
    assert "is not a folder name" in field_block(page.text, "folder")
    assert "warmup_days: must be less than horizon_days (20), got 28" in field_block(page.text, "warmup_days")
    keynote = client.post(
        "/run/keynote",
        data={
            "folder": "k",
            "keynote": "K4",
            "reps": "2",
            "workers": "1",
            "seed": "0",
            "confidence": "0.95",
            "horizon": "20",
        },
    )
    assert "horizon: must be above the claim's warm-up of 28 days, got 20" in field_block(
        keynote.text, "horizon"
    )
    sweep = client.post(
        "/run/sweep",
        data={
            "folder": "s",
            "reps": "2",
            "workers": "1",
            "seed": "0",
            "confidence": "0.95",
            "horizon_days": "30",
            "warmup_days": "5",
            "grid": "parameters:\n  staff.nobody: [1, 2]\n",
        },
    )
    assert "parameters.staff.nobody: no field 'nobody'" in field_block(sweep.text, "grid")


def test_a_keynote_and_a_sweep_start_their_commands(client):
    workbench = client.app.state.workbench
    workbench.jobs = recorder = Recorder()
    client.post(
        "/run/keynote",
        data={
            "folder": "k4",
            "keynote": "K4",
            "reps": "2",
            "workers": "1",
            "seed": "0",
            "confidence": "0.95",
            "horizon": "40",
            "no_conditions": "on",
        },
    )
    out = str(workbench.settings.results / "k4")
    assert recorder.started[0][2] == shlex.split(
        f"ordercycle keynotes --only K4 --reps 2 --seed 0 --workers 1 --confidence 0.95 --out {out} "
        "--horizon 40 --no-conditions"
    )
    grid = "parameters:\n  staff.entry_clerks: [2, 3]\n"
    client.post(
        "/run/sweep",
        data={
            "folder": "sw",
            "reps": "2",
            "workers": "1",
            "seed": "0",
            "confidence": "0.95",
            "horizon_days": "30",
            "warmup_days": "5",
            "grid": grid,
        },
    )
    folder, kind, argv, _ = recorder.started[1]
    assert kind == "sweep" and argv[:5] == [
        "ordercycle",
        "sweep",
        f"{folder}/scenario.yaml",
        "--grid",
        f"{folder}/grid.yaml",
    ]
    assert (folder / "grid.yaml").read_text() == grid


# --- access and offline -------------------------------------------------------------------


def test_without_a_token_only_loopback_hosts_are_answered(client):
    assert client.get("/scenario").status_code == 200
    assert client.get("/scenario", headers={"host": "evil.example"}).status_code == 403  # DNS rebinding
    assert (
        client.post("/sets/add", data={"name": "x"}, headers={"origin": "http://evil.example"}).status_code
        == 403
    )
    assert client.get("/healthz", headers={"host": "evil.example"}).status_code == 200


def test_with_a_token_every_request_carries_it(tmp_path):
    client = client_for(tmp_path / "out", token="s3cret")
    client.follow_redirects = False
    assert client.get("/scenario").status_code == 401
    assert client.get("/scenario", params={"token": "wrong"}).status_code == 401
    assert client.get("/scenario", headers={"authorization": "Bearer s3cret"}).status_code == 200
    opened = client.get("/scenario", params={"token": "s3cret"})
    assert opened.status_code == 303 and opened.headers["location"] == "/scenario"
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/scenario").status_code == 200  # the cookie now carries it
    assert client.get("/scenario", headers={"host": "192.0.2.1:8050"}).status_code == 200


def test_the_ui_command_keeps_serves_token_rules(capsys, monkeypatch):
    from ordercycle.sim.cli import main

    monkeypatch.delenv("ORDERCYCLE_TOKEN", raising=False)
    assert main(["ui", "--host", "0.0.0.0"]) == 2
    assert (
        "--host 0.0.0.0: refusing to listen beyond loopback without a bearer token; set the environment "
        "variable ORDERCYCLE_TOKEN"
    ) in capsys.readouterr().err
    assert main(["ui", "--port", "70000"]) == 2
    assert "--port: must be between 0 and 65535, got 70000" in capsys.readouterr().err


def test_every_asset_is_served_by_the_workbench_itself(client):
    urls = set()
    for path in ("/scenario", "/sets", "/run", "/runs", "/deploy"):
        page = client.get(path).text
        urls |= set(re.findall(r'(?:src|href|action)="([^"]*)"', page))
        assert "//" not in re.sub(r'(?:src|href|action)="/[^/][^"]*"', "", page).split("<body")[0]
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in (u for u in urls if u.startswith("/static/")):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert not re.search(r'(?<!xmlns=")https?://', answer.text), url


def test_files_outside_a_result_folder_are_not_served(client):
    (client.app.state.workbench.settings.results / "cmp").mkdir(parents=True)
    assert client.get("/runs/cmp/files/../../etc/passwd").status_code == 404
    assert client.get("/runs/cmp/files/workbench.json").status_code == 404
    assert client.get("/runs/..%2F..%2Fetc").status_code == 404
