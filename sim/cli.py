"""The ``ordercycle`` command line.

Commands: ``run`` (one simulation, outputs and a KPI table), ``schedule`` (solve a job
shop with CP-SAT), ``scenario schema``
(JSON Schema of the scenario format), ``scenario check FILE`` and ``policies list``.
Bad input exits with code 2 and one line per problem (``path: reason``), never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from ordercycle.policies.base import PolicyParameterError, describe_params
from ordercycle.policies.registry import DECISIONS, registry
from ordercycle.scenarios.loader import ScenarioError, load, override
from ordercycle.scenarios.schema import Scenario

EXIT_BAD_INPUT = 2

# Modules that add their own sub-commands: each has ``register(commands)``, which adds
# parsers to the sub-parser action and sets ``func`` on them; heavy imports (FastAPI,
# Dask) stay inside the command functions so that ``ordercycle run`` starts fast.
COMMAND_MODULES: tuple[str, ...] = (
    "ordercycle.sim.cli_experiments", "ordercycle.sim.cli_twin", "ordercycle.sim.cli_service",
    "ordercycle.sim.cli_reports",
)


class BadInput(Exception):
    """Input the user must fix; printed as lines, exit code 2."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _parse_policy_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    choices: dict[str, dict[str, Any]] = {}
    problems = []
    for item in items:
        decision, sep, name = item.partition("=")
        if not sep or not name:
            problems.append(f"--policy {item}: expected DECISION=NAME, e.g. priority=edd")
        elif decision not in DECISIONS:
            problems.append(f"--policy {item}: unknown decision {decision!r} (known: {', '.join(DECISIONS)})")
        else:
            choices[decision] = {"name": name, "params": {}}
    if problems:
        raise BadInput(problems)
    return choices


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

    from ordercycle.sim.run import simulate, write_outputs

    scenario = load(args.scenario)
    changes: dict[str, Any] = {"horizon_days": args.horizon, "warmup_days": args.warmup}
    if args.policy:
        changes["policies"] = _parse_policy_overrides(args.policy)
    scenario = override(scenario, **changes)
    if args.snapshot_at is not None and not 0 < args.snapshot_at <= scenario.horizon_days:
        raise BadInput([f"--snapshot-at: must be in (0, horizon_days = {scenario.horizon_days:g}], "
                        f"got {args.snapshot_at:g}"])
    out = Path(args.out) if args.out else Path("out") / f"run-{scenario.name}-seed{args.seed}"
    with tqdm(total=round(scenario.horizon_days), unit="day", desc=f"simulating {scenario.name}",
              disable=None if not args.quiet else True, leave=False) as bar:
        def progress(now: float) -> None:
            bar.update(round(now) - bar.n)

        result = simulate(scenario, seed=args.seed, progress=progress, snapshot_at=args.snapshot_at)
    write_outputs(result, out)
    if result.snapshot is not None:
        from ordercycle.sim.twin.placement import write_snapshot

        print(f"state at day {args.snapshot_at:g}: {len(result.snapshot.orders):,} open orders -> "
              f"{write_snapshot(result.snapshot, out / 'snapshot.json')}")
    print(_format_table(result.kpis))
    print(f"\n{len(result.events):,} events, {len(result.orders):,} inquiries -> {out}")
    from ordercycle.sim.cli_reports import report_after

    report_after(out, not getattr(args, "no_report", False))
    return 0


def cmd_scenario(args: argparse.Namespace) -> int:
    """``ordercycle scenario schema|check``."""
    if args.action == "schema":
        print(json.dumps(Scenario.model_json_schema(), indent=2))
        return 0
    scenario = load(args.file)
    from ordercycle.policies.registry import make_all

    make_all(scenario.policies.model_dump())
    if scenario.start is not None:
        from ordercycle.sim.twin.snapshot import snapshot_of_scenario

        snapshot_of_scenario(scenario)
    print(f"{args.file}: valid scenario {scenario.name!r}")
    return 0


def cmd_policies(args: argparse.Namespace) -> int:
    """``ordercycle policies list``: every registered policy with its parameters."""
    for decision, policies in registry().items():
        print(f"{decision}:")
        for name, cls in sorted(policies.items()):
            print(f"  {name:<24} {cls.summary}")
            for param in describe_params(cls):
                extra = f" [{param['constraints']}]" if param["constraints"] else ""
                print(f"      {param['name']}: {param['type']} = {param['default']}{extra}")
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    """``ordercycle schedule PROBLEM``: solve a job shop with CP-SAT, print the schedule as JSON."""
    from ordercycle.policies.jobshop import solve_jobshop
    from ordercycle.policies.jobshop_io import JobShopInputError, load_problem, problem_json_schema

    if args.schema:
        print(json.dumps(problem_json_schema(), indent=2))
        return 0
    problems = []
    if args.problem is None:
        problems.append("schedule: give a PROBLEM file (or --schema for the problem format)")
    if args.time_limit <= 0:
        problems.append(f"--time-limit: must be > 0, got {args.time_limit}")
    if args.workers < 1:
        problems.append(f"--workers: must be >= 1, got {args.workers}")
    if problems:
        raise BadInput(problems)
    try:
        problem = load_problem(args.problem, args.format)
    except JobShopInputError as error:
        raise BadInput(error.problems) from None
    result = solve_jobshop(problem, time_limit_seconds=args.time_limit, random_seed=args.seed,
                           num_workers=args.workers)
    print(json.dumps(result.model_dump(mode="json"), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="ordercycle", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

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

    scenario = commands.add_parser("scenario", help="scenario format tools")
    scenario_actions = scenario.add_subparsers(dest="action", required=True)
    scenario_actions.add_parser("schema", help="print the JSON Schema of scenarios")
    check = scenario_actions.add_parser("check", help="validate a scenario file")
    check.add_argument("file")
    scenario.set_defaults(func=cmd_scenario)

    policies = commands.add_parser("policies", help="policy registry")
    policies.add_argument("action", choices=["list"])
    policies.set_defaults(func=cmd_policies)

    schedule = commands.add_parser("schedule", help="solve a job-shop problem with CP-SAT (JSON out)")
    schedule.add_argument("problem", nargs="?", metavar="PROBLEM",
                          help="problem file: JSON (see --schema) or OR-Library job-shop text")
    schedule.add_argument("--format", choices=["json", "jsp"],
                          help="problem format (default: jsp for a .jsp file, else json)")
    schedule.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS",
                          help="search time limit in seconds (default 10)")
    schedule.add_argument("--workers", type=int, default=1, metavar="N",
                          help="CP-SAT search workers (default 1: reproducible unless the time limit is hit)")
    schedule.add_argument("--seed", type=int, default=0, help="CP-SAT random seed (default 0)")
    schedule.add_argument("--schema", action="store_true", help="print the JSON Schema of problems and exit")
    schedule.set_defaults(func=cmd_schedule)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ordercycle`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ScenarioError, PolicyParameterError, BadInput) as error:
        for line in error.problems:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
