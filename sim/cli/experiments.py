"""``ordercycle compare`` and ``ordercycle sweep``: experiments from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ordercycle.sim.cli.common import BadInput, default_output, executor_from, number, progress_bars

HEADLINE_KPIS = [
    "on_time_delivery_rate",
    "mean_lead_time_days",
    "orders_delivered",
    "revenue",
    "operating_cost",
    "profit",
    "days_sales_outstanding",
    "mean_unattended_hours",
]


def format_comparison(comparison: Any) -> str:
    """The console table: per KPI and set, mean ± half-width and the paired difference to the reference,
    in the KPI's unit; then the ranking by the objective and any saturated pool."""
    from ordercycle.reports import bottlenecks
    from ordercycle.reports.console import aligned, comparison_table

    summary = comparison.summary
    ranked = comparison.scenario.objective.kpis()
    kpis = list(dict.fromkeys(ranked + [k for k in HEADLINE_KPIS if k in set(summary["kpi"])]))
    level = f"{100 * comparison.confidence:g} %"
    lines = comparison_table(
        summary, kpis, comparison.reference, comparison.confidence, ranked, comparison.scenario.currency
    )
    lines += ["", f"Ranking by the objective (groups: sets that cannot be told apart at {level}):"]
    rows = []
    for row in comparison.ranking.itertuples():
        note = "" if row.feasible else f"infeasible: {row.violated}"
        interval = f"[{number(row.score_ci_low)}, {number(row.score_ci_high)}]"
        rows.append(
            [f"{row.rank}.", row.set, f"score {number(row.score)}", interval, f"group {row.group}", note]
        )
    lines += aligned(rows, right=(0, 2), indent="  ")
    winner = comparison.winner()
    lines.append(f"Winner: {winner}" if winner else "Winner: none (no set keeps every constraint)")
    lines += bottlenecks.comparison_warnings(summary, list(comparison.sets))
    return "\n".join(lines)


def comparison_notes(comparison: Any) -> str:
    """What each set is, and every warning in plain words (as the reports say them)."""
    from ordercycle.reports import explain
    from ordercycle.sim.experiments.comparison import experiment_json

    experiment = experiment_json(comparison)
    lines = ["", "What each set is:"]
    for name, said in explain.set_descriptions(experiment).items():
        lines.append(f"  {name}:")
        lines += [f"    - {line}" for line in said]
    warnings = (explain.action_warnings(comparison.replications, experiment)
                + explain.evidence_warnings(comparison.summary, experiment, comparison.scenario.currency))
    if warnings:
        lines += ["", "Read with care:"] + [f"  - {line}" for line in warnings]
    return "\n".join(lines)


