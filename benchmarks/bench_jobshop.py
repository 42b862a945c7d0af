"""Benchmark: CP-SAT on classic job-shop instances with proven optimal makespans.

Solves ft06 (Fisher & Thompson 1963) and la01-la15 (Lawrence 1984) from
``tests/data/jobshop`` with :func:`ordercycle.policies.jobshop.solve_jobshop`, and
prints per instance: its size, the published optimum, the makespan found, the bound,
the status, the CP-SAT search time and whether the independent checker accepts the
schedule. The exit code is 1 if any instance is not proven optimal at its published
value or any schedule fails the checker.

Run from the repository root (the machine is shared and noisy: times vary from run
to run, mostly on the instances that take longest)::

    python benchmarks/bench_jobshop.py [--time-limit 10] [--workers 2] [--seed 0] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ordercycle.policies.jobshop import check_schedule, solve_jobshop
from ordercycle.policies.jobshop_io import load_problem

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "jobshop"


def main(argv: list[str] | None = None) -> int:
    """Run the sweep and print one row per instance, then a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="instances to run (default: all in tests/data/jobshop)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="CP-SAT random seed (default 0)")
    args = parser.parse_args(argv)

    optima: dict[str, int] = json.loads((DATA / "optima.json").read_text(encoding="utf-8"))
    names = args.names or sorted(optima)
    print(f"CP-SAT, time limit {args.time_limit:g} s, {args.workers} workers, seed {args.seed}")
    header = f"{'instance':<9} {'size':>6} {'optimum':>8} {'found':>7} {'bound':>7} {'status':<10} " \
             f"{'solve s':>8} {'wall s':>7}  checker"
    print(header)
    print("-" * len(header))
    failures, solve_times = [], []
    for name in names:
        problem = load_problem(DATA / f"{name}.jsp")
        began = time.perf_counter()
        result = solve_jobshop(problem, time_limit_seconds=args.time_limit, num_workers=args.workers,
                               random_seed=args.seed)
        wall = time.perf_counter() - began
        violations = check_schedule(problem, result)
        size = f"{len(problem.jobs)}x{len(problem.machines)}"
        print(f"{name:<9} {size:>6} {optima[name]:>8} {result.makespan!s:>7} {result.bound!s:>7} "
              f"{result.status:<10} {result.solve_seconds:>8.2f} {wall:>7.2f}  "
              f"{'ok' if not violations else violations[0]}", flush=True)
        solve_times.append(result.solve_seconds)
        if violations or result.status != "optimal" or result.makespan != optima[name]:
            failures.append(name)
    print("-" * len(header))
    print(f"{len(names) - len(failures)}/{len(names)} proven optimal at the published makespan; "
          f"solve time total {sum(solve_times):.2f} s, max {max(solve_times):.2f} s")
    if failures:
        print(f"not proven or not matching: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
