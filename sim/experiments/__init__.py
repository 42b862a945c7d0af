"""The experiment layer: many runs of the engine, compared with common random numbers.

Applications built on :func:`ordercycle.sim.run.simulate`; the engine knows nothing of
them. One module each:

- :mod:`~ordercycle.sim.experiments.replications` — the replication task, its content
  key, and what compare, sweep and optimise share (policy sets, KPI names, tables);
- :mod:`~ordercycle.sim.experiments.comparison` — :func:`compare` (``ordercycle compare``);
- :mod:`~ordercycle.sim.experiments.sweeps` — :func:`sweep` (``ordercycle sweep``);
- :mod:`~ordercycle.sim.experiments.optimisation` — :func:`optimise` (``ordercycle optimise``);
- :mod:`~ordercycle.sim.experiments.executors` — serial, process-pool and Dask executors;
- :mod:`~ordercycle.sim.experiments.store` — the content-keyed result store (resume).

The names below are the Python API (for notebooks): ``from ordercycle.sim.experiments
import compare, sweep, ProcessExecutor``.
"""

from ordercycle.sim.experiments.comparison import Comparison, Warmup, compare, write_comparison
from ordercycle.sim.experiments.executors import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from ordercycle.sim.experiments.optimisation import (
    Direction,
    SpaceFile,
    Study,
    load_space,
    optimise,
    parse_objectives,
    write_study,
)
from ordercycle.sim.experiments.replications import ExperimentError, flatten_kpis, resolve_sets
from ordercycle.sim.experiments.store import ResultStore
from ordercycle.sim.experiments.sweeps import SweepResult, sweep, write_sweep

__all__ = [
    "Comparison", "DaskExecutor", "Direction", "ExperimentError", "ProcessExecutor", "ResultStore",
    "SerialExecutor", "SpaceFile", "Study", "SweepResult", "Warmup", "compare", "flatten_kpis",
    "load_space", "make_executor", "optimise", "parse_objectives", "resolve_sets", "sweep",
    "write_comparison", "write_study", "write_sweep",
]