def _warmup(text: str | None) -> float | str | None:
    if text is None or text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise BadInput([f"--warmup: 'auto' or a number of days, got {text!r}"]) from None


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare policy sets with common random numbers; write tables and print the comparison."""
    from ordercycle.scenarios.experiment_files import load_sets
    from ordercycle.scenarios.loader import load, override
    from ordercycle.sim.experiments import ExperimentError, compare, write_comparison

    scenario = load(args.scenario)
    if args.horizon is not None:
        scenario = override(scenario, horizon_days=args.horizon)
    sets = load_sets(args.sets) if args.sets else None
    out = Path(args.out) if args.out else default_output("compare", scenario.name, args.seed)
    executor = executor_from(args)
    started = time.perf_counter()
    try:
        comparison = compare(
            scenario,
            sets,
            reps=args.reps,
            seed=args.seed,
            executor=executor,
            out=out,
            confidence=args.confidence,
            reference=args.reference,
            warmup=_warmup(args.warmup),
            target_relative_half_width=args.target_half_width,
            max_reps=args.max_reps,
            pilots=args.pilots,
            progress=progress_bars(args.quiet),
        )
    except ExperimentError as error:
        raise BadInput(error.problems) from None
    finally:
        executor.close()
    write_comparison(comparison, out)
    print(format_comparison(comparison))
    print(comparison_notes(comparison))
    print(
        f"\n{comparison.replications_used} replications per set, warm-up {comparison.warmup.days:g} d "
        f"({comparison.warmup.method}), {time.perf_counter() - started:.1f} s; results in {out}"
    )
    if comparison.open_kpis:
        print(
            f"note: relative half-width still above target after {args.max_reps} replications for: "
            + ", ".join(comparison.open_kpis)
        )
    from ordercycle.sim.cli.reports import report_after

    report_after(out, not getattr(args, "no_report", False))
    if len(comparison.errors):
        print(f"{len(comparison.errors)} replication(s) failed (see {out / 'errors.csv'}):", file=sys.stderr)
        for row in comparison.errors.itertuples():
            print(
                f"  set {row.set} replication {row.replication} seed {row.seed}: {row.error}", file=sys.stderr
            )
        return 1
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a grid (or sample) of scenario variants × policy sets × replications."""
    from ordercycle.scenarios.experiment_files import load_grid, load_sets
    from ordercycle.scenarios.loader import load, override
    from ordercycle.sim.experiments import ExperimentError, sweep, write_sweep

    scenario = load(args.scenario)
    if args.horizon is not None:
        scenario = override(scenario, horizon_days=args.horizon)
    grid = load_grid(args.grid)
    sets = load_sets(args.sets) if args.sets else None
    out = Path(args.out) if args.out else default_output("sweep", scenario.name, args.seed)
    executor = executor_from(args)
    started = time.perf_counter()
    try:
        result = sweep(
            scenario,
            grid,
            sets,
            reps=args.reps,
            seed=args.seed,
            executor=executor,
            out=out,
            confidence=args.confidence,
            progress=progress_bars(args.quiet),
        )
    except ExperimentError as error:
        raise BadInput(error.problems) from None
    finally:
        executor.close()
    write_sweep(result, out, scenario, grid, args.seed, args.reps)
    if len(result.summary):
        from ordercycle.reports.console import sweep_summary
        from ordercycle.reports.sweep_report import load_sweep

        print("\n".join(sweep_summary(load_sweep(out))) + "\n")
    sets = result.replications["set"].nunique() if len(result.replications) else 0
    print(
        f"{len(result.points)} points × {sets} sets × {args.reps} "
        f"replications in {time.perf_counter() - started:.1f} s; results in {out}"
    )
    from ordercycle.sim.cli.reports import report_after

    report_after(out, not getattr(args, "no_report", False))
    if len(result.errors):
        print(f"{len(result.errors)} replication(s) failed (see {out / 'errors.csv'})", file=sys.stderr)
        return 1
    return 0


