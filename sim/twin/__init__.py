"""The digital twin: calibrate a scenario from an event log, validate it, start it from today's state.

Modules: :mod:`~ordercycle.sim.twin.ocel` (OCEL 2.0 tables, JSON and SQLite, export of a
run), :mod:`~ordercycle.sim.twin.logs` (flat and OCEL logs into one case view, with the
activity mapping and the checks of malformed logs), :mod:`~ordercycle.sim.twin.fitting`
(distributions and arrival processes), :mod:`~ordercycle.sim.twin.calibrate` (log → scenario),
:mod:`~ordercycle.sim.twin.validate` (twin vs log), :mod:`~ordercycle.sim.twin.report`
(HTML, JSON, atomic writes), :mod:`~ordercycle.sim.twin.whatif` (bundles compared from a snapshot) and
:mod:`~ordercycle.sim.twin.promise` (promise risk).

State snapshots are engine capabilities the twin uses, not twin modules:
:mod:`~ordercycle.sim.snapshot` (schema and checks; :mod:`~ordercycle.sim.snapshot_tables`
reads them from CSV tables) and :mod:`~ordercycle.sim.placement` (a model starts from a
snapshot, or captures one).
"""
