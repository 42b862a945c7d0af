"""Resource pools at the limit: utilisation on working hours and growing queues, in plain words.

A pool is **saturated** when over the KPI window it was busy at least
:data:`UTILISATION_LIMIT` of its working hours, or when its queue grew by at least
:data:`GROWTH_LIMIT` requests a week (mean queue of the last week minus that of the first,
per week between them) while it was busy at least :data:`GROWTH_UTILISATION` of its
working hours: in a pool with more slack a growing queue is demand rising with the season
or the trend, which the pool absorbs (a short run from January into spring shows it).
Both figures are KPIs (``staff_utilization.<pool>``,
``queue_growth_per_week.<pool>``), so a run, a comparison's means and a report rebuilt
from saved files give the same warnings; each names the pool and the scenario field
that staffs it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

UTILISATION_LIMIT = 0.95
"""Busy share of the working hours from which a pool counts as saturated."""
GROWTH_LIMIT = 1.0
"""Queue growth (requests per week) from which a pool counts as saturated."""
GROWTH_UTILISATION = 0.8
"""Busy share from which a growing queue counts (below it, rising demand is absorbed)."""


def _growing(utilisation: float, growth: float) -> bool:
    return math.isfinite(growth) and growth >= GROWTH_LIMIT and not utilisation < GROWTH_UTILISATION


def staffing_field(pool: str) -> str:
    """The scenario field that staffs a pool of the ``pools`` table."""
    if pool.startswith("technicians."):
        return f"staff.technicians.{pool.removeprefix('technicians.')}"
    if pool.startswith("carrier."):
        return f"logistics_providers[id={pool.removeprefix('carrier.')}].pickups_at_once"
    return f"staff.{pool}"


def saturated(utilisation: Mapping[str, float], growth: Mapping[str, float]) -> list[str]:
    """The saturated pools, busiest first."""
    pools = [pool for pool in utilisation
             if utilisation[pool] >= UTILISATION_LIMIT or _growing(utilisation[pool], growth.get(pool, 0.0))]
    return sorted(pools, key=lambda pool: (-utilisation[pool], pool))


def warnings(utilisation: Mapping[str, float], growth: Mapping[str, float], where: str = "") -> list[str]:
    """One sentence per saturated pool (``where``: e.g. "in set strategic", put after the pool)."""
    lines = []
    for pool in saturated(utilisation, growth):
        share, rise = utilisation[pool], growth.get(pool, math.nan)
        busy = f"busy {share:.0%} of its working hours" if math.isfinite(share) else "busy all the time"
        growing = _growing(share, rise)
        grows = f", its queue grew by {rise:,.1f} requests a week" if growing else ""
        place = f" {where}" if where else ""
        lines.append(f"bottleneck: {pool}{place} is saturated ({busy}{grows}); it is staffed by "
                     f"{staffing_field(pool)}. KPIs that depend on it measure the queue, not the policy.")
    return lines


def from_kpis(kpis: Mapping[str, object]) -> tuple[dict[str, float], dict[str, float]]:
    """Utilisation and queue growth per pool from nested KPIs (``kpis.json``) or flat ones (``a.b``)."""
    def part(name: str) -> dict[str, float]:
        nested = kpis.get(name)
        if isinstance(nested, Mapping):
            return {str(k): float(v) if v is not None else math.nan for k, v in nested.items()}
        prefix = f"{name}."
        return {k.removeprefix(prefix): float(v) for k, v in kpis.items()  # type: ignore[arg-type]
                if k.startswith(prefix)}
    return part("staff_utilization"), part("queue_growth_per_week")


def comparison_warnings(summary: Any, sets: Sequence[str]) -> list[str]:
    """The warnings of each set of a comparison, from the means of its ``summary`` table."""
    lines = []
    for set_name in sets:
        rows = summary[summary["set"] == set_name]
        means = dict(zip(rows["kpi"], rows["mean"], strict=True))
        lines += warnings(*from_kpis(means), where=f"in set {set_name}")
    return lines