def _common(parser: argparse.ArgumentParser, reps: int) -> None:
    parser.add_argument(
        "scenario",
        nargs="?",
        default="baseline",
        help="scenario YAML file or built-in name (default: baseline)",
    )
    parser.add_argument(
        "--sets", metavar="SETS.yaml", help="policy sets file (default: the scenario's sets:)"
    )
    parser.add_argument("--reps", type=int, default=reps, help=f"replications per set (default {reps})")
    parser.add_argument("--seed", type=int, default=0, help="root seed shared by every set (default 0)")
    parser.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    parser.add_argument(
        "--executor",
        choices=["process", "serial", "dask"],
        default="process",
        help="process pool (default), serial, or a Dask LocalCluster",
    )
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--horizon", type=float, help="override horizon_days")
    parser.add_argument("--out", help="output folder (re-running with the same folder resumes)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def register(commands: Any) -> None:
    """Add ``compare`` and ``sweep`` to the command line."""
    compare = commands.add_parser("compare", help="compare policy sets with common random numbers")
    _common(compare, reps=10)
    compare.add_argument("--reference", help="set to compare the others with (default: the first)")
    compare.add_argument(
        "--warmup",
        metavar="auto|DAYS",
        help="warm-up: 'auto' (MSER-5 on pilot runs) or days (default: the scenario's)",
    )
    compare.add_argument(
        "--pilots", type=int, default=5, help="pilot replications for --warmup auto (default 5)"
    )
    compare.add_argument(
        "--target-half-width",
        type=float,
        metavar="REL",
        help="add replications until every ranked KPI's relative half-width is below REL",
    )
    compare.add_argument(
        "--max-reps", type=int, default=100, help="cap for --target-half-width (default 100)"
    )
    compare.set_defaults(func=cmd_compare)

    sweep = commands.add_parser("sweep", help="grid or Latin-hypercube sweep over scenario parameters")
    _common(sweep, reps=5)
    sweep.add_argument("--grid", required=True, metavar="GRID.yaml", help="parameters to vary")
    sweep.set_defaults(func=cmd_sweep)
    register_optimise(commands)


def cmd_optimise(args: argparse.Namespace) -> int:
    """Tune policy parameters with Optuna under common random numbers; confirm the winner."""
    from ordercycle.scenarios.loader import load, override
    from ordercycle.sim.experiments import ExperimentError
    from ordercycle.sim.experiments.optimisation import load_space, optimise, parse_objectives, write_study

    scenario = load(args.scenario)
    if args.horizon is not None:
        scenario = override(scenario, horizon_days=args.horizon)
    space = load_space(args.space)
    out = Path(args.out) if args.out else default_output("optimise", scenario.name, args.seed)
    for flag, value, least in (
        ("--trials", args.trials, 1),
        ("--reps", args.reps, 2),
        ("--batch", args.batch, 1),
        ("--top", args.top, 1),
        ("--confirm-reps", args.confirm_reps, 2),
    ):
        if value < least:
            raise BadInput([f"{flag}: must be at least {least}, got {value}"])
    executor = executor_from(args)
    started = time.perf_counter()
    try:
        objectives = parse_objectives(args.objective)
        study = optimise(
            scenario,
            space,
            objectives=objectives,
            trials=args.trials,
            reps=args.reps,
            seed=args.seed,
            batch=args.batch,
            top=args.top,
            confirm_reps=args.confirm_reps,
            confidence=args.confidence,
            executor=executor,
            out=out,
            progress=progress_bars(args.quiet),
        )
    except ExperimentError as error:
        raise BadInput(error.problems) from None
    finally:
        executor.close()
    write_study(
        study,
        out,
        scenario,
        space,
        seed=args.seed,
        reps=args.reps,
        confirm_reps=args.confirm_reps,
        confidence=args.confidence,
    )
    from ordercycle.sim.cli.reports import report_after

    report_after(out, not args.no_report)
    elapsed = time.perf_counter() - started
    ok = study.trials[study.trials["status"] == "ok"]
    print(
        f"{len(study.trials)} trials ({len(ok)} evaluated) × {args.reps} replications in {elapsed:.1f} s "
        f"({60 * len(study.trials) / elapsed:.1f} trials/min); results in {out}"
    )
    if study.importances:
        print("parameter importances: " + ", ".join(f"{k} {v:.2f}" for k, v in study.importances.items()))
    if study.directions is not None:
        print(
            f"Pareto front: trials {study.pareto} (re-evaluated on {args.confirm_reps} fresh replications "
            f"in confirmation.csv)"
        )
        from ordercycle.reports.console import mean_and_range

        currency = scenario.currency
        for point in study.front():
            apart = point["indistinguishable_from"]
            print(
                f"  trial {point['trial']}: "
                + ", ".join(
                    f"{kpi} {mean_and_range(kpi, v['mean'], v['ci_low'], v['ci_high'], currency)}"
                    for kpi, v in point["kpis"].items()
                )
                + (f"; cannot be told apart from trials {apart}" if apart else "")
            )
        return 0
    if study.winner is None:
        print("no setting keeps the objective's constraints")
        return 0
    if study.winner["trial"] is None:
        print("the current policy set is still the best after re-evaluation")
        return 0
    gain = study.improvement
    level = f"{args.confidence:.0%}"
    print(f"winner: trial {study.winner['trial']} {study.winner['params']}")
    print(
        f"objective {number(gain['winner_score'])} vs current {number(gain['current_score'])}: "
        f"{'+' if gain['score_difference'] >= 0 else ''}{number(gain['score_difference'])} "
        f"[{number(gain['ci_low'])}, {number(gain['ci_high'])}] ({level} paired CI over "
        f"{args.confirm_reps} fresh replications, p = {number(gain['p_value'])})"
    )
    return 0


def register_optimise(commands: Any) -> None:
    """Add ``optimise`` to the command line."""
    optimise = commands.add_parser("optimise", help="tune policy parameters (Optuna, common random numbers)")
    _common(optimise, reps=3)
    optimise.add_argument("--space", required=True, metavar="SPACE.yaml", help="the knobs and their ranges")
    optimise.add_argument(
        "--objective",
        metavar="KPI:max,KPI:min",
        help="KPIs of a multi-objective (Pareto) search (default: the scenario objective)",
    )
    optimise.add_argument("--trials", type=int, default=30, help="trials (default 30)")
    optimise.add_argument("--batch", type=int, default=4, help="trials asked at a time (default 4)")
    optimise.add_argument("--top", type=int, default=3, help="best trials re-evaluated (default 3)")
    optimise.add_argument(
        "--confirm-reps", type=int, default=10, help="fresh replications of the re-evaluation (default 10)"
    )
    optimise.add_argument("--no-report", action="store_true", help="do not write report.html / report.md")
    optimise.set_defaults(func=cmd_optimise)
