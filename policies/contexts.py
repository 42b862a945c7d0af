"""Decision contexts and decisions: the typed values that cross every policy seam.

Each decision kind has a context (what the deciding department knows) and a decision
(what it decided, with a human-readable ``reason``). Both are values: nobody changes
one after it is made. They are plain slotted dataclasses so that the simulation can
build them cheaply — immutable by contract, not by ``frozen=True``: a frozen
dataclass's constructor sets every field through ``object.__setattr__`` and cost 14
times a plain one (3.7 µs against 0.25 µs for the 14 fields of a quote context,
measured), about 5 % of a whole run. The policy conformance suite
(:func:`ordercycle.policies.testing.check_does_not_mutate_context`) checks that no
policy changes the context it is given. They stay hashable by value. :func:`to_json` and
:func:`from_json` give their JSON form, which is also the decision service's HTTP
schema. A field that is ``None`` means the department does not know it (e.g. sales
sees ``surplus_capacity_hours`` only when production shares it).

Fields carry their domain ranges as metadata (``Annotated[float, Field(ge=0)]``):
quantities, prices, importance, work content and configured hours and days are never
negative, a period has a length, a work centre has a machine. Values the simulation
derives by difference (backlogs, surplus capacity, projected lead times, relative
promises) carry none: they may be (slightly) negative. Constructing a dataclass does not check them (the
simulation builds millions); :func:`from_json` and the decision service do, and the
service's OpenAPI document names them, so a request out of range is refused naming the
field instead of reaching a policy. Times are days on the simulation clock; the fields that
are instants (``now``, ``due_date`` …) say so (``Instant``: :data:`INSTANT` metadata), the
others are durations, so the decision service can accept an instant as an ISO 8601
timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import Field, TypeAdapter

T = TypeVar("T")

NonNegative = Annotated[float, Field(ge=0)]
"""Hours, days, units, money, importance: zero or more."""
Positive = Annotated[float, Field(gt=0)]
"""The length of a period: more than zero."""
Count = Annotated[int, Field(ge=0)]
"""A number of things (units, shifts, expedites): zero or more."""
AtLeastOne = Annotated[int, Field(ge=1)]
"""Machines of a work centre, orders a candidate stands for: one or more."""
Level = Annotated[float, Field(gt=0, lt=1)]
"""A probability level strictly between 0 and 1 (the quantile of a published transit)."""


@dataclass(frozen=True)
class OnTheClock:
    """Field metadata: the value is an instant — days on the simulation clock, whose day 0
    is midnight of the scenario's ``calendars.start_date`` — not a duration. Validation
    ignores it; the decision service reads it to accept the field as an ISO 8601 local
    date-time too (:mod:`ordercycle.policies.service.clock`)."""


INSTANT = OnTheClock()
"""The marker of an instant field (``Annotated[float, INSTANT]``)."""
Instant = Annotated[float, INSTANT]
"""A moment on the simulation clock, in days (``now``, ``due_date``, ``released_at`` …)."""
NonNegativeInstant = Annotated[float, Field(ge=0), INSTANT]
"""A moment on the simulation clock, not before day 0."""

_frozen = dataclass(slots=True, unsafe_hash=True)
"""Contexts and decisions: slotted values, hashable by their fields (see the module docstring)."""


# --- planning -------------------------------------------------------------------------


@_frozen
class ForecastContext:
    """Planning asks for the demand of one product over the next period.

    ``reported_units`` are the units of the inquiries of the coming period that service
    has reported ahead from debriefed visits (advance demand information, scenario field
    ``information.field_requirements``); ``reported_history`` holds, for past periods
    aligned with the end of ``history_units``, the units that had been reported ahead of
    each. Both stay empty (0, ``()``) when nothing service hears reaches planning.
    """

    product_id: str
    period_start: Instant
    period_days: Positive
    history_units: tuple[NonNegative, ...]
    marketing_inflation: float
    production_discount: float
    past_forecasts: tuple[float, ...] = ()
    reported_units: NonNegative = 0.0
    reported_history: tuple[NonNegative, ...] = ()


@_frozen
class Forecast:
    """Demand forecast for the next period, in units."""

    statistical_units: float
    marketing_units: float
    planned_units: float
    reason: str


@_frozen
class CapacityContext:
    """Planning staffs one work centre for the next period."""

    work_centre: str
    machines: AtLeastOne
    max_shifts: Count
    current_shifts: Count
    shift_hours: NonNegative
    period_days: Positive
    planned_load_hours: float
    backlog_hours: float
    target_utilization: Positive


@_frozen
class CapacityPlan:
    """Staffed shifts per day for the next period."""

    shifts: int
    reason: str


@_frozen
class InventoryContext:
    """Planning reviews the stock of one make-to-stock product.

    The inventory position is ``on_hand_units + on_order_units - backordered_units``.
    ``planned_daily_units`` is the plan's demand per day (the planned figure of the
    period over its length; before the first plan, the initial target over the stock
    cover), ``plan_target_units`` the plan's stock target (planned daily demand × stock
    cover days).
    """

    product_id: str
    now: NonNegativeInstant
    on_hand_units: Count
    backordered_units: Count
    on_order_units: Count
    planned_daily_units: NonNegative
    plan_target_units: Count
    batch_units: AtLeastOne


@_frozen
class InventoryDecision:
    """Units to release to production for stock now (0: none)."""

    order_units: int
    reason: str


@_frozen
class OvertimeContext:
    """Production decides at a work centre's closing whether its shift runs on (overtime).

    Asked at the end of the last staffed shift before a closed time (a calendared centre
    only). ``waiting_hours`` is the work queued at the centre (not yet on a machine),
    ``in_progress_hours`` the work its machines still have on the jobs they hold,
    ``hours_to_next_shift`` the closed time until the next staffed shift (overtime
    cannot run into it), ``shift_hours_per_day`` each machine's staffed hours on a
    working day (shifts × 8).
    """

    work_centre: str
    now: NonNegativeInstant
    machines: AtLeastOne
    shifts: Count
    shift_hours_per_day: NonNegative
    waiting_hours: NonNegative
    in_progress_hours: NonNegative
    hours_to_next_shift: NonNegative


@_frozen
class OvertimeDecision:
    """Hours the centre works past its closing now (0: none), at most ``hours_to_next_shift``."""

    hours: float
    reason: str


@_frozen
class StaffOvertimeContext:
    """The head of a staff pool decides at the pool's closing whether the pool stays on (overtime).

    Asked at the end of the last working period of a day on the pool's calendar (the order
    desk at 16:30), for a pool that can work overtime (``staff.overtime_hour_cost`` lists
    it) only. ``waiting`` requests queue for the pool, ``waiting_hours`` their work;
    ``in_progress`` people hold a task (one seat each), ``in_progress_hours`` the work left
    on those that would pause at the closing; ``hours_to_next_opening`` the closed time
    until the pool opens again (overtime cannot run into it).
    """

    pool: str
    now: NonNegativeInstant
    people: AtLeastOne
    waiting: Count
    waiting_hours: NonNegative
    in_progress: Count
    in_progress_hours: NonNegative
    hours_to_next_opening: NonNegative


@_frozen
class StaffOvertimeDecision:
    """Hours the whole pool works past its closing now (0: none), at most ``hours_to_next_opening``."""

    hours: float
    reason: str


# --- quoting and selection -----------------------------------------------------------


@_frozen
class QuoteContext:
    """Sales and estimating price an inquiry and promise a date.

    When production shares its capacity, ``surplus_capacity_hours`` (staffed hours of
    the next period not yet claimed at the product's tightest work centre),
    ``projected_lead_days`` (work, queues and mean transit for this order now),
    ``dispatch_lead_days`` (the same path without the transit: days until the order
    could leave with the carrier) and ``idle_capacity_hours`` (the capacity really idle
    over the product's standard lead time at its tightest work centre: staffed hours
    less the released work still to be done there, less the work the recent order
    intake brings over that time, less this order's own work; zero or less: none) are
    filled; when the warehouse shares its stock, ``stock_on_hand_units`` is. When sales
    knows its carrier's published transit, ``transit_days`` is the segment's carrier
    transit (delays included) at the level ``transit_quantile``.
    """

    inquiry_id: int
    now: Instant
    customer_id: str
    segment: str
    importance: NonNegative
    product_id: str
    quantity: Count
    list_price: NonNegative
    unit_cost: NonNegative
    standard_lead_days: NonNegative
    desired_lead_days: NonNegative
    surplus_capacity_hours: float | None = None
    stock_on_hand_units: int | None = None
    projected_lead_days: float | None = None
    dispatch_lead_days: float | None = None
    idle_capacity_hours: float | None = None
    transit_quantile: Level | None = None
    transit_days: NonNegative | None = None


@_frozen
class Quote:
    """The offer made to the customer."""

    unit_price: float
    promised_lead_days: float
    reason: str


@_frozen
class WorkCentreHours:
    """Production hours an order needs at one work centre (setups included)."""

    work_centre: str
    hours: NonNegative


@_frozen
class CandidateOrder:
    """An order (or ``count`` alike expected orders) the company may take.

    ``margin`` is the order value less the product cost, ``shipping_cost`` what
    delivering it costs, ``due_days`` the days from now to its promised date, and
    ``work_hours`` the production it still needs per work centre (none when stock
    covers it). ``count`` > 1 stands for that many expected orders of the same kind.
    """

    order_id: int
    margin: float
    shipping_cost: NonNegative
    due_days: float
    work_hours: tuple[WorkCentreHours, ...]
    count: AtLeastOne = 1


@_frozen
class CentreLoad:
    """One work centre over the outlook: staffed hours and accepted work, per period.

    ``capacity_hours[p]`` are the hours the centre's machines are staffed in period
    ``p`` (period 0 starts now); ``committed_hours[p]`` the hours of accepted work
    waiting there whose due date falls in period ``p`` (past due: period 0).
    """

    work_centre: str
    capacity_hours: tuple[NonNegative, ...]
    committed_hours: tuple[float, ...]


@_frozen
class CapacityOutlook:
    """What an order-acceptance optimiser knows about capacity and competing orders.

    ``centres`` hold capacity and committed load per period of ``period_days``
    (equal lengths); ``order`` is the order being decided, ``pending`` the other
    entered orders still awaiting a decision, and ``expected`` the orders sales
    expects over the outlook (from the recent order intake), aggregated by kind.
    """

    period_days: Positive
    centres: tuple[CentreLoad, ...]
    order: CandidateOrder
    pending: tuple[CandidateOrder, ...] = ()
    expected: tuple[CandidateOrder, ...] = ()


@_frozen
class SelectionContext:
    """Someone decides whether the company takes an entered order.

    ``decider`` is ``"junior"`` or ``"senior"``; juniors do not see margin, strategy
    or load, so those fields are ``None`` in their context. ``capacity_outlook`` is
    filled only for policies that declare ``needs_capacity_outlook``.
    """

    order_id: int
    now: Instant
    decider: str
    segment: str
    product_id: str
    quantity: Count
    order_value: NonNegative
    importance: NonNegative | None = None
    unit_margin_rate: float | None = None
    strategic_product: bool | None = None
    backlog_hours: float | None = None
    promised_lead_days: float | None = None
    projected_lead_days: float | None = None
    capacity_outlook: CapacityOutlook | None = None


@_frozen
class SelectionDecision:
    """Accept or reject; an accepted order may get a renegotiated (later) lead time."""

    accept: bool
    reason: str
    renegotiated_lead_days: float | None = None


# --- prioritisation, scheduling, expedites -----------------------------------------------


@_frozen
class OrderView:
    """What prioritisation knows about one released order (or replenishment job).

    Times are days, work content hours. ``operation_hours`` is the job now queued;
    ``remaining_hours`` the order's work content from this operation on;
    ``remaining_days`` that work spread over the staffed hours per day of each
    centre (no queues); ``route_load_days`` the work already waiting on the rest of
    the route, in days of the centres' staffed capacity (what production shares
    about the availability of the capacity the order needs).
    """

    order_id: int
    released_at: Instant
    due_date: Instant
    importance: NonNegative
    quantity: Count
    remaining_hours: NonNegative
    expedited: bool = False
    operation_hours: NonNegative = 0.0
    remaining_days: NonNegative = 0.0
    route_load_days: float = 0.0


@_frozen
class RankingContext:
    """Orders to put in sequence."""

    now: Instant
    orders: tuple[OrderView, ...]


@_frozen
class Ranking:
    """Order ids, first to be served first."""

    order_ids: tuple[int, ...]
    reason: str


@_frozen
class JobView:
    """An operation waiting at a work centre."""

    job_id: int
    order_id: int
    setup_family: str
    due_date: Instant
    importance: NonNegative
    process_hours: NonNegative
    expedited: bool


@_frozen
class DispatchContext:
    """A free machine picks its next job.

    ``candidates`` holds the best job of each setup family, in priority order.
    """

    work_centre: str
    machine: Count
    now: Instant
    current_family: str | None
    candidates: tuple[JobView, ...]


@_frozen
class DispatchDecision:
    """Which candidate the machine runs next."""

    job_id: int
    reason: str


@_frozen
class ExpediteContext:
    """Sales asks production to expedite an order that will miss its promise."""

    order_id: int
    now: Instant
    importance: NonNegative
    promised_date: Instant
    projected_completion: Instant
    expedites_last_period: Count
    period_days: Positive


@_frozen
class ExpediteDecision:
    """Grant or refuse the expedite."""

    grant: bool
    reason: str


@_frozen
class Changeover:
    """Hours a machine needs to change over from one setup family to another."""

    from_family: str
    to_family: str
    hours: NonNegative


@_frozen
class CentreQueue:
    """One work centre's waiting jobs, as the re-planner sees them.

    ``jobs`` are the jobs waiting in the centre's queue (not those already on a
    machine); ``machine_families`` the setup family each machine is set up for now
    (``None``: not yet set up). ``changeovers`` lists the changeover hours between
    distinct families; a pair not listed, or the same family, needs none.
    ``staffed_hours_per_day`` is each machine's staffed hours per day (shifts × 8).
    ``previous_plan`` is the last plan's order of the jobs that still wait (empty
    when there was no plan).
    """

    work_centre: str
    machines: AtLeastOne
    staffed_hours_per_day: NonNegative
    machine_families: tuple[str | None, ...]
    changeovers: tuple[Changeover, ...]
    jobs: tuple[JobView, ...]
    previous_plan: tuple[int, ...] = ()


@_frozen
class ScheduleContext:
    """Production re-plans the sequence of the waiting jobs at every work centre."""

    now: Instant
    centres: tuple[CentreQueue, ...]


@_frozen
class CentrePlan:
    """The planned order of one work centre's waiting jobs, and what it costs.

    ``weighted_tardiness`` is Σ importance × days late of the planned completions;
    ``changeover_hours`` the machine-hours of changeovers the sequence needs;
    ``moved_jobs`` how many jobs of the previous plan change their relative order;
    ``status`` how the sequence was found (``optimal``, ``feasible``: CP-SAT's, or
    ``hint``: the dispatching / previous sequence, which CP-SAT did not improve on).
    """

    work_centre: str
    job_ids: tuple[int, ...]
    weighted_tardiness: float
    changeover_hours: float
    moved_jobs: int
    status: str


@_frozen
class SchedulePlan:
    """The sequence per work centre; an empty plan means: keep dispatching by priority."""

    centres: tuple[CentrePlan, ...]
    reason: str


# --- fulfilment ---------------------------------------------------------------------------


@_frozen
class LineStatus:
    """Where one line of an order stands when fulfilment decides what to ship.

    ``ready_units`` are units of the line available to ship now (from stock, a filled
    back-order or finished production) not yet given to a shipment; ``shipped_units``
    those already given to one (being picked, loaded, or gone).
    """

    line_id: int
    product_id: str
    quantity: AtLeastOne
    ready_units: Count
    shipped_units: Count


@_frozen
class FulfilmentContext:
    """Shipping decides what of one order leaves now, in one shipment.

    Asked at the order's release (``at_release``: after stock was allocated to its lines)
    and whenever a further part of a line becomes ready, while some of the order is not
    ready yet (when everything left is ready, it all ships without asking).
    ``accepts_partial_deliveries`` is the customer master's flag (the segment's
    ``accepts_partial_deliveries``): whether the customer takes an order in several
    shipments. It defaults to true, so requests written before it existed stay valid.
    """

    order_id: int
    now: NonNegativeInstant
    at_release: bool
    lines: tuple[LineStatus, ...]
    accepts_partial_deliveries: bool = True


@_frozen
class ShipmentLine:
    """Units of one line that leave in the shipment."""

    line_id: int
    units: AtLeastOne


@_frozen
class FulfilmentDecision:
    """What leaves now, in one shipment of this order (empty: nothing leaves yet)."""

    lines: tuple[ShipmentLine, ...]
    reason: str


# --- billing, returns, service ---------------------------------------------------------


@_frozen
class BillingLine:
    """One order on an invoice being prepared.

    Billing's own data are what order entry recorded; ``shipped_units`` and
    ``agreed_unit_price`` are filled only when billing consults shipping and sales.
    """

    order_id: int
    entered_units: Count
    entered_unit_price: NonNegative
    already_billed: float
    shipped_units: Count | None = None
    agreed_unit_price: NonNegative | None = None


@_frozen
class BillingContext:
    """Billing prepares one invoice for a customer."""

    customer_id: str
    rhythm: str
    now: Instant
    lines: tuple[BillingLine, ...]


@_frozen
class InvoiceLine:
    """What the invoice charges for one order."""

    order_id: int
    units: int
    unit_price: float
    amount: float


@_frozen
class InvoiceDecision:
    """The invoice's lines."""

    lines: tuple[InvoiceLine, ...]
    reason: str


