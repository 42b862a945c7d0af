"""When a keynote check is decided: equivalence margins, the sequential stopping rule, replications needed.

The keynote suite adds replications to a claim until every check is **decided** — its
paired-difference interval excludes zero (supported or contradicted), or lies wholly
inside the check's **equivalence margin** ±m (no practical difference) — or a cap is
reached. Pure functions of the verdict table of :func:`ordercycle.reports.keynotes.evaluate`,
so the rule is tested on synthetic replication tables (``tests/reports/test_stopping.py``).

Default margins (``docs/keynotes.md`` says why):

- a **share** (on-time delivery, utilisation, return rate …): ±1 percentage point;
- a **percent** KPI (forecast MAPE): ±1 point;
- everything else — money, counts, days, hours, units: ±2 % of the ``against`` set's mean
  (the check's reference: a difference of 2 % of what the company has today).

A check's ``margin`` in the keynote file overrides it, in the KPI's own units (a share as a
fraction: ``0.005`` is half a point; money in the scenario's currency).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from ordercycle.reports.glossary import format_amount, info

SHARE_MARGIN = 0.01
"""Default margin of a share KPI: one percentage point."""
PERCENT_MARGIN = 1.0
"""Default margin of a KPI already in percent (forecast MAPE): one point."""
RELATIVE_MARGIN = 0.02
"""Default margin of every other KPI: this share of the ``against`` set's mean."""
NEEDED_LIMIT = 1000
"""Above this many replications :func:`replications_needed` says "more than"."""


def default_margin(kpi: str, against_mean: float) -> float:
    """The equivalence margin of ``kpi`` when the check gives none (absolute, in the KPI's units)."""
    unit = info(kpi).unit
    if unit == "share":
        return SHARE_MARGIN
    if unit == "percent":
        return PERCENT_MARGIN
    return RELATIVE_MARGIN * abs(against_mean) if math.isfinite(against_mean) else math.nan


def margin_rule(kpi: str) -> str:
    """How the default margin of ``kpi`` is set, in words."""
    unit = info(kpi).unit
    if unit in ("share", "percent"):
        return "±1 point"
    return f"±{100 * RELATIVE_MARGIN:g} % of the reference mean"


def within_margin(low: float, high: float, margin: float) -> bool:
    """Whether the interval [low, high] lies wholly inside ±margin (an interval of exactly
    [0, 0] — identical runs — is inside any margin)."""
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(margin)):
        return False
    return -margin <= low and high <= margin


def reason(verdict: str, within: bool, margin_text: str, finite: bool = True) -> str:
    """Why a check has its verdict, in words (``margin_text`` as ``±1.0 points``; ``finite``: whether
    the interval could be computed)."""
    if verdict in ("supported", "contradicted"):
        said = "the interval excludes zero"
        return said + (f", though it lies within {margin_text}: smaller than a practical difference"
                       if within else "")
    if within:
        return f"no practical difference: within {margin_text}"
    if not finite:
        return "no interval: the KPI is undefined in too many runs"
    return f"the interval includes zero and reaches beyond {margin_text}: undecided"


def decided(verdict: str, within: bool) -> bool:
    """A check is decided when its interval excludes zero or lies within its margin."""
    return verdict in ("supported", "contradicted") or within


def margin_columns(row: dict, override: float | None, confidence: float) -> dict:
    """The margin fields of one check row of :func:`~ordercycle.reports.keynotes.evaluate`:
    ``margin``, ``margin_source``, ``within_margin``, ``decided``, ``reason``, ``std``,
    ``replications_needed``."""
    kpi = row["kpi"]
    margin = float(override) if override is not None else default_margin(kpi, row["against_mean"])
    within = within_margin(row["diff_ci_low"], row["diff_ci_high"], margin)
    text = "±" + format_amount(kpi, margin) if math.isfinite(margin) else "± (undefined)"
    std = difference_std(row["diff_ci_low"], row["diff_ci_high"], row["n"], confidence)
    done = decided(row["verdict"], within)
    return {
        "margin": margin,
        "margin_source": "file" if override is not None else margin_rule(kpi),
        "within_margin": within,
        "decided": done,
        "reason": reason(row["verdict"], within, text,
                         math.isfinite(row["diff_ci_low"]) and math.isfinite(row["diff_ci_high"])),
        "std": std,
        "replications_needed": (
            None if done else replications_needed(row["diff_mean"], std, margin, confidence)
        ),
    }


