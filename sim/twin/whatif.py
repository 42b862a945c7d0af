"""What-if from today: compare policy bundles from a state snapshot.

Each bundle becomes one policy set of :func:`~ordercycle.sim.experiments.compare` (the
decisions it covers replace the scenario's; the others stay); every set starts from the
same snapshot and sees the same random streams in replication r (common random numbers).
The runs have no warm-up, so the usual KPIs count the inquiries that arrive after the
snapshot; the orders already open are judged by the ``carried_over.*`` KPIs
(:func:`ordercycle.sim.run.carried_over_kpis`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ordercycle.policies.bundle import Bundle
from ordercycle.scenarios.loader import ScenarioError, override, parse
from ordercycle.scenarios.schema import PolicySetChanges, Scenario
from ordercycle.sim.experiments import Comparison, compare
from ordercycle.sim.snapshot import Snapshot, starting_from


def set_name(bundle: Bundle, taken: set[str]) -> str:
    """A policy-set name for a bundle: its file's stem (``-2``, ``-3`` … when taken)."""
    base = Path(bundle.source).stem if bundle.source else bundle.content_hash[:8]
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}-{k}"
    return name


def bundle_sets(bundles: list[Bundle]) -> dict[str, dict[str, Any]]:
    """Policy sets by name, one per bundle: decision -> {name, params} of the bundle's policies."""
    sets: dict[str, dict[str, Any]] = {}
    for bundle in bundles:
        policies = bundle.document["policies"]
        sets[set_name(bundle, set(sets))] = {
            decision: {"name": entry["name"], "params": entry["params"]}
            for decision, entry in sorted(policies.items())
        }
    return sets


def bundle_scenario(bundle: Bundle) -> Scenario:
    """The scenario a bundle carries (the one its policies were chosen on)."""
    try:
        return parse(bundle.document["scenario"])
    except ScenarioError as error:
        source = bundle.source or "bundle"
        raise ScenarioError([f"{source}: scenario.{line}" for line in error.problems]) from None


def deployed_scenario(bundle: Bundle, scenario: Scenario | None = None) -> Scenario:
    """``scenario`` (default: the bundle's own) with the bundle's policies in place of its own."""
    base = scenario if scenario is not None else bundle_scenario(bundle)
    changes = PolicySetChanges.model_validate(next(iter(bundle_sets([bundle]).values())))
    return override(base, policies=changes.apply(base.policies).model_dump(mode="python"))


def whatif(snapshot: Snapshot, bundles: list[Bundle], scenario: Scenario | None = None, *,
           days: float = 28.0, reps: int = 10, seed: int = 0, **options: Any) -> Comparison:
    """Compare ``bundles`` over ``days`` from ``snapshot``.

    Args:
        snapshot: where the company stands (checked against the scenario by the runs;
            check it first with :func:`~ordercycle.sim.snapshot.parse_snapshot`).
        bundles: at least one; each is a policy set named after its file.
        scenario: the company (default: the first bundle's scenario).
        days: look-ahead, days from the snapshot.
        reps: replications per bundle (common random numbers across bundles).
        options: passed on to :func:`~ordercycle.sim.experiments.compare` (executor, out,
            confidence, progress, ...).
    """
    company = scenario if scenario is not None else bundle_scenario(bundles[0])
    start = starting_from(company, snapshot, days)
    return compare(start, bundle_sets(bundles), reps=reps, seed=seed, warmup=0.0, **options)
