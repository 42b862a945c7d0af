"""The strategist's workbench: a local web app to set up a comparison, watch it run and read the answer.

``ordercycle ui`` serves it (:mod:`ordercycle.sim.cli.workbench`). One module each:

- :mod:`~ordercycle.sim.ui.app` — ``create_app(settings)``, access rules (as ``serve``'s), templates;
- :mod:`~ordercycle.sim.ui.pages` — step 1, the scenario, and step 2, the policy sets;
- :mod:`~ordercycle.sim.ui.runs` — steps 3–5: start and watch runs, read reports, export the winner;
- :mod:`~ordercycle.sim.ui.levers` — the lever forms generated from the scenario's JSON Schema;
- :mod:`~ordercycle.sim.ui.company` — a scenario's company in plain words;
- :mod:`~ordercycle.sim.ui.policy_sets` — sets composed from the registry, said as the report says them;
- :mod:`~ordercycle.sim.ui.workspace` — the draft (scenario, sets, grid) kept as files;
- :mod:`~ordercycle.sim.ui.jobs` — runs as ``ordercycle`` commands in child processes;
- :mod:`~ordercycle.sim.ui.progress` — live progress from a run's log and result store;
- :mod:`~ordercycle.sim.ui.results` — result folders, downloads, export, the ``serve`` command.

It sits in the ``sim`` layers between the command line and the twin (``docs/architecture.md``):
it imports the experiments, scenarios, policies and reports, never the command line, whose
``ui`` command starts it. See ``docs/workbench.md``.
"""
