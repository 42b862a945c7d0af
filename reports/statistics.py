"""Statistics of simulation experiments: intervals, paired differences, ranking, warm-up.

Pure functions of replication tables (one row per set and replication, one column per
KPI), shared by ``ordercycle compare``, ``sweep``, the reports and the optimiser.

- Confidence intervals are Student-t intervals over independent replications
  (Law, *Simulation Modeling and Analysis*, 5th ed., §9.4.1).
- Differences to the reference set are **paired** by replication: under common random
  numbers replication r of every set saw the same arrivals and breakdowns, so the
  interval is taken over the per-replication differences (Law §10.2.1, the paired-t
  interval), which is narrower than the two-sample one when the sets are positively
  correlated.
- Warm-up is found by MSER-5 (White, Cobb & Spratt 2000; Hoad, Robinson & Davies 2011):
  the truncation point that minimises the squared standard error of the mean of the
  batch-of-5 averages that remain, searched over the first half of the series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

SUMMARY_COLUMNS = [
    "set", "kpi", "n", "mean", "std", "ci_low", "ci_high", "half_width",
    "diff_mean", "diff_ci_low", "diff_ci_high", "p_value",
]


@dataclass(frozen=True, slots=True)
class Interval:
    """A t-based confidence interval for a mean."""

    n: int
    mean: float
    std: float
    half_width: float

    @property
    def low(self) -> float:
        """Lower end."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end."""
        return self.mean + self.half_width

    def relative_half_width(self) -> float:
        """Half-width over |mean| (infinite when the mean is 0 and the half-width is not)."""
        if self.half_width == 0:
            return 0.0
        return self.half_width / abs(self.mean) if self.mean != 0 else math.inf


def t_interval(values: Sequence[float] | np.ndarray, confidence: float) -> Interval:
    """Student-t interval for the mean of ``values`` (NaNs dropped; half-width NaN below 2 values)."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = len(data)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan)
    mean = float(np.mean(data))
    if n == 1:
        return Interval(1, mean, math.nan, math.nan)
    std = float(np.std(data, ddof=1))
    quantile = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    return Interval(n, mean, std, quantile * std / math.sqrt(n))


@dataclass(frozen=True, slots=True)
class PairedDifference:
    """Mean of the per-replication differences (set − reference), its interval and p-value."""

    interval: Interval
    p_value: float

    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of zero (the sets can be told apart)."""
        return bool(self.interval.low > 0 or self.interval.high < 0)


