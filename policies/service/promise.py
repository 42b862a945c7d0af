"""``POST /v1/promise-risk``: the probability of delivering a new order by each candidate date.

The estimate comes from short look-ahead simulations from the company's current state
snapshot. The decision service must not need the simulation (``policies`` never imports
the simulator), so this module only defines the route's schemas and adds the route around
an *injected* callable, :data:`PromiseEstimator`: ``ordercycle serve --snapshot`` passes
the simulation's estimator (``service_estimator`` of the twin's ``promise`` module).
The request is bounded (dates, replications, quantity) and the route takes the service's
bearer token like every other route.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

PATH = "/v1/promise-risk"
MAX_DATES = 12
"""At most this many candidate dates per request."""
MAX_DAYS = 365.0
"""The latest candidate date, days from the snapshot."""
DEFAULT_MAX_REPS = 50
"""Default cap on replications per date (``ordercycle serve --promise-max-reps``)."""


class PromiseRiskRequest(BaseModel):
    """A new order sales is about to quote, and the promised dates to assess."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    product: str = Field(min_length=1, max_length=100, description="product id")
    quantity: int = Field(ge=1, le=1_000_000, description="units")
    segment: str | None = Field(None, max_length=100, description="customer segment id (default: the "
                                "segment that buys most of the product)")
    dates: list[Annotated[float, Field(gt=0, le=MAX_DAYS)]] = Field(
        min_length=1, max_length=MAX_DATES, description="candidate promised dates, days from the snapshot")
    reps: int = Field(20, ge=1, description="replications per date (at most the service's cap)")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="root seed of the replications")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="level of the Wilson intervals")


class DateRiskResponse(BaseModel):
    """The estimate for one candidate date."""

    promised_day: float = Field(description="candidate promised date, days from the snapshot")
    replications: int = Field(description="replications simulated")
    delivered_by: int = Field(description="replications in which the order was delivered by the date")
    probability: float = Field(description="delivered_by / replications")
    ci_low: float = Field(description="lower end of the Wilson interval")
    ci_high: float = Field(description="upper end of the Wilson interval")


class PromiseRiskResponse(BaseModel):
    """P(delivered by the date) for each candidate date, with its interval."""

    product: str
    quantity: int
    segment: str
    confidence: float
    seed: int
    snapshot_day: float = Field(description="calendar day of the snapshot the estimate starts from")
    dates: list[DateRiskResponse]


class PromiseRequestError(ValueError):
    """A request the estimator cannot answer: ``errors`` holds (field, reason) pairs."""

    def __init__(self, errors: list[tuple[str | None, str]]):
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors))
        self.errors = errors


PromiseEstimator = Callable[[PromiseRiskRequest], dict[str, Any]]
"""Answers a request with a :class:`PromiseRiskResponse`-shaped mapping, or raises
:class:`PromiseRequestError`."""


def add_promise_route(app: FastAPI, estimate: PromiseEstimator, dependencies: list[Any],
                      responses: dict[int | str, dict[str, Any]], max_reps: int = DEFAULT_MAX_REPS) -> None:
    """Add ``POST /v1/promise-risk`` answering with ``estimate`` (behind ``dependencies``: auth)."""
    example = {"product": "pump", "quantity": 5, "segment": "strategic", "dates": [7, 14, 21], "reps": 20}

    def promise_risk(
        body: Annotated[PromiseRiskRequest, Body(openapi_examples={"pumps": {"value": example}})],
    ) -> Any:
        if body.reps > max_reps:
            return _refuse([("reps", f"at most {max_reps} replications per date, got {body.reps}")])
        if len(set(body.dates)) != len(body.dates):
            return _refuse([("dates", "a date is given twice")])
        try:
            answer = estimate(body)
        except PromiseRequestError as error:
            return _refuse(error.errors)
        return JSONResponse(PromiseRiskResponse.model_validate(answer).model_dump(mode="json"))

    app.add_api_route(
        PATH, promise_risk, methods=["POST"], tags=["promise"], dependencies=dependencies,
        summary="Probability of delivering a new order by each candidate promised date",
        description=("Short look-ahead simulations from the current state snapshot, one per candidate "
                     "date and replication (common random numbers across dates); Wilson intervals."),
        response_model=PromiseRiskResponse, responses=responses, operation_id="promise_risk",
    )


def _refuse(errors: list[tuple[str | None, str]]) -> JSONResponse:
    return JSONResponse({"detail": "the promise-risk request cannot be answered",
                         "errors": [{"field": field, "reason": reason} for field, reason in errors]},
                        status_code=422)
