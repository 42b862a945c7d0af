"""Validate a calibrated twin against the log it was calibrated from.

The twin is simulated over the log's period for several replications with common
random numbers (the experiment tasks and executors); the same measures are computed
from the log and from every replication (:func:`log_metrics`), and the log is judged
as one more replication: a scalar is inside when it lies in the replications'
95 % prediction interval (mean ± t × s × √(1 + 1/R)); a distribution is inside unless
its mean distance (KS, Wasserstein) to the replications is too large for one more
replication's mean distance to the others (same prediction-interval idea, one-sided),
at a family-wise level of 5 % across distributions (Holm), see :func:`_distance_test`.
"""

from __future__ import annotations

import json
import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ordercycle.scenarios.loader import override, parse
from ordercycle.scenarios.schema import Scenario
from ordercycle.sim.experiments.executors import Executor, SerialExecutor, run_all
from ordercycle.sim.experiments.replications import ReplicationTask, make_task
from ordercycle.sim.twin.logs import OBJECT_COLUMNS, CaseLog
from ordercycle.sim.twin.measures import MeasurePlan, log_metrics, plan_for
from ordercycle.sim.twin.ocel import ID_TYPES

DISTRIBUTION_LEVEL = 0.05
"""Family-wise error rate of the distribution judgements (Holm across distributions)."""


def case_log_from_run(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    origin: pd.Timestamp,
    span_days: float,
    source: str = "simulation",
    lines: pd.DataFrame | None = None,
    shipment_lines: pd.DataFrame | None = None,
) -> CaseLog:
    """The case view of a run's tables, as :func:`~ordercycle.sim.twin.logs.read_log` gives for its export.

    With ``lines`` (``lines.parquet``) and ``shipment_lines`` the orders' lines and what each
    package carries come too, as the OCEL export's items and packages give them.
    """
    rows = events[events["order_id"].fillna(-1) > 0].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "case_id": "order:" + rows["order_id"].astype("Int64").astype(str),
            "activity": rows["activity"].astype(str),
            "time": rows["time"].to_numpy(dtype=float),
            "resource": rows["resource"].astype("string"),
        }
    )
    frame["source_activity"] = frame["activity"]
    frame["timestamp"] = origin + pd.to_timedelta(frame["time"], unit="D")
    frame["resource_name"] = frame["resource"]
    for column in OBJECT_COLUMNS:
        kind = ID_TYPES[column]  # the object type of the OCEL export (``package:17``)
        if column not in rows:  # (a log without lines)
            frame[column] = None
            continue
        values = rows[column]
        frame[column] = (kind + ":" + values.astype("Int64").astype(str)).where(values.notna(), None)
    frame["quantity"] = rows["quantity"].astype("float64")
    frame["amount"] = rows["amount"].astype("float64")
    frame["row"] = np.arange(len(frame))
    frame["event_id"] = (frame["row"] + 1).astype(str)
    cases = pd.DataFrame(
        {
            "segment": orders["segment"].astype("string").to_numpy(),
            "customer": orders["customer_id"].astype("string").to_numpy(),
            "product": orders["product_id"].astype("string").to_numpy(),
            "quantity": orders["quantity"].astype(float).to_numpy(),
            "price": orders["unit_price"].to_numpy(dtype=float),
            "promised_date": orders["promised_date"].to_numpy(dtype=float),
        },
        index=pd.Index("order:" + orders["order_id"].astype(str), name="case_id"),
    )
    items = contents = None
    if lines is not None and len(lines):
        items = pd.DataFrame({
            "line_id": "item:" + lines["line_id"].astype(str),
            "case_id": "order:" + lines["order_id"].astype(str),
            "product": lines["product_id"].astype("string"),
            "quantity": lines["quantity"].astype(float),
            "price": lines["unit_price"].astype(float),
            "line": lines["line_number"].astype(float),
        })
    if shipment_lines is not None and len(shipment_lines):
        contents = pd.DataFrame({
            "shipment_id": "package:" + shipment_lines["shipment_id"].astype(str),
            "line_id": "item:" + shipment_lines["line_id"].astype(str),
            "case_id": "order:" + shipment_lines["order_id"].astype(str),
        })
    counts = frame["activity"].value_counts()
    return CaseLog(frame, cases, origin, span_days, source, lines=items, contents=contents,
                   totals={str(k): int(v) for k, v in counts.items()},
                   mapped={str(k): str(k) for k in counts.index}, source_format="simulation")


