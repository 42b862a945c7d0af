"""A scenario's company in plain words: products, customers, staff, calendars, what is shared, policies.

What a strategist reads before changing a lever: every sentence comes from the validated
scenario, and the policies in force are named with the registry's one-line summaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ordercycle.policies.registry import lookup
from ordercycle.scenarios.schema import STAFF_POOLS, WEEKDAYS, PolicySet, Scenario


@dataclass(frozen=True)
class Paragraph:
    """A titled list of sentences."""

    title: str
    sentences: list[str]


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}" if value < 100 else f"{value:,.0f} {currency}"


def _days(value: float) -> str:
    return f"{value:g} day" + ("" if value == 1 else "s")


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{name} = {value}" for name, value in params.items())


def policy_line(decision: str, name: str, params: dict[str, Any]) -> str:
    """``selection: strategic (min_score = 0.7) — summary``, as the sets are described."""
    try:
        summary = lookup(decision, name).summary
    except ValueError:
        summary = "not a registered policy"
    given = f" ({_params(params)})" if params else ""
    return f"{decision}: {name}{given} — {summary}"


def policies_in_force(policies: PolicySet) -> list[str]:
    """One line per decision of a policy set."""
    data = policies.model_dump(mode="json")
    return [policy_line(kind, choice["name"], choice["params"]) for kind, choice in data.items()]


def _week(pattern: Any) -> str:
    days = [day for day in WEEKDAYS if pattern.week.get(day)]
    hours = sum(end - start for periods in pattern.hours() for start, end in periods)
    if not days:
        return "closed"
    span = f"{days[0]}–{days[-1]}" if len(days) > 1 and WEEKDAYS.index(days[-1]) - WEEKDAYS.index(
        days[0]) == len(days) - 1 else ", ".join(days)
    periods = ", ".join(pattern.week[days[0]])
    holidays = f", {len(pattern.holidays)} public holidays" if pattern.holidays else ""
    return f"{span} {periods} ({hours:g} hours a week{holidays})"


def company_in_words(scenario: Scenario) -> list[Paragraph]:
    """The company as paragraphs of sentences, in the order a visitor would be shown round."""
    currency = scenario.currency
    said = [Paragraph("The company", [
        f"{scenario.name}: {scenario.description or 'no description'}.",
        f"Simulated for {_days(scenario.horizon_days)}; the first {_days(scenario.warmup_days)} are a "
        "warm-up left out of the KPIs.",
        f"Money in {currency}.",
    ])]
    products = []
    for product in scenario.products:
        route = " → ".join(step.work_centre for step in product.routing)
        how = "made to stock" if product.stocking == "make_to_stock" else "made to order"
        extra = ", strategic" if product.strategic else ""
        install = (f", installed on site ({', '.join(product.installation_skills)})"
                   if product.installation_skills else "")
        products.append(f"{product.id}: list price {_money(product.list_price, currency)}, cost "
                        f"{_money(product.unit_cost, currency)}, {how}, quoted in "
                        f"{_days(product.standard_lead_days)}; made on {route}{extra}{install}.")
    said.append(Paragraph("Products", products))
    centres = []
    for centre in scenario.work_centres:
        breakdowns = (f"breaks down every {centre.mtbf_hours:g} busy hours on average"
                      if centre.mtbf_hours else "never breaks down")
        centres.append(f"{centre.id}: {centre.machines} machines, {centre.initial_shifts} of at most "
                       f"{centre.max_shifts} shifts of 8 hours staffed, "
                       f"{_money(centre.machine_hour_cost, currency)} per machine-hour; {breakdowns}.")
    said.append(Paragraph("Work centres", centres))
    segments = []
    for segment in scenario.segments:
        terms = ("invoiced monthly" if segment.invoice_rhythm == "monthly" else "invoiced per shipment")
        partial = "accept" if segment.accepts_partial_deliveries else "refuse"
        prepay = (f"; {segment.prepayment.share:.0%} of its orders are paid in advance"
                  if segment.prepayment and segment.prepayment.share > 0 else "")
        segments.append(
            f"{segment.id}: {segment.customers:,} customers of importance {segment.importance:g}, "
            f"{segment.arrivals.rate_per_day:g} inquiries a day, hoping for delivery within "
            f"{_days(segment.desired_lead_days)}; {terms}, paying on {segment.payment_terms_days:g}-day "
            f"terms; they {partial} partial deliveries; delivered by {segment.logistics_provider}{prepay}.")
    said.append(Paragraph("Customer segments", segments))
    staff = scenario.staff
    pools = [f"{getattr(staff, pool)} {pool.replace('_', ' ')}" for pool in STAFF_POOLS]
    lines = [", ".join(pools) + "."]
    if staff.technicians:
        lines.append("Technicians: " + ", ".join(f"{count} {skill}" for skill, count in
                                                 staff.technicians.items()) + ".")
    if staff.hourly_cost:
        lines.append("Paid per hour: " + ", ".join(f"{pool} {_money(cost, currency)}" for pool, cost in
                                                   staff.hourly_cost.items()) + ".")
    said.append(Paragraph("Staff", lines))
    if scenario.calendars is None:
        said.append(Paragraph("Calendars", ["Everyone works around the clock, every day."]))
    else:
        calendars = scenario.calendars
        lines = [f"Day 0 is {calendars.start_date.isoformat()}."]
        for name, pattern in calendars.patterns.items():
            users = sorted(pool for pool, used in calendars.pools.items() if used == name)
            who = f" — kept by {', '.join(users)}" if users else " — kept by no one"
            lines.append(f"{name}: {_week(pattern)}{who}.")
        rest = [pool for pool in STAFF_POOLS if pool not in calendars.pools]
        if rest:
            lines.append(f"Around the clock: {', '.join(rest)}.")
        said.append(Paragraph("Calendars", lines))
    info = scenario.information
    shared = [
        "Production " + ("shares" if info.production_shares_capacity else "does not share")
        + " its surplus capacity with sales.",
        "The warehouse " + ("shares" if info.warehouse_shares_stock else "does not share")
        + " its stock on hand with sales.",
        (f"Sales knows the carriers' transit at the {info.carrier_transit_quantile:.0%} quantile."
         if info.carrier_transit_quantile is not None else "Sales does not know the carriers' transit."),
    ]
    said.append(Paragraph("Information shared with sales", shared))
    said.append(Paragraph("Policies in force", policies_in_force(scenario.policies)))
    objective = scenario.objective
    score = " + ".join(f"{weight:g} × {kpi}" for kpi, weight in objective.weights.items())
    bounds = "; ".join(
        f"{bound.kpi}" + (f" at least {bound.min:g}" if bound.min is not None else "")
        + (f" at most {bound.max:g}" if bound.max is not None else "") for bound in objective.constraints)
    said.append(Paragraph("How policy sets are ranked", [
        f"Score = {score}, maximised" + (f"; subject to {bounds}" if bounds else "") + "."]))
    return said
