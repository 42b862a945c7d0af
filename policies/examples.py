"""Representative decision contexts per decision kind, and how each kind is asked.

:data:`DECISION_SPECS` (defined in :mod:`.registry`, re-exported here) maps a decision
kind to the policy method that decides it, the context and decision types and the
base class; :func:`example_contexts` gives a handful of typical
and edge-case contexts per kind. The conformance suite (:mod:`.testing`) asks every
policy these; they also serve as documentation examples of the JSON contracts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ordercycle.policies.contexts import (
    BillingContext,
    BillingLine,
    CandidateOrder,
    CapacityContext,
    CapacityOutlook,
    CentreLoad,
    CentreQueue,
    Changeover,
    DebriefContext,
    DispatchContext,
    ExpediteContext,
    ForecastContext,
    FulfilmentContext,
    InventoryContext,
    JobView,
    LineStatus,
    OrderView,
    OvertimeContext,
    QuoteContext,
    RankingContext,
    ReturnContext,
    ScheduleContext,
    SelectionContext,
    StaffOvertimeContext,
    WorkCentreHours,
)
from ordercycle.policies.registry import DECISION_SPECS, DecisionSpec

__all__ = ["DECISION_SPECS", "DecisionSpec", "example_contexts", "labelled_examples"]
"""``DECISION_SPECS`` and ``DecisionSpec`` live in the registry (one table with the base
classes); they stay importable from here."""


# --- example contexts ------------------------------------------------------------------


def _forecast_examples() -> dict[str, ForecastContext]:
    seasonal = tuple(round(100 + 30 * math.sin(2 * math.pi * k / 13) + 0.5 * k, 1) for k in range(52))
    sparse = tuple(30.0 if k % 11 == 4 else 12.0 if k % 5 == 2 else 0.0 for k in range(52))
    return {
        "steady history": ForecastContext(
            "valve", 35.0, 7.0, (100.0, 120.0, 80.0, 100.0, 110.0), 0.2, 0.15, (90.0, 105.0, 101.0, 98.0)),
        "empty history": ForecastContext("pump", 0.0, 7.0, (), 0.0, 0.0),
        "one period": ForecastContext("filter", 7.0, 7.0, (40.0,), 0.1, 0.0),
        "zero demand": ForecastContext("spare-kit", 63.0, 7.0, (0.0,) * 9, 0.3, 0.5, (0.0,) * 8),
        "seasonal year": ForecastContext("controller", 364.0, 7.0, seasonal, 0.1, 0.1, seasonal[:-1]),
        "intermittent year": ForecastContext("spare-kit", 364.0, 7.0, sparse, 0.0, 0.0, (4.0,) * 51),
        "field reports": ForecastContext(
            "pump", 70.0, 7.0, (100.0, 120.0, 80.0, 100.0, 110.0), 0.2, 0.15, (90.0, 105.0, 101.0, 98.0),
            reported_units=45.0, reported_history=(0.0, 30.0, 20.0, 40.0)),
        "reports above demand": ForecastContext(
            "valve", 21.0, 7.0, (5.0, 3.0, 0.0), 0.0, 0.0, (4.0, 4.0), reported_units=12.0,
            reported_history=(9.0, 2.0, 0.0)),
    }


def _capacity_examples() -> dict[str, CapacityContext]:
    return {
        "typical": CapacityContext("cutting", 2, 3, 2, 8.0, 7.0, 150.0, 40.0, 0.85),
        "idle": CapacityContext("testing", 1, 3, 1, 8.0, 7.0, 0.0, 0.0, 0.85),
        "overloaded": CapacityContext("assembly", 3, 3, 3, 8.0, 7.0, 5000.0, 800.0, 1.0),
        "one shift allowed": CapacityContext("machining", 4, 1, 1, 8.0, 14.0, 900.0, 10.0, 0.5),
    }


def _pricing_examples() -> dict[str, QuoteContext]:
    return {
        "nothing shared": QuoteContext(
            1, 10.0, "regular-1", "regular", 1.0, "valve", 10, 120.0, 70.0, 14.0, 10.0),
        "capacity and stock shared": QuoteContext(
            2, 11.0, "strategic-2", "strategic", 3.0, "pump", 4, 950.0, 600.0, 21.0, 14.0, 120.0, 50,
            projected_lead_days=18.5),
        "no surplus, no stock": QuoteContext(
            3, 12.0, "occasional-7", "occasional", 0.5, "filter", 25, 18.0, 9.0, 7.0, 3.0, 0.0, 0,
            projected_lead_days=30.0),
        "single unit, wanted now": QuoteContext(
            4, 0.0, "regular-2", "regular", 1.0, "spare-kit", 1, 45.0, 20.0, 5.0, 0.0, 8.0, 1,
            projected_lead_days=0.5),
        "large order, partial stock": QuoteContext(
            5, 40.0, "strategic-1", "strategic", 3.0, "controller", 500, 300.0, 280.0, 28.0, 60.0, 2.5, 10,
            projected_lead_days=75.0),
        "path and published transit, plant loaded": QuoteContext(
            6, 50.0, "strategic-3", "strategic", 3.0, "pump", 8, 950.0, 540.0, 8.0, 14.0, 214.0, 0,
            projected_lead_days=5.6, dispatch_lead_days=3.27, idle_capacity_hours=-12.5,
            transit_quantile=0.9, transit_days=3.42),
        "idle plant, from stock, published transit": QuoteContext(
            7, 51.0, "regular-9", "regular", 2.0, "valve", 6, 120.0, 62.0, 4.0, 10.0, 640.0, 180,
            projected_lead_days=2.5, dispatch_lead_days=1.0, idle_capacity_hours=95.0,
            transit_quantile=0.95, transit_days=2.61),
        "published transit only, load not shared": QuoteContext(
            8, 52.0, "occasional-40", "occasional", 1.0, "filter", 3, 45.0, 21.0, 4.0, 7.0,
            transit_quantile=0.5, transit_days=1.5),
    }


def _selection_examples() -> dict[str, SelectionContext]:
    return {
        "junior, typical": SelectionContext(1, 5.0, "junior", "regular", "valve", 10, 1200.0),
        "junior, single unit": SelectionContext(2, 5.5, "junior", "occasional", "spare-kit", 1, 45.0),
        "junior, large": SelectionContext(3, 6.0, "junior", "strategic", "controller", 500, 150000.0),
        "senior, thin margin": SelectionContext(
            4, 7.0, "senior", "regular", "valve", 10, 1200.0, 1.0, 0.05, False, 120.0, 14.0,
            projected_lead_days=10.0),
        "senior, key customer below cost, promise due": SelectionContext(
            5, 7.5, "senior", "strategic", "pump", 2, 1900.0, 3.0, -0.1, True, 0.0, 0.0,
            projected_lead_days=3.0),
        "senior, heavy backlog": SelectionContext(
            6, 8.0, "senior", "occasional", "filter", 300, 5400.0, 0.5, 0.5, False, 5000.0, 60.0,
            projected_lead_days=90.0),
        "senior, promise already passed": SelectionContext(
            7, 30.0, "senior", "regular", "valve", 1, 120.0, 1.0, 0.4, False, 40.0, -0.5,
            projected_lead_days=2.0),
        **_outlook_examples(),
    }


def _outlook_examples() -> dict[str, SelectionContext]:
    """Senior contexts with a capacity outlook (for order-acceptance optimisers)."""
    def hours(**by_centre: float) -> tuple[WorkCentreHours, ...]:
        return tuple(WorkCentreHours(centre, h) for centre, h in by_centre.items())

    def centres(machining: tuple[float, ...], testing: tuple[float, ...]) -> tuple[CentreLoad, ...]:
        return (CentreLoad("machining", (48.0,) * len(machining), machining),
                CentreLoad("testing", (32.0,) * len(testing), testing))

    pump = CandidateOrder(11, 1640.0, 180.0, 7.0, hours(machining=2.9, testing=1.4))
    quiet = CapacityOutlook(1.0, centres((10.0,) * 8, (5.0,) * 8), pump)
    rivals = (CandidateOrder(12, 8200.0, 180.0, 6.0, hours(machining=6.5, testing=3.2)),
              CandidateOrder(13, 950.0, 25.0, 4.5, hours(machining=3.3, testing=4.1)),
              CandidateOrder(14, -50.0, 180.0, 8.0, hours(machining=0.5)))
    tight = CapacityOutlook(1.0, centres((40.0, 60.0, 30.0, 35.0, 40.0, 45.2, 43.2, 40.0), (20.0,) * 8),
                            pump, rivals)
    expected = (CandidateOrder(-1, 2900.0, 180.0, 7.5, hours(machining=4.1, testing=2.0), count=40),
                CandidateOrder(-2, 600.0, 25.0, 5.0, hours(machining=2.1, testing=1.7), count=55))
    reserved = CapacityOutlook(1.0, centres((30.0,) * 8, (10.0,) * 8), pump, rivals[:2], expected)
    small = CandidateOrder(15, 40.0, 180.0, 14.0, hours(assembly=0.3))
    stock = CandidateOrder(16, 580.0, 25.0, 4.0, ())
    overrun = CapacityOutlook(7.0, (CentreLoad("machining", (336.0, 336.0), (500.0, 300.0)),),
                              CandidateOrder(17, 3000.0, 180.0, 10.0, hours(machining=12.0)))
    senior = ("senior", "strategic", "pump", 4, 3800.0, 3.0, 0.43, True, 180.0, 7.0)
    return {
        "senior outlook, room to spare": SelectionContext(11, 40.0, *senior, 6.5, quiet),
        "senior outlook, pending rivals, tight machining": SelectionContext(11, 40.0, *senior, 9.0, tight),
        "senior outlook, expected orders reserve capacity": SelectionContext(
            11, 40.0, *senior, 8.0, reserved),
        "senior outlook, loses money on shipping": SelectionContext(
            15, 41.0, "senior", "strategic", "filter", 2, 90.0, 3.0, 0.53, False, 10.0, 14.0, 3.0,
            CapacityOutlook(1.0, (), small)),
        "senior outlook, from stock, no centres": SelectionContext(
            16, 42.0, "senior", "regular", "valve", 10, 1200.0, 2.0, 0.48, False, 0.0, 4.0, 2.0,
            CapacityOutlook(7.0, (), stock)),
        "senior outlook, accepted work overruns": SelectionContext(
            17, 43.0, "senior", "regular", "pump", 5, 4750.0, 2.0, 0.43, True, 800.0, 10.0, 30.0, overrun),
    }


def _priority_examples() -> dict[str, RankingContext]:
    mixed = (
        OrderView(101, 0.0, 14.0, 1.0, 10, 12.0),
        OrderView(102, 1.0, 9.0, 3.0, 2, 4.5),
        OrderView(103, 1.5, 20.0, 0.5, 40, 30.0),
        OrderView(104, 2.0, 9.0, 1.0, 1, 0.5, expedited=True),
        OrderView(105, 2.0, 6.0, 3.0, 5, 8.0),
        OrderView(-1, 3.0, 12.0, 1.0, 25, 10.0),  # a replenishment job: no customer order
    )
    ties = tuple(OrderView(i, 1.0, 10.0, 1.0, 3, 6.0, expedited=i in (4, 8)) for i in (9, 3, 8, 7, 4))
    late = (
        OrderView(201, 2.0, 20.0, 1.0, 5, 6.0),
        OrderView(202, 3.0, 30.0, 2.0, 1, 0.0),  # due now, nothing left to do
        OrderView(203, 4.0, 12.5, 0.5, 8, 3.0),
    )
    many = tuple(
        OrderView(1000 + i, float(i % 7), 5.0 + i * 37 % 23, 0.5 + i % 4, 1 + i % 9, 1.0 + i * 13 % 17)
        for i in range(40)
    )
    return {
        "empty queue": RankingContext(5.0, ()),
        "single order": RankingContext(0.0, (OrderView(7, 0.0, 7.0, 1.0, 1, 2.0),)),
        "mixed": RankingContext(5.0, mixed),
        "ties": RankingContext(4.0, ties + (OrderView(5, 0.5, 10.0, 1.0, 3, 6.0),)),
        "all late": RankingContext(30.0, late),
        "forty orders": RankingContext(7.0, many),
    }


def _dispatch_examples() -> dict[str, DispatchContext]:
    return {
        "single candidate": DispatchContext(
            "cutting", 0, 3.0, "steel", (JobView(11, 101, "steel", 9.0, 1.0, 4.0, False),)),
        "keep setup": DispatchContext("machining", 1, 5.0, "brass", (
            JobView(21, 102, "steel", 6.0, 3.0, 2.0, False),
            JobView(22, 103, "brass", 12.0, 1.0, 8.0, False),
            JobView(23, -1, "alu", 8.0, 1.0, 1.0, False),
        )),
        "expedite elsewhere": DispatchContext("machining", 0, 5.0, "brass", (
            JobView(31, 105, "steel", 4.0, 3.0, 2.0, True),
            JobView(32, 106, "brass", 7.0, 1.0, 3.0, False),
        )),
        "fresh machine": DispatchContext("assembly", 2, 0.0, None, (
            JobView(41, 107, "small", 3.0, 1.0, 1.5, False),
            JobView(42, 108, "large", 2.0, 3.0, 6.0, False),
        )),
        "no job of current setup, all late": DispatchContext("testing", 0, 40.0, "alu", (
            JobView(51, 109, "steel", 20.0, 0.5, 2.0, False),
            JobView(52, 110, "brass", 35.0, 3.0, 0.5, False),
        )),
    }


def _schedule_examples() -> dict[str, ScheduleContext]:
    metals = (Changeover("steel", "brass", 1.5), Changeover("brass", "steel", 1.0),
              Changeover("steel", "alu", 0.5), Changeover("alu", "steel", 0.5),
              Changeover("brass", "alu", 2.0), Changeover("alu", "brass", 2.0))
    six = tuple(JobView(60 + i, 600 + i, ("steel", "brass", "alu")[i % 3], 2.0 + 0.4 * i,
                        (1.0, 3.0, 0.5)[i % 3], 3.0 + i % 4, False) for i in range(6))
    replanned = (
        JobView(71, 701, "steel", 9.0, 1.0, 4.0, False),
        JobView(72, 702, "brass", 6.0, 3.0, 2.0, True),  # expedited: keeps its place up front
        JobView(73, -1, "alu", 8.0, 0.0, 6.0, False),  # a replenishment job: importance 0
        JobView(74, 704, "steel", 4.0, 1.0, 1.0, False),
        JobView(75, 705, "brass", 3.5, 3.0, 5.0, False),  # already late at t = 5
        JobView(76, 706, "alu", 12.0, 0.5, 2.5, False),
    )
    many = tuple(JobView(1000 + i, 2000 + i, ("small", "heavy", "electronic")[i * 7 % 3],
                         20.0 + i * 37 % 23 / 2, 0.5 + i % 4, 1.0 + i * 13 % 17, False) for i in range(20))
    fleet = (Changeover("small", "heavy", 1.5), Changeover("heavy", "small", 1.0),
             Changeover("heavy", "electronic", 1.5), Changeover("electronic", "heavy", 2.0))
    return {
        "no centres": ScheduleContext(0.0, ()),
        "nothing waiting": ScheduleContext(
            3.0, (CentreQueue("cutting", 2, 16.0, ("steel", None), metals, ()),)),
        "single job, fresh machine": ScheduleContext(1.0, (CentreQueue(
            "testing", 1, 8.0, (None,), (), (JobView(51, 501, "alu", 2.0, 1.0, 3.0, False),)),)),
        "one machine, three families": ScheduleContext(
            0.0, (CentreQueue("machining", 1, 24.0, ("steel",), metals, six),)),
        "previous plan, expedite, late jobs": ScheduleContext(5.0, (
            CentreQueue("assembly", 2, 16.0, ("brass", "steel"), metals, replanned, (74, 71, 76, 73)),
            CentreQueue("cutting", 3, 8.0, (None, None, None), metals, ()),
        )),
        "twenty jobs, four machines": ScheduleContext(
            14.0, (CentreQueue("machining", 4, 16.0, ("small", "heavy", None, "small"), fleet, many),)),
    }


def _expedite_examples() -> dict[str, ExpediteContext]:
    return {
        "first this period": ExpediteContext(101, 10.0, 1.0, 14.0, 16.0, 0, 7.0),
        "barely late": ExpediteContext(102, 10.0, 0.5, 14.0, 14.01, 3, 7.0),
        "many already": ExpediteContext(103, 20.0, 1.0, 25.0, 40.0, 12, 7.0),
        "key customer, overdue": ExpediteContext(104, 30.0, 3.0, 21.0, 33.0, 5, 7.0),
    }


def _billing_examples() -> dict[str, BillingContext]:
    return {
        "per shipment": BillingContext("regular-3", "per_shipment", 12.0, (BillingLine(101, 5, 110.0, 0.0),)),
        "monthly, partly billed": BillingContext("strategic-1", "monthly", 30.0, (
            BillingLine(201, 10, 95.5, 0.0),
            BillingLine(202, 4, 250.0, 500.0),
            BillingLine(203, 2, 80.0, 160.0),  # billed in full already
        )),
        "consulted, short shipment": BillingContext(
            "regular-3", "per_shipment", 12.0, (BillingLine(101, 6, 110.0, 0.0, 5, 100.0),)),
        "consulted, monthly": BillingContext("strategic-1", "monthly", 60.0, (
            BillingLine(201, 10, 95.5, 477.5, 5, 95.5),
            BillingLine(202, 4, 250.0, 0.0, 4, 250.0),
            BillingLine(204, 1, 19.99, 0.0, 1, 19.99),
        )),
    }


def _returns_examples() -> dict[str, ReturnContext]:
    return {
        "defect inside window": ReturnContext(101, 20.0, "defect", 5, 3.0, 30.0, 1.0),
        "on the last day": ReturnContext(102, 45.0, "wrong_shipment", 1, 30.0, 30.0, 0.5),
        "too late": ReturnContext(103, 90.0, "defect", 2, 45.5, 30.0, 3.0),
        "no return window": ReturnContext(104, 10.0, "wrong_shipment", 12, 0.0, 0.0, 1.0),
    }


def _debrief_examples() -> dict[str, DebriefContext]:
    return {
        "repair": DebriefContext(1, 50.0, "repair", "pump", "regular", 3.5),
        "installation": DebriefContext(2, 60.0, "installation", "controller", "strategic", 12.0),
        "short visit": DebriefContext(3, 61.0, "repair", "valve", "occasional", 0.25),
    }


def _fulfilment_examples() -> dict[str, FulfilmentContext]:
    def line(line_id: int, quantity: int, ready: int, shipped: int, product: str = "valve") -> LineStatus:
        return LineStatus(line_id, product, quantity, ready, shipped)

    return {
        "stock part at release": FulfilmentContext(1, 3.0, True, (line(11, 10, 4, 0),)),
        "nothing ready at release": FulfilmentContext(2, 3.0, True, (line(21, 5, 0, 0, "pump"),)),
        "one line of two ready": FulfilmentContext(
            3, 9.5, False, (line(31, 2, 2, 0, "pump"), line(32, 6, 0, 0, "filter"))),
        "last line ready after a partial shipment": FulfilmentContext(
            4, 12.0, False, (line(41, 3, 0, 3), line(42, 1, 1, 0, "controller"), line(43, 7, 0, 0, "pump"))),
        "three lines, parts ready": FulfilmentContext(
            5, 20.0, False, (line(51, 8, 5, 3), line(52, 4, 4, 0, "pump"), line(53, 2, 0, 0, "filter"))),
        "stock part at release, complete deliveries only": FulfilmentContext(
            6, 3.0, True, (line(61, 10, 4, 0),), False),
        "one line of two ready, complete deliveries only": FulfilmentContext(
            7, 9.5, False, (line(71, 2, 2, 0, "pump"), line(72, 6, 0, 0, "filter")), False),
        "all lines ready, complete deliveries only": FulfilmentContext(
            8, 15.0, False, (line(81, 3, 3, 0), line(82, 1, 1, 0, "controller")), False),
    }


def _inventory_examples() -> dict[str, InventoryContext]:
    return {
        "below target": InventoryContext("valve", 14.0, 120, 0, 50, 30.0, 300, 50),
        "above target": InventoryContext("filter", 21.0, 400, 0, 0, 25.0, 250, 50),
        "back-ordered": InventoryContext("valve", 30.0, 0, 35, 100, 30.0, 300, 50),
        "before the first plan": InventoryContext("spare-kit", 0.0, 200, 0, 0, 20.0, 200, 1),
        "no demand planned": InventoryContext("spare-kit", 70.0, 0, 0, 0, 0.0, 0, 1),
    }


def _overtime_examples() -> dict[str, OvertimeContext]:
    return {
        "long queue": OvertimeContext("machining", 4.5833, 3, 2, 16.0, 140.0, 12.0, 8.0),
        "short queue": OvertimeContext("machining", 5.5833, 3, 2, 16.0, 10.0, 4.0, 8.0),
        "friday, weekend ahead": OvertimeContext("assembly", 4.9167, 2, 1, 8.0, 90.0, 6.0, 61.0),
        "empty centre": OvertimeContext("assembly", 7.9167, 1, 1, 8.0, 0.0, 0.0, 16.0),
        "no gap to the next shift": OvertimeContext("paint", 12.25, 2, 3, 24.0, 500.0, 40.0, 0.0),
    }


def _staff_overtime_examples() -> dict[str, StaffOvertimeContext]:
    # pool, now (16:30 on a working day), people, waiting, waiting hours, in progress, hours left, gap
    return {
        "long queue at the order desk": StaffOvertimeContext("entry_clerks", 3.6875, 4, 14, 4.2, 4, 0.6,
                                                             15.5),
        "short queue": StaffOvertimeContext("billing_clerks", 1.6875, 4, 3, 0.8, 2, 0.2, 15.5),
        "friday, weekend ahead": StaffOvertimeContext("warehouse_staff", 4.5833, 7, 40, 20.0, 7, 1.5, 64.0),
        "empty pool": StaffOvertimeContext("finance_clerks", 8.6875, 1, 0, 0.0, 0, 0.0, 15.5),
        "no gap to the next opening": StaffOvertimeContext("sales_reps", 9.6875, 10, 80, 40.0, 10, 3.0, 0.0),
    }


_EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "forecast": _forecast_examples, "inventory": _inventory_examples, "capacity": _capacity_examples,
    "pricing": _pricing_examples,
    "selection": _selection_examples, "priority": _priority_examples, "dispatch": _dispatch_examples,
    "schedule": _schedule_examples, "expedite": _expedite_examples, "billing": _billing_examples,
    "returns": _returns_examples, "debrief": _debrief_examples, "overtime": _overtime_examples,
    "staff_overtime": _staff_overtime_examples,
    "fulfilment": _fulfilment_examples,
}


def labelled_examples(decision: str) -> dict[str, Any]:
    """Representative contexts of one decision kind, by label (edge cases included).

    Raises:
        KeyError: for an unknown decision kind.
    """
    return _EXAMPLES[decision]()


def example_contexts(decision: str) -> list[Any]:
    """A handful of representative contexts of one decision kind, edge cases included."""
    return list(labelled_examples(decision).values())
