"""Benchmark: the keynote suite with sequential replications, against fixed-replication runs.

Runs, in one invocation,

1. **sequential** — the suite as ``ordercycle keynotes`` runs it: each claim starts at its
   file's ``reps`` and adds ``--step`` replications per set while a check is undecided, up
   to ``--max-reps``; conditions swept (at the starting replications) for every claim not
   supported. Timed per claim and in total: the goal is ≤ 20 minutes for K1–K8 with their
   conditions on 2 cores.
2. **fixed at the cap** — every claim at exactly ``--max-reps`` replications (no early stop),
   conditions swept as the suite does. This answers "does stopping early change a verdict?".
   With ``--fixed reuse`` (default) its result store starts as a copy (hard links) of the
   sequential run's: a replication is named by the content key of what it computes, so a
   stored one is exactly what the fixed run would compute; only the replications the
   sequential run stopped before are simulated, and the fixed run's full cost is estimated
   from the simulation seconds every replication it used recorded (÷ workers). ``--fixed
   fresh`` runs it from an empty store and times it for real; ``--fixed skip`` skips it.
3. **fixed at the start** — today's suite (every claim at its file's ``reps``): its verdicts
   are those of the first ``reps`` replications of the runs above (replication r is the same
   whatever the count), so nothing more is simulated for it.

Printed: per claim the verdict, replications, whether its conditions were swept and the
time; the totals; the verdicts side by side with the claims whose verdicts differ and why
(each differing check's interval in both runs). Workers (``--workers``, default 2) run the
replications of each claim in parallel, claims one after another; sets that run the same
scenario with the same policies share runs across claims (one result store per suite).

Run from the repository root::

    python benchmarks/bench_keynotes.py --workers 2 --out out/bench-keynotes
    python benchmarks/bench_keynotes.py --only K6,K7 --horizon 60 --max-reps 9   # a quick look

The machine is shared: the load average is printed at the start and the end; read the
simulation seconds (CPU time in the workers) when the load is high.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from ordercycle.reports.keynotes import (
    builtin_keynote_files,
    claim_verdict,
    evaluate,
    load_keynote,
    read_result,
)
from ordercycle.sim.experiments import store as result_store
from ordercycle.sim.experiments.executors import ProcessExecutor, SerialExecutor
from ordercycle.sim.experiments.keynote_suite import DEFAULT_MAX_REPS, DEFAULT_STEP, run_suite


class KeyLog:
    """Every key the result store is asked for, and the simulation seconds of the stored outcomes."""

    def __init__(self) -> None:
        self.asked: dict[str, float | None] = {}
        self._get = result_store.ResultStore.get
        log = self

        def get(store: result_store.ResultStore, key: str):
            outcome = log._get(store, key)
            log.asked.setdefault(key, None if outcome is None else float(outcome.get("seconds", 0.0)))
            return outcome

        result_store.ResultStore.get = get  # type: ignore[method-assign]

    def reset(self) -> None:
        """Start a new run's log."""
        self.asked = {}

    def stored_seconds(self, folder: Path) -> float:
        """Simulation seconds of every replication this run asked for, as now stored in ``folder``."""
        total = 0.0
        for key in self.asked:
            path = folder / "runs" / f"{key}.json"
            if path.is_file():
                total += float(json.loads(path.read_text()).get("seconds", 0.0))
        return total


def _suite(name: str, keynotes: list, out: Path, workers: int, args: argparse.Namespace, reps: int | None,
           max_reps: int | None, log: KeyLog, condition_reps: int | None = None) -> dict:
    """Run one suite; per claim (verdict, replications, swept, seconds) and the totals."""
    executor = SerialExecutor() if workers == 1 else ProcessExecutor(workers)
    per_claim: dict[str, dict] = {}

    def said(keynote, run) -> None:
        per_claim[keynote.id] = {"verdict": run.verdict, "replications": run.replications,
                                 "swept": run.swept, "seconds": run.seconds, "open": run.open_checks}
        print(f"  {name} {keynote.id}: {run.verdict:<13} {run.replications:>3} reps"
              f"{' + conditions' if run.swept else '':<13} {run.seconds:7.0f} s", flush=True)

    log.reset()
    started, cpu_before = time.perf_counter(), _cpu()
    try:
        run_suite(keynotes, out, executor, args.confidence, reps, max_reps, args.step, args.seed,
                  args.horizon, not args.no_conditions, on_claim=said, condition_reps=condition_reps)
    finally:
        executor.close()  # the workers exit: their CPU time is counted from here
    wall = time.perf_counter() - started
    new = sum(1 for seconds in log.asked.values() if seconds is None)
    return {"claims": per_claim, "wall": wall, "asked": len(log.asked), "new": new,
            "simulated_seconds": log.stored_seconds(out), "cpu": _cpu() - cpu_before}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the workers, once closed)."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _verdicts_at(folder: Path, reps: int | None) -> dict[str, tuple[str, pd.DataFrame]]:
    """Per claim the verdict and checks of a suite's folder, on its first ``reps`` replications
    (all when None; each file's own ``reps`` when 0)."""
    found = {}
    for sub in sorted(p for p in folder.iterdir() if (p / "keynote.json").is_file()):
        result = read_result(sub)
        if reps is None:
            found[result.keynote.id] = (result.verdict, result.checks)
            continue
        first = reps or result.keynote.reps
        table = result.replications
        checks = evaluate(result.keynote, table[table["replication"] < first], result.confidence)
        found[result.keynote.id] = (claim_verdict(list(checks["verdict"])), checks)
    return found


