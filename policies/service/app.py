"""The FastAPI application: one router per decision kind the bundle covers, a thin adapter.

:func:`create_app` takes a verified bundle (and optionally a shadow bundle) and the
:class:`ServiceSettings`; its lifespan opens the decision log once. Every decision route
parses and validates the raw body against the bounded schema (:mod:`.schemas`) in one
step, turns it into the simulation's context dataclass, asks the bundle's policy, logs
request and decision (committed before answering, in SQLite or PostgreSQL; the id is in
the ``X-Decision-Id`` header, the context's time on the company's calendar in
``X-Context-Time``) and answers with the decision's JSON, encoded once. A request with an
``Idempotency-Key`` already in the log gets the logged decision back instead. A decision takes well
under a millisecond of CPU, so routes decide on the event loop: a hop to the thread
pool costs more than it saves (the GIL serialises the work anyway) and is where the
latency tail grew. Routes of solver-backed policies (a time limit, seconds) and of
re-planning decide in the thread pool, so that one long search does not stall the
other routes; so do all routes on a PostgreSQL log with several connections
(``db_connections``), whose commits wait milliseconds for the server's disk: concurrent
requests then commit together instead of one after the other.

Security: with a token set (or several, for rotation), every route but ``/healthz`` —
the OpenAPI document and the docs page included — requires ``Authorization: Bearer
<token>``; without one the service must only listen on loopback (the CLI refuses
otherwise). :class:`RequestGuard` checks the token before it reads a byte of the body,
then reads the body with a cap and a deadline; uvicorn's protocol bounds the time to
send headers and the open connections (:mod:`.server`). Lists are bounded in length and
numbers in magnitude; metric labels come from closed sets; every error is JSON:
``{"detail": …, "errors": [{"field": "orders.3.due_date", "reason": …}]}``.
"""

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordercycle.policies.bundle import Bundle
from ordercycle.policies.service.clock import COMPANIONS, CompanyClock, companions, order_id
from ordercycle.policies.service.log import (
    MAX_IDEMPOTENCY_KEY,
    DecisionLog,
    DecisionLogUnavailable,
    LoggedDecision,
    ShadowRecord,
    open_log,
)
from ordercycle.policies.service.metrics import CONTENT_TYPE, ServiceMetrics
from ordercycle.policies.service.outcomes import outcome, same_decision
from ordercycle.policies.service.promise import DEFAULT_MAX_REPS, PromiseEstimator, add_promise_route
from ordercycle.policies.service.schemas import DEFAULT_MAX_ITEMS, RouteSchema, route_schemas
from ordercycle.policies.service.tokens import parse_tokens, token_matcher

TOKEN_ENV = "ORDERCYCLE_TOKEN"
logger = logging.getLogger("ordercycle.service")
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 15.0
"""Seconds to receive a request's body (4 MiB at 2.2 Mbit/s)."""
OPEN_PATHS = frozenset({"/healthz"})
"""Paths that need no token."""
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"})
"""The methods metrics name; any other (a client may send any token) is counted as ``other``."""


@dataclass(frozen=True)
class ServiceSettings:
    """How the service runs.

    Attributes:
        db_path: the decision log: a SQLite file, or a ``postgresql://`` URL (a log that
            several instances share).
        token: bearer token required on every route but ``/healthz``; ``None``: no auth
            (loopback only).
        tokens: more tokens accepted besides ``token`` (rotation: the new and the old one).
        max_body_bytes: largest request body accepted (413 beyond).
        max_items: longest list accepted in a request (422 beyond).
        synchronous: SQLite ``synchronous`` of the log: ``normal`` or ``full``.
        body_timeout: seconds a client has to send a request's body once its headers are in
            (408 after).
        metrics_dir: a directory the workers of one ``serve --workers N`` run share: each writes
            its metric values there and ``/metrics`` sums them (``None``: this process's alone).
        db_connections: connections of a PostgreSQL log (``None``: its default); with more than
            one, the routes log from the thread pool so that concurrent requests commit together.
    """

    db_path: str = "decisions.sqlite"
    token: str | None = None
    tokens: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_items: int = DEFAULT_MAX_ITEMS
    synchronous: str = "normal"
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    metrics_dir: str | None = None
    db_connections: int | None = None

    def accepted_tokens(self) -> tuple[str, ...]:
        """Every token a request may carry (none: no auth)."""
        return tuple(dict.fromkeys(((self.token,) if self.token else ()) + self.tokens))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, token_env: str = TOKEN_ENV,
                 **overrides: Any) -> "ServiceSettings":
        """Settings with the tokens read from the environment variable ``token_env`` (comma
        separated, surrounding whitespace removed; see :mod:`.tokens`).

        Raises:
            ValueError: if the variable holds an empty or non-ASCII token.
        """
        environ = os.environ if environ is None else environ
        tokens, _, problems = parse_tokens(environ.get(token_env), f"${token_env}")
        if problems:
            raise ValueError("; ".join(problems))
        return cls(token=tokens[0] if tokens else None, tokens=tokens[1:], **overrides)