@_frozen
class ReturnContext:
    """A customer asks to return a shipment."""

    order_id: int
    now: Instant
    reason_code: str
    units: Count
    days_since_delivery: NonNegative
    return_window_days: NonNegative
    importance: NonNegative


@_frozen
class ReturnDecision:
    """Approve or refuse the return, and how fast the procedure moves.

    ``pickup_booking_days``: delay before the carrier pickup is booked;
    ``refund_delay_days``: delay before finance starts the refund once it may;
    ``followups_between_other_work``: booking the pickup and chasing the refund are
    tasks of the handling pool, done only when nobody in the pool has other work
    waiting (low priority), so the delay comes from the pool's workload.
    """

    approve: bool
    reason: str
    pickup_booking_days: float = 0.0
    refund_delay_days: float = 0.0
    followups_between_other_work: bool = False


@_frozen
class DebriefContext:
    """A service visit ended; is the technician debriefed?"""

    ticket_id: int
    now: Instant
    kind: str
    product_id: str
    segment: str
    visit_hours: NonNegative


@_frozen
class DebriefDecision:
    """Debrief or not."""

    debrief: bool
    reason: str


@cache
def type_adapter(kind: type) -> TypeAdapter[Any]:
    """The pydantic ``TypeAdapter`` of a context or decision type, built once per type
    (building one costs milliseconds; using it, microseconds)."""
    return TypeAdapter(kind)


def to_json(value: Any) -> Any:
    """JSON-compatible form of a context or decision."""
    return type_adapter(type(value)).dump_python(value, mode="json")


def from_json(kind: type[T], data: Any) -> T:
    """Validate JSON data into a context or decision of type ``kind``."""
    return type_adapter(kind).validate_python(data)
