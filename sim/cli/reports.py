"""``ordercycle report`` and ``ordercycle keynotes``: reports from saved results, and the keynote suite.

``report DIR`` rebuilds the HTML report and Markdown summary of a run folder, a compare
folder or a keynotes folder from the files in it (nothing is re-run). ``keynotes``
runs the experiments of ``scenarios/keynotes/K*.yaml`` with
:func:`ordercycle.sim.experiments.keynote_suite.run_suite` (a comparison per claim that
adds replications while a check is undecided, and a small sweep of conditions for a
claim that does not hold), then writes one report with a verdict per claim.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from ordercycle.policies.input_files import read_json
from ordercycle.sim.cli.common import BadInput, progress_bars


def write_report(folder: str | Path) -> list[Path]:
    """Build the report(s) of an output folder from its saved files; the paths written.

    A run folder has ``run.json``, a compare folder ``ranking.json``, an optimise folder
    ``study.json``, a sweep folder ``points.parquet``, a keynotes folder sub-folders with
    ``keynote.json``.
    """
    # Each kind of folder imports only its own report: a run's report needs neither SciPy
    # (statistics) nor the keynote verdicts, and importing them costs half a second.
    from ordercycle.reports.comparison_report import ReportInputError, write_comparison_report

    root = Path(folder)
    if not root.is_dir():
        raise ReportInputError([f"{root}: no such folder"])
    if (root / "run.json").is_file():
        from ordercycle.reports.run_report import write_run_report

        return list(write_run_report(root))
    if (root / "ranking.json").is_file():
        return list(write_comparison_report(root))
    if (root / "study.json").is_file():  # an `ordercycle optimise` folder
        from ordercycle.reports.study_report import write_study_report

        return list(write_study_report(root))
    from ordercycle.reports.sweep_report import write_sweep_report

    if (root / "points.parquet").is_file():
        return list(write_sweep_report(root))
    from ordercycle.reports.keynotes import keynote_folders, write_keynote_report

    if keynote_folders(root):
        for sub in keynote_folders(root):
            write_comparison_report(sub)
            if (sub / "conditions" / "points.parquet").is_file():
                checks = read_json(sub / "keynote.json", allow_nan=True).get("checks", [])
                write_sweep_report(sub / "conditions", [check["kpi"] for check in checks])
        return list(write_keynote_report(root))
    raise ReportInputError(
        [
            f"{root}: not a run, compare, sweep, optimise or keynotes output folder "
            "(expected run.json, ranking.json, points.parquet, study.json or K*/keynote.json)"
        ]
    )


def report_after(folder: str | Path, enabled: bool = True) -> None:
    """Hook for ``run`` and ``compare``: write the folder's report and say where it is."""
    if not enabled:
        return
    paths = write_report(folder)
    print(f"report: {paths[0]}")


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild the report of a saved output folder."""
    from ordercycle.reports.comparison_report import ReportInputError

    try:
        paths = write_report(args.folder)
    except ReportInputError as error:
        raise BadInput(error.problems) from None
    for path in paths:
        print(path)
    return 0


def cmd_keynotes(args: argparse.Namespace) -> int:
    """Run the keynote suite (adding replications while a check is undecided) and write its report."""
    from ordercycle.reports.comparison_report import ReportInputError
    from ordercycle.reports.keynotes import (
        builtin_keynote_files,
        check_sentence,
        load_keynote,
        read_result,
        settings_text,
    )
    from ordercycle.sim.experiments import ExperimentError
    from ordercycle.sim.experiments.executors import make_executor
    from ordercycle.sim.experiments.keynote_suite import DEFAULT_MAX_REPS, run_suite

    files = [Path(f) for f in args.files] if args.files else builtin_keynote_files()
    try:
        keynotes = [load_keynote(path) for path in files]
    except ReportInputError as error:
        raise BadInput(error.problems) from None
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        keynotes = [k for k in keynotes if k.id in wanted]
        if not keynotes:
            raise BadInput([f"--only: no keynote named {args.only!r}"])
    if args.reps is not None and args.reps < 2:
        raise BadInput([f"--reps: at least 2 replications are needed, got {args.reps}"])
    if args.step < 1:
        raise BadInput([f"--step: must be at least 1, got {args.step}"])
    if args.max_reps is not None:
        starts = {k.id: args.reps or k.reps for k in keynotes}
        first = max(starts.values())
        if args.max_reps < first:
            where = "--reps" if args.reps else "the keynote files' reps (" + ", ".join(
                f"{name}: {n}" for name, n in starts.items() if n == first) + ")"
            raise BadInput([f"--max-reps: must be at least the replications to start with, {first} from "
                            f"{where}; got {args.max_reps}"])
    max_reps = args.max_reps if args.max_reps is not None else DEFAULT_MAX_REPS
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise BadInput([f"--workers: must be at least 1, got {workers}"])
    out = Path(args.out)
    executor = make_executor("serial" if workers == 1 else "process", workers, None)
    started = time.perf_counter()

    def said(keynote: Any, run: Any) -> None:
        result = read_result(out / keynote.id)
        stop = f", at the cap with {len(run.open_checks)} check(s) undecided" if run.open_checks else ""
        swept = ", conditions swept" if run.swept else ""
        print(f"{keynote.id}: {run.verdict:<13} {keynote.claim} ({run.reason}; {run.replications} reps"
              f"{stop}{swept}, {settings_text(result)}, {run.seconds:.0f} s)", flush=True)
        for row in result.checks.itertuples():
            print(f"    {check_sentence(row, result.confidence, result.currency)}", flush=True)

    try:
        run_suite(keynotes, out, executor, args.confidence, args.reps, max_reps, args.step, args.seed,
                  args.horizon, not args.no_conditions, progress_bars(args.quiet), on_claim=said)
    except ExperimentError as error:
        raise BadInput(error.problems) from None
    finally:
        executor.close()
    print(
        f"\n{len(keynotes)} claims in {time.perf_counter() - started:.0f} s; report: {out / 'keynotes.html'} "
        f"(summary {out / 'keynotes.md'}, verdicts {out / 'verdicts.json'})"
    )
    return 0


def register(commands: Any) -> None:
    """Add ``report`` and ``keynotes`` to the command line."""
    report = commands.add_parser(
        "report", help="rebuild the HTML report of a run, compare, sweep, optimise or keynotes folder"
    )
    report.add_argument(
        "folder", metavar="DIR", help="output folder of run, compare, sweep, optimise or keynotes"
    )
    report.set_defaults(func=cmd_report)

    keynotes = commands.add_parser("keynotes", help="test the keynote claims K1-K8 and report verdicts")
    keynotes.add_argument(
        "files",
        nargs="*",
        metavar="KEYNOTE.yaml",
        help="keynote files (default: the built-in scenarios/keynotes/K*.yaml)",
    )
    keynotes.add_argument(
        "--reps", type=int, help="replications per set to start with (default: each file's `reps`)"
    )
    keynotes.add_argument(
        "--max-reps", type=int, metavar="N",
        help="add replications while a check is undecided, up to N per set (default 20; "
        "N = --reps runs a fixed number)",
    )
    keynotes.add_argument(
        "--step", type=int, default=5, metavar="N", help="replications per set added at a time (default 5)"
    )
    keynotes.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    keynotes.add_argument("--out", default="out/keynotes", help="output folder (default out/keynotes)")
    keynotes.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    keynotes.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    keynotes.add_argument("--horizon", type=float, help="override every keynote's horizon_days")
    keynotes.add_argument("--only", metavar="K1,K3", help="run only these claims")
    keynotes.add_argument(
        "--no-conditions",
        action="store_true",
        help="skip the sweeps of conditions for claims that do not hold",
    )
    keynotes.add_argument("--quiet", action="store_true", help="no progress bars")
    keynotes.set_defaults(func=cmd_keynotes)

    for name in ("run", "compare", "sweep"):  # registered before this module: add the switch to their parsers
        if name in commands.choices:
            commands.choices[name].add_argument(
                "--no-report", action="store_true", help="do not write report.html / report.md"
            )
