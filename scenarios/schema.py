"""The scenario: an immutable, validated description of one simulated company.

Units are part of every field name or description: the simulation clock runs in
**days**; work content is given in **hours**; money in the scenario's currency
(converted to integer cents inside the simulation so that money balances exactly).
Every model forbids unknown keys, so a misspelt field is an error, never a silent
default.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from ordercycle.scenarios.distributions import Distribution, Fixed
from ordercycle.scenarios.numbers import MAX_EXPECTED_INQUIRIES, ScenarioModel

_CONFIG = ConfigDict(extra="forbid", frozen=True, validate_default=True)
Probability = float
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STAFF_POOLS: tuple[str, ...] = (
    "sales_reps", "estimators", "entry_clerks", "junior_staff", "senior_managers", "warehouse_staff",
    "billing_clerks", "returns_staff", "finance_clerks",
)
"""The staff pools of :class:`Staff` that work one task at a time per person."""
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise ValueError(f"duplicate {what} id {ident!r}")
        seen.add(ident)


class Operation(ScenarioModel):
    """One step of a product's routing: work done at one work centre."""

    model_config = _CONFIG
    work_centre: str = Field(description="id of the work centre that performs the step")
    setup_hours: float = Field(0.0, ge=0, description="fixed setup per job, hours")
    hours_per_unit: Distribution = Field(
        description="processing time per unit, hours (one draw per job, times the quantity)"
    )


class Product(ScenarioModel):
    """A product the company sells."""

    model_config = _CONFIG
    id: str = Field(description="unique product id")
    setup_family: str = Field(description="changeover family at the machines")
    list_price: float = Field(gt=0, description="list price per unit, currency")
    unit_cost: float = Field(ge=0, description="material and direct cost per unit, currency")
    stocking: Literal["make_to_order", "make_to_stock"] = Field(
        "make_to_order", description="produce per order, or ship from a stock kept by the plan"
    )
    standard_lead_days: float = Field(gt=0, description="the usual quoted lead time, days")
    strategic: bool = Field(False, description="a product the strategy wants to grow")
    routing: list[Operation] = Field(min_length=1, description="operations in order")
    defect_rate: Probability = Field(
        0.0, ge=0, le=1, description="probability a delivered shipment is returned as defective"
    )
    installation_skills: list[str] = Field(
        default_factory=list,
        description="skills a crew needs to install it at the customer's site (empty: none)",
    )
    installation_hours: Distribution = Field(0.0, description="on-site installation, hours")
    repair_probability: Probability = Field(
        0.0, ge=0, le=1, description="probability a delivered order later needs a repair visit"
    )
    repair_after_days: Distribution = Field(
        30.0, description="time from delivery to the repair call, days"
    )
    service_skill: str | None = Field(None, description="skill a repair visit needs")
    service_hours: Distribution = Field(2.0, description="on-site repair work, hours")
    initial_stock_units: int = Field(0, ge=0, description="stock on hand at time 0, units")


