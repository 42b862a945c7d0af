"""The ``ordercycle`` command line.

Commands: ``run`` (one simulation, outputs and a KPI table), ``scenario schema``
(JSON Schema of the scenario format), ``scenario check FILE``, ``policies list``,
``schedule`` (solve a job shop with CP-SAT), the experiments (``compare``, ``sweep``,
``optimise``), the twin (``export-ocel``, ``calibrate``, ``validate``, ``whatif``,
``promise-risk``), the decision service (``export``, ``serve``, ``decisions``,
``replay``), the workbench (``ui``) and the reports (``report``, ``keynotes``).
Bad input exits with code 2 and one line per problem (``path: reason``), never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.input_files import InputFileError
from ordercycle.scenarios.loader import ScenarioError
from ordercycle.sim.cli.common import EXIT_BAD_INPUT, BadInput, warnings_on_stderr

# One module per command group, in the order of the help text. Each has
# ``register(commands)``, which adds parsers to the sub-parser action and sets ``func``
# on them; heavy imports (FastAPI, Dask, the engine) stay inside the command functions
# so that the parser builds fast (``ordercycle report`` of a run folder needs neither the
# scenario schema nor the policies). ``reports`` comes last: it adds ``--no-report`` to
# the parsers of ``run``, ``compare`` and ``sweep``.
COMMAND_MODULES: tuple[str, ...] = (
    "ordercycle.sim.cli.run", "ordercycle.sim.cli.describe", "ordercycle.sim.cli.schedule",
    "ordercycle.sim.cli.experiments", "ordercycle.sim.cli.twin", "ordercycle.sim.cli.service",
    "ordercycle.sim.cli.workbench", "ordercycle.sim.cli.reports",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="ordercycle", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ordercycle`` console script."""
    args = build_parser().parse_args(argv)
    with warnings_on_stderr():
        try:
            return int(args.func(args))
        except (ScenarioError, PolicyParameterError, BadInput, InputFileError) as error:
            for line in error.problems:
                print(f"error: {_bounded(line)}", file=sys.stderr)
            return EXIT_BAD_INPUT


MAX_LINE = 1000
"""Longest problem line printed: a message naming hostile input never floods the terminal."""


def _bounded(line: str) -> str:
    return line if len(line) <= MAX_LINE else f"{line[:MAX_LINE]}… ({len(line) - MAX_LINE:,} more characters)"

