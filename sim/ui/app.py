"""The workbench's web app: ``create_app(settings)``, its access rules, templates and static files.

A FastAPI app of server-rendered pages (Jinja2 templates in the package, one stylesheet and
one small script of its own in ``static/``: nothing is loaded from another site, so it works
offline). Pages are plain HTML forms; the script only polls a running experiment's
progress and sizes the embedded reports. The routes are in
:mod:`~ordercycle.sim.ui.pages` (scenario and policy sets) and
:mod:`~ordercycle.sim.ui.runs` (runs, results, export).

Access follows ``ordercycle serve``: without a token the app answers only on loopback (and
only to requests naming a loopback host, so that another site cannot reach it through DNS
rebinding); with a token (``$ORDERCYCLE_TOKEN``) every request must carry it — as
``Authorization: Bearer``, or once as ``?token=`` in the address, after which an HttpOnly,
SameSite=Strict cookie carries it; compared in constant time. A form posted from another
origin is refused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ordercycle.sim.ui.jobs import Jobs
from ordercycle.sim.ui.progress import ProgressReader
from ordercycle.sim.ui.workspace import Workspace

COOKIE = "ordercycle_workbench"
REFUSED_HEADER = "X-Workbench-Refused"
"""Set on a page that shows a form again with its problems."""
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
STEPS = (("scenario", "1 · Scenario"), ("sets", "2 · Policy sets"), ("run", "3 · Run"),
         ("runs", "4 · Results"), ("deploy", "5 · Deploy"))
"""The navigation: the strategist's five steps."""


@dataclass
class WorkbenchSettings:
    """How the workbench runs.

    Attributes:
        results: the results folder: runs are listed from it and written into it (as ``--out``
            folders of the CLI); the draft lives in its ``.workbench/``.
        token: the bearer token every request must carry; None: no auth (loopback only).
        python: the interpreter that runs the commands (default: this one).
        cwd: the working folder of the commands (default: the current one).
        workers: the worker processes a run form proposes (default: all cores).
    """

    results: Path = Path("out")
    token: str | None = None
    python: str | None = None
    cwd: Path | None = None
    workers: int | None = None


@dataclass
class Workbench:
    """What the routes share: settings, the draft's files, the runs and their progress."""

    settings: WorkbenchSettings
    workspace: Workspace
    jobs: Jobs
    progress: ProgressReader
    templates: Jinja2Templates

    def page(self, request: Request, template: str, context: dict[str, Any],
             status: int = 200, refused: bool = False) -> HTMLResponse:
        """A rendered page; ``refused``: a form shown again with its problems.

        A refused form is answered 200 with the header ``X-Workbench-Refused: 1``: it is the page
        the browser shows, its problems are in it (``role=alert``), and a 4xx document would be
        logged by the browser as a console error.
        """
        response = self.templates.TemplateResponse(request, template, {"steps": STEPS, **context},
                                                   status_code=status)
        if refused:
            response.headers[REFUSED_HEADER] = "1"
        return response

    def results_text(self) -> str:
        """The results folder as commands name it."""
        return str(self.settings.results).rstrip("/") or "."


def _package_path(name: str) -> str:
    return str(resources.files("ordercycle.sim.ui").joinpath(name))


def _hostname(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def _authorised(request: Request, token: str) -> bool:
    offered = request.cookies.get(COOKIE, "")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        offered = header[7:].strip()
    return hmac.compare_digest(offered.encode(), token.encode())


UNAUTHORISED = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>ordercycle workbench</title>
</head><body><h1>This workbench needs its token</h1><p>Open the address the workbench printed with
<code>?token=</code> and the value of its token variable (<code>$ORDERCYCLE_TOKEN</code>).</p>
</body></html>"""


def create_app(settings: WorkbenchSettings | None = None) -> FastAPI:
    """The workbench app over ``settings.results``."""
    settings = settings or WorkbenchSettings()
    templates = Jinja2Templates(directory=_package_path("templates"))
    workbench = Workbench(settings, Workspace(settings.results), Jobs(settings.python, settings.cwd),
                          ProgressReader(), templates)
    app = FastAPI(title="ordercycle workbench", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.workbench = workbench

    @app.middleware("http")
    async def access(request: Request, call_next: Any) -> Response:
        if request.url.path == "/healthz":
            return await call_next(request)
        token = settings.token
        if token is None and _hostname(request.headers.get("host", "")) not in LOOPBACK_HOSTS:
            return PlainTextResponse("this workbench answers only requests to a loopback host",
                                     status_code=403)
        if token is not None:
            offered = request.query_params.get("token")
            if offered is not None and request.method == "GET":
                if not hmac.compare_digest(offered.encode(), token.encode()):
                    return HTMLResponse(UNAUTHORISED, status_code=401)
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
                return response
            if not _authorised(request, token):
                return HTMLResponse(UNAUTHORISED, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if request.method not in ("GET", "HEAD") and not _same_origin(request):
            return PlainTextResponse("a form of another site cannot post to this workbench", status_code=403)
        response = await call_next(request)
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/scenario", status_code=303)

    from ordercycle.sim.ui import pages, runs

    app.include_router(pages.router)
    app.include_router(runs.router)
    app.mount("/static", StaticFiles(directory=_package_path("static")), name="static")
    return app


def workbench_of(request: Request) -> Workbench:
    """The workbench a request belongs to (a FastAPI dependency)."""
    return request.app.state.workbench


WorkbenchDep = Annotated[Workbench, Depends(workbench_of)]
"""A route's workbench parameter."""
