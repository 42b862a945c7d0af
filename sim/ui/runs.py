"""Steps 3–5 of the workbench: start a run, watch it, read its report, export the winner.

Starting a run writes the files it needs into its result folder and starts the command line
(:mod:`~ordercycle.sim.ui.jobs`); the pages read that folder. Reports are the ``report.html``
files the run wrote, shown as they are.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from ordercycle.reports.keynotes import builtin_keynote_files, load_keynote
from ordercycle.scenarios.loader import ScenarioError, override
from ordercycle.sim.ui.app import Workbench, WorkbenchDep
from ordercycle.sim.ui.jobs import JobError
from ordercycle.sim.ui.policy_sets import describe_sets, sets_yaml
from ordercycle.sim.ui.progress import kpi_label
from ordercycle.sim.ui.results import (
    DOWNLOADS,
    REPORTS,
    export_winner,
    list_runs,
    read_bundle,
    reproduce_command,
    reproducing_file,
    run_folder,
    serve_commands,
)
from ordercycle.sim.ui.workspace import check_grid, scenario_yaml

router = APIRouter()
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
KEYNOTE_FILE = re.compile(r"^K\d+/[A-Za-z0-9_.-]+$")


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _keynotes() -> list[Any]:
    return [load_keynote(path) for path in builtin_keynote_files()]


def _free_name(workbench: Workbench, stem: str) -> str:
    root = workbench.settings.results
    number = 1
    while (root / f"{stem}-{number}").exists():
        number += 1
    return f"{stem}-{number}"


def _defaults(workbench: Workbench) -> dict[str, dict[str, str]]:
    company = workbench.workspace.draft().company()
    workers = str(workbench.settings.workers or os.cpu_count() or 1)
    common = {"reps": "10", "workers": workers, "seed": "0", "confidence": "0.95"}
    return {
        "compare": {**common, "folder": _free_name(workbench, f"compare-{company.name}"),
                    "horizon_days": f"{company.horizon_days:g}", "warmup_days": f"{company.warmup_days:g}"},
        "keynote": {**common, "reps": "5", "folder": _free_name(workbench, "keynote"), "horizon": ""},
        "sweep": {**common, "reps": "5", "folder": _free_name(workbench, f"sweep-{company.name}"),
                  "horizon_days": f"{company.horizon_days:g}", "warmup_days": f"{company.warmup_days:g}"},
    }


def _run_page(workbench: Workbench, request: Request, *, kind: str = "", form: dict[str, str] | None = None,
              problems: dict[str, list[str]] | None = None, refused: bool = False) -> HTMLResponse:
    draft = workbench.workspace.draft()
    values = _defaults(workbench)
    if kind and form is not None:
        values[kind] = {**values[kind], **form}
    words = describe_sets(draft.company(), draft.sets)
    return workbench.page(request, "run.html", {
        "step": "run", "draft": draft, "values": values, "kind": kind, "problems": problems or {},
        "words": words, "keynotes": _keynotes(), "results": workbench.results_text(),
    }, refused=refused)


@router.get("/run", response_class=HTMLResponse)
def run_page(request: Request, workbench: WorkbenchDep) -> Response:
    """The forms that start a comparison, a keynote claim or a sweep."""
    return _run_page(workbench, request)


def _number(form: dict[str, str], name: str, problems: dict[str, list[str]], *, whole: bool = False,
            least: float | None = None, below: float | None = None, optional: bool = False) -> Any:
    text = form.get(name, "").strip()
    if optional and not text:
        return None
    try:
        value: float = float(text)
        if not math.isfinite(value) or (whole and not value.is_integer()):
            raise ValueError
    except ValueError:
        what = "whole number" if whole else "number"
        problems.setdefault(name, []).append(f"{name}: must be a {what}, got {text!r}")
        return None
    if least is not None and value < least:
        problems.setdefault(name, []).append(f"{name}: must be at least {least:g}, got {value:g}")
    if below is not None and not value < below:
        problems.setdefault(name, []).append(f"{name}: must be below {below:g}, got {value:g}")
    return int(value) if whole else value


def _common(workbench: Workbench, form: dict[str, str], problems: dict[str, list[str]]) -> dict[str, Any]:
    name = form.get("folder", "").strip()
    if not FOLDER_NAME.match(name):
        problems.setdefault("folder", []).append(
            f"folder: {name!r} is not a folder name (letters, digits, '_', '.', '-'; at most 80 characters)")
    elif workbench.jobs.running(workbench.settings.results / name):
        problems.setdefault("folder", []).append(f"folder: a run is going on in {name} (one per folder)")
    return {"folder": name,
            "reps": _number(form, "reps", problems, whole=True, least=2),
            "workers": _number(form, "workers", problems, whole=True, least=1),
            "seed": _number(form, "seed", problems, whole=True, least=0),
            "confidence": _number(form, "confidence", problems, least=0.5, below=1)}


def _options(asked: dict[str, Any]) -> list[str]:
    return ["--reps", str(asked["reps"]), "--seed", str(asked["seed"]), "--workers", str(asked["workers"]),
            "--confidence", f"{asked['confidence']:g}"]


def _scenario_for_run(workbench: Workbench, form: dict[str, str], problems: dict[str, list[str]]) -> Any:
    horizon = _number(form, "horizon_days", problems, least=1)
    warmup = _number(form, "warmup_days", problems, least=0)
    if horizon is None or warmup is None:
        return None
    try:
        return override(workbench.workspace.draft().company(), horizon_days=horizon, warmup_days=warmup)
    except ScenarioError as error:
        for line in error.problems:
            where = line.split(":", 1)[0]
            problems.setdefault(where if where in ("horizon_days", "warmup_days") else "", []).append(line)
        return None


def _start(workbench: Workbench, request: Request, kind: str, folder: str, argv: list[str],
           params: dict[str, Any], form: dict[str, str], page_kind: str) -> Response:
    try:
        workbench.jobs.start(workbench.settings.results / folder, kind, argv, params)
    except JobError as error:
        return _run_page(workbench, request, kind=page_kind, form=form, problems={"folder": [str(error)]},
                         refused=True)
    return _see(f"/runs/{folder}")


@router.post("/run/compare", response_class=HTMLResponse)
async def start_compare(request: Request, workbench: WorkbenchDep) -> Response:
    """Start ``ordercycle compare`` on the draft's scenario and sets."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    problems: dict[str, list[str]] = {}
    asked = _common(workbench, form, problems)
    scenario = _scenario_for_run(workbench, form, problems)
    draft = workbench.workspace.draft()
    if scenario is not None:
        words = describe_sets(scenario, draft.sets)
        for lines in words.problems.values():
            problems.setdefault("sets", []).extend(lines)
    if problems:
        return _run_page(workbench, request, kind="compare", form=form, problems=problems, refused=True)
    folder = workbench.settings.results / asked["folder"]
    shown = f"{workbench.results_text()}/{asked['folder']}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(scenario_yaml(scenario.model_dump(mode="json"), (
        f"Scenario of {asked['folder']}, set up in the ordercycle workbench from {draft.source}")), "utf-8")
    (folder / "sets.yaml").write_text(sets_yaml(draft.sets), encoding="utf-8")
    argv = ["ordercycle", "compare", f"{shown}/scenario.yaml", "--sets", f"{shown}/sets.yaml",
            *_options(asked), "--out", shown]
    params = {key: asked[key] for key in ("reps", "seed", "confidence")}
    return _start(workbench, request, "compare", asked["folder"], argv, params, form, "compare")


