"""Small random scenarios for property-based and smoke tests.

:func:`small_scenario` builds a scenario *dict* (valid input for
``ordercycle.scenarios.loader.parse``) from a :class:`Picker`, the source of every
random choice. Two pickers are provided: :class:`RandomPicker` (a seeded
``random.Random``, for plain tests) and, in the property tests, one that draws from
Hypothesis so failing examples shrink. The scenarios are deliberately small: 1–3
products, 1–2 work centres, 1–2 segments, low arrival rates and horizons of 20–60
days, so one run takes a fraction of a second, yet every step of the cycle can occur
(partial shipments from stock, entry errors and disputes, returns, installations,
repairs, breakdowns, monthly invoices) and, in about half of them, orders of several
lines (a random ``lines_per_order``) under a random fulfilment policy; in about half,
prepayment terms in some segments (released or shipped once paid, some cancelled unpaid)
and customers who do or do not accept partial deliveries (the ``by-customer`` policy in a
quarter).

:func:`returns_race_scenario` is a hand-made tiny company whose shipments, invoices,
disputes and returns overlap on purpose (the reproducers of known simulator bugs), and
:func:`run_tables` simulates a scenario without computing KPIs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any, Protocol, TypeVar

from ordercycle.policies.base import params_model
from ordercycle.policies.registry import registry
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.run import lines_table, orders_table

T = TypeVar("T")


class Picker(Protocol):
    """Where the random choices of a scenario come from."""

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""

    def real(self, low: float, high: float) -> float:
        """A float in [low, high]."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""

    def flag(self) -> bool:
        """True or False."""


