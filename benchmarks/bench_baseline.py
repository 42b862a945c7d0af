"""Benchmark: ordercycle's baseline year against a bare-SimPy model of the same order flow.

Both models run in one process, side by side (the machine is shared and noisy: read
the ratios, not the absolute times). With ``--repeat N`` they run N times,
interleaved (the order alternates every round), and the medians are printed.

* **ordercycle**: ``simulate(load(scenario), seed=seed)``, the public entry point.
  It is called with a progress callback, so the model runs in 100 chunks (as under
  the CLI) and the last callback, at the horizon, separates the simulation (model
  build + ``env.run``) from building the output tables and KPIs.
* **bare SimPy**: the same scenario file and the same arrivals (non-homogeneous
  Poisson per segment, thinning with ordercycle's rate function), and the stages
  every order passes in ordercycle, one ``simpy.Resource`` per staff pool, work
  centre (capacity = machines) and carrier: sales rep → estimator → customer
  response → accept/lost (logit at list price and standard lead time) → entry clerk
  → junior selection → one operation per routing step → picking → carrier handling
  → transit → invoicing. No policies, no logging, no KPIs, no make-to-stock (every
  accepted order is produced), no shifts, changeovers or breakdowns. Random numbers
  come from one numpy ``Generator`` per source, drawn in blocks. Working calendars as
  in ordercycle: arrivals follow the weekday and hour-of-day profiles, and a task of a
  pool (or a carrier's loading) with a calendar starts at the next opening and pauses
  over closed time (one timeout to ``WorkCalendar.finish``: the calendar arithmetic is
  plain Python that a bare model would need as well, so both use the same). Work centres
  on a calendar work their ``max_shifts`` shifts on its working days (``ShiftCalendar``;
  no capacity plan, no overtime). Orders have the lines ordercycle draws (the number
  from ``lines_per_order``, products without repetition, sizes from
  ``order_size_units``): every line runs its own routing, in parallel, and the order
  ships when all are done (ship complete).

SimPy events are counted from the environment's event-id counter (``env._eid``,
one id per scheduled event) minus the events still queued at the end, i.e. the
number of events ``env.step()`` processed, at no cost to the timed run.

Run from the repository root::

    python benchmarks/bench_baseline.py [--repeat N] [--seed S] [--scenario NAME_OR_FILE]
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from ordercycle.policies.registry import make_all
from ordercycle.scenarios.loader import load
from ordercycle.scenarios.schema import Scenario, Segment
from ordercycle.sim.calendar import ShiftCalendar, WorkCalendar, scenario_calendars
from ordercycle.sim.run import simulate
from ordercycle.sim.steps.sales import acceptance_probability, arrival_rate, profile_factors

HOURS_PER_DAY = 24.0
BLOCK = 4096
GOAL_SECONDS = 10.0
GOAL_RATIO = 2.5
"""Issue 16's goals (issue 2's were 20 s and 3×)."""


@dataclass
class Measurement:
    """What one run of one model cost and produced."""

    model: str
    sim_wall: float
    """Seconds of model build + ``env.run`` (wall clock)."""
    sim_cpu: float
    """CPU seconds of the same (this process)."""
    build_wall: float = math.nan
    """Seconds of the model build alone (bare model only; ordercycle's is inside ``sim_wall``)."""
    tables_wall: float = 0.0
    """Seconds of building the output tables and KPIs after the run (ordercycle only)."""
    tables_cpu: float = 0.0
    """CPU seconds of the same."""
    inquiries: int = 0
    events: int = 0
    """SimPy events processed."""
    outcomes: dict[str, int] = field(default_factory=dict)
    log_rows: int = 0
    log_bytes: int = 0

    @property
    def total_wall(self) -> float:
        """Simulation plus tables and KPIs."""
        return self.sim_wall + self.tables_wall

    @property
    def total_cpu(self) -> float:
        """CPU seconds of the simulation plus tables and KPIs."""
        return self.sim_cpu + self.tables_cpu

    def us_per_order(self, total: bool = False) -> float:
        """Microseconds per inquiry (simulation only, or end to end)."""
        return 1e6 * (self.total_wall if total else self.sim_wall) / self.inquiries


def events_processed(env: simpy.Environment) -> int:
    """Events processed by ``env`` so far: ids handed out minus events still queued.

    Reads SimPy internals (``_eid``, an ``itertools.count``; ``_queue``, the heap);
    taking the next id consumes one, which is harmless once the run is over. Waits that
    ordercycle's clock has parked off the heap (``parked``) hold an id and are still to come.
    """
    scheduled = next(env._eid)  # type: ignore[attr-defined]
    return scheduled - len(env._queue) - getattr(env, "parked", 0)  # type: ignore[attr-defined]


# --- ordercycle ---------------------------------------------------------------------------


def run_ordercycle(scenario: Scenario, seed: int) -> Measurement:
    """Run ``simulate(scenario, seed)`` and time the simulation and the tables separately."""
    marks: list[tuple[float, float]] = []

    def progress(_now: float) -> None:
        marks.append((time.perf_counter(), time.process_time()))

    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = simulate(scenario, seed=seed, progress=progress)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    sim_end_wall, sim_end_cpu = marks[-1]
    model = result.model
    outcomes = {"lost": 0, "rejected": 0, "delivered": 0, "open": 0}
    names = {"lost_quote": "lost", "rejected": "rejected", "delivered": "delivered"}
    for order in model.orders:
        outcomes[names.get(order.final_state, "open")] += 1
    log = model.recorder.arrow()
    return Measurement(
        "ordercycle", sim_end_wall - wall0, sim_end_cpu - cpu0,
        tables_wall=wall1 - sim_end_wall, tables_cpu=cpu1 - sim_end_cpu, inquiries=len(model.orders),
        events=events_processed(model.env), outcomes=outcomes,
        log_rows=log.num_rows, log_bytes=log.nbytes,
    )


# --- bare SimPy ---------------------------------------------------------------------------


def stream(name: str, seed: int) -> np.random.Generator:
    """The generator of one random source (own stream per source name)."""
    return np.random.default_rng(np.random.SeedSequence([zlib.crc32(name.encode()), seed]))


def sampler(distribution: Any, rng: np.random.Generator) -> Callable[[], float]:
    """Next-variate function of a scenario distribution, drawing ``BLOCK`` at a time."""

    def blocks() -> Iterator[float]:
        while True:
            yield from distribution.sample_block(rng, BLOCK).tolist()

    return blocks().__next__


def uniforms(rng: np.random.Generator) -> Callable[[], float]:
    """Next-U(0, 1) function, drawing ``BLOCK`` at a time."""

    def blocks() -> Iterator[float]:
        while True:
            yield from rng.random(BLOCK).tolist()

    return blocks().__next__


def rate_vector(arrivals: Any, t: np.ndarray, first_weekday: int = 0) -> np.ndarray:
    """ordercycle's ``arrival_rate`` evaluated on an array of days."""
    season = arrivals.seasonality
    wave = 1.0 + season.amplitude * np.cos(2 * np.pi * (t - season.peak_day) / season.period_days)
    rate = arrivals.rate_per_day * np.maximum(0.0, 1.0 + arrivals.trend_per_year * t / 365.0) * wave
    weekdays, hours = profile_factors(arrivals)
    day = np.floor(t)
    if weekdays is not None:
        rate = rate * np.asarray(weekdays)[((first_weekday + day.astype(np.int64)) % 7)]
    if hours is not None:
        rate = rate * np.asarray(hours)[np.minimum(23, ((t - day) * 24.0).astype(np.int64))]
    return rate


def first_weekday(scenario: Scenario) -> int:
    """Weekday of day 0 (0 = Monday), as ordercycle's arrivals see it."""
    return scenario.calendars.start_date.weekday() if scenario.calendars is not None else 0


def check_rate_function(scenario: Scenario) -> None:
    """Fail loudly if :func:`rate_vector` no longer matches ordercycle's ``arrival_rate``."""
    days = np.linspace(0.0, scenario.horizon_days, 997)
    weekday = first_weekday(scenario)
    for segment in scenario.segments:
        expected = [arrival_rate(segment.arrivals, float(t), weekday) for t in days]
        if not np.allclose(rate_vector(segment.arrivals, days, weekday), expected, rtol=1e-12, atol=0.0):
            raise RuntimeError(f"bare arrival rate differs from ordercycle's (segment {segment.id})")


def segment_inquiries(segment: Segment, horizon: float, seed: int, weekday: int = 0
                      ) -> tuple[list[float], list[list[tuple[str, int]]], list[float]]:
    """Times, products, quantities and acceptance uniforms of one segment's inquiries.

    Candidate arrivals at the peak rate are thinned to the segment's rate function
    (Lewis & Shedler), as in ordercycle; everything is drawn in numpy blocks.
    """
    arrivals = segment.arrivals
    growth = max(1.0, 1.0 + arrivals.trend_per_year * horizon / 365.0)
    peak = arrivals.rate_per_day * growth * (1.0 + arrivals.seasonality.amplitude)
    weekdays, hours = profile_factors(arrivals)
    peak *= max(weekdays or (1.0,)) * max(hours or (1.0,))
    prefix = f"bare.{segment.id}"
    gaps = stream(f"{prefix}.arrival", seed)
    chunks, t = [], 0.0
    while t < horizon:
        chunk = t + np.cumsum(gaps.exponential(1.0 / peak, BLOCK))
        chunks.append(chunk)
        t = float(chunk[-1])
    times = np.concatenate(chunks)
    times = times[times < horizon]
    times = times[stream(f"{prefix}.thinning", seed).random(times.size) * peak
                  <= rate_vector(arrivals, times, weekday)]
    n = times.size
    products = sorted(segment.product_mix)
    weights = np.array([segment.product_mix[p] for p in products])
    cumulative = np.cumsum(weights / weights.sum())
    index = np.minimum(np.searchsorted(cumulative, stream(f"{prefix}.product", seed).random(n),
                                       side="right"), len(products) - 1)
    sizes = segment.order_size_units.sample_block(stream(f"{prefix}.size", seed), n)
    quantities = np.maximum(1, np.ceil(sizes)).astype(np.int64)
    accepts = stream(f"{prefix}.accept", seed).random(n)
    orders = [[(products[i], q)] for i, q in zip(index.tolist(), quantities.tolist(), strict=True)]
    counts = np.ceil(segment.lines_per_order.sample_block(stream(f"{prefix}.lines", seed), n))
    most = int((weights > 0).sum())
    picks = uniforms(stream(f"{prefix}.lines.product", seed))
    more_sizes = sampler(segment.order_size_units, stream(f"{prefix}.lines.size", seed))
    for k in np.flatnonzero(counts > 1).tolist():
        chosen = [int(index[k])]
        for _ in range(min(most, int(counts[k])) - 1):
            left = picks() * sum(w for i, w in enumerate(weights) if i not in chosen)
            pick = -1
            for i, w in enumerate(weights):
                if i in chosen or w <= 0:
                    continue
                pick, left = i, left - w
                if left < 0:
                    break
            chosen.append(pick)
            orders[k].append((products[pick], max(1, math.ceil(more_sizes()))))
    return times.tolist(), orders, accepts.tolist()


class BareModel:
    """The order flow of ordercycle in plain SimPy (see the module docstring)."""

    def __init__(self, scenario: Scenario, seed: int):
        self.env = env = simpy.Environment()
        staff = scenario.staff
        self.sales = simpy.Resource(env, staff.sales_reps)
        self.estimators = simpy.Resource(env, staff.estimators)
        self.entry = simpy.Resource(env, staff.entry_clerks)
        self.junior = simpy.Resource(env, staff.junior_staff)
        self.warehouse = simpy.Resource(env, staff.warehouse_staff)
        self.billing = simpy.Resource(env, staff.billing_clerks)
        self.centres = {c.id: simpy.Resource(env, c.machines) for c in scenario.work_centres}
        self.carriers = {p.id: simpy.Resource(env, p.pickups_at_once)
                         for p in scenario.logistics_providers}
        calendars = scenario_calendars(scenario)  # pool or provider id -> its calendar
        self.calendar: dict[Any, WorkCalendar | None] = {
            resource: calendars.get(name) for resource, name in (
                (self.sales, "sales_reps"), (self.estimators, "estimators"), (self.entry, "entry_clerks"),
                (self.junior, "junior_staff"), (self.warehouse, "warehouse_staff"),
                (self.billing, "billing_clerks"))}
        self.calendar |= {self.carriers[p.id]: calendars.get(p.id) for p in scenario.logistics_providers}
        self.calendar |= {self.centres[c.id]: ShiftCalendar(calendars[c.id], c.max_shifts)
                          for c in scenario.work_centres if c.id in calendars}
        hours = scenario.task_hours
        self.task = {name: sampler(getattr(hours, name), stream(f"bare.task.{name}", seed))
                     for name in ("sales_contact", "cost_estimation", "order_entry",
                                  "selection_junior", "picking", "invoicing")}
        self.routing = {
            p.id: [(self.centres[op.work_centre], op.setup_hours,
                    sampler(op.hours_per_unit, stream(f"bare.process.{p.id}.{k}", seed)))
                   for k, op in enumerate(p.routing)]
            for p in scenario.products
        }
        products = {p.id: p for p in scenario.products}
        providers = {p.id: p for p in scenario.logistics_providers}
        self.segment_flow: dict[str, tuple[Any, ...]] = {}
        for s in scenario.segments:
            provider = providers[s.logistics_provider]
            accept = {p: acceptance_probability(s, products[p].list_price, products[p].list_price,
                                                products[p].standard_lead_days)
                      for p in s.product_mix}
            self.segment_flow[s.id] = (
                sampler(s.response_days, stream(f"bare.{s.id}.response", seed)), accept,
                self.carriers[provider.id],
                sampler(provider.handling_hours, stream(f"bare.carrier.{provider.id}.handling", seed)),
                sampler(provider.transit_days, stream(f"bare.carrier.{provider.id}.transit", seed)),
                provider.reliability,
                uniforms(stream(f"bare.carrier.{provider.id}.reliability", seed)),
                sampler(provider.delay_days, stream(f"bare.carrier.{provider.id}.delay", seed)),
            )
        # the scenario's selection rule as a plain size check (0 = accept every order)
        selection = make_all(scenario.policies.model_dump()).selection
        self.min_units = int(getattr(selection, "min_units", 0))
        self.outcomes = {"lost": 0, "rejected": 0, "delivered": 0}
        self.inquiries = 0
        for s in scenario.segments:
            env.process(self.arrivals(s.id, *segment_inquiries(s, scenario.horizon_days, seed,
                                                               first_weekday(scenario))))
        self.horizon = scenario.horizon_days

    def work(self, resource: simpy.Resource, hours: float) -> simpy.Timeout:
        """The timeout of a task of ``hours`` begun now by ``resource``: to its calendar's finish
        (next opening, paused over closed time), or ``hours`` later without a calendar."""
        calendar = self.calendar.get(resource)
        if calendar is None:
            return self.env.timeout(hours / HOURS_PER_DAY)
        return self.env.timeout(calendar.finish(self.env.now, hours) - self.env.now)

    def arrivals(self, segment: str, times: list[float], orders: list[list[tuple[str, int]]],
                 accepts: list[float]) -> Generator[simpy.Event, Any, None]:
        """Release one segment's inquiries at their arrival times."""
        env = self.env
        for t, lines, u_accept in zip(times, orders, accepts, strict=True):
            yield env.timeout(t - env.now)
            self.inquiries += 1
            env.process(self.order(segment, lines, u_accept))

    def produce(self, product: str, quantity: int) -> Generator[simpy.Event, Any, None]:
        """One line through its product's routing."""
        for centre, setup_hours, per_unit in self.routing[product]:
            with centre.request() as request:
                yield request
                yield self.work(centre, setup_hours + per_unit() * quantity)

    def order(self, segment: str, lines: list[tuple[str, int]],
              u_accept: float) -> Generator[simpy.Event, Any, None]:
        """One inquiry through every stage, to its invoice."""
        env, task = self.env, self.task
        (response, accept, carrier, handling, transit, reliability, reliable,
         delay) = self.segment_flow[segment]
        with self.sales.request() as request:
            yield request
            yield self.work(self.sales, task["sales_contact"]())
        with self.estimators.request() as request:
            yield request
            yield self.work(self.estimators, task["cost_estimation"]())
        yield env.timeout(response())
        product, quantity = lines[0]
        quantity = sum(units for _, units in lines)
        if u_accept >= accept[product]:
            self.outcomes["lost"] += 1
            return
        with self.entry.request() as request:
            yield request
            yield self.work(self.entry, task["order_entry"]())
        with self.junior.request() as request:
            yield request
            yield self.work(self.junior, task["selection_junior"]())
        if quantity < self.min_units:
            self.outcomes["rejected"] += 1
            return
        if len(lines) == 1:
            yield from self.produce(*lines[0])
        else:
            yield env.all_of([env.process(self.produce(*line)) for line in lines])
        with self.warehouse.request() as request:
            yield request
            yield self.work(self.warehouse, task["picking"]())
        with carrier.request() as request:
            yield request
            yield self.work(carrier, handling())
        days = transit()
        if reliable() >= reliability:
            days += delay()
        yield env.timeout(days)
        with self.billing.request() as request:
            yield request
            yield self.work(self.billing, task["invoicing"]())
        self.outcomes["delivered"] += 1


def run_bare(scenario: Scenario, seed: int) -> Measurement:
    """Build and run the bare model for the scenario's horizon."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model = BareModel(scenario, seed)
    built = time.perf_counter()
    model.env.run(until=model.horizon)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    outcomes = dict(model.outcomes)
    outcomes["open"] = model.inquiries - sum(outcomes.values())
    return Measurement("bare SimPy", wall1 - wall0, cpu1 - cpu0, build_wall=built - wall0,
                       inquiries=model.inquiries, events=events_processed(model.env),
                       outcomes=outcomes)


# --- reporting ----------------------------------------------------------------------------


def median_measurement(runs: list[Measurement]) -> Measurement:
    """Per-field median of several runs of one model (counts are identical across runs)."""
    first = runs[0]
    return Measurement(
        first.model,
        statistics.median(r.sim_wall for r in runs), statistics.median(r.sim_cpu for r in runs),
        build_wall=statistics.median(r.build_wall for r in runs),
        tables_wall=statistics.median(r.tables_wall for r in runs),
        tables_cpu=statistics.median(r.tables_cpu for r in runs),
        inquiries=first.inquiries, events=first.events, outcomes=first.outcomes,
        log_rows=first.log_rows, log_bytes=first.log_bytes,
    )


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process in MB (None where unavailable)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def verdict(ok: bool) -> str:
    """How a goal check reads."""
    return "MET" if ok else "NOT MET"


def print_report(scenario: Scenario, seed: int, oc: Measurement, bare: Measurement,
                 ratios: list[float], ratios_total: list[float], ratios_cpu: list[float]) -> None:
    """Print both models' figures, the cost ratio and the goal checks."""
    rounds = len(ratios)
    head = "median of " if rounds > 1 else ""
    print(f"\nscenario {scenario.name!r}, seed {seed}, horizon {scenario.horizon_days:g} d, "
          f"{rounds} round(s); {head}figures below")
    rows: list[tuple[str, Callable[[Measurement], str]]] = [
        ("simulation wall s (build + run)", lambda m: f"{m.sim_wall:.2f}"),
        ("simulation CPU s", lambda m: f"{m.sim_cpu:.2f}"),
        ("  of which model build wall s",
         lambda m: "in sim" if math.isnan(m.build_wall) else f"{m.build_wall:.2f}"),
        ("tables + KPIs wall s", lambda m: f"{m.tables_wall:.2f}" if m.tables_wall else "-"),
        ("end-to-end wall s", lambda m: f"{m.total_wall:.2f}"),
        ("end-to-end CPU s", lambda m: f"{m.total_cpu:.2f}"),
        ("inquiries", lambda m: f"{m.inquiries:,}"),
        ("  quotes lost", lambda m: f"{m.outcomes['lost']:,}"),
        ("  rejected at selection", lambda m: f"{m.outcomes['rejected']:,}"),
        ("  delivered", lambda m: f"{m.outcomes['delivered']:,}"),
        ("  open at the horizon", lambda m: f"{m.outcomes['open']:,}"),
        ("orders/s (simulation)", lambda m: f"{m.inquiries / m.sim_wall:,.0f}"),
        ("SimPy events processed", lambda m: f"{m.events:,}"),
        ("events/s (simulation)", lambda m: f"{m.events / m.sim_wall:,.0f}"),
        ("events per inquiry", lambda m: f"{m.events / m.inquiries:.1f}"),
        ("µs per event (simulation)", lambda m: f"{1e6 * m.sim_wall / m.events:.2f}"),
        ("µs per order (simulation)", lambda m: f"{m.us_per_order():,.0f}"),
        ("µs per order (end to end)", lambda m: f"{m.us_per_order(total=True):,.0f}"),
    ]
    width = max(len(label) for label, _ in rows) + 2
    print(f"{'':{width}}{'ordercycle':>20}{'bare SimPy':>20}")
    for label, cell in rows:
        print(f"{label:{width}}{cell(oc):>20}{cell(bare):>20}")

    ratio, ratio_total = statistics.median(ratios), statistics.median(ratios_total)
    spread = f" (rounds: {', '.join(f'{r:.1f}' for r in ratios)})" if rounds > 1 else ""
    print(f"\nratio ordercycle / bare cost per order: {ratio:.1f}× simulation only{spread}; "
          f"{ratio_total:.1f}× end to end")
    print(f"ratio on CPU time (less sensitive to other load on the machine): "
          f"{statistics.median(ratios_cpu):.1f}× simulation only")
    print(f"ratio per SimPy event: {(oc.sim_wall / oc.events) / (bare.sim_wall / bare.events):.1f}× "
          f"(ordercycle processes {oc.events / oc.inquiries / (bare.events / bare.inquiries):.1f}× "
          "the events per inquiry)")
    ratio_cpu = statistics.median(ratios_cpu)
    print(f'goal "simulated baseline year < {GOAL_SECONDS:g} s on one core" (end to end, simulate()): '
          f"{verdict(oc.total_wall < GOAL_SECONDS)} on wall time ({oc.total_wall:.1f} s = "
          f"{oc.sim_wall:.1f} s simulation + {oc.tables_wall:.1f} s tables/KPIs), "
          f"{verdict(oc.total_cpu < GOAL_SECONDS)} on CPU time ({oc.total_cpu:.1f} s)")
    print(f'goal "≤ {GOAL_RATIO:g}× bare-SimPy cost per order" (simulation only): '
          f"{verdict(ratio <= GOAL_RATIO)} on wall time ({ratio:.2f}×), "
          f"{verdict(ratio_cpu <= GOAL_RATIO)} on CPU time ({ratio_cpu:.2f}×)")
    print(f"ordercycle event log: {oc.log_rows:,} rows, Arrow buffers {oc.log_bytes / 2**20:.1f} MB "
          f"({oc.log_bytes / max(oc.log_rows, 1):.0f} B/row)")
    rss = peak_rss_mb()
    if rss is not None:
        print(f"peak RSS of this process (both models, all rounds): {rss:,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both models (interleaved when repeated) and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds of both models (median printed)")
    parser.add_argument("--seed", type=int, default=0, help="root seed of both models")
    parser.add_argument("--scenario", default="baseline", help="built-in name or YAML file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    scenario = load(args.scenario)
    check_rate_function(scenario)
    runs: dict[str, list[Measurement]] = {"ordercycle": [], "bare": []}
    ratios: list[float] = []
    ratios_total: list[float] = []
    ratios_cpu: list[float] = []
    for k in range(args.repeat):
        order = ("ordercycle", "bare") if k % 2 == 0 else ("bare", "ordercycle")
        for name in order:
            gc.collect()
            run = run_ordercycle if name == "ordercycle" else run_bare
            runs[name].append(run(scenario, args.seed))
        oc, bare = runs["ordercycle"][-1], runs["bare"][-1]
        ratios.append(oc.us_per_order() / bare.us_per_order())
        ratios_total.append(oc.us_per_order(total=True) / bare.us_per_order(total=True))
        ratios_cpu.append((oc.sim_cpu / oc.inquiries) / (bare.sim_cpu / bare.inquiries))
        print(f"round {k + 1}/{args.repeat}: ordercycle {oc.sim_wall:.2f} s sim + {oc.tables_wall:.2f} s "
              f"tables, bare {bare.sim_wall:.2f} s, ratio per order {ratios[-1]:.2f}×", flush=True)
    print_report(scenario, args.seed, median_measurement(runs["ordercycle"]),
                 median_measurement(runs["bare"]), ratios, ratios_total, ratios_cpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
