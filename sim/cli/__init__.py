"""The ``ordercycle`` command line: one module per command group, on top of everything else.

:mod:`~ordercycle.sim.cli.parser` builds the parser from the groups and maps bad input
to exit code 2; :mod:`~ordercycle.sim.cli.common` holds what the groups share. Groups:
:mod:`~ordercycle.sim.cli.run` (``run``), :mod:`~ordercycle.sim.cli.describe`
(``scenario``, ``policies``), :mod:`~ordercycle.sim.cli.schedule` (``schedule``),
:mod:`~ordercycle.sim.cli.experiments` (``compare``, ``sweep``, ``optimise``),
:mod:`~ordercycle.sim.cli.twin` (``export-ocel``, ``calibrate``, ``validate``, ``whatif``,
``promise-risk``), :mod:`~ordercycle.sim.cli.service` (``export``, ``serve``,
``decisions``, ``replay``) and :mod:`~ordercycle.sim.cli.reports` (``report``, ``keynotes``).

The console script ``ordercycle`` is :func:`main`; ``python -m ordercycle.sim.cli`` runs it too.
"""

from ordercycle.sim.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
