"""``ordercycle scenario schema|check`` and ``ordercycle policies list``: what the inputs may say."""

from __future__ import annotations

import argparse
import json
from typing import Any


def cmd_scenario(args: argparse.Namespace) -> int:
    """``ordercycle scenario schema|check``."""
    from ordercycle.scenarios.loader import load
    from ordercycle.scenarios.schema import Scenario

    if args.action == "schema":
        print(json.dumps(Scenario.model_json_schema(), indent=2))
        return 0
    scenario = load(args.file)
    from ordercycle.policies.registry import make_all

    make_all(scenario.policies.model_dump())
    if scenario.start is not None:
        from ordercycle.sim.snapshot import snapshot_of_scenario

        snapshot_of_scenario(scenario)
    print(f"{args.file}: valid scenario {scenario.name!r}")
    return 0


def cmd_policies(args: argparse.Namespace) -> int:
    """``ordercycle policies list``: every registered policy with its parameters."""
    from ordercycle.policies.base import describe_params
    from ordercycle.policies.registry import registry

    for decision, policies in registry().items():
        print(f"{decision}:")
        for name, cls in sorted(policies.items()):
            print(f"  {name:<24} {cls.summary}")
            for param in describe_params(cls):
                extra = f" [{param['constraints']}]" if param["constraints"] else ""
                print(f"      {param['name']}: {param['type']} = {param['default']}{extra}")
    return 0


def register(commands: Any) -> None:
    """Add ``scenario`` and ``policies`` to the command line."""
    scenario = commands.add_parser("scenario", help="scenario format tools")
    scenario_actions = scenario.add_subparsers(dest="action", required=True)
    scenario_actions.add_parser("schema", help="print the JSON Schema of scenarios")
    check = scenario_actions.add_parser("check", help="validate a scenario file")
    check.add_argument("file")
    scenario.set_defaults(func=cmd_scenario)

    policies = commands.add_parser("policies", help="policy registry")
    policies.add_argument("action", choices=["list"])
    policies.set_defaults(func=cmd_policies)