class FieldError(BaseModel):
    """One problem with a request: the field at fault (dotted path, ``None`` for the
    request as a whole) and the reason."""

    field: str | None
    reason: str


class ErrorBody(BaseModel):
    """Every error answer of the service."""

    detail: str
    errors: list[FieldError]


class DecisionFailed(Exception):
    """The policy raised on a context that passed validation (answered 422)."""

    def __init__(self, decision: str, error: Exception):
        super().__init__(f"{decision}: {type(error).__name__}: {error}")
        self.decision = decision
        self.error = error


def _error_response(status: int, detail: str, errors: list[dict[str, Any]],
                    headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "errors": errors}, status_code=status, headers=dict(headers or {}))


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body cannot be read as JSON text (e.g. not UTF-8)."},
    401: {"model": ErrorBody, "description": "Missing or wrong bearer token."},
    408: {"model": ErrorBody, "description": "The body did not arrive in time."},
    413: {"model": ErrorBody, "description": "Request body larger than the service accepts."},
    422: {"model": ErrorBody, "description": "The context does not match the schema, or the policy "
                                             "cannot decide it, or the `Idempotency-Key` was used for "
                                             "another request; `errors` names each field at fault."},
    503: {"model": ErrorBody, "description": "The decision log could not commit the decision: nothing "
                                             "was decided; retry (with the same `Idempotency-Key`)."},
}

IDEMPOTENCY_KEY = "Idempotency-Key"
"""Request header naming a request, so that it can be retried safely: a second request with
the same key — to this or to another instance on the same log — gets the logged decision
back (same ``X-Decision-Id``, ``Idempotent-Replayed: true``) instead of a new one."""
IDEMPOTENCY_KEY_PATTERN = f"^[!-~]{{1,{MAX_IDEMPOTENCY_KEY}}}$"
"""Visible ASCII characters, 1 to :data:`~.log.MAX_IDEMPOTENCY_KEY` of them (a UUID fits)."""


# --- middleware -----------------------------------------------------------------------


