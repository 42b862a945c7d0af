"""Steps 2–5: order generation, quoting, entry and selection.

Inquiries arrive from each customer segment as a non-homogeneous Poisson process
(thinning, Lewis & Shedler 1979): rate(t) = rate₀ · (1 + trend · t/365) ·
(1 + amplitude · cos(2π (t − peak_day) / period)). Everything random about an
inquiry — its time, customer, product, size and its "fate" uniforms (quote
acceptance, entry error, repair, return, and whether it is paid in advance where the
segment has prepayment terms) — is drawn at arrival from the segment's own streams, so
every policy set sees the same inquiries (common random numbers).

Quote acceptance is a logit choice (documented in ``docs/model.md``):
P(accept) = 1 / (1 + exp(−(β₀ − β_p·(p/p_list − 1) − β_L·(L − L_desired)/L_desired))).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.contexts import (
    CandidateOrder,
    CapacityOutlook,
    CentreLoad,
    QuoteContext,
    SelectionContext,
    WorkCentreHours,
)
from ordercycle.scenarios.distributions import Exponential, Fixed
from ordercycle.scenarios.schema import WEEKDAYS, Segment
from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import Line, Order
from ordercycle.sim.model import SHIFT_HOURS, cents
from ordercycle.sim.steps import billing, fulfilment, production
from ordercycle.sim.streams import Streams

if TYPE_CHECKING:
    from ordercycle.sim.model import CompanyModel


def profile_factors(arrivals: Any) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    """The weekday (Monday first) and hour-of-day factors of an arrival profile, each of mean 1.

    None where the profile is not given (a flat rate).
    """
    weekdays = hours = None
    if arrivals.weekday_profile is not None:
        raw = [float(arrivals.weekday_profile.get(day, 0.0)) for day in WEEKDAYS]
        weekdays = tuple(7.0 * w / sum(raw) for w in raw)
    if arrivals.hourly_profile is not None:
        raw = [float(w) for w in arrivals.hourly_profile]
        hours = tuple(24.0 * w / sum(raw) for w in raw)
    return weekdays, hours


def arrival_rate(arrivals: Any, t: float, first_weekday: int = 0) -> float:
    """Inquiries per day of an :class:`~ordercycle.scenarios.schema.Arrivals` at day ``t``.

    ``first_weekday`` is the weekday of day 0 (0 = Monday), for the weekday profile.
    """
    season = arrivals.seasonality
    wave = 1.0 + season.amplitude * math.cos(2 * math.pi * (t - season.peak_day) / season.period_days)
    rate = arrivals.rate_per_day * max(0.0, 1.0 + arrivals.trend_per_year * t / 365.0) * wave
    weekdays, hours = profile_factors(arrivals)
    if weekdays is not None:
        rate *= weekdays[(first_weekday + math.floor(t)) % 7]
    if hours is not None:
        rate *= hours[min(23, int((t - math.floor(t)) * 24.0))]
    return rate


def rate_function(arrivals: Any, first_weekday: int = 0) -> Callable[[float], float]:
    """:func:`arrival_rate` of one segment with its parameters bound (same arithmetic, fewer lookups)."""
    season = arrivals.seasonality
    rate, trend, amplitude = arrivals.rate_per_day, arrivals.trend_per_year, season.amplitude
    peak_day, period = season.peak_day, season.period_days
    cos, two_pi, floor = math.cos, 2 * math.pi, math.floor
    weekdays, hours = profile_factors(arrivals)

    def rate_at(t: float) -> float:
        wave = 1.0 + amplitude * cos(two_pi * (t - peak_day) / period)
        return rate * max(0.0, 1.0 + trend * t / 365.0) * wave

    if weekdays is None and hours is None:
        return rate_at

    def profiled_rate_at(t: float) -> float:
        value = rate_at(t)
        day = floor(t)
        if weekdays is not None:
            value *= weekdays[(first_weekday + day) % 7]
        if hours is not None:
            value *= hours[min(23, int((t - day) * 24.0))]
        return value

    return profiled_rate_at


def acceptance_probability(segment: Segment, unit_price: float, list_price: float,
                           promised_lead_days: float, bonus: float = 0.0) -> float:
    """Probability the customer accepts a quote (logit model of the module docstring).

    ``bonus`` is extra utility, e.g. when sales learnt the customer's requirements
    from a debriefed service visit.
    """
    utility = (
        segment.base_utility + bonus
        - segment.price_sensitivity * (unit_price / list_price - 1.0)
        - segment.lead_time_sensitivity
        * (promised_lead_days - segment.desired_lead_days) / segment.desired_lead_days
    )
    return 1.0 / (1.0 + math.exp(-utility))


def inquiry_draws(streams: Streams, segment: Segment, horizon: float, offset: float,
                  first_weekday: int) -> Iterator[tuple[float, int, int, int]]:
    """The inquiries of one segment until ``horizon``: (time, customer index, product index, units).

    Thinning of the segment's non-homogeneous Poisson process (module docstring) on the
    segment's own streams of ``streams``; ``offset`` is the calendar day of time 0. Pure
    in the streams: a second :class:`~ordercycle.sim.streams.Streams` of the same seed and
    replication yields the same inquiries (how the field hears future demand ahead,
    :mod:`ordercycle.sim.steps.field_requirements`).
    """
    arrivals = segment.arrivals
    growth = max(1.0, 1.0 + arrivals.trend_per_year * (offset + horizon) / 365.0)
    peak_rate = arrivals.rate_per_day * growth * (1.0 + arrivals.seasonality.amplitude)
    weekdays, hours = profile_factors(arrivals)
    if weekdays is not None:
        peak_rate *= max(weekdays)
    if hours is not None:
        peak_rate *= max(hours)
    prefix = f"segment.{segment.id}"
    gap = streams.sampler(f"{prefix}.arrival", Exponential(dist="exponential", mean=1.0 / peak_rate))
    thin = streams.uniform(f"{prefix}.thinning")
    pick_customer = streams.uniform(f"{prefix}.customer")
    pick_product = streams.uniform(f"{prefix}.product")
    size = streams.sampler(f"{prefix}.size", segment.order_size_units)
    products = sorted(segment.product_mix)
    total = sum(segment.product_mix.values())
    cumulative, running = [], 0.0
    for product_id in products:
        running += segment.product_mix[product_id] / total
        cumulative.append(running)
    rate_at = rate_function(arrivals, first_weekday)
    n_customers, n_products = segment.customers, len(products)
    ceil = math.ceil
    t = 0.0
    while True:
        t += gap()
        if t >= horizon:
            return
        if thin() * peak_rate > rate_at(t + offset):
            continue
        u_customer, u_product, units = pick_customer(), pick_product(), size()
        yield (t, int(u_customer * n_customers), min(bisect_right(cumulative, u_product), n_products - 1),
               max(1, ceil(units)))


def inquiry_arrivals(env: Environment, m: CompanyModel,
                     segment: Segment) -> Generator[simpy.Event, Any, None]:
    """Generate the inquiries of one segment until the horizon (:func:`inquiry_draws`)."""
    more_lines = extra_lines(m, segment)
    prefix = f"segment.{segment.id}"
    draw_accept, draw_entry, draw_repair, draw_return = (
        m.streams.uniform(f"{prefix}.fate.{name}") for name in ("accept", "entry", "repair", "return"))
    prepay_share = segment.prepayment.share if segment.prepayment is not None else 0.0
    # a stream of its own, drawn only where a share is on prepayment terms: no other stream shifts
    draw_prepay = m.streams.uniform(f"{prefix}.fate.prepay") if prepay_share > 0 else None
    customers = [f"{segment.id}-{k}" for k in range(1, segment.customers + 1)]
    products = sorted(segment.product_mix)
    segment_id, importance = segment.id, segment.importance
    orders, demand, log, next_id = m.orders, m.period_demand, m.log, m.next_id
    draws = inquiry_draws(m.streams, segment, m.scenario.horizon_days, m.start_day, m.first_weekday)
    for t, customer, index, units in draws:
        yield env.timeout(t - env.now)
        now = env.now
        order = Order(next_id("order"), customers[customer], segment_id, importance,
                      products[index], units, now)
        order.u_accept, order.u_entry_error, order.u_repair, order.u_return = (
            draw_accept(), draw_entry(), draw_repair(), draw_return())
        if draw_prepay is not None:
            order.pays_in_advance = draw_prepay() < prepay_share
        order.lines.append(Line(next_id("line"), order, 1, order.product_id, order.quantity))
        if more_lines is not None:
            for number, (product_id, line_units) in enumerate(more_lines(index), start=2):
                order.lines.append(Line(next_id("line"), order, number, product_id, line_units))
                order.quantity += line_units
            for line in order.lines[1:]:
                demand[line.product_id] += line.quantity
        orders.append(order)
        demand[order.product_id] += order.lines[0].quantity
        log(now, "inquiry_received", "sales", order.order_id, product=order.product_id,
            quantity=order.quantity)
        env.process(order_journey(env, m, order))


def extra_lines(m: CompanyModel, segment: Segment,
                streams: Streams | None = None) -> Callable[[int], list[tuple[str, int]]] | None:
    """The function that draws an inquiry's lines after its first, or None for one-line segments.

    Called with the product index of the first line, it returns (product id, units) of
    each further line, in line order. The number of lines is ``lines_per_order`` rounded
    up, at least 1 and at most the products of the segment's mix with a positive share;
    each further line's product is drawn by ``product_mix`` among the products not yet on
    the order (no repetition), its quantity from ``order_size_units``. These draws use
    streams of their own (``segment.<id>.lines``, ``.lines.product``, ``.lines.size``), so
    a one-line segment draws exactly what it drew before lines existed (common random
    numbers). ``streams``: another set of the same seed (default: the model's).
    """
    lines_per_order = segment.lines_per_order
    if isinstance(lines_per_order, Fixed) and lines_per_order.value <= 1:
        return None
    streams = m.streams if streams is None else streams
    prefix = f"segment.{segment.id}"
    count = streams.sampler(f"{prefix}.lines", lines_per_order)
    pick = streams.uniform(f"{prefix}.lines.product")
    size = streams.sampler(f"{prefix}.lines.size", segment.order_size_units)
    products = sorted(segment.product_mix)
    weights = [segment.product_mix[p] for p in products]
    most = sum(1 for w in weights if w > 0)

    def draw(first: int) -> list[tuple[str, int]]:
        lines = min(most, max(1, math.ceil(count())))
        chosen = [first]
        drawn: list[tuple[str, int]] = []
        for _ in range(2, lines + 1):
            left = pick() * sum(w for i, w in enumerate(weights) if i not in chosen)
            index = -1
            for i, w in enumerate(weights):
                if i in chosen or w <= 0:
                    continue
                index = i
                left -= w
                if left < 0:
                    break
            chosen.append(index)
            drawn.append((products[index], max(1, math.ceil(size()))))
        return drawn

    return draw


JOURNEY = ("inquiry", "estimating", "awaiting_customer", "entry", "selection")
"""The steps of an inquiry before it becomes an accepted order, in order (where a journey may start)."""


def order_journey(env: Environment, m: CompanyModel, order: Order,
                  start_at: str = "inquiry") -> Generator[simpy.Event, Any, None]:
    """One inquiry from the first sales contact to delivery (or its end).

    ``start_at`` (one of :data:`JOURNEY`) resumes an inquiry of a state snapshot at that
    step; from ``awaiting_customer`` on, the order carries its quote (``unit_price``,
    ``quoted_lead_days``), from ``selection`` on also its ``promised_date``.
    """
    segment = m.segments[order.segment]
    product = m.products[order.product_id]
    begin = JOURNEY.index(start_at)

    # 2. order generation: a sales rep takes the inquiry
    if begin == 0:
        yield from m.serve([order], "sales", "sales_reps", m.task["sales_contact"](),
                           "sales_contact_started", "sales_contact_completed", "inquiry")

    # 3. cost estimation and pricing
    if begin <= 1:
        yield from m.serve([order], "estimating", "estimators",
                           m.task["cost_estimation"](), "estimation_started", None, "estimating")
        lines = order.lines
        if len(lines) == 1:
            quote = _quote_line(m, order, segment, product, order.quantity, env.now)
            line = lines[0]
            order.list_price = line.list_price = product.list_price
            order.unit_cost = line.unit_cost = product.unit_cost
            order.unit_price = line.unit_price = round(quote.unit_price, 2)
            order.quoted_lead_days = quote.promised_lead_days
            amount = cents(order.unit_price * order.quantity) / 100
        else:  # a quote per line; the order's figures per unit are the lines' quantity-weighted means
            promise = 0.0
            for line in lines:
                line_product = m.products[line.product_id]
                quote = _quote_line(m, order, segment, line_product, line.quantity, env.now)
                line.list_price, line.unit_cost = line_product.list_price, line_product.unit_cost
                line.unit_price = round(quote.unit_price, 2)
                promise = max(promise, quote.promised_lead_days)
            set_mean_prices(order)
            order.quoted_lead_days = promise
            amount = sum(cents(line.unit_price) * line.quantity for line in lines) / 100
        order.quote_time = env.now
        m.log(env.now, "quote_sent", "estimating", order.order_id, quantity=order.quantity,
              amount=amount)
    if begin <= 2:
        order.move("awaiting_customer", "customer")
        yield env.wait(m.segment_draws[segment.id][0]())
        bonus = 0.0
        if env.now < m.debriefed_until.get(order.customer_id, -math.inf):
            bonus = m.scenario.quality.debrief_utility_gain
        grievance = m.goodwill_penalty(order.customer_id, env.now) if m.scenario.goodwill else 0.0
        accept = acceptance_probability(segment, order.unit_price, order.list_price,
                                        order.quoted_lead_days, bonus - grievance)
        if order.u_accept >= accept:
            order.final_state = "lost_quote"
            order.move("lost_quote", "customer")
            lost_to_goodwill = grievance > 0 and order.u_accept < acceptance_probability(
                segment, order.unit_price, order.list_price, order.quoted_lead_days, bonus)
            m.log(env.now, "quote_lost", "sales", order.order_id, "goodwill" if lost_to_goodwill else None)
            return
        m.log(env.now, "quote_accepted", "sales", order.order_id)
    if begin <= 3:
        yield from _entry(env, m, order)
    if (yield from _selection(env, m, order, product, segment)):
        if order.pays_in_advance:  # 9. the prepayment request goes out with the order confirmation
            if segment.prepayment is not None and segment.prepayment.blocks == "release":
                if not (yield from billing.prepayment(env, m, order)):
                    return  # cancelled: the payment did not come in time
            else:  # the shipments wait for the payment; production and stock go ahead now
                env.process(billing.prepayment(env, m, order))
        # 6–11: prioritisation, production, fulfilment, billing, returns and service (delegated
        # from here, not from _selection: one generator less between every later event and SimPy)
        yield from fulfilment.fulfil_order(env, m, order)


def _quote_line(m: CompanyModel, order: Order, segment: Segment, product: Any, units: int,
                now: float) -> Any:
    """The pricing policy's quote for one line of an order (its product in its quantity)."""
    info = m.scenario.information
    surplus = projected = dispatch = idle = level = transit = None
    if info.production_shares_capacity:
        surplus = production.surplus_capacity_hours(m, product)
        projected, dispatch = production.path_lead_days(m, product, units, segment.id)
        idle = production.idle_capacity_hours(m, product, units, now, product.standard_lead_days)
    if m.transit_known is not None:
        level, transit = info.carrier_transit_quantile, m.transit_known[segment.id]
    context = QuoteContext(
        order.order_id, now, order.customer_id, segment.id, segment.importance, product.id,
        units, product.list_price, product.unit_cost, product.standard_lead_days,
        segment.desired_lead_days, surplus,
        m.stock[product.id] if info.warehouse_shares_stock else None, projected,
        dispatch, idle, level, transit,
    )
    quote = m.decide("pricing", m.policies.pricing.quote, context)
    if quote.unit_price <= 0 or quote.promised_lead_days < 0:
        raise RuntimeError(f"pricing policy returned an invalid quote {quote!r}")
    return quote


def set_mean_prices(order: Order) -> None:
    """Set a multi-line order's list price, unit price and unit cost to its lines' means per unit."""
    units = order.quantity
    order.list_price = sum(line.list_price * line.quantity for line in order.lines) / units
    order.unit_cost = sum(line.unit_cost * line.quantity for line in order.lines) / units
    order.unit_price = sum(cents(line.unit_price) * line.quantity for line in order.lines) / 100 / units


def _entry(env: Environment, m: CompanyModel, order: Order) -> Generator[simpy.Event, Any, None]:
    """Step 4: order receipt and entry."""
    # 4. order receipt and entry (an entry error surfaces later, in billing)
    yield from m.serve([order], "order_entry", "entry_clerks", m.task["order_entry"](),
                       "entry_started", None, "entry")
    quality = m.scenario.quality
    order.entered_units, order.entered_unit_price = order.quantity, order.unit_price
    if order.u_entry_error < quality.entry_error_rate / 2:
        order.entry_error = "price"
        order.entered_unit_price = round(order.unit_price * (1 + quality.entry_price_error), 2)
    elif order.u_entry_error < quality.entry_error_rate:
        order.entry_error = "quantity"
        order.entered_units = order.quantity + 1
    order.entered_time = env.now
    order.promised_date = env.now + order.quoted_lead_days  # the promise runs from the order
    m.log(env.now, "order_entered", "order_entry", order.order_id, quantity=order.entered_units,
          amount=order.entered_units * order.entered_unit_price)
    if quality.price_change_rate and m.streams.uniform("quality.price_change")() < quality.price_change_rate:
        # sales renegotiates the price (of every line); the order as entered keeps the old one
        if len(order.lines) == 1:
            order.unit_price = round(order.unit_price * (1 + quality.price_change), 2)
            order.lines[0].unit_price = order.unit_price
        else:
            for line in order.lines:
                line.unit_price = round(line.unit_price * (1 + quality.price_change), 2)
            set_mean_prices(order)
        m.log(env.now, "price_changed", "sales", order.order_id, amount=order.unit_price)


def _selection(env: Environment, m: CompanyModel, order: Order, product: Any,
               segment: Segment) -> Generator[simpy.Event, Any, bool]:
    """Step 5: order selection. Returns whether the order was accepted."""
    # 5. order selection: who decides sets the delay and the information available
    policy = m.policies.selection
    senior = policy.decider == "senior"
    outlook = senior and policy.needs_capacity_outlook
    if outlook:
        m.awaiting_selection[order.order_id] = order
    pool = "senior_managers" if senior else "junior_staff"
    hours = m.task_hours("selection_senior" if senior else "selection_junior")
    yield from m.serve([order], "selection", pool, hours, "selection_started", None, "selection")
    value = order.quantity * order.unit_price
    if senior:  # on the order: its amount, margin and the slowest line's projected lead
        margin_rate = (order.unit_price - order.unit_cost) / order.unit_price
        backlog = sum(c.store.waiting_hours for c in m.centres.values())
        if len(order.lines) == 1:
            strategic = product.strategic
            projected = production.projected_lead_days(m, product, order.quantity, segment.id)
        else:
            strategic = any(m.products[line.product_id].strategic for line in order.lines)
            projected = max(production.projected_lead_days(m, m.products[line.product_id], line.quantity,
                                                           segment.id) for line in order.lines)
        context = SelectionContext(
            order.order_id, env.now, "senior", segment.id, product.id, order.quantity, value,
            segment.importance, margin_rate, strategic, backlog,
            order.promised_date - env.now, projected,
            capacity_outlook(m, order, env.now) if outlook else None,
        )
    else:
        context = SelectionContext(order.order_id, env.now, "junior", segment.id, product.id,
                                   order.quantity, value)
    decision = m.decide("selection", policy.select, context)
    if outlook:
        del m.awaiting_selection[order.order_id]
    order.decision_time = env.now
    if not decision.accept:
        order.final_state = "rejected"
        order.move("rejected", "sales")
        m.log(env.now, "order_rejected", "selection", order.order_id)
        return False
    order.accepted = True
    if decision.renegotiated_lead_days is not None:  # the customer agreed to a later date
        order.promised_date = env.now + decision.renegotiated_lead_days  # counted from now
    m.log(env.now, "order_accepted", "selection", order.order_id, amount=cents(value) / 100)
    return True



# --- the capacity outlook of order-acceptance optimisers -----------------------------------

OUTLOOK_INTAKE_DAYS = 14.0
"""The orders entered over this many past days are expected again over as many days ahead."""


def _candidate(m: CompanyModel, order: Order, now: float, units_from_stock: int) -> CandidateOrder:
    """An entered order as a candidate: margin, shipping cost, due date, work per centre."""
    provider = m.providers[m.segments[order.segment].logistics_provider]
    if len(order.lines) == 1:
        product = m.products[order.product_id]
        to_make = order.quantity - min(order.quantity, units_from_stock)
        work = tuple(WorkCentreHours(op.work_centre, op.setup_hours + op.hours_per_unit.mean * to_make)
                     for op in product.routing) if to_make else ()
    else:  # every line's work that its product's stock does not cover
        work = tuple(
            WorkCentreHours(op.work_centre, op.setup_hours + op.hours_per_unit.mean * to_make)
            for line in order.lines
            for to_make in (line.quantity - min(line.quantity, m.stock[line.product_id]),) if to_make
            for op in m.products[line.product_id].routing)
    return CandidateOrder(order.order_id, order.quantity * (order.unit_price - order.unit_cost),
                          provider.cost_per_shipment, order.promised_date - now, work)


def capacity_outlook(m: CompanyModel, order: Order, now: float) -> CapacityOutlook:
    """What an order-acceptance optimiser sees (documented in ``docs/policies.md``).

    Daily periods up to the latest due date of the order, the orders awaiting selection
    and the expected orders. Capacity: the machines' staffed hours at the current shifts;
    committed: the hours of the jobs waiting at each centre by due day (past due: day 0;
    due after the outlook: left out). Expected: the orders entered over the last
    :data:`OUTLOOK_INTAKE_DAYS`, by segment and product, arriving evenly over as many days
    ahead (make-to-stock ones served from stock).
    """
    stock = m.stock
    candidate = _candidate(m, order, now, stock[order.product_id])
    pending = tuple(_candidate(m, other, now, stock[other.product_id])
                    for other_id, other in sorted(m.awaiting_selection.items()) if other_id != order.order_id)
    intake: dict[tuple[str, str], list[Order]] = {}
    since = now - OUTLOOK_INTAKE_DAYS
    for past in reversed(m.orders):
        if past.inquiry_time < since - 10.0:  # entry follows the inquiry within days
            break
        if since <= past.entered_time < now and past.order_id != order.order_id:
            intake.setdefault((past.segment, past.product_id), []).append(past)
    expected = []
    for number, key in enumerate(sorted(intake), start=1):
        alike = intake[key]
        count = len(alike)
        units = sum(o.quantity for o in alike) / count
        product = m.products[key[1]]
        work = () if product.stocking == "make_to_stock" else tuple(
            WorkCentreHours(op.work_centre, op.setup_hours + op.hours_per_unit.mean * units)
            for op in product.routing)
        lead = sum(o.promised_date - o.entered_time for o in alike) / count
        margin = sum(o.quantity * (o.unit_price - o.unit_cost) for o in alike) / count
        provider = m.providers[m.segments[key[0]].logistics_provider]
        expected.append(CandidateOrder(-number, margin, provider.cost_per_shipment,
                                       OUTLOOK_INTAKE_DAYS / 2 + lead, work, count))
    latest = max([candidate.due_days, *(c.due_days for c in pending), *(c.due_days for c in expected)])
    periods = max(1, math.ceil(latest))
    centres = []
    for centre_id, centre in m.centres.items():
        committed = [0.0] * periods
        for job in centre.store.waiting_jobs():
            day = max(0, math.ceil(job.due_date - now) - 1)
            if day < periods:
                committed[day] += job.process_hours
        if centre.shift_calendars is None:
            daily = len(centre.machines) * centre.shifts * SHIFT_HOURS
            centres.append(CentreLoad(centre_id, (daily,) * periods, tuple(committed)))
        else:  # on a calendar: each day's staffed hours (weekends and holidays none)
            centres.append(CentreLoad(centre_id, tuple(centre.staffed_hours(now + day, now + day + 1.0)
                                                       for day in range(periods)), tuple(committed)))
    return CapacityOutlook(1.0, tuple(centres), candidate, pending, tuple(expected))