class WorkCentre(ScenarioModel):
    """A group of identical machines with one queue."""

    model_config = _CONFIG
    id: str = Field(description="unique work centre id")
    machines: int = Field(ge=1, le=1000, description="installed machines (at most 1000: each is simulated)")
    initial_shifts: int = Field(2, ge=1, le=3, description="staffed 8-hour shifts per day at start")
    max_shifts: int = Field(3, ge=1, le=3, description="most shifts per day the plan may staff")
    machine_hour_cost: float = Field(
        ge=0, description="cost of one staffed machine-hour (operator and machine), currency"
    )
    changeover_hours: float = Field(
        0.0, ge=0, description="changeover between different setup families, hours"
    )
    changeover_matrix_hours: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="sequence-dependent changeover from family to family, hours; "
        "pairs not listed use changeover_hours",
    )
    mtbf_hours: float | None = Field(
        None, ge=0.1, description="mean busy hours between breakdowns (exponential); null: none"
    )
    repair_hours: Distribution = Field(2.0, description="time to repair a breakdown, hours")
    overtime_hour_cost: float = Field(
        0.0, ge=0, description="cost of one hour of overtime at the centre (its crew and every "
        "machine working past the shift), currency per hour; overtime is the overtime policy's decision "
        "and needs a working calendar (calendars.pools names the centre)",
    )

    @field_validator("changeover_matrix_hours")
    @classmethod
    def _changeovers(cls, matrix: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for origin, row in matrix.items():
            for target, hours in row.items():
                if hours < 0:
                    raise ValueError(
                        f"a changeover from {origin!r} to {target!r} must be >= 0 hours, got {hours:g}")
        return matrix

    @model_validator(mode="after")
    def _shifts(self) -> WorkCentre:
        if self.initial_shifts > self.max_shifts:
            raise ValueError(
                f"initial_shifts ({self.initial_shifts}) exceeds max_shifts ({self.max_shifts})"
            )
        return self


class Seasonality(ScenarioModel):
    """Sinusoidal seasonality of an arrival rate."""

    model_config = _CONFIG
    amplitude: float = Field(0.0, ge=0, lt=1, description="relative swing around the mean")
    period_days: float = Field(365.0, gt=0, description="length of one cycle, days")
    peak_day: float = Field(0.0, ge=0, description="day of the cycle with the highest rate")


class Arrivals(ScenarioModel):
    """Non-homogeneous Poisson arrivals of inquiries from one segment."""

    model_config = _CONFIG
    rate_per_day: float = Field(gt=0, le=10_000, description="mean inquiries per day at time 0")
    trend_per_year: float = Field(
        0.0, ge=-0.9, le=10, description="relative change of the rate per 365 days (linear; at most "
        "10, an elevenfold rate after a year)"
    )
    seasonality: Seasonality = Field(default_factory=Seasonality)
    weekday_profile: dict[Weekday, float] | None = Field(
        None,
        description="relative inquiry rate per weekday (mon … sun; weekdays not listed: 0), scaled "
        "to mean 1 over the week so that rate_per_day stays the mean; null: the same every day",
    )
    hourly_profile: list[float] | None = Field(
        None, min_length=24, max_length=24,
        description="relative inquiry rate per hour of the day (24 values from 00:00), scaled to "
        "mean 1; null: the same at every hour",
    )

    @field_validator("weekday_profile")
    @classmethod
    def _weekday_profile(cls, profile: dict[str, float] | None) -> dict[str, float] | None:
        if profile is not None:
            for day, weight in profile.items():
                if not weight >= 0 or weight == float("inf"):
                    raise ValueError(f"weight of {day!r} must be a finite number >= 0, got {weight}")
            if sum(profile.values()) <= 0:
                raise ValueError("weights must not all be zero")
        return profile

    @field_validator("hourly_profile")
    @classmethod
    def _hourly_profile(cls, profile: list[float] | None) -> list[float] | None:
        if profile is not None:
            for hour, weight in enumerate(profile):
                if not weight >= 0 or weight == float("inf"):
                    raise ValueError(f"hour {hour}: weight must be a finite number >= 0, got {weight}")
            if sum(profile) <= 0:
                raise ValueError("weights must not all be zero")
        return profile


class Prepayment(ScenarioModel):
    """Advance-payment terms of a segment: a share of its orders is paid before it is released or shipped.

    At the order confirmation (selection accepts the order) the ERP issues a prepayment
    request (a pro-forma invoice) for the order's value at the agreed prices; the customer
    pays it after ``delay_days``; until then the order waits (the customer owns it). The
    shipment invoices of a prepaid order are settled against the payment, never paid twice.
    """

    model_config = _CONFIG
    share: Probability = Field(
        ge=0, le=1, description="share of the segment's orders on prepayment terms, 0–1 (each inquiry "
        "draws its fate from the stream segment.<id>.fate.prepay)")
    delay_days: Distribution = Field(
        description="time from the prepayment request to the customer's payment, days")
    blocks: Literal["release", "shipment"] = Field(
        "release", description="what waits for the payment: the order's release to fulfilment "
        "(nothing is made or taken from stock before it), or its shipments (made or taken from stock "
        "at once, picked only once paid)")
    cancel_after_days: float | None = Field(
        None, gt=0, description="days after the prepayment request an unpaid order is cancelled "
        "(blocks: release only); null: the order waits for its payment however long it takes")
    promise_from_payment: bool = Field(
        True, description="the promised lead time runs from the payment ('delivery N days after "
        "payment'): the promised date moves by the days from the confirmation to the payment; "
        "false: it runs from entry, as for any order")

    @field_validator("cancel_after_days")
    @classmethod
    def _cancel_only_before_release(cls, days: float | None, info: ValidationInfo) -> float | None:
        if days is not None and info.data.get("blocks") == "shipment":
            raise ValueError("an order whose shipments wait for the payment is made already and waits "
                             "for it; cancelling is modelled for blocks: release only (set null)")
        return days


class Segment(ScenarioModel):
    """Customers that behave alike: strategic, regular, occasional …"""

    model_config = _CONFIG
    id: str = Field(description="unique segment id")
    customers: int = Field(ge=1, le=100_000, description="number of distinct customers in the segment")
    importance: float = Field(gt=0, description="weight of the segment's customers (higher: more important)")
    arrivals: Arrivals
    order_size_units: Distribution = Field(description="units per order line (rounded up, at least 1)")
    product_mix: dict[str, float] = Field(
        min_length=1, description="product id -> relative share of this segment's inquiries"
    )
    lines_per_order: Distribution = Field(
        1.0, description="lines per order, each a different product of product_mix (rounded up, at "
        "least 1, at most the products with a share > 0; default: one line)")
    base_utility: float = Field(
        2.0, description="logit of the quote acceptance probability at list price and desired lead"
    )
    price_sensitivity: float = Field(
        0.0, ge=0, description="utility lost per 100 % price above list (logit model)"
    )
    lead_time_sensitivity: float = Field(
        0.0, ge=0, description="utility lost per 100 % promised lead time above desired"
    )
    desired_lead_days: float = Field(gt=0, description="lead time the customer hopes for, days")
    response_days: Distribution = Field(1.0, description="time the customer takes to answer a quote, days")
    invoice_rhythm: Literal["per_shipment", "monthly"] = Field(
        "per_shipment", description="invoice each shipment, or one consolidated invoice a month"
    )
    payment_terms_days: float = Field(30.0, ge=0, description="agreed payment terms, days")
    payment_delay_days: Distribution = Field(
        0.0, description="days the customer pays after the terms"
    )
    prepayment: Prepayment | None = Field(
        None, description="advance-payment terms of a share of the segment's orders (null: every "
        "order is invoiced on its shipments and paid after payment_terms_days)")
    accepts_partial_deliveries: bool = Field(
        True, description="the segment's customers accept an order delivered in several shipments "
        "(the customer master's partial-delivery flag); the by-customer fulfilment policy ships "
        "them partial and everyone else complete, in one shipment")
    logistics_provider: str = Field(description="id of the provider that delivers to the segment")
    return_window_days: float = Field(30.0, ge=0, description="days after delivery a return is accepted")

    @field_validator("lines_per_order")
    @classmethod
    def _lines_fit_the_mix(cls, lines: Distribution, info: ValidationInfo) -> Distribution:
        mix = info.data.get("product_mix") or {}
        products = sum(1 for share in mix.values() if share > 0)
        if isinstance(lines, Fixed) and mix and not 1 <= lines.value <= products:
            raise ValueError(f"a fixed number of lines must be in 1..{products} (the products of "
                             f"product_mix with a share > 0), got {lines.value:g}")
        return lines

    @field_validator("product_mix")
    @classmethod
    def _positive_mix(cls, mix: dict[str, float]) -> dict[str, float]:
        for product, share in mix.items():
            if share < 0:
                raise ValueError(f"share of {product!r} must be >= 0, got {share}")
        if sum(mix.values()) <= 0:
            raise ValueError("shares must not all be zero")
        return mix


class LogisticsProvider(ScenarioModel):
    """An outside carrier."""

    model_config = _CONFIG
    id: str = Field(description="unique provider id")
    pickups_at_once: int = Field(ge=1, description="shipments it can load at the same time")
    handling_hours: Distribution = Field(1.0, description="loading time per shipment, hours")
    transit_days: Distribution = Field(description="transit time when on schedule, days")
    reliability: Probability = Field(1.0, ge=0, le=1, description="probability of no delay")
    delay_days: Distribution = Field(0.0, description="extra transit when delayed, days")
    cost_per_shipment: float = Field(0.0, ge=0, description="freight cost, currency")


class Staff(ScenarioModel):
    """Headcount per department (people who work in parallel)."""

    model_config = _CONFIG
    sales_reps: int = Field(ge=1, description="sales representatives (inquiries, expedite requests)")
    estimators: int = Field(ge=1, description="cost estimators (quoting)")
    entry_clerks: int = Field(ge=1, description="order entry clerks")
    junior_staff: int = Field(ge=1, description="junior staff who may select orders")
    senior_managers: int = Field(ge=1, description="senior managers who may select orders")
    warehouse_staff: int = Field(ge=1, description="pickers and packers")
    billing_clerks: int = Field(ge=1, description="billing clerks (invoices, disputes)")
    returns_staff: int = Field(ge=1, description="people approving returns and claims")
    finance_clerks: int = Field(ge=1, description="finance clerks (refunds)")
    technicians: dict[str, int] = Field(
        default_factory=dict, description="service technicians per skill"
    )
    hourly_cost: dict[str, float] = Field(
        default_factory=dict,
        description="cost of one paid person-hour per pool (a staff pool name or `technicians`), "
        "currency; paid hours are the pool's working hours (its calendar; around the clock without "
        "one), in operating_cost; pools not listed cost nothing",
    )
    overtime_hour_cost: dict[str, float] = Field(
        default_factory=dict,
        description="cost of one person-hour of overtime per staff pool, currency per person-hour "
        "(the whole pool stays on, so an hour granted costs people × this); only the pools listed can "
        "work overtime, and only on a working calendar (calendars.pools names them); the hours are the "
        "staff_overtime policy's decision at each closing; overtime hours are paid at this rate instead "
        "of hourly_cost",
    )

    @field_validator("hourly_cost")
    @classmethod
    def _costs(cls, costs: dict[str, float]) -> dict[str, float]:
        known = (*STAFF_POOLS, "technicians")
        for pool, cost in costs.items():
            if pool not in known:
                raise ValueError(f"unknown pool {pool!r} (known: {', '.join(known)})")
            if not 0 <= cost < float("inf"):
                raise ValueError(f"cost of {pool!r} must be a finite number >= 0, got {cost}")
        return costs

    @field_validator("overtime_hour_cost")
    @classmethod
    def _overtime_costs(cls, costs: dict[str, float]) -> dict[str, float]:
        for pool, cost in costs.items():
            if pool == "technicians":
                raise ValueError("technicians cannot work overtime yet (a crew of several skills would "
                                 f"have to stay on together); overtime pools: {', '.join(STAFF_POOLS)}")
            if pool not in STAFF_POOLS:
                raise ValueError(f"unknown pool {pool!r} (known: {', '.join(STAFF_POOLS)})")
            if not 0 <= cost < float("inf"):
                raise ValueError(f"overtime cost of {pool!r} must be a finite number >= 0, got {cost}")
        return costs

    @field_validator("technicians")
    @classmethod
    def _positive(cls, techs: dict[str, int]) -> dict[str, int]:
        for skill, count in techs.items():
            if count < 1:
                raise ValueError(f"technicians of skill {skill!r} must be >= 1, got {count}")
        return techs


class TaskTimes(ScenarioModel):
    """How long office and service tasks take, in hours."""

    model_config = _CONFIG
    sales_contact: Distribution = Field(description="a sales rep handles an inquiry")
    cost_estimation: Distribution = Field(description="an estimator prices an inquiry")
    order_entry: Distribution = Field(description="a clerk enters an order")
    selection_junior: Distribution = Field(description="a junior decides accept/reject")
    selection_senior: Distribution = Field(description="a senior manager decides accept/reject")
    expedite_request: Distribution = Field(0.25, description="sales asks for an expedite")
    picking: Distribution = Field(description="warehouse picks and packs a shipment")
    invoicing: Distribution = Field(description="billing issues an invoice")
    billing_consultation: Distribution = Field(
        0.0, description="extra time when billing consults shipping and sales, per invoice"
    )
    dispute_rework: Distribution = Field(description="billing resolves a disputed invoice")
    return_approval: Distribution = Field(description="approving a return request")
    refund: Distribution = Field(description="finance pays a refund")
    travel: Distribution = Field(1.0, description="a technician travels to the site")
    debrief: Distribution = Field(0.5, description="debrief of a technician after a visit")


class Quality(ScenarioModel):
    """Error and dispute behaviour."""

    model_config = _CONFIG
    entry_error_rate: Probability = Field(0.0, ge=0, le=1, description="share of orders entered wrongly")
    entry_price_error: float = Field(
        0.1, ge=0, lt=1, description="relative price error of a wrongly entered order"
    )
    picking_error_rate: Probability = Field(
        0.0, ge=0, le=1, description="share of shipments returned as wrong shipments"
    )
    dispute_days: Distribution = Field(
        5.0, description="time until a customer disputes a wrong invoice, days"
    )
    price_change_rate: Probability = Field(
        0.0, ge=0, le=1, description="share of entered orders whose price sales renegotiates at once "
        "(a concession or surcharge billing hears of only by consulting sales)")
    price_change: float = Field(
        -0.05, gt=-1, le=1, description="relative change of a renegotiated price (negative: a concession)")
    return_request_days: Distribution = Field(
        7.0, description="time from delivery to a return request, days"
    )
    return_pickup_days: Distribution = Field(3.0, description="carrier collects a return, days")
    debrief_utility_gain: float = Field(
        0.0, ge=0,
        description="after a debriefed visit, sales knows the customer's requirements: its quotes "
        "gain this much logit utility (see the acceptance model) for debrief_memory_days",
    )
    debrief_memory_days: float = Field(180.0, ge=0, description="how long a debrief helps sales, days")
    debrief_quality_gain: float = Field(
        0.0, ge=0, lt=1, description="relative drop of a product's defect rate per debriefed visit"
    )
    min_defect_factor: float = Field(
        0.3, gt=0, le=1, description="defect rate never drops below this share of its start value"
    )


class Goodwill(ScenarioModel):
    """Customers remember bad service: each grievance lowers the logit utility of the
    customer's later quotes (see the acceptance model) for ``memory_days``; grievances add up."""

    model_config = _CONFIG
    late_delivery: float = Field(
        0.0, ge=0, le=20, description="utility a customer's quotes lose after one of its orders is "
        "delivered after its promised date, logit units")
    wrong_invoice: float = Field(
        0.0, ge=0, le=20,
        description="utility lost after the customer disputes a wrong invoice, logit units")
    slow_refund: float = Field(
        0.0, ge=0, le=20, description="utility lost after a refund paid more than slow_refund_days "
        "after the return was requested, logit units")
    slow_refund_days: float = Field(
        14.0, gt=0, le=3650, description="a refund slower than this is a grievance, days")
    memory_days: float = Field(90.0, gt=0, le=3650, description="how long each grievance weighs, days")


Figure = Literal["marketing", "production"]
"""Which department's forecast figure drives a planning decision."""


class Planning(ScenarioModel):
    """The periodic planning cycle and the forecast game."""

    model_config = _CONFIG
    period_days: float = Field(7.0, ge=0.1, description="length of one planning period, days")
    marketing_inflation: float = Field(
        0.0, ge=0, description="marketing inflates its forecast by this share"
    )
    production_discount: float = Field(
        0.0, ge=0, lt=1, description="production discounts marketing's forecast by this share"
    )
    target_utilization: float = Field(
        0.85, gt=0, le=1, description="staff shifts so planned load fills this share of capacity"
    )
    stock_cover_days: float = Field(
        7.0, ge=0, description="make-to-stock target = planned daily demand × this"
    )
    replenishment_batch_units: int = Field(1, ge=1, description="replenishment jobs are multiples of this")
    history_periods: int = Field(52, ge=1, description="demand history the forecast policy sees, periods")
    expedite_margin_days: float = Field(
        0.0, ge=0,
        description="sales asks to expedite an order projected to deliver later than its promise "
        "minus this margin, days",
    )
    replan_days: float | None = Field(
        None, ge=0.1,
        description="days between two re-plans of the work-centre sequences by the schedule policy "
        "(null: every period_days; ignored when the schedule policy is none)",
    )
    stock_targets_from: Figure = Field(
        "production",
        description="whose forecast sets the make-to-stock targets and the planned demand the "
        "inventory policy sees: marketing's (inflated) or production's (the planned figure, after "
        "its discount); under a consensus forecast both are the one shared figure",
    )
    capacity_from: Figure = Field(
        "production",
        description="whose forecast production staffs its shifts for: marketing's or production's",
    )


class Costs(ScenarioModel):
    """Cost rates that are not attached to a resource."""

    model_config = _CONFIG
    changeover_cost: float = Field(0.0, ge=0, description="per changeover, currency")
    plan_change_cost: float = Field(
        0.0, ge=0,
        description="per plan change (granted expedite, shift change, or re-plan that moves jobs)",
    )
    holding_cost_per_unit_day: float = Field(0.0, ge=0, description="per unit in stock per day")
    backorder_cost_per_unit_day: float = Field(
        0.0, ge=0, description="shortage cost per back-ordered unit per day, currency")
    replenishment_order_cost: float = Field(
        0.0, ge=0, description="fixed cost per replenishment order released to production, currency")
    dispute_cost: float = Field(0.0, ge=0, description="handling cost per disputed invoice")


class FieldRequirements(ScenarioModel):
    """Advance demand information from the field: a debriefed service visit hears the
    customer's upcoming requirements, and service reports them to planning.

    After a debriefed visit to a customer in planning period *j*, each inquiry that customer
    will in fact send during periods *j* + 1 … *j* + ``periods_ahead`` is reported to
    planning (its products and units) if its own "heard" uniform — stream
    ``field.<segment id>.heard``, one draw per inquiry of the segment — is below
    ``share_heard``. The forecast policy sees, per product, the units reported for the
    period it plans and the units that were reported ahead of each past period; only a
    policy that uses them (``field-informed``) changes the plan.
    """

    model_config = _CONFIG
    share_heard: Probability = Field(
        ge=0, le=1, description="share of a debriefed customer's upcoming inquiries the visit hears of, 0–1")
    periods_ahead: int = Field(
        1, ge=1, le=52, description="how many coming planning periods the customer's reported "
        "requirements reach, periods")


class Information(ScenarioModel):
    """Who knows what: which departments share their information with sales."""

    model_config = _CONFIG
    production_shares_capacity: bool = Field(
        False, description="sales sees surplus capacity when quoting"
    )
    warehouse_shares_stock: bool = Field(False, description="sales sees stock on hand when quoting")
    carrier_transit_quantile: float | None = Field(
        None, gt=0, lt=1,
        description="sales knows its segment's carrier transit (delays included: with probability "
        "1 − reliability plus delay_days) at this quantile, e.g. 0.9, and quotes carry it in days "
        "(the pricing policy decides whether the promise adds it); null: sales does not know "
        "transit and promises as before",
    )
    field_requirements: FieldRequirements | None = Field(
        None, description="a debriefed service visit reports the customer's upcoming inquiries to "
        "planning (advance demand information, see FieldRequirements); null: nothing service hears "
        "reaches planning",
    )


class WorkingTime(ScenarioModel):
    """A working calendar: a weekly pattern of working periods and the public holidays."""

    model_config = _CONFIG
    week: dict[Weekday, list[str]] = Field(
        description="weekday (mon … sun) -> working periods 'HH:MM-HH:MM' in local time, e.g. "
        "['08:00-12:00', '12:30-16:30'] (end up to 24:00); weekdays not listed are closed",
    )
    holidays: list[date] = Field(
        default_factory=list, description="dates closed all day (public holidays), YYYY-MM-DD"
    )

    @field_validator("week")
    @classmethod
    def _periods(cls, week: dict[str, list[str]]) -> dict[str, list[str]]:
        total = 0.0
        for day, periods in week.items():
            previous_end = -1.0
            for i, text in enumerate(periods):
                match = _PERIOD.match(text)
                if match is None:
                    raise ValueError(f"{day}.{i}: expected a period 'HH:MM-HH:MM', got {text!r}")
                h1, m1, h2, m2 = (int(g) for g in match.groups())
                start, end = h1 + m1 / 60, h2 + m2 / 60
                if end > 24 or not start < end:
                    raise ValueError(f"{day}.{i}: a period must end after it starts, by 24:00, got {text!r}")
                if start < previous_end:
                    raise ValueError(f"{day}.{i}: periods must be in order and not overlap, got {text!r}")
                previous_end = end
                total += end - start
        if total <= 0:
            raise ValueError("no working period in the week")
        return week

    def hours(self) -> list[list[tuple[float, float]]]:
        """Open periods per weekday (Monday first) as ``(start_hour, end_hour)``."""
        result: list[list[tuple[float, float]]] = []
        for day in WEEKDAYS:
            periods = []
            for text in self.week.get(day, []):  # type: ignore[call-overload]
                h1, m1, h2, m2 = (int(g) for g in _PERIOD.match(text).groups())  # type: ignore[union-attr]
                periods.append((h1 + m1 / 60, h2 + m2 / 60))
            result.append(periods)
        return result


class Calendars(ScenarioModel):
    """The calendar of the company: its start date, working calendars and which resource keeps which."""

    model_config = _CONFIG
    start_date: date = Field(
        description="calendar date of simulation day 0 at 00:00 (YYYY-MM-DD): sets weekdays and "
        "holidays, and the timestamps of exported event logs",
    )
    patterns: dict[str, WorkingTime] = Field(
        min_length=1, description="calendar name -> weekly working periods and holidays"
    )
    pools: dict[str, str] = Field(
        default_factory=dict,
        description="resource -> calendar name. Resources: the staff pools (sales_reps, estimators, "
        "entry_clerks, junior_staff, senior_managers, warehouse_staff, billing_clerks, returns_staff, "
        "finance_clerks), `technicians` (every skill), logistics provider ids (their pickups) and "
        "work centre ids (the calendar's working days; its shifts count from 06:00 on each, machines "
        "pause at shift end). A resource not listed works around the clock (a work centre: its "
        "shifts every day, a job started is finished past the shift)",
    )


class PolicyChoice(ScenarioModel):
    """A policy by its registered name, with parameters."""

    model_config = _CONFIG
    name: str = Field(description="registered policy name, see `ordercycle policies list`")
    params: dict[str, object] = Field(default_factory=dict, description="policy parameters")


def _as_choice(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


class PolicySet(ScenarioModel):
    """Which policy takes each decision of the cycle."""

    model_config = _CONFIG
    forecast: PolicyChoice = PolicyChoice(name="moving-average")
    capacity: PolicyChoice = PolicyChoice(name="load-based")
    inventory: PolicyChoice = PolicyChoice(name="plan-driven")
    pricing: PolicyChoice = PolicyChoice(name="list-price")
    selection: PolicyChoice = PolicyChoice(name="accept-all")
    priority: PolicyChoice = PolicyChoice(name="fifo")
    dispatch: PolicyChoice = PolicyChoice(name="priority-first")
    schedule: PolicyChoice = PolicyChoice(name="none")
    expedite: PolicyChoice = PolicyChoice(name="bounded")
    fulfilment: PolicyChoice = PolicyChoice(name="ship-complete")
    billing: PolicyChoice = PolicyChoice(name="consult-shipping-sales")
    returns: PolicyChoice = PolicyChoice(name="within-window")
    debrief: PolicyChoice = PolicyChoice(name="never")
    overtime: PolicyChoice = PolicyChoice(name="none")
    staff_overtime: PolicyChoice = PolicyChoice(name="none")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, dict):
            return {key: _as_choice(value) for key, value in data.items()}
        return data


class PolicySetChanges(ScenarioModel):
    """A policy set named in an experiment: the decisions it changes from the scenario's set."""

    model_config = _CONFIG
    forecast: PolicyChoice | None = None
    capacity: PolicyChoice | None = None
    inventory: PolicyChoice | None = None
    pricing: PolicyChoice | None = None
    selection: PolicyChoice | None = None
    priority: PolicyChoice | None = None
    dispatch: PolicyChoice | None = None
    schedule: PolicyChoice | None = None
    expedite: PolicyChoice | None = None
    fulfilment: PolicyChoice | None = None
    billing: PolicyChoice | None = None
    returns: PolicyChoice | None = None
    debrief: PolicyChoice | None = None
    overtime: PolicyChoice | None = None
    staff_overtime: PolicyChoice | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        if isinstance(data, dict):
            return {key: _as_choice(value) for key, value in data.items()}
        return data

    def apply(self, policies: PolicySet) -> PolicySet:
        """``policies`` with this set's choices in place of the scenario's."""
        changes = {key: value for key, value in self if value is not None}
        return policies.model_copy(update=changes)


class KpiBound(ScenarioModel):
    """A constraint on one KPI's mean (a set breaking one is ranked after every set that keeps all)."""

    model_config = _CONFIG
    kpi: str = Field(description="KPI name as in kpis.json; nested ones with a dot (utilization.machining)")
    min: float | None = Field(None, description="the KPI's mean must be at least this")
    max: float | None = Field(None, description="the KPI's mean must be at most this")

    @model_validator(mode="after")
    def _some_bound(self) -> KpiBound:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) must not exceed max ({self.max:g})")
        return self