def run_twin_replication(task: ReplicationTask, plan: MeasurePlan) -> dict[str, Any]:
    """Simulate one replication of the twin (in a worker) and return its measures under ``plan``."""
    from ordercycle.sim.run import simulate

    scenario = parse(json.loads(task.scenario_json))
    result = simulate(scenario, task.seed, task.replication)
    log = case_log_from_run(result.events, result.orders, pd.Timestamp("1970-01-01"), scenario.horizon_days,
                            lines=result.lines, shipment_lines=result.shipment_lines)
    return {"status": "ok", "metrics": log_metrics(log, plan)}


def _prediction(values: list[float], observed: float | None) -> dict[str, Any]:
    """The log's value against the replications' 95 % prediction interval, with the two-sided p value of
    the log as one more replication (Student's t, R − 1 degrees of freedom)."""
    sample = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if observed is None or len(sample) < 2:
        return {
            "log": observed,
            "sim_mean": float(np.mean(sample)) if len(sample) else None,
            "low": None,
            "high": None,
            "p": None,
            "inside": None,
        }
    mean, spread = float(np.mean(sample)), float(np.std(sample, ddof=1))
    scale = spread * math.sqrt(1 + 1 / len(sample))
    half = float(stats.t.ppf(0.975, len(sample) - 1)) * scale
    low, high = mean - half, mean + half
    if scale > 1e-12:
        p = float(2 * stats.t.sf(abs(observed - mean) / scale, len(sample) - 1))
    else:
        p = 1.0 if abs(observed - mean) <= 1e-9 * max(1.0, abs(mean)) else 0.0
    return {
        "log": float(observed),
        "sim_mean": mean,
        "low": low,
        "high": high,
        "p": p,
        "inside": bool(low - 1e-9 <= observed <= high + 1e-9),
    }


def _distance_test(observed: list[float], replications: list[list[float]]) -> dict[str, Any]:
    """How far the log's distribution is from the replications', against how far they are from each other.

    For each distance (KS, Wasserstein), the log's mean distance to the replications is
    compared with each replication's mean distance to the others, as one more value of
    that statistic, on the log scale: ``z = (ln d_log − m) / (s (R−1)/(R−2) √(1 + 1/R))``
    against Student's t with R − 1 degrees of freedom (the prediction interval the scalars
    use, widened because the replications' values share pairs; the threshold widens when
    there are few replications; needs R ≥ 3). Its false-alarm rate on exchangeable samples
    is checked in ``tests/twin/test_twin_validate.py``. The distribution's p value is the smaller of the
    two one-sided p values doubled (Bonferroni over the two distances); :func:`validate`
    then adjusts across distributions (Holm). The rank p (``rank / (R + 1)``, exact but
    never below ``1 / (R + 1)``) is reported too.
    """
    sims = [np.asarray(r, dtype=float) for r in replications if len(r)]
    if len(observed) < 2 or len(sims) < 3:
        return {"n_log": len(observed), "inside": None, "p": None}
    log = np.asarray(observed, dtype=float)
    result: dict[str, Any] = {
        "n_log": len(log),
        "n_sim_mean": float(np.mean([len(s) for s in sims])),
        "log_mean": float(np.mean(log)),
        "sim_mean": float(np.mean(np.concatenate(sims))),
    }
    reps = len(sims)
    p_values = []
    for name, distance in (
        ("ks", lambda a, b: stats.ks_2samp(a, b).statistic),
        ("wasserstein", stats.wasserstein_distance),
    ):
        to_log = float(np.mean([distance(log, s) for s in sims]))
        pairs = np.zeros((reps, reps))
        for i in range(reps):
            for j in range(i + 1, reps):
                pairs[i, j] = pairs[j, i] = distance(sims[i], sims[j])
        among = pairs.sum(axis=1) / (reps - 1)
        # on the log scale (distances are skewed); the spread of the ``among`` values understates
        # a member's own variability because they share pairs: D_ij = a_i + a_j + e_ij gives
        # sd(among) ≈ sd(a) (R − 2) / (R − 1), hence the factor (R − 1) / (R − 2)
        logs = np.log(np.maximum(among, 1e-12))
        mean, spread = float(np.mean(logs)), float(np.std(logs, ddof=1))
        if spread > 1e-9:
            scale = spread * (reps - 1) / (reps - 2) * math.sqrt(1 + 1 / reps)
            p = float(stats.t.sf((math.log(max(to_log, 1e-12)) - mean) / scale, reps - 1))
        else:  # the replications are all alike (a constant duration): the log must be so too
            p = 1.0 if to_log <= float(np.max(among)) + 1e-9 else 0.0
        p_values.append(p)
        result[name] = {
            "log_to_sims": to_log,
            "sims_max": float(np.max(among)),
            "sims_mean": float(np.mean(among)),
            "p": p,
            "rank_p": (1 + int(np.sum(among >= to_log))) / (reps + 1),
        }
    pooled = stats.ks_2samp(log, np.concatenate(sims))
    result["ks_pooled_pvalue"] = float(pooled.pvalue)
    result["p"] = min(1.0, 2 * min(p_values))
    return result


