"""What a comparison compares, whether each set's policies acted, and where its evidence is weak.

Built from a compare folder's saved tables only: ``experiment.json`` (the sets, the
reference and ``set_notes``: the decisions each set changes with the policies' summaries,
and the information its policies miss), ``replications.parquet`` (the ``decisions.*``
counts by outcome per replication) and ``summary.parquet``. Used by the comparison
report, the keynote report and the console of ``compare``, so they say the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ordercycle.reports.glossary import format_value

KEY_COLUMNS = ("set", "replication", "seed", "point", "error")
"""Columns of a replications table that are not KPIs."""
FEW_REPLICATIONS = 10
"""Below this many replications per set, the report says the intervals rest on few runs."""
THROUGHPUT_GAP = 0.05
"""A set delivering this share more or fewer orders than the reference: totals mislead."""
TRENDS = {"trend.on_time_delivery_rate": (0.02, "on-time delivery {sign} {size} from the first half of "
                                                  "the KPI window to the second"),
          "trend.open_orders": (0.10, "orders in progress {sign} {size} from mid-window to the horizon")}
"""Trend KPI -> (smallest size worth a warning, the sentence): a run still moving at the horizon."""


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {_value(v)}" for k, v in params.items())


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return "{" + _params(value) + "}"
    return str(value)


def _policy(name: str, params: Mapping[str, Any]) -> str:
    return f"{name} ({_params(params)})" if params else name


def change_sentence(change: Mapping[str, Any]) -> str:
    """One decision a set changes: ``pricing: informed-sales (add_transit = true) — summary;
    instead of list-price``."""
    mine = _policy(change["policy"], change["params"])
    theirs = _policy(change["reference_policy"], change["reference_params"])
    what = f"{change['decision']}: {mine}"
    if change.get("summary"):
        what += f" — {change['summary']}"
    return f"{what}; instead of {theirs}"


def set_descriptions(experiment: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per set, in the experiment's order: what it changes against the reference, then what
    its policies miss of the scenario's information (each a sentence)."""
    notes = experiment.get("set_notes") or {}
    reference = str(experiment.get("reference", ""))
    changes, information = notes.get("changes", {}), notes.get("information", {})
    described: dict[str, list[str]] = {}
    for name in experiment.get("sets", {}):
        if name == reference:
            lines = ["the reference: the scenario's policies" if not changes.get(name) else "the reference"]
        elif changes.get(name):
            lines = [change_sentence(change) for change in changes[name]]
        else:
            lines = ["changes nothing: the same policies as the reference"]
        lines += [f"note — {line}" for line in information.get(name, [])]
        described[name] = lines
    return described


def _decision_columns(replications: pd.DataFrame, kind: str) -> list[str]:
    prefix = f"decisions.{kind}."
    return sorted(c for c in replications.columns if c.startswith(prefix))


def changed_kinds(experiment: Mapping[str, Any]) -> list[str]:
    """Decision kinds that some set changes, in schema order (as ``set_notes`` lists them)."""
    changes = (experiment.get("set_notes") or {}).get("changes", {})
    kinds = [change["decision"] for name in changes for change in changes[name]]
    return list(dict.fromkeys(kinds))


def decision_rows(replications: pd.DataFrame, experiment: Mapping[str, Any],
                  sets: list[str]) -> list[list[str]]:
    """Rows ``[decision, outcome, mean count of each of ``sets``...]`` for every decision kind a
    set changes."""
    if "set" not in replications:
        return []
    decided = [c for c in replications.columns if c.startswith("decisions.")]
    # an outcome a run never had is absent from its KPIs: zero decisions of it, not unknown
    counts = replications[["set", *decided]].fillna(0)
    means = counts.groupby("set", sort=False).mean(numeric_only=True)
    rows = []
    for kind in changed_kinds(experiment):
        for column in _decision_columns(replications, kind):
            label = column.removeprefix(f"decisions.{kind}.")
            values = [means.at[name, column] if name in means.index else math.nan for name in sets]
            rows.append([kind, label] + [f"{v:,.1f}" if math.isfinite(v) else "–" for v in values])
    return rows


def _counts(replications: pd.DataFrame, name: str, columns: list[str]) -> pd.DataFrame:
    mine = replications[replications["set"] == name].sort_values("replication")
    return mine.set_index("replication")[columns].fillna(0)


