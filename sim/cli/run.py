"""``ordercycle run``: simulate a scenario once, write its outputs and report, print the KPIs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ordercycle.scenarios.loader import load, override
from ordercycle.sim.cli.common import BadInput, default_output, parse_policy_overrides


def cmd_run(args: argparse.Namespace) -> int:
    """``ordercycle run``: simulate once, write outputs, print the KPI table."""
    from ordercycle.sim.cli.progress import run_progress
    from ordercycle.sim.run import simulate, write_outputs

    scenario = load(args.scenario)
    changes: dict[str, Any] = {"horizon_days": args.horizon, "warmup_days": args.warmup}
    if args.policy:
        changes["policies"] = parse_policy_overrides(args.policy)
    scenario = override(scenario, **changes)
    if args.snapshot_at is not None and not 0 < args.snapshot_at <= scenario.horizon_days:
        raise BadInput([f"--snapshot-at: must be in (0, horizon_days = {scenario.horizon_days:g}], "
                        f"got {args.snapshot_at:g}"])
    if args.snapshot_at is not None:
        prepaid = [f"segments.{i}.prepayment" for i, segment in enumerate(scenario.segments)
                   if segment.prepayment is not None and segment.prepayment.share > 0]
        if prepaid:  # nor orders on prepayment terms (docs/twin.md)
            raise BadInput([f"--snapshot-at: a state snapshot holds no orders on prepayment terms yet, and "
                            f"{field} puts some of them on such terms" for field in prepaid])
    out = Path(args.out) if args.out else default_output("run", scenario.name, args.seed)
    with run_progress(f"simulating {scenario.name}", scenario.horizon_days, args.quiet) as progress:
        result = simulate(scenario, seed=args.seed, progress=progress, snapshot_at=args.snapshot_at)
    write_outputs(result, out)
    if result.snapshot is not None:
        from ordercycle.sim.placement import write_snapshot

        print(f"state at day {args.snapshot_at:g}: {len(result.snapshot.orders):,} open orders -> "
              f"{write_snapshot(result.snapshot, out / 'snapshot.json')}")
    from ordercycle.reports import bottlenecks
    from ordercycle.reports.console import kpi_table, run_footer

    print(kpi_table(result.kpis, scenario.currency, scenario.warmup_days))
    for line in bottlenecks.warnings(*bottlenecks.from_kpis(result.kpis)):
        print(line)
    inquiries, cohort = len(result.orders), result.kpis.get("inquiries")
    print("\n" + run_footer(inquiries, cohort, len(result.events), scenario.warmup_days, out))
    from ordercycle.sim.cli.reports import report_after

    report_after(out, not getattr(args, "no_report", False))
    return 0


def register(commands: Any) -> None:
    """Add ``run`` to the command line."""
    run = commands.add_parser("run", help="simulate a scenario once and write its outputs")
    run.add_argument("scenario", nargs="?", default="baseline",
                     help="scenario YAML file or built-in name (default: baseline)")
    run.add_argument("--seed", type=int, default=0, help="root random seed (default 0)")
    run.add_argument("--horizon", type=float, help="override horizon_days")
    run.add_argument("--warmup", type=float, help="override warmup_days")
    run.add_argument("--out", help="output folder (default: out/run-<scenario>-seed<seed>)")
    run.add_argument("--policy", action="append", default=[], metavar="DECISION=NAME[:PARAM=VALUE,...]",
                     help="use another registered policy for a decision, with parameters if given, e.g. "
                     "selection=size-threshold:min_units=3 (repeatable; `ordercycle policies list`)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--snapshot-at", type=float, metavar="DAYS",
                     help="also write the state at this day as OUT/snapshot.json (see docs/twin.md)")
    run.set_defaults(func=cmd_run)