@router.post("/run/keynote", response_class=HTMLResponse)
async def start_keynote(request: Request, workbench: WorkbenchDep) -> Response:
    """Start ``ordercycle keynotes --only K…`` for one claim."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    problems: dict[str, list[str]] = {}
    asked = _common(workbench, form, problems)
    claims = {keynote.id: keynote for keynote in _keynotes()}
    claim = claims.get(form.get("keynote", ""))
    if claim is None:
        problems.setdefault("keynote", []).append(f"keynote: choose one of {', '.join(claims)}")
    horizon = _number(form, "horizon", problems, least=1, optional=True)
    if claim is not None and horizon is not None and not horizon > claim.warmup_days:
        problems.setdefault("horizon", []).append(
            f"horizon: must be above the claim's warm-up of {claim.warmup_days:g} days, got {horizon:g}")
    if problems or claim is None:
        return _run_page(workbench, request, kind="keynote", form=form, problems=problems, refused=True)
    shown = f"{workbench.results_text()}/{asked['folder']}"
    argv = ["ordercycle", "keynotes", "--only", claim.id, *_options(asked), "--out", shown]
    if horizon is not None:
        argv += ["--horizon", f"{horizon:g}"]
    if form.get("no_conditions"):
        argv.append("--no-conditions")
    params = {key: asked[key] for key in ("reps", "seed", "confidence")} | {"keynote": claim.id}
    return _start(workbench, request, "keynotes", asked["folder"], argv, params, form, "keynote")


@router.post("/run/sweep", response_class=HTMLResponse)
async def start_sweep(request: Request, workbench: WorkbenchDep) -> Response:
    """Start ``ordercycle sweep`` of the draft's scenario and sets over a grid."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    problems: dict[str, list[str]] = {}
    asked = _common(workbench, form, problems)
    scenario = _scenario_for_run(workbench, form, problems)
    draft = workbench.workspace.draft()
    grid_text = form.get("grid", draft.grid_text)
    if scenario is not None:
        _, grid_problems = check_grid(grid_text, scenario)
        if grid_problems:
            problems.setdefault("grid", []).extend(grid_problems)
        for lines in describe_sets(scenario, draft.sets).problems.values():
            problems.setdefault("sets", []).extend(lines)
    if problems:
        return _run_page(workbench, request, kind="sweep", form=form, problems=problems, refused=True)
    draft.grid_text = grid_text
    workbench.workspace.save(draft)
    folder = workbench.settings.results / asked["folder"]
    shown = f"{workbench.results_text()}/{asked['folder']}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(scenario_yaml(scenario.model_dump(mode="json"), (
        f"Scenario of {asked['folder']}, set up in the ordercycle workbench from {draft.source}")), "utf-8")
    (folder / "sets.yaml").write_text(sets_yaml(draft.sets), encoding="utf-8")
    (folder / "grid.yaml").write_text(grid_text, encoding="utf-8")
    argv = ["ordercycle", "sweep", f"{shown}/scenario.yaml", "--grid", f"{shown}/grid.yaml", "--sets",
            f"{shown}/sets.yaml", *_options(asked), "--out", shown]
    params = {key: asked[key] for key in ("reps", "seed", "confidence")}
    return _start(workbench, request, "sweep", asked["folder"], argv, params, form, "sweep")


