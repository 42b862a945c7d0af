"""What every command group of the command line shares: bad input, policy options, progress, executors.

Bad input exits with code 2 and one line per problem (``path: reason``), never a
traceback: a command raises :class:`BadInput` (or a scenario / policy error) and
:func:`~ordercycle.sim.cli.parser.main` prints it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """Input the user must fix; printed as lines, exit code 2."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_policy_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``--policy DECISION=NAME`` options as policy choices (default parameters); bad ones exit 2."""
    from ordercycle.policies.registry import DECISIONS

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


def progress_bars(quiet: bool) -> Callable[[str, int], Callable[[], None]]:
    """A progress reporter for the experiment layer: one tqdm bar per stage, on stderr."""
    from tqdm import tqdm

    def start(stage: str, total: int) -> Callable[[], None]:
        bar = tqdm(total=total, desc=stage, unit="run", disable=quiet or total == 0, file=sys.stderr,
                   dynamic_ncols=True)

        def tick() -> None:
            bar.update(1)
            if bar.n >= total:
                bar.close()
        if total == 0:
            bar.close()
        return tick
    return start


def number(value: float) -> str:
    """A console number: thousands separated from 1,000, one decimal from 10, else three; – if undefined."""
    if value is None or not math.isfinite(value):
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def executor_from(args: argparse.Namespace) -> Any:
    """The executor that ``--executor``, ``--workers`` and ``--scheduler`` ask for."""
    from ordercycle.sim.experiments.executors import make_executor

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise BadInput([f"--workers: must be at least 1, got {workers}"])
    return make_executor(args.executor, workers, args.scheduler)
