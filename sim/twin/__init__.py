"""The digital twin: calibrate a scenario from an event log, validate it, start it from today's state.

Modules: :mod:`~ordercycle.sim.twin.ocel` (OCEL 2.0 tables, JSON and SQLite, export of a
run; :mod:`~ordercycle.sim.twin.ocel_lines` its items and packages),
:mod:`~ordercycle.sim.twin.ocel_read` (reading OCEL 2.0 JSON / XML / SQLite and OCEL 1.0 JSON /
XML as pm4py and the standard write them), :mod:`~ordercycle.sim.twin.timestamps` (times that
name a day), :mod:`~ordercycle.sim.twin.logs` (flat logs into one case view, with the activity
mapping and the checks of malformed logs), :mod:`~ordercycle.sim.twin.objects` and
:mod:`~ordercycle.sim.twin.ocel_log` (an OCEL log's events followed to their orders through
items, packages and object links), :mod:`~ordercycle.sim.twin.fitting` and
:mod:`~ordercycle.sim.twin.fitting_orders` (distributions, arrival processes and profiles,
lines per order, the product mix, transit with delays), :mod:`~ordercycle.sim.twin.calibrate`
(log → scenario: :mod:`~ordercycle.sim.twin.fit_orders` the segments,
:mod:`~ordercycle.sim.twin.fit_flow` tasks, carriers, resources and calendars,
:mod:`~ordercycle.sim.twin.calibration` the record and its ledger),
:mod:`~ordercycle.sim.twin.measures` and :mod:`~ordercycle.sim.twin.validate` (twin vs log),
:mod:`~ordercycle.sim.twin.report` (HTML, JSON, atomic writes), :mod:`~ordercycle.sim.twin.whatif`
(bundles compared from a snapshot) and :mod:`~ordercycle.sim.twin.promise` (promise risk).

State snapshots are engine capabilities the twin uses, not twin modules:
:mod:`~ordercycle.sim.snapshot` (schema and checks; :mod:`~ordercycle.sim.snapshot_tables`
reads them from CSV tables) and :mod:`~ordercycle.sim.placement` (a model starts from a
snapshot, or captures one).
"""