def holm(p_values: dict[str, float], level: float) -> dict[str, tuple[float, bool]]:
    """Holm's step-down adjustment: per name, the adjusted p value and whether it is rejected at ``level``."""
    ordered = sorted(p_values.items(), key=lambda item: (item[1], item[0]))
    count = len(ordered)
    adjusted: dict[str, tuple[float, bool]] = {}
    running = 0.0
    for k, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (count - k) * p))
        adjusted[name] = (running, running <= level)
    return adjusted


def validate(
    scenario: Scenario,
    log: CaseLog,
    reps: int = 5,
    seed: int = 0,
    executor: Executor | None = None,
    level: float = DISTRIBUTION_LEVEL,
) -> dict[str, Any]:
    """Simulate ``reps`` replications of the twin over the log's window and compare them with the log.

    Every measure the log supports (:func:`~ordercycle.sim.twin.measures.plan_for`) is
    computed alike from the log and from each replication. A scalar's p value is that of
    the log as one more replication (t, two-sided), a distribution's that of its distances
    (:func:`_distance_test`); all are Holm-adjusted together, and a statistic is OUTSIDE when
    its adjusted p is at most ``level``: a twin that is right flags any statistic with
    probability at most ``level``. Measures the log cannot support are listed with the
    reason (``refused``), never judged.
    """
    plan = plan_for(log)
    days = plan.days
    twin = override(scenario, horizon_days=days, warmup_days=0.0)
    tasks = [make_task(twin, "twin", r, seed) for r in range(reps)]
    outcomes = run_all(executor or SerialExecutor(), partial(run_twin_replication, plan=plan), tasks, None)
    failed = [str(outcomes[t.key].get("error")) for t in tasks if outcomes[t.key].get("status") != "ok"]
    sims = [outcomes[t.key]["metrics"] for t in tasks if outcomes[t.key].get("status") == "ok"]
    observed = log_metrics(log, plan)
    refused = dict(plan.refused)
    scalars = {}
    for name in sorted(set(observed["scalars"]) | {k for s in sims for k in s["scalars"]}):
        if name in refused:
            continue
        row = _prediction([s["scalars"].get(name) for s in sims], observed["scalars"].get(name))
        if row["p"] is None:
            refused[name] = ("the log has no value for it" if observed["scalars"].get(name) is None
                             else "fewer than 2 replications have a value")
        scalars[name] = row
    series = {}
    for name, points_log in observed["series"].items():
        points = [_prediction([s["series"][name][i] for s in sims if name in s["series"]], points_log[i])
                  for i in range(len(points_log))]
        judged = [p["inside"] for p in points if p["inside"] is not None]
        series[name] = {"points": points, "share_inside": float(np.mean(judged)) if judged else None}
    names = sorted(set(observed["lead_days"]) | {k for s in sims for k in s["lead_days"]})
    distributions = {}
    for name in names:
        values = observed["lead_days"].get(name, [])
        if name in refused:
            continue
        if len(values) < 2 and not any(len(s["lead_days"].get(name, [])) for s in sims):
            continue  # neither the log nor the twin has it: nothing to say
        row = _distance_test(values, [s["lead_days"].get(name, []) for s in sims])
        if row["p"] is None:
            refused[name] = (f"only {len(values)} values in the log" if len(values) < 2
                             else "fewer than 3 replications with values")
        distributions[name] = row
    judged = {f"scalar:{k}": v["p"] for k, v in scalars.items() if v["p"] is not None}
    judged |= {f"distribution:{k}": v["p"] for k, v in distributions.items() if v["p"] is not None}
    for key, (p_holm, rejected) in holm(judged, level).items():
        kind, name = key.split(":", 1)
        (scalars if kind == "scalar" else distributions)[name].update(p_holm=p_holm, inside=not rejected)
    for row in scalars.values():
        if row["p"] is None:
            row["inside"] = None
    return {
        "level": level,
        "replications": len(sims),
        "failed": failed,
        "seed": seed,
        "days": days,
        "scalars": scalars,
        "series": series,
        "distributions": distributions,
        "refused": dict(sorted(refused.items())),
        "notes": list(plan.notes),
        "samples": {"log": observed["lead_days"], "sims": [s["lead_days"] for s in sims]},
    }


