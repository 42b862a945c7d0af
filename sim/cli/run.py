"""``ordercycle run``: simulate a scenario once, write its outputs and report, print the KPIs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ordercycle.sim.cli.common import BadInput, parse_policy_overrides


def _format_table(kpis: dict[str, Any]) -> str:
    lines = []
    width = max(len(k) for k in kpis)
    for key, value in kpis.items():
        if isinstance(value, dict):
            inner = ", ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items()
            )
            lines.append(f"{key:<{width}}  {inner}")
        elif isinstance(value, float):
            lines.append(f"{key:<{width}}  {value:,.3f}")
        else:
            lines.append(f"{key:<{width}}  {value:,}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """``ordercycle run``: simulate once, write outputs, print the KPI table."""
    from tqdm import tqdm

    from ordercycle.scenarios.loader import load, override
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
        multi = [f"segments.{i}.lines_per_order" for i, segment in enumerate(scenario.segments)
                 if segment.lines_per_order.model_dump() != {"dist": "fixed", "value": 1.0}]
        if multi:  # a snapshot holds one-line orders only (docs/twin.md)
            raise BadInput([f"--snapshot-at: a state snapshot holds one-line orders only, and {field} "
                            "gives orders of several lines (try the built-in around-the-clock company)"
                            for field in multi])
    out = Path(args.out) if args.out else Path("out") / f"run-{scenario.name}-seed{args.seed}"
    with tqdm(total=round(scenario.horizon_days), unit="day", desc=f"simulating {scenario.name}",
              disable=None if not args.quiet else True, leave=False) as bar:
        def progress(now: float) -> None:
            bar.update(round(now) - bar.n)

        result = simulate(scenario, seed=args.seed, progress=progress, snapshot_at=args.snapshot_at)
    write_outputs(result, out)
    if result.snapshot is not None:
        from ordercycle.sim.placement import write_snapshot

        print(f"state at day {args.snapshot_at:g}: {len(result.snapshot.orders):,} open orders -> "
              f"{write_snapshot(result.snapshot, out / 'snapshot.json')}")
    print(_format_table(result.kpis))
    from ordercycle.reports import bottlenecks

    for line in bottlenecks.warnings(*bottlenecks.from_kpis(result.kpis)):
        print(line)
    print(f"\n{len(result.events):,} events, {len(result.orders):,} inquiries -> {out}")
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
    run.add_argument("--policy", action="append", default=[], metavar="DECISION=NAME",
                     help="use another registered policy for a decision (repeatable)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--snapshot-at", type=float, metavar="DAYS",
                     help="also write the state at this day as OUT/snapshot.json (see docs/twin.md)")
    run.set_defaults(func=cmd_run)