class RequestGuard:
    """Checks a request before any of its body is read, then reads the body within bounds.

    In order: the token (401, unless the path is open or no token is set) — before a byte of
    the body is read, so an unauthenticated client cannot make the service hold its body; the
    declared ``Content-Length`` (413 beyond ``max_bytes``); then the body, streamed with a cap
    (413 as soon as it passes ``max_bytes``) and a deadline (408 when it is not complete
    within ``body_timeout`` seconds of the headers). A refused request that has a body is
    answered with ``Connection: close``: the rest of its body is never read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, tokens: tuple[str, ...] = (),
                 body_timeout: float = DEFAULT_BODY_TIMEOUT):
        self.app = app
        self.max_bytes = max_bytes
        self.authorized = token_matcher(tokens)
        self.protected = bool(tokens)
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        unread = b"transfer-encoding" in headers or declared not in (None, b"0")
        if self.protected and scope["path"] not in OPEN_PATHS:
            header = headers.get(b"authorization")
            if not self.authorized(header.decode("latin-1") if header is not None else None):
                await self._refuse(scope, send, 401, "missing or wrong bearer token", None,
                                   [(b"www-authenticate", b"Bearer")], close=unread)
                return
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, send)
            return
        chunks, size, more = [], 0, True
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        while more:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(remaining, 0.0))
            except TimeoutError:
                await self._refuse(scope, send, 408, "request body not received in time",
                                   f"the body must arrive within {self.body_timeout:g} s")
                return
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        await self._refuse(scope, send, 413, f"request body over {self.max_bytes} bytes",
                           f"body must be at most {self.max_bytes} bytes")

    async def _refuse(self, scope: Scope, send: Send, status: int, detail: str, reason: str | None,
                      headers: list[tuple[bytes, bytes]] | None = None, close: bool = True) -> None:
        response = _error_response(status, detail, [{"field": None, "reason": reason or detail}])
        response.raw_headers.extend([*(headers or []), *([(b"connection", b"close")] if close else [])])

        async def nothing() -> Message:  # a refused request's body is never read
            return {"type": "http.disconnect"}

        await response(scope, nothing, send)


class RequestMetrics:
    """Counts requests by route and status and observes their latency.

    Every response also carries the server's own time for it, up to the start of the
    answer, as ``Server-Timing: app;dur=<ms>, cpu;dur=<ms>`` (W3C Server Timing): the
    wall-clock time, and the CPU time the process spent meanwhile (all its threads; the
    request's own CPU time when requests come one at a time). A client can set them
    against its round trip (the benchmark does); on a shared machine the CPU time is the
    figure other processes do not disturb.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, known_paths: set[str]):
        self.app = app
        self.metrics = metrics
        self.known_paths = known_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, cpu_started = time.perf_counter(), time.process_time()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                cpu_ms = (time.process_time() - cpu_started) * 1000.0
                timing = (b"server-timing", f"app;dur={elapsed_ms:.3f}, cpu;dur={cpu_ms:.3f}".encode("ascii"))
                message = {**message, "headers": [*message.get("headers", ()), timing]}
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = scope["path"] if scope["path"] in self.known_paths else "unmatched"
            method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
            self.metrics.requests.inc(route, method, str(status))
            self.metrics.latency.observe(time.perf_counter() - started, route)


# --- dependencies ---------------------------------------------------------------------


bearer_scheme = HTTPBearer(auto_error=False, description=f"The token in the service's `{TOKEN_ENV}`.")


def _unauthorized() -> HTTPException:
    return HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


def token_check(tokens: str | tuple[str, ...]) -> Callable[..., Awaitable[None]]:
    """A dependency that refuses requests without ``Authorization: Bearer <token>`` (one of
    ``tokens``); it also documents the security scheme in the OpenAPI document.

    It is ``async`` (cheap, no I/O) so that FastAPI runs it on the event loop instead of
    hopping to the thread pool. :class:`RequestGuard` has checked the token already.
    """
    authorized = token_matcher(tokens)

    Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]

    async def require_token(request: Request, credentials: Credentials) -> None:
        if not authorized(request.headers.get("authorization")):
            raise _unauthorized()

    return require_token


# --- decision routes ------------------------------------------------------------------


def _decide(policy: Any, schema: RouteSchema) -> Callable[[Any], Any]:
    return getattr(policy, schema.method)


def solver_backed(policy: Any) -> bool:
    """Whether a policy runs a solver under a time limit (it may take seconds; CP-SAT
    releases the GIL while it searches): such routes decide in the thread pool."""
    return "time_limit_seconds" in policy.get_params()


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def decision_route_class(handler: Callable[[Request], Awaitable[Response]]) -> type[APIRoute]:
    """An :class:`APIRoute` that documents the route from its endpoint's signature (body
    schema, examples, security) like any FastAPI route, but answers requests with
    ``handler`` (FastAPI's documented hook ``get_route_handler``): the raw body is parsed
    and validated in one step, without FastAPI's dependency solving and thread hops."""

    class DecisionRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            return handler

    return DecisionRoute


