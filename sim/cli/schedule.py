"""``ordercycle schedule``: solve a job-shop problem with CP-SAT and print the schedule as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ordercycle.sim.cli.common import BadInput


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


def register(commands: Any) -> None:
    """Add ``schedule`` to the command line."""
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