class Objective(ScenarioModel):
    """How experiments rank policy sets: maximise the score Σ weight × KPI, subject to constraints.

    Weights are in the KPI's own unit: a cost KPI gets a negative weight.
    """

    model_config = _CONFIG
    weights: dict[str, float] = Field(
        default_factory=lambda: {"profit": 1.0}, min_length=1,
        description="KPI name -> weight (score = Σ weight × KPI, maximised)",
    )
    constraints: list[KpiBound] = Field(
        default_factory=list, description="bounds on KPI means, e.g. {kpi: on_time_delivery_rate, min: 0.95}"
    )

    def kpis(self) -> list[str]:
        """The KPIs the ranking depends on, weighted ones first, without repeats."""
        names = list(self.weights) + [bound.kpi for bound in self.constraints]
        return list(dict.fromkeys(names))


class StartState(ScenarioModel):
    """Where the simulation starts: a state snapshot of the company instead of an empty one."""

    model_config = _CONFIG
    snapshot: str = Field(
        description="state snapshot JSON (`ordercycle run --snapshot-at`, schema in `docs/twin.md`), "
        "a path relative to the scenario file; simulation day 0 is the snapshot's time"
    )
    state: dict[str, object] | None = Field(
        None,
        description="the snapshot's content, filled in when the scenario is loaded (so the scenario's "
        "content hash changes with the snapshot); checked against the scenario when a run starts",
    )