# --- results ----------------------------------------------------------------------------------


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, workbench: WorkbenchDep) -> Response:
    """Every result folder, whoever started it."""
    runs = list_runs(workbench.settings.results, workbench.jobs)
    return workbench.page(request, "runs.html",
                          {"step": "runs", "runs": runs, "results": workbench.results_text()})


def _folder_or_404(workbench: Workbench, name: str) -> Any:
    return run_folder(workbench.settings.results, name, workbench.jobs)


def _detail(workbench: Workbench, request: Request, folder: Any, export: Any = None, refused: bool = False
            ) -> HTMLResponse:
    comparison = folder.comparison_folder()
    shown = f"{workbench.results_text()}/{folder.name}"
    bundle_folder = comparison if comparison is not None else folder.path
    bundle = read_bundle(bundle_folder)
    relative = shown + ("" if comparison in (None, folder.path) else f"/{comparison.name}")
    experiment = folder.experiment()
    keynote_reports = sorted(p.parent.name for p in folder.path.glob("K*/report.html"))
    ranking: dict[str, Any] = {}
    if comparison is not None and (comparison / "ranking.json").is_file():
        ranking = json.loads((comparison / "ranking.json").read_text(encoding="utf-8"))
    return workbench.page(request, "result.html", {
        "step": "runs", "folder": folder, "progress": workbench.progress.read(folder.path, folder.record),
        "kpi_label": kpi_label, "command": reproduce_command(folder, workbench.results_text()),
        "downloads": folder.downloads(), "report": folder.report(),
        "keynote_reports": keynote_reports, "comparison": comparison, "bundle": bundle,
        "serve": serve_commands(f"{relative}/bundle.json", relative) if bundle else [],
        "export": export, "experiment": experiment, "shown": shown, "ranking": ranking,
    }, refused=refused)


@router.get("/runs/{name}", response_class=HTMLResponse)
def run_detail(request: Request, name: str, workbench: WorkbenchDep) -> Response:
    """One run: its state and live progress, its report, its files, its export."""
    folder = _folder_or_404(workbench, name)
    if folder is None:
        return workbench.page(request, "missing.html", {"step": "runs", "name": name}, 404)
    return _detail(workbench, request, folder)


