"""Benchmark: trials per minute of ``optimise`` on the baseline (short horizon), 1 and 2 workers side by
side, and the improvement the confirmed winner makes over the baseline's own policy set.

The two executors are measured in **interleaved rounds** (1 then 2 workers, then 2 then
1, …), each study with a fresh result store, so that a change of load on the machine
hits both alike; the median over the rounds is printed next to every round's figure.
Every study uses the same space (`scenarios/experiments/space-example.yaml`) and seeds:
they ask the same trials, and the script checks that every one gives the same trials
table. Trials per minute count the search only (until the last trial is told); the
confirmation of the best settings on fresh replications is timed apart. Printed last:
the confirmed winner, its paired improvement over the current policy set on the
scenario's objective with the interval, and the parameter importances.

Run from the repository root (the lead runs it at full size at a quiet moment)::

    python benchmarks/bench_optimise.py [--trials 16] [--reps 2] [--horizon 60] [--rounds 3]
    python benchmarks/bench_optimise.py --trials 4 --reps 2 --confirm-reps 2 --horizon 10 --rounds 1  # try
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from ordercycle.reports.statistics import paired_difference, scores
from ordercycle.scenarios.loader import load, override
from ordercycle.sim.experiments.executors import ProcessExecutor, SerialExecutor
from ordercycle.sim.experiments.optimisation import load_space, optimise

SPACE = Path(__file__).resolve().parents[1] / "scenarios" / "experiments" / "space-example.yaml"


class SearchClock:
    """A progress reporter that notes when the last trial of the search was told."""

    def __init__(self) -> None:
        self.search_done: float | None = None

    def __call__(self, stage: str, total: int):
        """The tick of ``stage``; only the ``trials`` stage is timed."""
        told = 0

        def tick() -> None:
            nonlocal told
            told += 1
            if stage == "trials" and told == total:
                self.search_done = time.perf_counter()
        return tick


def one_study(scenario, space, workers: int, args: argparse.Namespace):
    """Run one study with a fresh store; (search seconds, total seconds, study)."""
    executor = SerialExecutor() if workers == 1 else ProcessExecutor(workers)
    clock = SearchClock()
    try:
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            study = optimise(scenario, space, trials=args.trials, reps=args.reps, seed=0,
                             confirm_reps=args.confirm_reps, executor=executor, out=out, progress=clock)
            finished = time.perf_counter()
    finally:
        executor.close()
    assert clock.search_done is not None
    return clock.search_done - started, finished - started, study


def main() -> None:
    """Run the interleaved studies and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--confirm-reps", type=int, default=8)
    parser.add_argument("--horizon", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of (1 worker, 2 workers)")
    args = parser.parse_args()
    scenario = override(load("baseline"), horizon_days=args.horizon, warmup_days=min(7.0, args.horizon / 4))
    space = load_space(SPACE)
    print(f"{args.trials} trials x {args.reps} replications of the baseline over {args.horizon:g} days, "
          f"confirmation on {args.confirm_reps} fresh replications; space: {', '.join(space.parameters)}")
    rates: dict[int, list[float]] = {1: [], 2: []}
    studies = []
    for round_number in range(args.rounds):
        order = (1, 2) if round_number % 2 == 0 else (2, 1)
        for workers in order:
            search, total, study = one_study(scenario, space, workers, args)
            rates[workers].append(60 * args.trials / search)
            studies.append(study)
            print(f"round {round_number + 1}, {workers} worker(s): search {search:6.1f} s "
                  f"({rates[workers][-1]:5.1f} trials/min), with confirmation {total:6.1f} s", flush=True)
    for study in studies[1:]:
        pd.testing.assert_frame_equal(studies[0].trials, study.trials)
        pd.testing.assert_frame_equal(studies[0].confirmation, study.confirmation)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"trials/min (median of {args.rounds} interleaved rounds): 1 worker {one:.1f} | "
          f"2 workers {two:.1f} | speed-up {two / one:.2f}x; trials and confirmation identical in every "
          "study: yes")
    study = studies[0]
    weights = " + ".join(f"{w:g} x {kpi}" for kpi, w in scenario.objective.weights.items())
    if study.winner and study.winner["trial"] is not None:
        gain = study.improvement
        print(f"confirmed winner: trial {study.winner['trial']} {study.winner['params']}")
        print(f"objective ({weights}): {gain['winner_score']:,.0f} vs current {gain['current_score']:,.0f}: "
              f"{gain['score_difference']:+,.0f} [{gain['ci_low']:+,.0f}, {gain['ci_high']:+,.0f}] "
              f"(95 % paired CI over {args.confirm_reps} fresh replications, p = {gain['p_value']:.3g})")
    elif study.winner:
        runner_up = next(name for name in study.ranking["set"] if name != "current")
        table = study.replications.assign(score=scores(study.replications, scenario.objective.weights))
        table = table.pivot(index="replication", columns="set", values="score")
        diff = paired_difference(table[runner_up].to_numpy(), table["current"].to_numpy(), 0.95)
        print(f"the current policy set stayed best after confirmation; the best trial setting ({runner_up}) "
              f"differs from it by {diff.interval.mean:+,.0f} [{diff.interval.low:+,.0f}, "
              f"{diff.interval.high:+,.0f}] on the objective ({weights}; 95 % paired CI)")
    else:
        print("no setting keeps the objective's constraints")
    if study.importances:
        print("importances: " + ", ".join(f"{k} {v:.2f}" for k, v in study.importances.items()))


if __name__ == "__main__":
    main()