class Scenario(ScenarioModel):
    """One simulated company, its horizon and its policy set."""

    model_config = _CONFIG
    name: str = Field(description="short name, used in output folders")
    description: str = Field("", description="what this scenario represents")
    currency: str = Field("EUR", description="currency of all money fields")
    horizon_days: float = Field(
        gt=0, le=36500, description="simulated time, days (at most a hundred years: queueing validations run "
        "long; the expected inquiries are bounded separately)")
    warmup_days: float = Field(0.0, ge=0, description="start-up period excluded from KPIs, days")
    products: list[Product] = Field(min_length=1)
    work_centres: list[WorkCentre] = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    logistics_providers: list[LogisticsProvider] = Field(min_length=1)
    staff: Staff
    task_hours: TaskTimes
    quality: Quality = Field(default_factory=Quality)
    planning: Planning = Field(default_factory=Planning)
    costs: Costs = Field(default_factory=Costs)
    information: Information = Field(default_factory=Information)
    policies: PolicySet = Field(default_factory=PolicySet)
    objective: Objective = Field(default_factory=Objective)
    sets: dict[str, PolicySetChanges] = Field(
        default_factory=dict,
        description="named policy sets for `ordercycle compare` (each changes some decisions of `policies`)",
    )
    goodwill: Goodwill | None = Field(
        None, description="customers remember late deliveries, wrong invoices and slow refunds "
        "(null: they do not)")
    calendars: Calendars | None = Field(
        None, description="start date and working calendars; null: day 0 is a Monday and every "
        "resource works around the clock",
    )
    start: StartState | None = Field(
        None, description="start from a state snapshot (open orders, stock, machines) instead of empty"
    )

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _unique([p.id for p in self.products], "product")
        _unique([w.id for w in self.work_centres], "work centre")
        _unique([s.id for s in self.segments], "segment")
        _unique([lp.id for lp in self.logistics_providers], "logistics provider")
        centres = {w.id for w in self.work_centres}
        products = {p.id for p in self.products}
        providers = {lp.id for lp in self.logistics_providers}
        skills = set(self.staff.technicians)
        problems: list[str] = []
        expected = self.expected_inquiries()
        if expected > MAX_EXPECTED_INQUIRIES:
            problems.append(
                f"segments: {expected:,.0f} inquiries expected over {self.horizon_days:g} days (rates, "
                f"trends and seasonality at their highest), more than the {MAX_EXPECTED_INQUIRIES:,} a run "
                "may simulate (shorten horizon_days or lower the rates)"
            )
        if self.warmup_days >= self.horizon_days:
            problems.append(
                f"warmup_days: must be less than horizon_days ({self.horizon_days:g}), "
                f"got {self.warmup_days:g}"
            )
        for i, product in enumerate(self.products):
            for j, op in enumerate(product.routing):
                if op.work_centre not in centres:
                    problems.append(
                        f"products.{i}.routing.{j}.work_centre: unknown work centre {op.work_centre!r}"
                    )
            for skill in product.installation_skills:
                if skill not in skills:
                    problems.append(
                        f"products.{i}.installation_skills: no technicians with skill {skill!r}"
                    )
            if product.repair_probability > 0 and product.service_skill not in skills:
                problems.append(
                    f"products.{i}.service_skill: repairs need a technician skill from "
                    f"staff.technicians, got {product.service_skill!r}"
                )
        for i, segment in enumerate(self.segments):
            for product_id in segment.product_mix:
                if product_id not in products:
                    problems.append(f"segments.{i}.product_mix: unknown product {product_id!r}")
            if segment.logistics_provider not in providers:
                problems.append(
                    f"segments.{i}.logistics_provider: unknown provider {segment.logistics_provider!r}"
                )
        stocked = {p.id for p in self.products if p.stocking == "make_to_stock"}
        choices = [("policies.inventory", self.policies.inventory)] + [
            (f"sets.{name}.inventory", changes.inventory) for name, changes in self.sets.items()]
        for where, choice in choices:
            for param, value in (choice.params if choice is not None else {}).items():
                problems += [f"{where}.params.{param}.{key}: not a make-to-stock product "
                             f"(make-to-stock: {', '.join(sorted(stocked)) or 'none'})"
                             for key in (value if isinstance(value, dict) else ()) if key not in stocked]
        if self.calendars is not None:
            centres = {c.id for c in self.work_centres}
            known = set(STAFF_POOLS) | {"technicians"} | providers | centres
            for resource, name in self.calendars.pools.items():
                if resource not in known:
                    problems.append(f"calendars.pools.{resource}: unknown resource (known: staff pools, "
                                    f"technicians, logistics provider ids, work centre ids: "
                                    f"{', '.join(sorted(known))})")
                elif resource in centres and resource in set(STAFF_POOLS) | {"technicians"} | providers:
                    problems.append(f"calendars.pools.{resource}: ambiguous: a work centre and another "
                                    "resource share this id")
                if name not in self.calendars.patterns:
                    problems.append(f"calendars.pools.{resource}: unknown calendar {name!r} "
                                    f"(calendars.patterns: {', '.join(sorted(self.calendars.patterns))})")
        calendared = set(self.calendars.pools) if self.calendars is not None else set()
        for pool in self.staff.overtime_hour_cost:
            if pool not in calendared:
                problems.append(f"staff.overtime_hour_cost.{pool}: overtime needs a working calendar "
                                f"(the pool works around the clock: calendars.pools does not name it)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_serializer(mode="wrap")
    def _without_empty_start(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """Leave ``start``, ``calendars``, the arrival profiles, the default (plan-driven)
        inventory policy, zero inventory costs, segments' unset prepayment terms and their
        default partial-delivery flag out when they are not set, so scenarios that do not use
        them keep their content hashes."""
        data = handler(self)
        for key in ("start", "calendars", "goodwill"):
            if key in data and data[key] is None:
                del data[key]
        planning = data.get("planning")
        for key in ("stock_targets_from", "capacity_from"):
            if isinstance(planning, dict) and planning.get(key) == "production":
                del planning[key]
        quality = data.get("quality")
        if isinstance(quality, dict) and quality.get("price_change_rate") == 0:
            del quality["price_change_rate"]
            if quality.get("price_change") == -0.05:
                del quality["price_change"]
        costs = data.get("costs")
        for key in ("backorder_cost_per_unit_day", "replenishment_order_cost"):
            if isinstance(costs, dict) and costs.get(key) == 0:
                del costs[key]
        information = data.get("information")  # an unset published transit keeps old hashes too
        for key in ("carrier_transit_quantile", "field_requirements"):
            if isinstance(information, dict) and information.get(key, 0) is None:
                del information[key]
        policies = data.get("policies")
        if isinstance(policies, dict) and policies.get("inventory") == {"name": "plan-driven", "params": {}}:
            del policies["inventory"]
        for key in ("overtime", "staff_overtime"):
            if isinstance(policies, dict) and policies.get(key) == {"name": "none", "params": {}}:
                del policies[key]
        if isinstance(policies, dict) and policies.get("fulfilment") == {"name": "ship-complete",
                                                                         "params": {}}:
            del policies["fulfilment"]
        for changes in (data.get("sets") or {}).values():
            for key in ("inventory", "overtime", "staff_overtime", "fulfilment"):
                if isinstance(changes, dict) and key in changes and changes[key] is None:
                    del changes[key]
        for centre in data.get("work_centres", ()):
            if isinstance(centre, dict) and centre.get("overtime_hour_cost") == 0:
                del centre["overtime_hour_cost"]
        staff = data.get("staff")
        for key in ("hourly_cost", "overtime_hour_cost"):
            if isinstance(staff, dict) and staff.get(key, 0) == {}:
                del staff[key]
        for segment in data.get("segments", ()):
            one_line = {"dist": "fixed", "value": 1.0}
            if isinstance(segment, dict) and segment.get("lines_per_order") == one_line:
                del segment["lines_per_order"]
            if isinstance(segment, dict) and "prepayment" in segment and segment["prepayment"] is None:
                del segment["prepayment"]
            if isinstance(segment, dict) and segment.get("accepts_partial_deliveries") is True:
                del segment["accepts_partial_deliveries"]
            arrivals = segment.get("arrivals") if isinstance(segment, dict) else None
            if isinstance(arrivals, dict):
                for key in ("weekday_profile", "hourly_profile"):
                    if key in arrivals and arrivals[key] is None:
                        del arrivals[key]
        return data

    @property
    def has_prepayment(self) -> bool:
        """Whether some segment has prepayment terms (``prepayment`` set, a share of 0 included, so
        that a sweep over the share keeps its columns): the outputs then carry the prepayment
        columns and KPIs."""
        return any(s.prepayment is not None for s in self.segments)

    def expected_inquiries(self) -> float:
        """An upper estimate of the inquiries over the horizon: every segment's rate with its
        trend at the horizon's end (when it grows) and its seasonal peak, all the time."""
        total = 0.0
        for segment in self.segments:
            arrivals = segment.arrivals
            growth = 1.0 + max(0.0, arrivals.trend_per_year) * self.horizon_days / 365.0
            peak = 1.0 + arrivals.seasonality.amplitude
            total += arrivals.rate_per_day * growth * peak * self.horizon_days
        return total

    def product(self, product_id: str) -> Product:
        """The product with this id."""
        return next(p for p in self.products if p.id == product_id)
