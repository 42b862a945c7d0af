"""Benchmark: trials per minute of ``optimise`` on the baseline (short horizon), 1 vs 2 workers,
and the improvement the search finds over the baseline's own policy set.

Both studies run in this invocation, each with a fresh result store, on the same space
(`scenarios/experiments/space-example.yaml`) and seeds: they ask the same trials, so
the second one is checked to give the same trials table. Printed: trials per minute
with 1 and with 2 workers, their ratio, the winner and its paired improvement on the
objective with the interval.

Run from the repository root::

    python benchmarks/bench_optimise.py [--trials 16] [--reps 2] [--horizon 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.executors import ProcessExecutor, SerialExecutor
from ordercycle.sim.optimise import load_space, optimise

SPACE = Path(__file__).resolve().parents[1] / "scenarios" / "experiments" / "space-example.yaml"


def main() -> None:
    """Run the two studies and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--confirm-reps", type=int, default=8)
    parser.add_argument("--horizon", type=float, default=60.0)
    args = parser.parse_args()
    scenario = override(load("baseline"), horizon_days=args.horizon, warmup_days=min(7.0, args.horizon / 4))
    space = load_space(SPACE)
    print(f"{args.trials} trials x {args.reps} replications of the baseline over {args.horizon:g} days; "
          f"space: {', '.join(space.parameters)}")
    results = {}
    for workers in (1, 2):
        executor = SerialExecutor() if workers == 1 else ProcessExecutor(workers)
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            study = optimise(scenario, space, trials=args.trials, reps=args.reps, seed=0,
                             confirm_reps=args.confirm_reps, executor=executor, out=out)
            seconds = time.perf_counter() - started
        results[workers] = (seconds, study)
        print(f"{workers} worker(s): {seconds:7.1f} s, {60 * args.trials / seconds:5.1f} trials/min "
              f"(incl. confirmation of the top 3 on {args.confirm_reps} fresh replications)")
    pd.testing.assert_frame_equal(results[1][1].trials, results[2][1].trials)
    print(f"speed-up with 2 workers: {results[1][0] / results[2][0]:.2f}x; trials identical: yes")
    study = results[1][1]
    if study.winner and study.winner["trial"] is not None:
        gain = study.improvement
        print(f"winner: {study.winner['params']}")
        print(f"objective score {gain['winner_score']:,.0f} vs current {gain['current_score']:,.0f}: "
              f"{gain['score_difference']:+,.0f} [{gain['ci_low']:,.0f}, {gain['ci_high']:,.0f}] "
              f"(95 % paired CI, p = {gain['p_value']:.3g})")
    else:
        print("the current policy set stayed best after confirmation")
    if study.importances:
        print("importances: " + ", ".join(f"{k} {v:.2f}" for k, v in study.importances.items()))


if __name__ == "__main__":
    main()
