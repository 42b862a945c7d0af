"""Steps 1 and 2 of the workbench: the scenario (its company in words, its levers) and the policy sets.

Every route reads or writes the draft's files and validates with the scenario schema and
the policy registry; none runs a simulation.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from ordercycle.policies.base import PolicyParameterError
from ordercycle.scenarios.loader import BUILTIN, ScenarioError
from ordercycle.sim.experiments.set_notes import DECISIONS
from ordercycle.sim.ui.app import Workbench, WorkbenchDep
from ordercycle.sim.ui.company import company_in_words, policy_line
from ordercycle.sim.ui.levers import apply_levers, lever_groups
from ordercycle.sim.ui.policy_sets import (
    catalogue,
    change_of,
    check_set_name,
    describe_sets,
    param_fields,
    param_text,
    read_params,
    set_change,
    sets_from_yaml,
)
from ordercycle.sim.ui.workspace import Draft, builtin_sets_files

router = APIRouter()


def _texts(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- step 1: the scenario ---------------------------------------------------------------


def _scenario_page(workbench: Workbench, request: Request, draft: Draft, *,
                   form: dict[str, str] | None = None,
                   problems: dict[str, list[str]] | None = None, source_problems: list[str] | None = None,
                   saved: bool = False, refused: bool = False) -> HTMLResponse:
    """The scenario page; ``form`` holds submitted values to show again beside their problems."""
    return workbench.page(request, "scenario.html", {
        "step": "scenario", "draft": draft, "builtin": BUILTIN, "company": company_in_words(draft.company()),
        "groups": lever_groups(draft.data, draft.demand_scale), "form": form or {},
        "problems": problems or {}, "source_problems": source_problems or [], "saved": saved,
    }, refused=refused)


@router.get("/scenario", response_class=HTMLResponse)
def scenario_page(request: Request, workbench: WorkbenchDep, saved: int = 0) -> Response:
    """The draft's company in words and its lever form."""
    return _scenario_page(workbench, request, workbench.workspace.draft(), saved=bool(saved))


@router.post("/scenario/source", response_class=HTMLResponse)
async def choose_scenario(request: Request, workbench: WorkbenchDep) -> Response:
    """Start the draft from a built-in scenario, a file on this machine, or an uploaded file."""
    form = await request.form()
    upload = form.get("upload")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            workbench.workspace.upload(upload.filename, await upload.read())
        elif str(form.get("path", "")).strip():
            workbench.workspace.start_from(str(form["path"]).strip())
        else:
            workbench.workspace.start_from(str(form.get("builtin", "baseline")))
    except ScenarioError as error:
        return _scenario_page(workbench, request, workbench.workspace.draft(), source_problems=error.problems,
                              refused=True)
    return _see("/scenario?saved=1")


@router.post("/scenario/levers", response_class=HTMLResponse)
async def set_levers(request: Request, workbench: WorkbenchDep) -> Response:
    """Write the lever form into the draft, or show the schema's ``path: reason`` beside each field."""
    form = _texts(await request.form())
    draft = workbench.workspace.draft()
    result = apply_levers(draft.data, form, draft.demand_scale)
    if not result.valid:
        return _scenario_page(workbench, request, draft, form=form, problems=result.problems, refused=True)
    draft.data, draft.demand_scale = result.data, float(result.demand_scale)
    workbench.workspace.save(draft)
    return _see("/scenario?saved=1")


# --- step 2: the policy sets ------------------------------------------------------------


def _sets_page(workbench: Workbench, request: Request, draft: Draft, *, problems: list[str] | None = None,
               refused: bool = False, message: str = "") -> HTMLResponse:
    words = describe_sets(draft.company(), draft.sets)
    changes = {name: [(kind, *change_of(draft.sets, name, kind)) for kind in DECISIONS  # type: ignore[misc]
                      if change_of(draft.sets, name, kind) is not None] for name in draft.sets["sets"]}
    return workbench.page(request, "sets.html", {
        "step": "sets", "draft": draft, "words": words, "changes": changes, "catalogue": catalogue(),
        "decisions": DECISIONS, "in_force": dict(zip(DECISIONS, (policy_line(kind, *_choice(draft, kind))
                                                                for kind in DECISIONS), strict=True)),
        "builtin_sets": list(builtin_sets_files()), "problems": problems or [], "message": message,
    }, refused=refused)


def _choice(draft: Draft, kind: str) -> tuple[str, dict[str, Any]]:
    choice = draft.scenario().policies.model_dump(mode="json")[kind]
    return choice["name"], choice["params"]


@router.get("/sets", response_class=HTMLResponse)
def sets_page(request: Request, workbench: WorkbenchDep) -> Response:
    """The draft's policy sets in words, and the registry to compose them from."""
    return _sets_page(workbench, request, workbench.workspace.draft())


@router.post("/sets/add", response_class=HTMLResponse)
async def add_set(request: Request, workbench: WorkbenchDep) -> Response:
    """Add a set (empty: the scenario's policies; or a copy of another set)."""
    form = _texts(await request.form())
    draft = workbench.workspace.draft()
    name = form.get("name", "").strip()
    problem = check_set_name(draft.sets, name)
    if problem:
        return _sets_page(workbench, request, draft, problems=[problem], refused=True)
    copy_from = form.get("copy_from", "")
    draft.sets["sets"][name] = dict(draft.sets["sets"].get(copy_from, {}))
    workbench.workspace.save(draft)
    return _see("/sets")


