"""Benchmark: the experiment layer — serial vs process pool vs Dask, and its overhead per replication.

Runs, in one invocation (the machine is shared and noisy: read the ratios),

1. ``bare``: N plain ``simulate()`` calls in this process, one after another — the
   floor any experiment layer is measured against;
2. ``serial``: ``compare`` with the serial executor (same N replications: one set);
3. ``process``: ``compare`` on a process pool of ``--workers`` processes;
4. ``dask``: ``compare`` on a Dask ``LocalCluster`` of ``--workers`` single-thread
   worker processes (cluster start-up included and printed separately).

Every experiment writes to a fresh temporary result store (so nothing is reused) and
the tables of the three experiments are checked to be identical. Printed: wall time
of each, speed-up of the process pool and of Dask over serial, and the per-replication
overhead of the serial experiment over the bare calls.

Run from the repository root::

    python benchmarks/bench_experiments.py                       # 32 baseline-year replications
    python benchmarks/bench_experiments.py --reps 8 --horizon 90 # a quicker look
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import pandas as pd

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.experiments import compare
from ordercycle.sim.experiments.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from ordercycle.sim.run import simulate


def main() -> None:
    """Run the four measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=32, help="replications (default 32)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="workers (default: cores)")
    parser.add_argument("--horizon", type=float, help="override the baseline's horizon_days")
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()

    scenario = load(args.scenario)
    if args.horizon:
        scenario = override(scenario, horizon_days=args.horizon)
    sets = {"scenario": {}}
    print(f"{args.reps} replications of {scenario.name} ({scenario.horizon_days:g} days), "
          f"{args.workers} workers, {os.cpu_count()} cores")

    started = time.perf_counter()
    for r in range(args.reps):
        simulate(scenario, seed=0, replication=r)
    bare = time.perf_counter() - started
    print(f"bare simulate() x{args.reps}: {bare:8.1f} s  ({bare / args.reps:.2f} s per replication)")

    results: dict[str, tuple[float, pd.DataFrame]] = {}

    def run(name: str, executor) -> None:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            comparison = compare(scenario, sets, reps=args.reps, seed=0, executor=executor, out=out)
            results[name] = (time.perf_counter() - started, comparison.replications)
        print(f"compare, {name:<22}: {results[name][0]:8.1f} s")

    run("serial", SerialExecutor())
    run(f"process pool ({args.workers})", ProcessExecutor(args.workers))
    if not args.skip_dask:
        started = time.perf_counter()
        executor = DaskExecutor(args.workers)
        print(f"Dask LocalCluster start-up: {time.perf_counter() - started:8.1f} s")
        try:
            run(f"Dask LocalCluster ({args.workers})", executor)
        finally:
            executor.close()

    serial_time, serial_table = results["serial"]
    for name, (seconds, table) in results.items():
        pd.testing.assert_frame_equal(table, serial_table)
        if name != "serial":
            print(f"speed-up of {name} over serial: {serial_time / seconds:.2f}x")
    overhead = (serial_time - bare) / args.reps
    print(f"experiment-layer overhead per replication (serial - bare): {overhead * 1000:.0f} ms "
          f"({overhead / (bare / args.reps):+.1%} of a replication)")
    print("tables identical across executors: yes")


if __name__ == "__main__":
    main()
