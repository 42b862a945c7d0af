"""The digital twin: read a company's event log, calibrate a scenario from it, validate the twin.

Modules: :mod:`~ordercycle.sim.twin.ocel` (OCEL 2.0 tables, JSON and SQLite, export of a
run), :mod:`~ordercycle.sim.twin.logs` (flat and OCEL logs into one case view, with the
activity mapping and the checks of malformed logs), :mod:`~ordercycle.sim.twin.fitting`
(distributions and arrival processes), :mod:`~ordercycle.sim.twin.calibrate` (log → scenario),
:mod:`~ordercycle.sim.twin.validate` (twin vs log) and :mod:`~ordercycle.sim.twin.report`
(HTML, JSON, atomic writes).
"""
