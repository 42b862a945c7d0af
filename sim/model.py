"""The company model: resources, shared state and the helpers every step uses.

:class:`CompanyModel` builds one SimPy environment for one (scenario, policy set,
replication): departments as ``simpy.Resource`` pools, work centres as
:class:`~ordercycle.sim.resources.JobStore` queues with machine processes, stock,
demand history and the event recorder. The steps of the cycle (``sim/steps/``) are
generator processes that receive the environment and this model explicitly.

The model never decides anything itself: :meth:`CompanyModel.decide` builds nothing,
it passes a context to a policy method and returns the decision (optionally tracing
both, for parity checks with the decision service).
"""

from __future__ import annotations

import gc
import math
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.outcomes import outcome
from ordercycle.policies.registry import PolicyInstances, make_all
from ordercycle.scenarios.distributions import delayed_quantile
from ordercycle.scenarios.schema import Product, Scenario, Segment, WorkCentre
from ordercycle.sim.calendar import ShiftCalendar, WorkCalendar, scenario_calendars
from ordercycle.sim.clock import Environment
from ordercycle.sim.entities import Backorder, Invoice, Order, Shipment
from ordercycle.sim.eventlog import Recorder
from ordercycle.sim.resources import JobStore, Machine, SeatPool
from ordercycle.sim.streams import BlockSampler, Streams

if TYPE_CHECKING:
    from ordercycle.sim.steps.field_requirements import FieldRequirements

HOURS_PER_DAY = 24.0
SHIFT_HOURS = 8.0
FIRST_SHIFT_HOUR = 6.0


def cents(amount: float) -> int:
    """Money in integer cents (the model's unit of account: sums stay exact)."""
    return round(amount * 100)


@dataclass
class CentreState:
    """A work centre while the simulation runs."""

    spec: WorkCentre
    store: JobStore
    machines: list[Machine]
    shifts: int
    process_time: dict[str, BlockSampler] = field(default_factory=dict)
    committed_hours: float = 0.0
    """Mean hours of released work routed through this centre whose operation here has not
    completed yet (upstream, queued or on a machine), booked at release: what sales' idle
    capacity subtracts (kept only when ``information.production_shares_capacity``)."""
    intake: deque[tuple[float, float]] = field(default_factory=deque)
    """(release time, mean hours here) of the work released over the last intake window."""
    intake_hours: float = 0.0
    """The sum of the hours in ``intake``."""
    shift_calendars: dict[int, ShiftCalendar] | None = None
    """Shifts -> the centre's staffed time on its working calendar (``calendars.pools`` names the
    centre); None: the old shift model (8-hour shifts from 06:00 every day, finish past the shift)."""
    overtime_until: float = -math.inf
    """Overtime granted at the last closing runs until this time (days)."""
    overtime_closing: float = -math.inf
    """The closing at which overtime was last decided (a closing is decided once)."""
    overtime: list[tuple[float, float]] = field(default_factory=list)
    """(closing time, hours) of every overtime granted."""

    @property
    def calendar(self) -> ShiftCalendar | None:
        """The centre's staffed time at the current shifts (None: no working calendar)."""
        calendars = self.shift_calendars
        return None if calendars is None else calendars[self.shifts]

    def hours_per_day(self) -> float:
        """Staffed hours per machine per calendar day at the current shifts (the mean over a
        week of the calendar, holidays aside; shifts × 8 without a calendar)."""
        calendars = self.shift_calendars
        if calendars is None:
            return self.shifts * SHIFT_HOURS
        return calendars[self.shifts].weekly_open_hours / 7.0

    def staffed_hours(self, start: float, end: float) -> float:
        """Machine-hours staffed between days ``start`` and ``end`` at the current shifts
        (shifts of 8 h from 06:00; 3 shifts: around the clock; on a working calendar only its
        working days, plus the overtime already granted in the interval)."""
        if end <= start:
            return 0.0
        calendar = self.calendar
        if calendar is not None:
            hours = calendar.open_days(start, end) * HOURS_PER_DAY
            if self.overtime_until > start:
                overlap = min(end, self.overtime_until) - max(start, self.overtime_closing)
                hours += max(0.0, overlap) * HOURS_PER_DAY
            return len(self.machines) * hours
        if self.shifts >= 3:
            return len(self.machines) * (end - start) * HOURS_PER_DAY
        per_day = SHIFT_HOURS * self.shifts

        def since_zero(t: float) -> float:
            day = math.floor(t)
            hour = (t - day) * HOURS_PER_DAY
            return day * per_day + min(per_day, max(0.0, hour - FIRST_SHIFT_HOUR))

        return len(self.machines) * (since_zero(end) - since_zero(start))

    def intake_per_day(self, now: float, window: float) -> float:
        """Hours per day released to this centre over the last ``window`` days (fewer at the start)."""
        intake = self.intake
        while intake and intake[0][0] < now - window:
            self.intake_hours -= intake.popleft()[1]
        if not intake:
            self.intake_hours = 0.0  # no drift of the running sum
        return self.intake_hours / min(window, max(now, 1.0))

    def hours_to_shift(self, now_days: float) -> float:
        """Hours until a shift is staffed (0 when one is on now).

        Shifts are 8 hours, the first starts at 06:00; with 3 shifts the centre runs
        around the clock.
        """
        if self.shifts >= 3:
            return 0.0
        hour = (now_days * HOURS_PER_DAY - FIRST_SHIFT_HOUR) % HOURS_PER_DAY
        staffed = SHIFT_HOURS * self.shifts
        return 0.0 if hour < staffed else HOURS_PER_DAY - hour

    def changeover_hours(self, from_family: str | None, to_family: str) -> float:
        """Changeover time between two setup families (0 for the first job or same family)."""
        if from_family is None or from_family == to_family:
            return 0.0
        return self.spec.changeover_matrix_hours.get(from_family, {}).get(
            to_family, self.spec.changeover_hours
        )


