"""ordercycle.sim: the SimPy engine of the order management cycle, and the applications built on it.

The engine is this package's own modules (``model``, ``steps/``, ``clock``, ``calendar``, ``resources``,
``entities``, ``eventlog``, ``streams``, ``invariants``, ``snapshot``, ``snapshot_tables``,
``placement``); :mod:`~ordercycle.sim.run` turns a run into output tables and KPIs (the one
place where the engine meets :mod:`ordercycle.reports`). On top of it:
:mod:`~ordercycle.sim.experiments` (compare, sweep, optimise, executors, result store),
:mod:`~ordercycle.sim.twin` (calibrate, validate, what-if, promise risk, OCEL) and
:mod:`~ordercycle.sim.cli` (the command line). The allowed imports are import-linter
contracts in ``pyproject.toml`` (``docs/architecture.md``).
"""