def format_validation(result: dict[str, Any]) -> str:
    """The console table: each measure, the log's value, the replications' interval, inside or not."""
    lines = [
        f"Twin vs log over {result['days']:g} days, {result['replications']} replications "
        f"(scalars: 95 % prediction interval of one more replication; distributions: distance t test; "
        f"verdicts Holm-adjusted together, family-wise {result['level']:.0%})",
        "",
    ]
    lines += [f"note: {note}" for note in result.get("notes", [])]
    if result["replications"] < 5:
        lines.append(f"note: {result['replications']} replications: the tests have little power (Student's t "
                     "with R − 1 degrees of freedom, Holm across every statistic); use --reps 5 or more")
    lines.append(f"{'measure':<34}{'log':>11}{'twin mean':>11}{'interval':>24}{'p Holm':>8}  verdict")
    for name, row in result["scalars"].items():
        if row["inside"] is None:
            continue
        interval = "–" if row["low"] is None else f"[{row['low']:.3f}, {row['high']:.3f}]"
        log = "–" if row["log"] is None else f"{row['log']:.3f}"
        mean = "–" if row["sim_mean"] is None else f"{row['sim_mean']:.3f}"
        verdict = {True: "inside", False: "OUTSIDE", None: "not judged"}[row["inside"]]
        lines.append(f"{name:<34}{log:>11}{mean:>11}{interval:>24}{row.get('p_holm', 1.0):>8.3f}  {verdict}")
    for name, row in result["series"].items():
        share = row["share_inside"]
        lines.append(
            f"{name + ' (share inside)':<34}{'':>11}{'':>11}{'':>24}{'':>8}  "
            + ("–" if share is None else f"{share:.0%} of points")
        )
    lines += [
        "",
        f"{'distribution (days)':<34}{'n log':>8}{'KS log':>9}{'KS sims':>9}{'W1 log':>9}{'W1 sims':>9}"
        f"{'p Holm':>8}  verdict",
    ]
    for name, row in result["distributions"].items():
        if row["inside"] is None:
            continue
        ks, w1 = row["ks"], row["wasserstein"]
        lines.append(
            f"{name:<34}{row['n_log']:>8}{ks['log_to_sims']:>9.3f}{ks['sims_mean']:>9.3f}"
            f"{w1['log_to_sims']:>9.3f}{w1['sims_mean']:>9.3f}{row['p_holm']:>8.3f}  "
            + ("inside" if row["inside"] else "OUTSIDE")
        )
    if result.get("refused"):
        lines += ["", "not judged (the log cannot support it):"]
        lines += [f"  {name}: {why}" for name, why in result["refused"].items()]
    if result["failed"]:
        lines.append(f"\n{len(result['failed'])} replications failed: {result['failed'][0]}")
    return "\n".join(lines)