class CompanyModel:
    """One simulated company for one replication.

    Args:
        scenario: the validated scenario.
        seed: root seed of the run.
        replication: replication index (streams are keyed by it).
        trace_decisions: keep every (kind, context, decision) for parity checks.
    """

    def __init__(self, scenario: Scenario, seed: int = 0, replication: int = 0,
                 trace_decisions: bool = False):
        self.scenario = scenario
        self.seed = seed
        self.replication = replication
        self.env = Environment()
        self.streams = Streams(seed, replication)
        self.recorder = Recorder()
        self.log = self.recorder.log
        self.policies: PolicyInstances = make_all(scenario.policies.model_dump())
        self.trace: list[tuple[str, Any, Any]] | None = [] if trace_decisions else None
        self.outcomes: dict[tuple[int, str, str], int] = {}
        """(day, decision kind, outcome) -> decisions taken (``decisions.parquet``)."""

        self.products: dict[str, Product] = {p.id: p for p in scenario.products}
        self.segments: dict[str, Segment] = {s.id: s for s in scenario.segments}
        self.providers = {p.id: p for p in scenario.logistics_providers}
        env, staff = self.env, scenario.staff
        self.departments: dict[str, SeatPool | simpy.PriorityResource] = {
            name: SeatPool(env, capacity=getattr(staff, name))
            for name in ("sales_reps", "estimators", "entry_clerks", "junior_staff",
                         "senior_managers", "warehouse_staff", "billing_clerks",
                         "returns_staff", "finance_clerks")
        }
        handler = self.policies.returns.handler_pool
        if self.policies.returns.low_priority_followups and handler in self.departments:
            # follow-ups wait behind every other request of the pool: queue it by priority
            self.departments[handler] = simpy.PriorityResource(env, capacity=getattr(staff, handler))
        self.technicians = {skill: SeatPool(env, capacity=n)
                            for skill, n in sorted(staff.technicians.items())}
        self.carriers = {p.id: SeatPool(env, capacity=p.pickups_at_once)
                         for p in scenario.logistics_providers}
        self.pools: dict[str, tuple[SeatPool | simpy.PriorityResource, str]] = {
            **{name: (resource, name) for name, resource in self.departments.items()},
            **{f"technicians.{skill}": (resource, "technicians")
               for skill, resource in self.technicians.items()},
            **{f"carrier.{pid}": (resource, pid) for pid, resource in self.carriers.items()},
        }
        """Pool name in the ``pools`` table -> (its SimPy resource, its key in ``calendars.pools``)."""
        days = math.ceil(scenario.horizon_days) + 1
        self.busy_hours: dict[str, list[float]] = {name: [0.0] * days for name in self.pools}
        """Pool -> person-hours of work begun on each day (work is booked on the day it starts)."""
        self.queue_at_day_end: dict[str, list[int]] = {name: [] for name in self.pools}
        """Pool -> requests waiting at the end of each day (sampled at every midnight and the horizon)."""
        self.centres: dict[str, CentreState] = {}
        for spec in scenario.work_centres:
            store = JobStore(env, spec.id, self.policies.priority, self.policies.dispatch, self.decide)
            machines = [Machine(spec.id, i) for i in range(spec.machines)]
            self.centres[spec.id] = CentreState(spec, store, machines, spec.initial_shifts)

        self.routes: dict[str, tuple[tuple[CentreState, float, float], ...]] = {
            p.id: tuple((self.centres[op.work_centre], op.setup_hours, op.hours_per_unit.mean)
                        for op in p.routing)
            for p in scenario.products
        }
        """Product id -> (work centre, setup hours, mean hours per unit) of each routing step."""
        self.transit_mean = {s.id: self.providers[s.logistics_provider].transit_days.mean
                             for s in scenario.segments}
        """Segment id -> mean transit days of its logistics provider (sales' promise arithmetic)."""
        level = scenario.information.carrier_transit_quantile
        self.transit_known: dict[str, float] | None = None if level is None else {
            s.id: delayed_quantile(provider.transit_days, provider.reliability, provider.delay_days, level)
            for s in scenario.segments
            for provider in (self.providers[s.logistics_provider],)
        }
        """Segment id -> its carrier's transit at ``information.carrier_transit_quantile``, delays
        included (the published transit sales quotes with); None when sales does not know it."""
        self.stock = {p.id: p.initial_stock_units for p in scenario.products}
        self.stock_pipeline = {p.id: 0 for p in scenario.products}
        self.stock_target = {p.id: p.initial_stock_units for p in scenario.products}
        cover = scenario.planning.stock_cover_days
        self.planned_daily = {p.id: p.initial_stock_units / cover if cover > 0 else 0.0
                              for p in scenario.products}
        """Product id -> the plan's daily demand (before the first plan: initial stock over the cover)."""
        self.backorders: dict[str, deque[Backorder]] = {p.id: deque() for p in scenario.products}
        """Product id -> its open back-orders, oldest first."""
        self.period_demand = {p.id: 0.0 for p in scenario.products}
        self.demand_history: dict[str, list[float]] = {p.id: [] for p in scenario.products}
        self.grievances: dict[str, list[tuple[float, float]]] = {}
        """Customer id -> its grievances still remembered: (forgotten at, utility lost)."""
        self.debriefs = {p.id: 0 for p in scenario.products}
        self.debriefed_until: dict[str, float] = {}
        self.field_requirements: FieldRequirements | None = None
        """What debriefed visits heard ahead (built at :meth:`start` when the scenario has
        ``information.field_requirements``; None: nothing service hears reaches planning)."""
        if self.policies.returns.handler_pool not in self.departments:
            raise PolicyParameterError([
                f"policies.returns.name: policy {self.policies.returns.name!r} hands claims to "
                f"unknown staff pool {self.policies.returns.handler_pool!r}"
            ])
        self.expedite_times: deque[float] = deque()
        self.pending_invoices: dict[str, list[Shipment]] = {}
        self.awaiting_selection: dict[int, Order] = {}
        """Entered orders awaiting selection (kept only for policies that need a capacity outlook)."""

        self.open_invoices: dict[int, Invoice] = {}
        """Issued invoices not yet paid, by id (kept for state snapshots)."""
        self.open_returns: dict[int, list[Any]] = {}
        """Return claims in progress: id -> [order, shipment, stage, units, reason, (line, units) of a claim
        on one line of a shipment of several lines, else None] (for state snapshots)."""
        self.open_tickets: dict[int, Order] = {}
        """Repair tickets awaiting or in service, by id (for state snapshots)."""
        self.replenishing: list[Any] = []
        """Replenishment batches in production (for state snapshots)."""
        self.start_day = 0.0
        """Calendar day of simulation time 0 (a state snapshot's day; 0 when starting empty)."""
        self.snapshot: Any = None
        """The state snapshot the run starts from (``scenario.start``), checked against the scenario."""
        if scenario.start is not None:
            from ordercycle.sim.snapshot import snapshot_of_scenario

            self.snapshot = snapshot_of_scenario(scenario)
            self.start_day = self.snapshot.taken_at_day
        self.first_weekday = scenario.calendars.start_date.weekday() if scenario.calendars else 0
        """Weekday of calendar day 0 (0 = Monday; a scenario without ``calendars`` starts on a Monday)."""
        self.calendars: dict[str, WorkCalendar] = scenario_calendars(scenario, self.start_day)
        """Resource (staff pool, ``technicians``, provider id, work centre id) -> working calendar;
        absent: 24/7 (a work centre: the old shift model)."""
        self.staff_overtime: dict[str, Any] = {}
        """Staff pool -> its :class:`~ordercycle.sim.steps.staff_overtime.PoolOvertime`, for the pools
        that can work overtime (on a calendar, in ``staff.overtime_hour_cost``, a ``staff_overtime``
        policy other than ``none``); their ``calendars`` entry is their own copy, extended by overtime."""
        if scenario.staff.overtime_hour_cost:
            from ordercycle.sim.steps.staff_overtime import pools_with_overtime

            self.staff_overtime = pools_with_overtime(self)
        for centre_id, centre in self.centres.items():
            days = self.calendars.get(centre_id)
            if days is not None:
                centre.shift_calendars = {
                    shifts: ShiftCalendar(days, shifts, FIRST_SHIFT_HOUR, SHIFT_HOURS)
                    for shifts in range(1, centre.spec.max_shifts + 1)
                }

        self.orders: list[Order] = []
        self.forecast_rows: list[dict[str, Any]] = []
        self.plan_rows: list[dict[str, Any]] = []
        self.replan_seconds: list[float] = []
        """Wall time of each re-plan by the schedule policy (kept out of the event log: not reproducible)."""
        self._ids = {kind: 0 for kind in ("order", "job", "shipment", "invoice", "return", "ticket", "line")}
        self.task: dict[str, BlockSampler] = {
            task: self.streams.sampler(f"task.{task}", getattr(scenario.task_hours, task))
            for task in type(scenario.task_hours).model_fields
        }
        """Task -> sampler of its hours (``scenario.task_hours``), one stream per task."""
        self.draw = self._named_samplers()
        self.carrier_draws = {
            p.id: tuple(self.draw[f"carrier.{p.id}.{name}"]
                        for name in ("handling", "transit", "reliability", "delay"))
            for p in scenario.logistics_providers
        }
        """Provider id -> (handling, transit, reliability, delay) samplers."""
        self.segment_draws = {
            s.id: (self.draw[f"segment.{s.id}.response"], self.draw[f"segment.{s.id}.payment"])
            for s in scenario.segments
        }
        """Segment id -> (quote response, payment delay) samplers."""
        self.process_draws = {
            p.id: [self.draw[f"process.{p.id}.{step}"] for step in range(len(p.routing))]
            for p in scenario.products
        }
        """Product id -> processing-time sampler of each routing step."""

    def _named_samplers(self) -> dict[str, BlockSampler]:
        """One sampler per stochastic source that steps draw from by name.

        Built once, so hot paths look a sampler up instead of formatting its name.
        """
        streams, scenario = self.streams, self.scenario
        quality = scenario.quality
        named = {
            "returns.request": streams.sampler("returns.request", quality.return_request_days),
            "returns.pickup": streams.sampler("returns.pickup", quality.return_pickup_days),
            "billing.dispute": streams.sampler("billing.dispute", quality.dispute_days),
        }
        for segment in scenario.segments:
            for name, dist in (("response", segment.response_days),
                               ("payment", segment.payment_delay_days)):
                key = f"segment.{segment.id}.{name}"
                named[key] = streams.sampler(key, dist)
            if segment.prepayment is not None:  # the days a prepayment request waits for its payment
                key = f"segment.{segment.id}.prepayment"
                named[key] = streams.sampler(key, segment.prepayment.delay_days)
        for provider in scenario.logistics_providers:
            for name, dist in (("handling", provider.handling_hours), ("transit", provider.transit_days),
                               ("delay", provider.delay_days)):
                key = f"carrier.{provider.id}.{name}"
                named[key] = streams.sampler(key, dist)
            key = f"carrier.{provider.id}.reliability"
            named[key] = streams.uniform(key)
        for product in scenario.products:
            for step, op in enumerate(product.routing):
                key = f"process.{product.id}.{step}"
                named[key] = streams.sampler(key, op.hours_per_unit)
            for name, dist in (("repair_after", product.repair_after_days),
                               ("installation", product.installation_hours),
                               ("repair", product.service_hours)):
                key = f"service.{product.id}.{name}"
                named[key] = streams.sampler(key, dist)
        return named

    # --- helpers used by the steps --------------------------------------------------

    def next_id(self, kind: str) -> int:
        """Next id of an object kind (order, job, shipment, invoice, return, ticket, line)."""
        self._ids[kind] += 1
        return self._ids[kind]

    def task_hours(self, task: str) -> float:
        """A draw of the scenario's ``task_hours.<task>`` (own stream per task; hot paths call
        ``self.task[task]()`` directly)."""
        return self.task[task]()

    def grieve(self, order: Order, kind: str) -> None:
        """The customer of ``order`` remembers bad service of ``kind`` (a ``goodwill`` field)."""
        goodwill = self.scenario.goodwill
        if goodwill is None or not getattr(goodwill, kind):
            return
        now = self.env.now
        penalty = getattr(goodwill, kind)
        self.grievances.setdefault(order.customer_id, []).append((now + goodwill.memory_days, penalty))
        self.log(now, "customer_grievance", "customer", order.order_id, kind, quantity=penalty)

    def goodwill_penalty(self, customer_id: str, now: float) -> float:
        """Utility the customer's quotes lose now for the grievances it still remembers."""
        remembered = self.grievances.get(customer_id)
        if not remembered:
            return 0.0
        remembered[:] = [g for g in remembered if g[0] > now]
        return sum(penalty for _, penalty in remembered)

    def decide(self, kind: str, method: Callable[[Any], Any], context: Any) -> Any:
        """Ask a policy: ``method(context)``; traced when the model traces decisions."""
        decision = method(context)
        key = (int(self.env.now), kind, outcome(kind, context, decision))
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        if self.trace is not None:
            self.trace.append((kind, context, decision))
        return decision

    def serve(self, orders: list[Order], department: str, pool: str,
              hours: float, started: str, completed: str | None,
              state: str, move: bool = True, low_priority: bool = False,
              **refs: Any) -> Generator[simpy.Event, Any, None]:
        """Wait for one person of the staff ``pool``, then work ``hours`` on ``orders``.

        The wait counts as unattended time of every order. With ``move`` the orders
        are in ``state``, owned by ``department``, throughout (billing passes
        ``False``: an invoice has its own lifecycle and never takes the order away
        from fulfilment). Logs ``started`` when work begins and ``completed`` (if
        given) when it ends, with the pool as the resource. A ``low_priority`` request (a
        pool queued by priority) is served only when no other request of the pool waits.
        """
        env, log = self.env, self.log
        queued = env.now
        calendar = self.calendars.get(pool)
        for order in orders:
            if move:
                order.state, order.owner = state, department
            order.begin_wait(queued, calendar)
        resource = self.departments[pool]
        overtime = self.staff_overtime.get(pool) if self.staff_overtime else None
        if overtime is not None:
            overtime.waiting_hours += hours
        request = resource.request(priority=1) if low_priority else resource.request()
        yield request
        if overtime is not None:  # at a closing, the overtime decision first; then the opening
            overtime.waiting_hours -= hours
            yield from overtime.until_open(env, hours)
        elif calendar is not None:  # a seat freed while the pool is closed: work starts at the opening
            now = env.now
            opening = calendar.next_open(now)  # self.until_open(calendar), without the call
            if opening > now:
                yield env.wait(opening - now)
        now = env.now
        if refs:
            for order in orders:
                order.end_wait(now)
                log(now, started, department, order.order_id, pool, **refs)
        else:  # the common case: no other object involved, no keyword unpacking
            for order in orders:
                order.end_wait(now)
                log(now, started, department, order.order_id, pool)
        self.busy_hours[pool][int(now)] += hours
        if overtime is not None:  # on through the overtime granted at a closing it meets
            yield from overtime.work(env, hours)
        else:
            # self.working(calendar, hours), without the call
            yield (env.timeout(hours / HOURS_PER_DAY) if calendar is None
                   else env.wait(calendar.finish(now, hours) - now))
        if completed is not None:
            for order in orders:
                log(env.now, completed, department, order.order_id, pool, **refs)
        resource.release(request)

    def until_open(self, calendar: WorkCalendar | None) -> simpy.Event | None:
        """A wait until ``calendar`` opens, or None when it is open now (or there is none)."""
        if calendar is None:
            return None
        now = self.env.now
        opening = calendar.next_open(now)
        return self.env.wait(opening - now) if opening > now else None

    def working(self, calendar: WorkCalendar | None, hours: float) -> simpy.Event:
        """``hours`` of work from now, paused over ``calendar``'s closed time (pause and resume)."""
        if calendar is None:
            return self.env.timeout(hours / HOURS_PER_DAY)
        now = self.env.now
        return self.env.wait(calendar.finish(now, hours) - now)

    def defect_rate(self, product: Product) -> float:
        """Current defect rate, lowered by debriefed service visits (down to a floor)."""
        quality = self.scenario.quality
        learning = (1.0 - quality.debrief_quality_gain) ** self.debriefs[product.id]
        factor = max(quality.min_defect_factor, learning)
        return product.defect_rate * factor

    def expedites_in_window(self, now: float) -> int:
        """Expedites granted during the last planning period."""
        window = self.scenario.planning.period_days
        while self.expedite_times and self.expedite_times[0] <= now - window:
            self.expedite_times.popleft()
        return len(self.expedite_times)

    # --- running ------------------------------------------------------------------

    def start(self) -> None:
        """Create the processes of every step (called once, before running).

        A run from a state snapshot first places the snapshot's objects (stock, machines,
        open orders at their steps, open invoices, returns and tickets).
        """
        from ordercycle.sim.steps import billing, planning, production, sales, shifts

        env = self.env
        if self.snapshot is not None:
            from ordercycle.sim.placement import place

            place(self, self.snapshot)
        for product_id in sorted(self.stock):
            if self.stock[product_id]:
                self.log(0.0, "stock_initial", "warehouse", product=product_id,
                         quantity=self.stock[product_id])
        if self.scenario.information.field_requirements is not None:
            from ordercycle.sim.steps.field_requirements import FieldRequirements

            self.field_requirements = FieldRequirements(self)
        for segment in self.scenario.segments:
            env.process(sales.inquiry_arrivals(env, self, segment))
        for centre in self.centres.values():
            for machine in centre.machines:
                env.process(production.machine(env, self, centre, machine))
            if centre.shift_calendars is not None and shifts.asks_overtime(self):
                env.process(shifts.closings(env, self, centre))
        if self.staff_overtime:
            from ordercycle.sim.steps import staff_overtime

            for state in self.staff_overtime.values():
                env.process(staff_overtime.closings(env, self, state))
        env.process(planning.planning_cycle(env, self))
        env.process(billing.monthly_billing(env, self))
        env.process(self._sample_queues())
        if self.policies.inventory.review_days > 0:
            env.process(production.periodic_review(env, self))

    def _sample_queues(self) -> Generator[simpy.Event, Any, None]:
        """At every midnight (and the horizon), how many requests wait in each pool's queue.

        Reads only: one event a day, and the rest of the run is unchanged by it.
        """
        env, horizon = self.env, self.scenario.horizon_days
        pools = [(self.queue_at_day_end[name], resource) for name, (resource, _) in self.pools.items()]
        while True:
            yield env.timeout(min(math.floor(env.now) + 1.0, horizon) - env.now)
            for samples, resource in pools:
                samples.append(len(resource.queue))
            if env.now >= horizon:
                return

    def run(self, until: float | None = None, progress: Callable[[float], None] | None = None,
            chunks: int = 100) -> None:
        """Run to ``until`` days (default: the horizon), reporting progress per chunk."""
        horizon = self.scenario.horizon_days if until is None else until
        with relaxed_gc():
            if progress is None:
                if horizon > self.env.now:  # a run snapshotted at its horizon is already there
                    self.env.run(until=horizon)
                return
            for k in range(1, chunks + 1):
                if horizon * k / chunks > self.env.now:  # a run may continue from a snapshot taken midway
                    self.env.run(until=horizon * k / chunks)
                progress(self.env.now)


@contextmanager
def relaxed_gc(first_generation: int = 500_000) -> Iterator[None]:
    """Run the cyclic garbage collector far less often while simulating.

    A run allocates millions of short-lived objects; with Python's default threshold
    (700) the collector kept rescanning the live model (measured: 15–25 % of a run), and
    at 50,000 a baseline year still did two or three collections (0.1–0.23 s of 9.5 s),
    none of which found anything to free: the model's own objects make no reference
    cycles, under policy sets covering every built-in kind (``tests/sim/test_no_cyclic_garbage.py``). At
    500,000 a baseline year does none. The collector stays on rather than off so that a
    plug-in policy that does make cycles still has them collected, every 500,000 net
    allocations. The old thresholds are restored afterwards.
    """
    old = gc.get_threshold()
    gc.set_threshold(first_generation, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