class RandomPicker:
    """A :class:`Picker` on a seeded :class:`random.Random`."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return self.rng.randint(low, high)

    def real(self, low: float, high: float) -> float:
        """A float in [low, high], rounded to 3 decimals (readable scenarios)."""
        return round(self.rng.uniform(low, high), 3)

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""
        return self.rng.choice(list(options))

    def flag(self) -> bool:
        """True or False."""
        return self.rng.random() < 0.5


def default_policies(decision: str) -> list[str]:
    """Registered policies of ``decision`` that need no parameters (sorted by name)."""
    return sorted(name for name, cls in registry()[decision].items()
                  if not any(f.is_required() for f in params_model(cls).model_fields.values()))


def _distribution(pick: Picker, mean_low: float, mean_high: float) -> Any:
    """A fixed value or a random distribution with a mean in [mean_low, mean_high]."""
    mean = pick.real(mean_low, mean_high)
    kind = pick.choice(["fixed", "exponential", "lognormal", "uniform", "triangular"])
    if kind == "fixed":
        return mean
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "cv": pick.real(0.1, 1.0)}
    if kind == "uniform":
        return {"dist": "uniform", "low": round(mean / 2, 3), "high": round(mean * 1.5, 3)}
    return {"dist": "triangular", "low": 0.0, "mode": mean, "high": round(mean * 2, 3)}


def _work_centre(pick: Picker, index: int) -> dict[str, Any]:
    max_shifts = pick.integer(1, 3)
    centre: dict[str, Any] = {
        "id": f"wc{index}", "machines": pick.integer(1, 3),
        "initial_shifts": pick.integer(1, max_shifts), "max_shifts": max_shifts,
        "machine_hour_cost": pick.real(10, 80), "changeover_hours": pick.real(0, 2),
        "repair_hours": _distribution(pick, 0.5, 6),
    }
    if pick.flag():
        centre["mtbf_hours"] = pick.real(5, 200)
    return centre


def _product(pick: Picker, index: int, centres: list[str], skills: list[str]) -> dict[str, Any]:
    list_price = pick.real(5, 1500)
    stocking = pick.choice(["make_to_order", "make_to_stock"])
    product: dict[str, Any] = {
        "id": f"p{index}", "setup_family": pick.choice(["f0", "f1"]),
        "list_price": list_price, "unit_cost": round(list_price * pick.real(0.2, 0.9), 2),
        "stocking": stocking, "standard_lead_days": pick.real(1, 15),
        "strategic": pick.flag(), "defect_rate": pick.real(0, pick.choice([0.05, 0.9])),
        "routing": [
            {"work_centre": pick.choice(centres), "setup_hours": pick.real(0, 1),
             "hours_per_unit": _distribution(pick, 0.05, 1.5)}
            for _ in range(pick.integer(1, 2))
        ],
    }
    if stocking == "make_to_stock":
        product["initial_stock_units"] = pick.integer(0, 30)
    if skills and pick.flag():
        product["installation_skills"] = sorted({pick.choice(skills) for _ in range(pick.integer(1, 2))})
        product["installation_hours"] = _distribution(pick, 0.5, 6)
    if skills and pick.flag():
        product["repair_probability"] = pick.real(0, 0.5)
        product["repair_after_days"] = _distribution(pick, 1, 20)
        product["service_skill"] = pick.choice(skills)
        product["service_hours"] = _distribution(pick, 0.5, 4)
    return product


def _segment(pick: Picker, index: int, products: list[str], providers: list[str]) -> dict[str, Any]:
    mix = {p: pick.real(0.1, 1.0) for p in products if pick.flag()} or {pick.choice(products): 1.0}
    return {
        "id": f"s{index}", "customers": pick.integer(1, 20), "importance": pick.real(0.5, 3),
        "arrivals": {
            "rate_per_day": pick.real(0.2, 2.5), "trend_per_year": pick.real(-0.5, 1.0),
            "seasonality": {"amplitude": pick.real(0, 0.9), "period_days": pick.real(5, 365),
                            "peak_day": pick.real(0, 60)},
        },
        "order_size_units": _distribution(pick, 1, 12), "product_mix": mix,
        "base_utility": pick.real(-1, 4), "price_sensitivity": pick.real(0, 8),
        "lead_time_sensitivity": pick.real(0, 2), "desired_lead_days": pick.real(1, 20),
        "response_days": _distribution(pick, 0.1, 3),
        "invoice_rhythm": pick.choice(["per_shipment", "monthly"]),
        "payment_terms_days": pick.real(0, 30), "payment_delay_days": _distribution(pick, 0.1, 10),
        "logistics_provider": pick.choice(providers), "return_window_days": pick.real(0, 40),
    }


def small_scenario(pick: Picker) -> dict[str, Any]:
    """A small random scenario dict (validate it with ``loader.parse``)."""
    centres = [_work_centre(pick, i) for i in range(pick.integer(1, 2))]
    skills = ["mech", "elec"][: pick.integer(0, 2)]
    products = [_product(pick, i, [c["id"] for c in centres], skills) for i in range(pick.integer(1, 3))]
    providers = [
        {"id": f"lp{i}", "pickups_at_once": pick.integer(1, 3),
         "handling_hours": _distribution(pick, 0.1, 3), "transit_days": _distribution(pick, 0.2, 5),
         "reliability": pick.real(0.5, 1), "delay_days": _distribution(pick, 0.1, 5)}
        for i in range(pick.integer(1, 2))
    ]
    segments = [_segment(pick, i, [p["id"] for p in products], [lp["id"] for lp in providers])
                for i in range(pick.integer(1, 2))]
    horizon = pick.integer(20, 60)
    staff = {name: pick.integer(1, 3) for name in (
        "sales_reps", "estimators", "entry_clerks", "junior_staff", "senior_managers",
        "warehouse_staff", "billing_clerks", "returns_staff", "finance_clerks")}
    staff["technicians"] = {skill: pick.integer(1, 2) for skill in skills}
    tasks = ("sales_contact", "cost_estimation", "order_entry", "selection_junior", "selection_senior",
             "picking", "invoicing", "billing_consultation", "dispute_rework", "return_approval",
             "refund", "travel", "debrief")
    selection = pick.choice(["accept-all", "size-threshold"])
    calendars = (_calendars(pick, list(staff), [lp["id"] for lp in providers], [c["id"] for c in centres])
                 if pick.flag() else None)
    scenario = {
        "name": "small", "horizon_days": horizon, "warmup_days": pick.integer(0, horizon // 3),
        "products": products, "work_centres": centres, "segments": segments,
        "logistics_providers": providers, "staff": staff,
        "task_hours": {task: _distribution(pick, 0.05, 3) for task in tasks},
        "quality": {
            "entry_error_rate": pick.real(0, 0.4), "entry_price_error": pick.real(0, 0.5),
            "picking_error_rate": pick.real(0, 0.2), "dispute_days": _distribution(pick, 0.5, 15),
            "return_request_days": _distribution(pick, 0.5, 10),
            "return_pickup_days": _distribution(pick, 0.5, 6),
            "debrief_quality_gain": pick.real(0, 0.5),
        },
        "planning": {
            "period_days": pick.real(2, 14), "marketing_inflation": pick.real(0, 0.5),
            "production_discount": pick.real(0, 0.5), "stock_cover_days": pick.real(0, 14),
            "replenishment_batch_units": pick.integer(1, 20), "history_periods": pick.integer(1, 8),
            "expedite_margin_days": pick.real(0, 3),
        },
        "policies": {
            "billing": pick.choice(default_policies("billing")),
            "priority": pick.choice(["fifo", "edd"]),
            "dispatch": pick.choice(["priority-first", "setup-aware"]),
            "selection": (
                {"name": selection, "params": {"min_units": pick.integer(0, 6)}}
                if selection == "size-threshold" else selection
            ),
            "expedite": pick.choice(default_policies("expedite")),
            "returns": "within-window",
            "debrief": pick.choice(default_policies("debrief")),
        },
    }
    if calendars is not None:
        scenario["calendars"] = calendars
        if any(c["id"] in calendars["pools"] for c in centres) and pick.flag():
            scenario["policies"]["overtime"] = {"name": "backlog-threshold", "params": {
                "threshold_hours": pick.real(0, 24), "max_hours_per_day": pick.real(0.5, 6)}}
            for centre in centres:
                centre["overtime_hour_cost"] = pick.real(0, 200)
    if pick.flag():  # orders of several lines (drawn last: earlier draws keep their examples)
        for segment in segments:
            products_in_mix = sum(1 for share in segment["product_mix"].values() if share > 0)
            segment["lines_per_order"] = {"dist": "uniform", "low": 0.0,
                                          "high": pick.real(0.5, products_in_mix)}
        scenario["policies"]["fulfilment"] = pick.choice(
            ["ship-partial", "ship-complete", {"name": "ship-complete",
                                               "params": {"ship_stock_at_release": False}}])
    if pick.flag():  # prepayment terms and the partial-delivery flag (drawn last, as above)
        for segment in segments:
            if pick.flag():
                blocks = pick.choice(["release", "shipment"])
                terms = {"share": pick.real(0, 1), "delay_days": _distribution(pick, 0.1, 10),
                         "blocks": blocks, "promise_from_payment": pick.flag()}
                if blocks == "release" and pick.flag():
                    terms["cancel_after_days"] = pick.real(0.5, 15)
                segment["prepayment"] = terms
            segment["accepts_partial_deliveries"] = pick.flag()
        if pick.flag():
            scenario["policies"]["fulfilment"] = "by-customer"
    office = [pool for pool in staff if pool != "technicians" and calendars and pool in calendars["pools"]]
    if office and pick.flag():  # staff pools working overtime (drawn last, as above)
        scenario["policies"]["staff_overtime"] = {"name": "queue-threshold", "params": {
            "threshold_per_person": pick.real(0, 3), "max_hours_per_day": pick.real(0.5, 6),
            "step_hours": pick.choice([0.25, 0.5, 1.0])}}
        scenario["staff"]["overtime_hour_cost"] = {pool: pick.real(0, 80) for pool in office if pick.flag()}
    return scenario


WEEK_PATTERNS = (
    {d: ["08:00-16:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
    {d: ["07:00-11:00", "11:30-15:30"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
    {"mon": ["22:00-24:00"], "tue": ["00:00-06:00", "22:00-24:00"], "wed": ["00:00-06:00"]},
    {"sun": ["10:00-10:15"]},
)
"""Weekly patterns of random calendars: office hours, a six-day week with a break, night
shifts across midnight, and a quarter of an hour a week (an extreme bottleneck)."""


def _calendars(pick: Picker, pools: list[str], providers: list[str], centres: list[str]) -> dict[str, Any]:
    """A random ``calendars`` section: a start date, two calendars, each resource (work centres
    too) on one or none."""
    start = date(2027, 1, 4) + timedelta(days=pick.integer(0, 6))
    patterns = {
        name: {"week": pick.choice(WEEK_PATTERNS),
               "holidays": [(start + timedelta(days=pick.integer(0, 30))).isoformat()
                            for _ in range(pick.integer(0, 3))]}
        for name in ("a", "b")
    }
    assigned = {}
    for resource in [*pools, "technicians", *providers, *centres]:
        choice = pick.choice(["a", "b", None])
        if choice is not None:
            assigned[resource] = choice
    return {"start_date": start.isoformat(), "patterns": patterns, "pools": assigned}


def returns_race_scenario(*, horizon_days: float = 60, billing: str = "standalone",
                          invoice_rhythm: str = "per_shipment", dispute_days: float = 20.0,
                          return_request_days: float = 1.0, hours_per_unit: float = 0.5,
                          rate_per_day: float = 0.3, busy_machine: bool = False) -> dict[str, Any]:
    """A tiny company built to make shipments, invoices, disputes and returns overlap.

    One make-to-stock product ``p`` with 2 units in stock and orders of 10 units: every
    order ships 2 units from stock at once and 8 from the line later, so it has two
    shipments and (under ``standalone`` billing) a first invoice that charges the whole
    order. Every shipment comes back (defect rate 1). Office tasks take 6 minutes and
    each department has 5 people, so only the intended waits are long. With
    ``busy_machine`` a second, make-to-order product ``q`` (50 machine-hours per order)
    keeps the single machine busy, and ``p``'s remaining units wait in its queue.
    """
    product = {"id": "p", "setup_family": "f", "list_price": 100.0, "unit_cost": 50.0,
               "stocking": "make_to_stock", "initial_stock_units": 2, "standard_lead_days": 5,
               "defect_rate": 1.0,
               "routing": [{"work_centre": "wc",
                            "hours_per_unit": {"dist": "exponential", "mean": hours_per_unit}}]}
    products, mix = [product], {"p": 1.0}
    if busy_machine:
        products.append({**product, "id": "q", "stocking": "make_to_order", "initial_stock_units": 0,
                         "defect_rate": 0.0, "routing": [{"work_centre": "wc", "hours_per_unit": 5.0}]})
        mix = {"p": 0.3, "q": 0.7}
    departments = ("sales_reps", "estimators", "entry_clerks", "junior_staff", "senior_managers",
                   "warehouse_staff", "billing_clerks", "returns_staff", "finance_clerks")
    tasks = ("sales_contact", "cost_estimation", "order_entry", "selection_junior", "selection_senior",
             "picking", "invoicing", "dispute_rework", "return_approval", "refund")
    return {
        "name": "returns-race", "horizon_days": horizon_days, "warmup_days": 0,
        "products": products,
        "work_centres": [{"id": "wc", "machines": 1, "initial_shifts": 1, "max_shifts": 1,
                          "machine_hour_cost": 1.0}],
        "segments": [{"id": "s", "customers": 3, "importance": 1.0,
                      "arrivals": {"rate_per_day": rate_per_day}, "order_size_units": 10,
                      "product_mix": mix, "desired_lead_days": 5, "base_utility": 5.0,
                      "invoice_rhythm": invoice_rhythm, "logistics_provider": "lp",
                      "return_window_days": 1000}],
        "logistics_providers": [{"id": "lp", "pickups_at_once": 5, "transit_days": 1.0}],
        "staff": dict.fromkeys(departments, 5),
        "task_hours": dict.fromkeys(tasks, 0.1),
        "quality": {"dispute_days": dispute_days, "return_request_days": return_request_days,
                    "return_pickup_days": 0.5},
        "planning": {"stock_cover_days": 0.0},
        "policies": {"billing": billing, "selection": "accept-all"},
    }


def run_tables(scenario: Scenario, seed: int = 0) -> SimpleNamespace:
    """Simulate without the KPI step: the tables ``simulate`` returns, with the scenario and model.

    Enough for :func:`ordercycle.sim.invariants.check_run`, and independent of the KPIs.
    """
    model = CompanyModel(scenario, seed)
    model.start()
    model.run()
    return SimpleNamespace(scenario=scenario, seed=seed, model=model, events=model.recorder.table(),
                           orders=orders_table(model.orders, model.env.now, scenario.has_prepayment),
                           lines=lines_table(model.orders))
