"""What starting from a state snapshot costs: capture, check, placement, and a promise-risk run.

Takes a snapshot of the baseline at day ``--at`` (seed 0), then times, each ``--repeat``
times (medians printed): checking the snapshot against the scenario, building a model
and placing the snapshot, one promise-risk replication (a new order, look-ahead of
``--days``, stopped at delivery), and a what-if run over ``--days`` (no early stop).
Also prints the snapshot's size (open orders, invoices, JSON bytes) and what a
promise-risk request of ``--dates`` × ``--reps`` costs at these medians on one core.

    python benchmarks/bench_twin_start.py                      # day 60, about a minute
    python benchmarks/bench_twin_start.py --at 10 --days 3 --repeat 1   # a quick try
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.model import CompanyModel
from ordercycle.sim.run import simulate
from ordercycle.sim.snapshot import parse_snapshot, starting_from
from ordercycle.sim.twin.promise import NewOrder, delivery_day


def timed(function, repeat: int) -> float:
    """Median wall seconds of ``function()`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", type=float, default=60.0, help="snapshot day of the baseline (default 60)")
    parser.add_argument("--days", type=float, default=14.0, help="look-ahead, days (default 14)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions, medians printed (default 3)")
    parser.add_argument("--dates", type=int, default=3, help="dates of the priced request (default 3)")
    parser.add_argument("--reps", type=int, default=20,
                        help="replications of the priced request (default 20)")
    args = parser.parse_args()

    company = override(load("baseline"), horizon_days=args.at, warmup_days=0.0)
    started = time.perf_counter()
    snapshot = simulate(company, seed=0, snapshot_at=args.at).snapshot
    print(f"baseline to day {args.at:g} and capture: {time.perf_counter() - started:.2f} s")
    data = snapshot.model_dump(mode="json")
    steps: dict[str, int] = {}
    for order in snapshot.orders:
        steps[order.step] = steps.get(order.step, 0) + 1
    print(f"snapshot: {len(snapshot.orders)} orders {steps}, {len(snapshot.invoices)} invoices, "
          f"{len(snapshot.returns)} returns, {len(snapshot.tickets)} tickets, "
          f"{len(json.dumps(data)):,} JSON bytes")

    check = timed(lambda: parse_snapshot(data, company), args.repeat)
    start = starting_from(company, snapshot, args.days)

    def build() -> None:
        model = CompanyModel(start, 0, 0)
        model.start()

    placement = timed(build, args.repeat)
    reps = iter(range(10**6))
    promise = timed(lambda: delivery_day(start, NewOrder("pump", 4, "strategic"), args.days, 0, next(reps),
                                         args.days), args.repeat)
    whatif = timed(lambda: simulate(start, seed=next(reps)), args.repeat)
    rows = [("check the snapshot", check, ""),
            ("build the model and place it", placement, "checked once per scenario object"),
            ("one promise-risk replication", promise, f"up to {args.days:g} days, stops at delivery"),
            (f"one what-if run of {args.days:g} days", whatif, "tables and KPIs included")]
    for label, seconds, note in rows:
        print(f"{label:<40}{seconds:>9.3f} s  {note}")
    print(f"a promise-risk request of {args.dates} dates x {args.reps} replications: about "
          f"{promise * args.dates * args.reps:.0f} s on one core (upper bound: every run to the latest date)")


if __name__ == "__main__":
    main()