def _why(mine: pd.DataFrame, theirs: pd.DataFrame) -> list[str]:
    lines = []
    for a, b in zip(mine.itertuples(), theirs.itertuples(), strict=True):
        if a.verdict != b.verdict or a.reason != b.reason:
            lines.append(f"      {a.kpi} ({a.set} − {a.against}): n = {a.n} [{a.diff_ci_low:+.4g}, "
                         f"{a.diff_ci_high:+.4g}] {a.verdict} ({a.reason})  vs  n = {b.n} "
                         f"[{b.diff_ci_low:+.4g}, {b.diff_ci_high:+.4g}] {b.verdict} ({b.reason})")
    return lines


def main() -> None:
    """Run the suites and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", default="out/bench-keynotes", help="output folder")
    parser.add_argument("--max-reps", type=int, default=DEFAULT_MAX_REPS, help="the sequential cap")
    parser.add_argument("--step", type=int, default=DEFAULT_STEP, help="replications added at a time")
    parser.add_argument("--reps", type=int, help="replications to start with (default: each file's)")
    parser.add_argument("--only", help="claims to run, e.g. K1,K6 (default all)")
    parser.add_argument("--horizon", type=float, help="override every keynote's horizon_days")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--no-conditions", action="store_true", help="skip the sweeps of conditions")
    parser.add_argument("--fixed", choices=["reuse", "fresh", "skip"], default="reuse",
                        help="the fixed run at the cap: sharing the sequential run's store (default), "
                             "from an empty store, or not at all")
    parser.add_argument("--keep", action="store_true", help="keep an existing output folder (resume)")
    args = parser.parse_args()

    keynotes = [load_keynote(path) for path in builtin_keynote_files()]
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        keynotes = [k for k in keynotes if k.id in wanted]
    out = Path(args.out)
    if out.exists() and not args.keep:
        shutil.rmtree(out)
    print(f"{len(keynotes)} claims ({', '.join(k.id for k in keynotes)}), {args.workers} workers on "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; sequential: start at "
          f"{args.reps or 'each file’s reps'}, +{args.step}, cap {args.max_reps}; "
          f"horizon {args.horizon or 'each file’s'}", flush=True)
    log = KeyLog()
    sequential = _suite("sequential", keynotes, out / "sequential", args.workers, args, args.reps,
                        args.max_reps, log)
    fixed = None
    if args.fixed != "skip":
        if args.fixed == "reuse":
            runs = out / "fixed" / "runs"
            runs.mkdir(parents=True, exist_ok=True)
            for path in (out / "sequential" / "runs").glob("*.json"):
                target = runs / path.name
                if not target.exists():
                    os.link(path, target)
        # conditions at the starting replications, as the sequential suite sweeps them
        starts = {args.reps or k.reps for k in keynotes}
        fixed = _suite(f"fixed@{args.max_reps}", keynotes, out / "fixed", args.workers, args, args.max_reps,
                       None, log, condition_reps=starts.pop() if len(starts) == 1 else None)

    print(f"\nsequential suite: {sequential['wall']:.0f} s ({sequential['wall'] / 60:.1f} min) wall; "
          f"{sequential['new']} replications simulated, {sequential['simulated_seconds']:.0f} simulation "
          f"seconds; goal ≤ 20 min: {'met' if sequential['wall'] <= 1200 else 'NOT met'}")
    idle = sequential["cpu"] / args.workers
    print(f"  CPU: {sequential['cpu']:.0f} s (workers and this process) ≈ {idle:.0f} s ({idle / 60:.1f} min) "
          f"on {args.workers} otherwise idle cores")
    for name, claim in sequential["claims"].items():
        print(f"  {name}: {claim['seconds']:6.0f} s  {claim['replications']:>3} reps  {claim['verdict']}"
              f"{'  (conditions swept)' if claim['swept'] else ''}")
    if fixed is not None:
        estimate = fixed["simulated_seconds"] / args.workers
        print(f"fixed suite at {args.max_reps} replications: {fixed['wall']:.0f} s wall for the "
              f"{fixed['new']} replications not shared ({args.fixed}); all {fixed['asked']} it used: "
              f"{fixed['simulated_seconds']:.0f} simulation seconds ≈ {estimate:.0f} s "
              f"({estimate / 60:.1f} min) on {args.workers} workers")

    seq = _verdicts_at(out / "sequential", None)
    start = _verdicts_at(out / "sequential", args.reps or 0)
    capped = _verdicts_at(out / "fixed", None) if fixed is not None else {}
    print("\nverdicts:   sequential (reps)        fixed at the cap         "
          "fixed at the start (today's suite)")
    for name, (verdict, checks) in seq.items():
        at_cap = capped.get(name, ("–", None))[0]
        print(f"  {name:<4} {verdict:<13} ({int(checks['n'].max()):>2})   {at_cap:<24} {start[name][0]}")
    for label, other in (("fixed at the cap", capped), ("fixed at the start", start)):
        if not other:
            continue
        differ = [name for name in seq if other[name][0] != seq[name][0]]
        same = len(seq) - len(differ)
        print(f"\nsequential against {label}: identical on {same} of {len(seq)} claims "
              f"(goal ≥ {len(seq) - 1}: {'met' if same >= len(seq) - 1 else 'NOT met'})")
        for name in differ:
            print(f"  {name}: sequential {seq[name][0]}, {label} {other[name][0]}:")
            print("\n".join(_why(seq[name][1], other[name][1])))
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}; outputs in {out}/sequential and {out}/fixed")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