@router.post("/sets/remove")
async def remove_set(request: Request, workbench: WorkbenchDep) -> Response:
    """Remove a set (the last one stays)."""
    form = _texts(await request.form())
    draft = workbench.workspace.draft()
    name = form.get("name", "")
    if name in draft.sets["sets"] and len(draft.sets["sets"]) > 1:
        del draft.sets["sets"][name]
        if draft.sets.get("reference") == name:
            draft.sets["reference"] = next(iter(draft.sets["sets"]))
        workbench.workspace.save(draft)
    return _see("/sets")


@router.post("/sets/reference")
async def choose_reference(request: Request, workbench: WorkbenchDep) -> Response:
    """Make a set the reference the others are compared with."""
    form = _texts(await request.form())
    draft = workbench.workspace.draft()
    if form.get("name") in draft.sets["sets"]:
        draft.sets["reference"] = form["name"]
        workbench.workspace.save(draft)
    return _see("/sets")


@router.post("/sets/load", response_class=HTMLResponse)
async def load_sets(request: Request, workbench: WorkbenchDep) -> Response:
    """Replace the sets with a sets file: a packaged one, an uploaded one, or pasted text."""
    form = await request.form()
    draft = workbench.workspace.draft()
    upload = form.get("upload")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            text = (await upload.read()).decode("utf-8", errors="replace")
            draft.sets = sets_from_yaml(text, upload.filename)
        elif str(form.get("text", "")).strip():
            draft.sets = sets_from_yaml(str(form["text"]), "pasted sets")
        else:
            files = builtin_sets_files()
            label = str(form.get("builtin", ""))
            if label not in files:
                raise ScenarioError([f"builtin: no packaged sets file {label!r}"])
            draft.sets = sets_from_yaml(files[label].read_text(encoding="utf-8"), label)
    except ScenarioError as error:
        return _sets_page(workbench, request, draft, problems=error.problems, refused=True)
    workbench.workspace.save(draft)
    return _see("/sets")


def _policy_page(workbench: Workbench, request: Request, draft: Draft, set_name: str, decision: str,
                 policy: str, values: dict[str, str], problems: dict[str, list[str]], refused: bool = False
                 ) -> HTMLResponse:
    from ordercycle.policies.registry import lookup

    return workbench.page(request, "policy.html", {
        "step": "sets", "set_name": set_name, "decision": decision, "policy": policy,
        "summary": lookup(decision, policy).summary, "fields": param_fields(decision, policy),
        "values": values, "problems": problems, "draft": draft,
    }, refused=refused)


def _parse_choice(choice: str) -> tuple[str, str]:
    decision, _, policy = choice.partition("/")
    return decision, policy


@router.get("/sets/{set_name}/policy", response_class=HTMLResponse)
def policy_form(request: Request, set_name: str, choice: str,
                workbench: WorkbenchDep) -> Response:
    """The parameters of the policy chosen for one decision of a set, with their bounds."""
    draft = workbench.workspace.draft()
    decision, policy = _parse_choice(choice)
    if set_name not in draft.sets["sets"]:
        return _sets_page(workbench, request, draft, problems=[f"sets.{set_name}: no such set"],
                          refused=True)
    if decision not in DECISIONS:
        return _sets_page(workbench, request, draft, problems=[f"choice: unknown decision {decision!r}"],
                          refused=True)
    if policy == "":  # keep the scenario's policy for this decision
        draft.sets["sets"][set_name].pop(decision, None)
        workbench.workspace.save(draft)
        return _see("/sets")
    try:
        current = change_of(draft.sets, set_name, decision)
        given = current[1] if current and current[0] == policy else {}
        fields = param_fields(decision, policy)
    except PolicyParameterError as error:
        return _sets_page(workbench, request, draft, problems=error.problems, refused=True)
    values = {f.name: param_text(given[f.name]) if f.name in given else f.default for f in fields}
    return _policy_page(workbench, request, draft, set_name, decision, policy, values, {})


@router.post("/sets/{set_name}/policy", response_class=HTMLResponse)
async def set_policy(request: Request, set_name: str, workbench: WorkbenchDep) -> Response:
    """Give a set's decision the chosen policy with the parameters, or show the registry's reasons."""
    form = _texts(await request.form())
    draft = workbench.workspace.draft()
    decision, policy = form.get("decision", ""), form.get("policy", "")
    if set_name not in draft.sets["sets"]:
        return _sets_page(workbench, request, draft, problems=[f"sets.{set_name}: no such set"],
                          refused=True)
    try:
        params, problems = read_params(decision, policy, form)
    except PolicyParameterError as error:
        return _sets_page(workbench, request, draft, problems=error.problems, refused=True)
    if problems:
        values = {f.name: form.get(f.name, f.default) for f in param_fields(decision, policy)}
        return _policy_page(workbench, request, draft, set_name, decision, policy, values, problems, True)
    set_change(draft.sets, set_name, decision, policy, params)
    workbench.workspace.save(draft)
    return _see("/sets")