def difference_std(low: float, high: float, n: int, confidence: float) -> float:
    """The standard deviation of the paired differences, recovered from their t-interval."""
    if n < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return math.nan
    quantile = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    return (high - low) / 2 * math.sqrt(n) / quantile


def replications_needed(mean: float, std: float, margin: float, confidence: float) -> int | None:
    """How many replications would decide a check if its mean and spread stayed as they are:
    the fewest n whose half-width t·s/√n falls below |mean| (the interval then excludes zero)
    or below margin − |mean| (it then lies within the margin). ``None`` when it cannot be said
    (no spread measured); :data:`NEEDED_LIMIT` + 1 for "more than the limit"."""
    if not (math.isfinite(mean) and math.isfinite(std)) or std <= 0:
        return None
    room = max(abs(mean), (margin - abs(mean)) if math.isfinite(margin) else 0.0)
    if room <= 0:
        return NEEDED_LIMIT + 1
    for n in range(2, NEEDED_LIMIT + 1):
        if float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n) < room:
            return n
    return NEEDED_LIMIT + 1


def open_checks(checks: pd.DataFrame) -> list[str]:
    """The checks not yet decided, as ``set − against: kpi`` (empty: every check is decided)."""
    if checks.empty:
        return []
    return [f"{row.set} − {row.against}: {row.kpi}" for row in checks.itertuples() if not row.decided]


def next_count(count: int, step: int, max_reps: int) -> int:
    """The replications per set of the next look: ``step`` more, never past the cap."""
    return min(max_reps, count + step)


def looks(start: int, step: int, max_reps: int) -> list[int]:
    """Every replication count the rule may look at, from ``start`` to the cap."""
    counts = [start]
    while counts[-1] < max_reps:
        counts.append(next_count(counts[-1], step, max_reps))
    return counts


def stopping_sentence(stopping: dict | None, replications: int, checks: pd.DataFrame,
                      currency: str = "EUR") -> str:
    """How many replications the claim used and why it stopped there, in words."""
    if not stopping:
        return f"Replications: {replications} per set (fixed)."
    start, step, cap = stopping.get("start"), stopping.get("step"), stopping.get("max_reps")
    rule = f"started at {start}, {step} more at a time up to {cap}"
    if start == cap:
        rule = "fixed: no replications added"
    undecided = checks[~checks["decided"].astype(bool)] if "decided" in checks else checks.iloc[0:0]
    if undecided.empty:
        why = "every check is decided (its interval excludes zero or lies within its margin)"
    else:
        parts = []
        for row in undecided.itertuples():
            needed = row.replications_needed
            if needed is None or pd.isna(needed):
                more = "no spread to project from (the KPI is undefined, or its differences do not vary)"
            elif int(needed) > NEEDED_LIMIT:
                more = f"more than {NEEDED_LIMIT:,} replications would be needed to decide it"
            else:
                more = f"about {int(needed):,} replications would decide it at its present mean and spread"
            parts.append(f"{info(row.kpi).label} ({row.set} − {row.against}) undecided — {more}")
        why = "the cap was reached: " + "; ".join(parts)
    return f"Replications: {replications} per set ({rule}); stopped because {why}."


def claim_reason(checks: pd.DataFrame, verdict: str) -> str:
    """Why the claim has its verdict, in a few words (for ``verdicts.json`` and the overview)."""
    if checks.empty:
        return ""
    if verdict == "supported":
        return "every check supported"
    if verdict == "contradicted":
        worse = [info(k).label for k, v in zip(checks["kpi"], checks["verdict"], strict=True)
                 if v == "contradicted"]
        return "contradicted on " + ", ".join(dict.fromkeys(worse))
    if "within_margin" not in checks:
        return "some check undecided"
    even = [bool(w) and v == "inconclusive" for w, v in zip(checks["within_margin"], checks["verdict"],
                                                           strict=True)]
    undecided = [not bool(d) for d in checks["decided"]]
    if any(undecided):
        return "undecided at the replications run"
    if all(even):
        return "no practical difference on any check"
    return "no practical difference on " + ", ".join(
        dict.fromkeys(info(k).label for k, e in zip(checks["kpi"], even, strict=True) if e))