def paired_difference(values: Sequence[float] | np.ndarray, reference: Sequence[float] | np.ndarray,
                      confidence: float) -> PairedDifference:
    """Paired-t comparison of two KPI columns aligned by replication (pairs with a NaN dropped)."""
    a = np.asarray(values, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples must have the same length, got {a.shape} and {b.shape}")
    diff = a - b
    diff = diff[~np.isnan(diff)]
    interval = t_interval(diff, confidence)
    if interval.n < 2:
        return PairedDifference(interval, math.nan)
    if interval.std == 0:
        p_value = 1.0 if interval.mean == 0 else 0.0
    else:
        t_stat = interval.mean / (interval.std / math.sqrt(interval.n))
        p_value = float(2 * stats.t.sf(abs(t_stat), interval.n - 1))
    return PairedDifference(interval, p_value)


def kpi_columns(replications: pd.DataFrame) -> list[str]:
    """The KPI columns of a replication table: every numeric column but the keys."""
    keys = {"set", "replication", "seed", "point", "warmup_days"}
    return [c for c in replications.columns
            if c not in keys and pd.api.types.is_numeric_dtype(replications[c])]


def summarise(replications: pd.DataFrame, reference: str, confidence: float,
              kpis: Iterable[str] | None = None) -> pd.DataFrame:
    """Per set and KPI: mean, std, t-interval, and the paired difference to ``reference``.

    ``replications`` has columns ``set``, ``replication`` and one per KPI; sets keep
    the order in which they first appear.
    """
    names = list(kpis) if kpis is not None else kpi_columns(replications)
    sets = list(dict.fromkeys(replications["set"]))
    if reference not in sets:
        raise ValueError(f"reference set {reference!r} has no replications")
    by_set = {name: group.set_index("replication").sort_index()
              for name, group in replications.groupby("set", sort=False)}
    base = by_set[reference]
    rows = []
    for name in sets:
        table = by_set[name]
        common = table.index.intersection(base.index)
        for kpi in names:
            interval = t_interval(table[kpi].to_numpy(), confidence)
            row = {"set": name, "kpi": kpi, "n": interval.n, "mean": interval.mean, "std": interval.std,
                   "ci_low": interval.low, "ci_high": interval.high, "half_width": interval.half_width,
                   "diff_mean": math.nan, "diff_ci_low": math.nan, "diff_ci_high": math.nan,
                   "p_value": math.nan}
            if name != reference:
                diff = paired_difference(table.loc[common, kpi].to_numpy(), base.loc[common, kpi].to_numpy(),
                                         confidence)
                row.update(diff_mean=diff.interval.mean, diff_ci_low=diff.interval.low,
                           diff_ci_high=diff.interval.high, p_value=diff.p_value)
            rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def scores(replications: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """The objective score Σ weight × KPI of every replication row (NaN KPIs count as NaN)."""
    total = pd.Series(0.0, index=replications.index)
    for kpi, weight in weights.items():
        total = total + weight * replications[kpi].astype(float)
    return total


def rank_sets(replications: pd.DataFrame, weights: Mapping[str, float],
              constraints: Sequence[tuple[str, float | None, float | None]],
              confidence: float) -> pd.DataFrame:
    """Rank sets by mean score (higher is better), feasible sets first.

    A set is feasible when every constrained KPI's mean lies within its bounds.
    Groups: walking down the ranking, a set joins the current group when it is as
    feasible as the group's leader and the paired difference of their scores is not
    significant at ``confidence``; otherwise it leads a new group. Sets in one group
    cannot be told apart with the replications run.
    """
    table = replications.assign(score=scores(replications, weights))
    rows = []
    for name, group in table.groupby("set", sort=False):
        interval = t_interval(group["score"].to_numpy(), confidence)
        violated = []
        for kpi, low, high in constraints:
            mean = float(group[kpi].mean())
            if (low is not None and not mean >= low) or (high is not None and not mean <= high):
                violated.append(kpi)
        rows.append({"set": name, "score": interval.mean, "score_ci_low": interval.low,
                     "score_ci_high": interval.high, "feasible": not violated,
                     "violated": ", ".join(violated)})
    ranking = pd.DataFrame(rows)
    ranking["_order"] = range(len(ranking))
    ranking = ranking.sort_values(["feasible", "score", "_order"], ascending=[False, False, True],
                                  na_position="last").drop(columns="_order").reset_index(drop=True)
    ranking.insert(1, "rank", range(1, len(ranking) + 1))
    by_set = {name: group.set_index("replication")["score"] for name, group in table.groupby("set")}
    feasible = dict(zip(ranking["set"], ranking["feasible"], strict=True))
    groups, leader, number = [], None, 0
    for row in ranking.itertuples():
        if (leader is None or feasible[leader] != row.feasible
                or not _same(by_set[row.set], by_set[leader], confidence)):
            number += 1
            leader = row.set
        groups.append(number)
    ranking["group"] = groups
    return ranking


def _same(scores_a: pd.Series, scores_b: pd.Series, confidence: float) -> bool:
    common = scores_a.index.intersection(scores_b.index)
    diff = paired_difference(scores_a[common].to_numpy(), scores_b[common].to_numpy(), confidence)
    return not diff.excludes_zero()


def mser5(series: Sequence[float] | np.ndarray, batch: int = 5) -> int:
    """MSER-5 truncation point of ``series``: how many leading observations to delete.

    The series is averaged in batches of ``batch``; for each candidate d (in batches)
    over the first half, MSER(d) = var(rest) / len(rest) (biased variance, as in the
    original). Returns d × batch, the observation index where steady state begins.
    """
    data = np.asarray(series, dtype=float)
    data = data[~np.isnan(data)]
    batches = len(data) // batch
    if batches < 4:
        return 0
    means = data[: batches * batch].reshape(batches, batch).mean(axis=1)
    # Suffix sums give every candidate's statistic in one pass.
    suffix_sum = np.cumsum(means[::-1])[::-1]
    suffix_sq = np.cumsum((means ** 2)[::-1])[::-1]
    counts = np.arange(batches, 0, -1, dtype=float)
    variance = suffix_sq / counts - (suffix_sum / counts) ** 2
    statistic = variance / counts
    candidates = batches // 2
    best = int(np.argmin(statistic[: candidates + 1]))
    return best * batch


def needs_more(summary: pd.DataFrame, kpis: Iterable[str], target_relative_half_width: float) -> list[str]:
    """The (set, KPI) pairs whose relative half-width is still above the target, as ``set:kpi``."""
    wanted = set(kpis)
    open_pairs = []
    for row in summary.itertuples():
        if row.kpi not in wanted:
            continue
        interval = Interval(int(row.n), float(row.mean), float(row.std), float(row.half_width))
        relative = interval.relative_half_width()
        if not relative <= target_relative_half_width:  # NaN (too few replications) counts as open
            open_pairs.append(f"{row.set}:{row.kpi}")
    return open_pairs


WARMUP_SERIES = ("work_in_process", "lead_time_days")


def warmup_series(orders: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
    """Daily series for warm-up detection, from a run's orders table.

    ``work_in_process``: orders entered and not yet delivered or closed at the end of
    each day; ``lead_time_days``: mean entry-to-delivery time of the orders delivered
    that day (NaN on a day with none; filled from the day before, 0 before the first).
    """
    days = int(math.ceil(horizon_days))
    ends = np.arange(1, days + 1, dtype=float)
    entered = np.sort(orders["entered_time"].dropna().to_numpy(dtype=float))
    delivered_at = orders["delivered_time"].to_numpy(dtype=float)
    closed = orders["delivered_time"].where(orders["final_state"] != "rejected", orders["decision_time"])
    closed = np.sort(closed[orders["entered_time"].notna()].dropna().to_numpy(dtype=float))
    wip = np.searchsorted(entered, ends, side="right") - np.searchsorted(closed, ends, side="right")
    lead = pd.Series(delivered_at - orders["entered_time"].to_numpy(dtype=float))
    day = pd.Series(np.floor(delivered_at))
    daily_lead = lead[day.notna()].groupby(day[day.notna()].astype(int)).mean()
    lead_series = daily_lead.reindex(range(days)).ffill().fillna(0.0).to_numpy()
    return pd.DataFrame({"day": np.arange(days), "work_in_process": wip.astype(float),
                         "lead_time_days": lead_series})