def _idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` (``None`` without one).

    Raises:
        RequestValidationError: if it is empty, too long or not visible ASCII.
    """
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        return None
    if not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and all("!" <= character <= "~" for character in key)):
        raise RequestValidationError([{
            "type": "idempotency_key", "loc": ("header", IDEMPOTENCY_KEY), "input": None,
            "msg": f"must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters (e.g. a UUID)"}])
    return key


def _context_time(timestamp: str | None) -> dict[str, str]:
    return {"X-Context-Time": timestamp} if timestamp else {}


PREFER_ISO = "times=iso"
"""The preference (RFC 7240 ``Prefer`` request header) for the ISO 8601 companions of the
instants a decision implies (:data:`~.clock.COMPANIONS`)."""


def _prefers_iso(request: Request) -> bool:
    """Whether the request's ``Prefer`` header holds ``times=iso`` (other preferences are
    ignored, as RFC 7240 says)."""
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            token = preference.split(";", 1)[0].replace(" ", "").replace('"', "").lower()
            if token == PREFER_ISO:
                return True
    return False


def _with_companions(response_json: bytes, stamps: Mapping[str, str | None]) -> bytes:
    """The decision's JSON object with the companions' keys appended."""
    if not stamps:
        return response_json
    return response_json[:-1] + b"," + json.dumps(stamps, separators=(",", ":")).encode()[1:]


def _add_decision_route(app: FastAPI, schema: RouteSchema, live: Bundle, shadow: Bundle | None,
                        metrics: ServiceMetrics, dependencies: list[Any], tokens: tuple[str, ...]) -> None:
    kind = schema.decision
    decide = _decide(live.policies[kind], schema)
    policy_id, live_hash = live.policy_id(kind), live.content_hash
    shadow_decide = _decide(shadow.policies[kind], schema) if shadow and kind in shadow.policies else None
    shadow_id = shadow.policy_id(kind) if shadow_decide and shadow else ""
    shadow_hash = shadow.content_hash if shadow else ""
    request_model = schema.request_model
    context_from_body = schema.context_from_body
    examples = schema.openapi_examples()
    offload = kind == "schedule" or solver_backed(live.policies[kind]) or (
        shadow is not None and kind in shadow.policies and solver_backed(shadow.policies[kind]))
    authorized = token_matcher(tokens)
    clock = CompanyClock.of_scenario(live.document.get("scenario"))
    implied = bool(COMPANIONS.get(kind))
    applied = {"Preference-Applied": PREFER_ISO, "Vary": "Prefer"}

    def answered(response_json: bytes, headers: dict[str, str], iso: bool, context: Any,
                 decision: Any) -> Response:
        """The answer, with the ISO 8601 companions when the request prefers them."""
        if iso:
            if implied:
                response_json = _with_companions(response_json, companions(clock, kind, context, decision))
            headers.update(applied)
        elif implied:
            headers["Vary"] = "Prefer"
        return Response(response_json, media_type="application/json", headers=headers)

    def shadow_answer(context: Any, live_json: bytes) -> ShadowRecord:
        try:
            decision = shadow_decide(context)  # type: ignore[misc]
        except Exception as error:  # the shadow never disturbs the live answer
            return ShadowRecord(shadow_id, shadow_hash, "error",
                                json.dumps({"error": f"{type(error).__name__}: {error}"}), False)
        shadow_json = schema.decision_json(decision)
        agrees = same_decision(json.loads(live_json), json.loads(shadow_json))
        metrics.shadow.inc(kind, "agree" if agrees else "disagree")
        return ShadowRecord(shadow_id, shadow_hash, outcome(kind, context, decision), shadow_json.decode(),
                            agrees)

    def earlier_answer(earlier: LoggedDecision, request_json: bytes, context: Any, iso: bool) -> Response:
        """The logged decision of an earlier request with the same idempotency key (the same
        bytes as its first answer), if the request is the same."""
        if json.loads(request_json) != earlier.request:
            raise RequestValidationError([{
                "type": "idempotency_key", "loc": ("header", IDEMPOTENCY_KEY), "input": None,
                "msg": f"already used for another request (decision {earlier.id}); use a new key"}])
        decision = schema.decision_from_json(earlier.response)
        return answered(schema.decision_json(decision), {
            "X-Decision-Id": str(earlier.id), "Idempotent-Replayed": "true",
            **_context_time(clock.context_timestamp(context))}, iso, context, decision)

    def answer(raw: bytes, log: DecisionLog, idempotency_key: str | None, iso: bool = False) -> Response:
        """Validate the raw body, decide, log (committed) and answer: the CPU-bound part."""
        started = time.perf_counter()
        try:
            context = context_from_body(raw)
        except ValidationError as error:
            raise RequestValidationError([{**item, "loc": ("body", *item["loc"])}
                                          for item in error.errors(include_url=False)]) from None
        request_json = schema.context_json(context)
        if idempotency_key is not None and (earlier := log.find(idempotency_key)) is not None:
            return earlier_answer(earlier, request_json, context, iso)
        try:
            decision = decide(context)
        except Exception as error:
            metrics.errors.inc(kind)
            raise DecisionFailed(kind, error) from error
        response_json = schema.decision_json(decision)
        label = outcome(kind, context, decision)
        shadow_record = shadow_answer(context, response_json) if shadow_decide else None
        latency_ms = (time.perf_counter() - started) * 1000.0
        context_at = clock.context_timestamp(context)
        logged = log.append(decision=kind, policy=policy_id, bundle_hash=live_hash, outcome=label,
                            latency_ms=latency_ms, request=request_json.decode(),
                            response=response_json.decode(), shadow=shadow_record, context_at=context_at,
                            order_id=order_id(context), idempotency_key=idempotency_key)
        if logged.earlier:  # another request with this key was logged meanwhile (another instance)
            return earlier_answer(logged, request_json, context, iso)
        metrics.decisions.inc(kind, policy_id, label)
        return answered(response_json, {"X-Decision-Id": str(logged.id), **_context_time(context_at)}, iso,
                        context, decision)

    async def handle(request: Request) -> Response:
        if not authorized(request.headers.get("authorization")):
            raise _unauthorized()
        idempotency_key = _idempotency_key(request)
        iso = _prefers_iso(request)
        if iso and clock.start_date is None:
            raise RequestValidationError([{
                "type": "prefer", "loc": ("header", "Prefer"), "input": None,
                "msg": "times=iso needs a day 0, and the bundle's scenario has no calendars.start_date"}])
        raw = await request.body()
        if not _is_json(request.headers.get("content-type")):
            raise RequestValidationError([{"type": "content_type", "loc": ("body",), "input": None,
                                           "msg": "Content-Type must be application/json"}])
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, "There was an error parsing the body") from None
        log = request.app.state.decision_log
        if offload or getattr(log, "commits_in_parallel", False):  # several PostgreSQL connections
            return await run_in_threadpool(answer, raw, log, idempotency_key, iso)
        return answer(raw, log, idempotency_key, iso)

    def documented(
        body: Annotated[request_model, Body(openapi_examples=examples)],  # type: ignore[valid-type]
        idempotency_key: Annotated[str | None, Header(
            alias=IDEMPOTENCY_KEY, pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Names the request so that it can be retried safely: a repeated key (on any "
                        "instance sharing the log) gets the logged decision back, a key reused for "
                        "another request 422.")] = None,
        prefer: Annotated[str | None, Header(
            alias="Prefer",
            description="`times=iso` (RFC 7240): the answer adds an ISO 8601 local date-time beside "
                        "each instant the decision implies (e.g. a quote's `promised_date_at`) and "
                        "says `Preference-Applied: times=iso`; 422 when the bundle's scenario has no "
                        "calendar. Other preferences are ignored.")] = None,
    ) -> Response:
        """Documents the route; requests are answered by ``handle``."""
        raise NotImplementedError

    documented.__name__ = f"decide_{kind}"
    app.router.add_api_route(
        schema.path, documented, methods=["POST"], tags=[kind], dependencies=dependencies,
        summary=f"{kind}: {type(live.policies[kind]).summary or policy_id}",
        description=(f"Asks the deployed `{kind}` policy (`{policy_id}`). Request: "
                     f"`{schema.context_type.__name__}`; response: `{schema.decision_type.__name__}`, "
                     "the same values the simulation uses. The decision's id in the decision log is "
                     "in the `X-Decision-Id` header, the context's time as a timestamp in "
                     f"`X-Context-Time`. {clock.describe()}"),
        response_class=JSONResponse,
        responses={200: {"model": schema.response_model, "description": "The decision.",
                         "headers": {"X-Decision-Id": {"description": "Id of the logged decision.",
                                                       "schema": {"type": "string"}},
                                     "X-Context-Time": {"description": "The context's time on the "
                                                        "company's calendar (ISO 8601, local time).",
                                                        "schema": {"type": "string"}},
                                     "Idempotent-Replayed": {"description": "`true` when the answer is "
                                                             "the logged decision of an earlier request "
                                                             "with the same Idempotency-Key.",
                                                             "schema": {"type": "string"}}}},
                   **ERROR_RESPONSES},
        operation_id=f"decide_{kind}",
        route_class_override=decision_route_class(handle),
    )


# --- the application ------------------------------------------------------------------


def create_app(live: Bundle, settings: ServiceSettings | None = None,
               shadow: Bundle | None = None, promise_risk: PromiseEstimator | None = None,
               promise_max_reps: int = DEFAULT_MAX_REPS) -> FastAPI:
    """The decision service for ``live`` (and optionally a ``shadow`` bundle).

    The lifespan opens the decision log at ``settings.db_path`` and closes it at shutdown
    (use ``with TestClient(app)`` in tests so that it runs). With ``promise_risk`` (an
    estimator injected by ``ordercycle serve --snapshot``) the service also answers
    ``POST /v1/promise-risk`` (:mod:`.promise`).
    """
    settings = settings or ServiceSettings()
    metrics = ServiceMetrics(settings.metrics_dir)
    start_date = CompanyClock.of_scenario(live.document.get("scenario")).start_date
    schemas = route_schemas(settings.max_items, start_date)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log = open_log(settings.db_path, settings.synchronous, settings.db_connections)
        app.state.decision_log = log
        try:
            yield
        finally:
            log.close()
            metrics.close()

    app = FastAPI(
        title="ordercycle decision service",
        version=str(live.document["package_version"]),
        summary=f"Policies of bundle {live.content_hash[:12]} ({live.document['scenario_name']})",
        description=("The policies chosen in simulation, answering live decision requests. Request and "
                     "response bodies are the simulation's decision contexts and decisions."),
        lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.settings, app.state.metrics, app.state.live, app.state.shadow = settings, metrics, live, shadow
    tokens = settings.accepted_tokens()
    protected = [Depends(token_check(tokens))] if tokens else []
    error_docs = {401: ERROR_RESPONSES[401]} if tokens else {}

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_path(tuple(item.get("loc", ()))), "reason": str(item.get("msg", ""))}
                  for item in error.errors()]
        return _error_response(422, "the request does not match the schema", errors)

    @app.exception_handler(DecisionFailed)
    async def undecidable(request: Request, error: DecisionFailed) -> JSONResponse:
        return _error_response(422, f"the {error.decision} policy cannot decide this context",
                               [{"field": None, "reason": f"{type(error.error).__name__}: {error.error}"}])

    @app.exception_handler(DecisionLogUnavailable)
    async def log_unavailable(request: Request, error: DecisionLogUnavailable) -> JSONResponse:
        logger.error("decision log unavailable: %s", error)  # the details stay in the service's log
        return _error_response(503, "the decision log could not commit the decision; retry",
                               [{"field": None, "reason": "decision log unavailable"}], {"Retry-After": "1"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = str(error.detail)
        return _error_response(error.status_code, detail, [{"field": None, "reason": detail}],
                               getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        return _error_response(500, "internal error", [{"field": None, "reason": type(error).__name__}])

    @app.get("/healthz", tags=["operations"], summary="Liveness: always 200 while the process serves")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/bundle", tags=["operations"], dependencies=protected, responses=error_docs,
             summary="What is deployed: the live (and shadow) bundle with its evidence")
    def bundle_route() -> dict[str, Any]:
        return {"live": live.document, "shadow": shadow.document if shadow else None}

    @app.get("/metrics", tags=["operations"], dependencies=protected, response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                              "description": "Prometheus text format"}, **error_docs},
             summary="Prometheus metrics: requests, latency, decisions by policy and outcome")
    def metrics_route() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    for kind in sorted(live.policies, key=list(schemas).index):
        _add_decision_route(app, schemas[kind], live, shadow, metrics, protected, tokens)
    if promise_risk is not None:
        add_promise_route(app, promise_risk, protected, ERROR_RESPONSES, promise_max_reps)

    generate_openapi = app.openapi
    routed = [schemas[kind] for kind in live.policies]

    def openapi_with_examples() -> dict[str, Any]:
        """FastAPI's document with the request examples as they are: it drops every null from the
        document, so an example with ``current_family: null`` lost the key and failed its schema."""
        if app.openapi_schema is None:
            document = generate_openapi()
            for schema in routed:
                body = document["paths"][schema.path]["post"]["requestBody"]["content"]["application/json"]
                body["examples"] = schema.openapi_examples()
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi_with_examples  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False, dependencies=protected)
    def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=protected)
    def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="ordercycle decision service")

    known = {route.path for route in app.routes if hasattr(route, "path")}
    app.add_middleware(RequestGuard, max_bytes=settings.max_body_bytes, tokens=tokens,
                       body_timeout=settings.body_timeout)
    app.add_middleware(RequestMetrics, metrics=metrics, known_paths=known)  # outermost: counts 401s and 413s
    return app