def action_warnings(replications: pd.DataFrame, experiment: Mapping[str, Any]) -> list[str]:
    """Plain-words warnings: a changed policy that decided exactly as the reference's, a policy
    whose decisions all had one outcome, and sets whose runs were identical."""
    if "set" not in replications or not len(replications):
        return []
    reference = str(experiment.get("reference", ""))
    changes = (experiment.get("set_notes") or {}).get("changes", {})
    present = set(replications["set"])
    warnings: list[str] = []
    for name, changed in changes.items():
        if name not in present or reference not in present:
            continue
        for change in changed:
            kind = change["decision"]
            columns = _decision_columns(replications, kind)
            if not columns:
                continue
            mine, theirs = _counts(replications, name, columns), _counts(replications, reference, columns)
            totals = mine.sum()
            used = [c.removeprefix(f"decisions.{kind}.") for c in columns if totals[c] > 0]
            if mine.shape == theirs.shape and (mine.to_numpy() == theirs.to_numpy()).all():
                warnings.append(
                    f"{name}: its {kind} policy ({change['policy']}) took exactly the decisions of the "
                    f"reference's ({change['reference_policy']}) in every replication — the change made no "
                    "difference to that decision on this scenario"
                )
            elif len(used) == 1 and len(columns) > 1:
                warnings.append(
                    f"{name}: every {kind} decision of {change['policy']} was '{used[0]}' "
                    f"({int(totals.sum()):,} over {len(mine)} replications) — it never chose otherwise"
                )
    kpis = [c for c in replications.columns if c not in KEY_COLUMNS]
    sets = [s for s in experiment.get("sets", {}) if s in present]
    for i, first in enumerate(sets):
        for second in sets[i + 1:]:
            a, b = _counts(replications, first, kpis), _counts(replications, second, kpis)
            if a.shape == b.shape and a.equals(b):
                warnings.append(f"{first} and {second} gave identical runs in every replication: on this "
                                "scenario their differences do not matter")
    return warnings


def evidence_warnings(summary: pd.DataFrame, experiment: Mapping[str, Any],
                      currency: str = "EUR") -> list[str]:
    """Weak evidence in plain words: few replications, KPIs short of a target half-width, a set
    still moving at the horizon (the ``trend`` KPIs), and sets whose throughput differs so much
    from the reference's that totals mislead."""
    warnings: list[str] = []
    if not len(summary):
        return warnings
    n = int(summary.groupby("set")["n"].max().min())  # a KPI undefined in some runs has a smaller n
    if n < FEW_REPLICATIONS:
        warnings.append(
            f"only {n} replications per set: each interval rests on {n} runs, so a ranking can change "
            f"with more; read the differences' intervals, and add replications (--reps, or "
            "--target-half-width) before acting on a close call"
        )
    unresolved = experiment.get("unresolved_kpis") or []
    if unresolved:
        warnings.append("the target half-width was not reached for " + ", ".join(unresolved)
                        + " within the replication cap")
    for kpi, (smallest, sentence) in TRENDS.items():
        for row in summary[summary["kpi"] == kpi].itertuples():
            if not (math.isfinite(row.ci_low) and math.isfinite(row.ci_high)) or abs(row.mean) < smallest \
                    or row.ci_low <= 0 <= row.ci_high:
                continue
            rising = row.mean > 0
            size = f"{100 * abs(row.mean):.1f} {'points' if kpi.endswith('rate') else '%'}"
            said = sentence.format(sign="rises" if rising else "falls", size=size)
            warnings.append(
                f"{row.set} is still moving at the horizon: {said} (interval excludes zero) — a queue "
                "that keeps growing, a start-up the warm-up did not cut, or seasonal demand; its "
                "totals depend on the horizon chosen"
            )
    reference = str(experiment.get("reference", ""))
    delivered = summary[summary["kpi"] == "orders_delivered"].set_index("set")["mean"]
    per_order = summary[summary["kpi"] == "operating_cost_per_order"].set_index("set")["mean"]
    if reference in delivered.index and delivered[reference] > 0:
        for name, value in delivered.items():
            gap = value / delivered[reference] - 1
            if name != reference and abs(gap) >= THROUGHPUT_GAP:
                cost = ""
                if name in per_order.index and reference in per_order.index:
                    mine = format_value("operating_cost_per_order", per_order[name], currency)
                    theirs = format_value("operating_cost_per_order", per_order[reference], currency)
                    cost = f"; operating cost per delivered order {mine} against {theirs}"
                more = "more" if gap > 0 else "fewer"
                warnings.append(
                    f"{name} delivers {abs(gap):.0%} {more} orders than {reference} "
                    f"({value:,.0f} against {delivered[reference]:,.0f}): its totals (cost, revenue, profit) "
                    f"compare different volumes — read the per-order figures{cost}"
                )
    return warnings


GROUPS_NOTE = (
    "Groups and the differences' intervals come from paired differences: replication r of every "
    "set sees the same demand and the same breakdowns (common random numbers), so the noise they "
    "share cancels. They are much tighter than the separate intervals of the means, and two sets "
    "whose means' intervals overlap can still be told apart."
)