@router.get("/runs/{name}/progress", response_class=HTMLResponse)
def run_progress(request: Request, name: str, workbench: WorkbenchDep) -> Response:
    """The live progress block of a run (what the page's script polls)."""
    folder = _folder_or_404(workbench, name)
    if folder is None:
        return HTMLResponse("", status_code=404)
    return workbench.templates.TemplateResponse(request, "_progress.html", {
        "folder": folder, "progress": workbench.progress.read(folder.path, folder.record),
        "kpi_label": kpi_label})


@router.post("/runs/{name}/cancel")
def cancel_run(name: str, workbench: WorkbenchDep) -> Response:
    """Stop a run and its workers; finished replications stay in the store."""
    folder = _folder_or_404(workbench, name)
    if folder is not None:
        workbench.jobs.cancel(folder.path)
    return _see(f"/runs/{name}")


@router.post("/runs/{name}/resume", response_class=HTMLResponse)
async def resume_run(request: Request, name: str, workbench: WorkbenchDep) -> Response:
    """Run the same command again (with more replications when asked): finished ones are reused."""
    folder = _folder_or_404(workbench, name)
    if folder is None or folder.record is None:
        return _see(f"/runs/{name}")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    argv, params = list(folder.record.argv), dict(folder.record.params)
    if form.get("reps", "").strip():
        problems: dict[str, list[str]] = {}
        reps = _number(form, "reps", problems, whole=True, least=2)
        if problems or reps is None:
            return _detail(workbench, request, folder, refused=True)
        argv[argv.index("--reps") + 1], params["reps"] = str(reps), reps
    try:
        workbench.jobs.start(folder.path, folder.record.kind, argv, params)
    except JobError:
        pass
    return _see(f"/runs/{name}")


@router.get("/runs/{name}/files/{file:path}")
def run_file(name: str, file: str, workbench: WorkbenchDep) -> Response:
    """A result file: the report (shown in the page), tables, the files that reproduce the run."""
    folder = _folder_or_404(workbench, name)
    allowed = {download for download, _ in DOWNLOADS}
    base = file.rsplit("/", 1)[-1]
    if folder is None or base not in allowed or ("/" in file and not KEYNOTE_FILE.match(file)):
        return Response("no such file", status_code=404, media_type="text/plain")
    path = folder.path / file
    if not path.is_file():
        text = reproducing_file(folder, file)
        if text is None:
            return Response("no such file", status_code=404, media_type="text/plain")
        return Response(text, media_type="application/yaml",
                        headers={"Content-Disposition": f'attachment; filename="{file}"'})
    if base in REPORTS:
        return FileResponse(path, media_type="text/html; charset=utf-8")
    return FileResponse(path, filename=f"{name}-{file.replace('/', '-')}")


@router.post("/runs/{name}/export", response_class=HTMLResponse)
async def export_run(request: Request, name: str, workbench: WorkbenchDep) -> Response:
    """``ordercycle export`` of the winner (or a chosen set) into the comparison's folder."""
    folder = _folder_or_404(workbench, name)
    if folder is None or folder.comparison_folder() is None:
        return _see(f"/runs/{name}")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    comparison = folder.comparison_folder()
    shown = f"{workbench.results_text()}/{folder.name}"
    if comparison != folder.path:
        shown += f"/{comparison.name}"
    exported = await run_in_threadpool(export_winner, comparison, form.get("set") or None,
                                       workbench.settings.python, workbench.settings.cwd, shown)
    return _detail(workbench, request, folder, export=exported, refused=not exported.ok)


@router.get("/deploy", response_class=HTMLResponse)
def deploy_page(request: Request, workbench: WorkbenchDep) -> Response:
    """Finished comparisons, their winners and bundles: where to export and how to serve."""
    rows = []
    for folder in list_runs(workbench.settings.results, workbench.jobs):
        comparison = folder.comparison_folder()
        if comparison is None or folder.state != "finished":
            continue
        try:
            winner = json.loads((comparison / "ranking.json").read_text(encoding="utf-8")).get("winner")
        except (OSError, ValueError):
            winner = None
        rows.append((folder, winner, read_bundle(comparison)))
    return workbench.page(request, "deploy.html", {"step": "deploy", "rows": rows})
