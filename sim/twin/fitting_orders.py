"""Fitting what orders are made of, when they come and how they travel.

- :func:`fit_lines_per_order`: the model draws ``lines_per_order`` as a continuous
  variate rounded up, at least 1 and at most the products of the mix, so P(N = k) is
  F(k) − F(k − 1), the first and last classes taking the tails; every family is fitted by
  maximum likelihood on those probabilities and the lowest AIC chosen.
- :func:`fit_product_mix`: an order's first line is drawn from the mix and each further
  line from the mix among the products not yet on the order. With line numbers the first
  lines are a plain multinomial sample; without them the mix is the maximum-likelihood
  one of the unordered sets of products (the sum over the orders the lines could have
  been drawn in).
- :func:`fit_transit`: a carrier delivers in T, or T + D with probability 1 − r; single
  families and mixtures of a family with an exponential delay are fitted by maximum
  likelihood (the delayed density a numerical convolution), the lowest AIC chosen.
- :func:`weekday_profile`, :func:`hourly_profile`: arrival rates per weekday and hour of
  the day over the exposure of each, kept when a likelihood-ratio test against equal
  rates rejects at 0.1 %.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, signal, stats

from ordercycle.sim.twin.fitting import MIN_SAMPLES, fit_distribution, scipy_distribution

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROFILE_LEVEL = 0.001
"""A weekday or hourly profile is kept when equal rates are rejected at this level."""


def _round(value: float) -> float:
    return float(f"{value:.6g}")


# --- lines per order -------------------------------------------------------------------------------


@dataclass
class CountFit:
    """A distribution behind whole counts 1 … cap, with the fitted and observed probabilities."""

    n: int
    mean: float
    chosen: dict[str, Any]
    observed: dict[int, float]
    fitted: dict[int, float]
    candidates: list[dict[str, Any]] = field(default_factory=list)
    pvalue: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Fit statistics as plain JSON."""
        return {"n": self.n, "mean": self.mean, "chosen": self.chosen, "observed": self.observed,
                "fitted": self.fitted, "candidates": self.candidates, "chi2_pvalue": self.pvalue}


def count_probabilities(spec: dict[str, Any], cap: int) -> np.ndarray:
    """P(N = k), k = 1 … cap, of a draw rounded up, at least 1 and at most ``cap``."""
    if spec["dist"] == "fixed":
        k = min(max(math.ceil(spec["value"]), 1), cap)
        return np.eye(cap)[k - 1]
    cdf = scipy_distribution(spec).cdf(np.arange(1, cap, dtype=float))
    upper = np.append(cdf, 1.0)
    lower = np.insert(cdf, 0, 0.0)
    return np.clip(upper - lower, 1e-300, 1.0)


def _count_spec(family: str, theta: np.ndarray) -> dict[str, Any] | None:
    if family == "uniform":
        low = 1 / (1 + math.exp(-theta[0]))
        return {"dist": "uniform", "low": low, "high": low + math.exp(theta[1])}
    if family == "triangular":
        low = 1 / (1 + math.exp(-theta[0]))
        mode = low + math.exp(theta[1])
        return {"dist": "triangular", "low": low, "mode": mode, "high": mode + math.exp(theta[2])}
    spec = {"dist": family, "mean": math.exp(theta[0])}
    if family != "exponential":
        spec["cv"] = math.exp(theta[1])
    return spec


def fit_lines_per_order(counts: np.ndarray | list[int], cap: int) -> CountFit:
    """Fit ``lines_per_order`` to the lines of each order (cap: the products an order may have)."""
    k = np.clip(np.asarray(counts, dtype=int), 1, None)
    cap = max(int(cap), int(k.max()) if len(k) else 1)
    n = len(k)
    observed = np.bincount(k - 1, minlength=cap)[:cap].astype(float)
    shares = {i + 1: float(c / n) for i, c in enumerate(observed) if n}
    mean = float(k.mean()) if n else float("nan")
    if n < MIN_SAMPLES or observed[1:].sum() == 0:
        value = 1.0 if not n or observed[1:].sum() == 0 else _round(mean)
        return CountFit(n, mean, {"dist": "fixed", "value": value}, shares, shares)
    starts = {"uniform": [0.0, math.log(max(mean * 2 - 1, 1.01))],
              "triangular": [0.0, math.log(max(mean - 0.5, 0.1)), 0.0],
              "lognormal": [math.log(max(mean - 0.5, 0.5)), math.log(0.5)],
              "gamma": [math.log(max(mean - 0.5, 0.5)), math.log(0.5)],
              "exponential": [math.log(max(mean - 0.5, 0.5))]}
    candidates = []
    for family, start in starts.items():

        def negative_loglik(theta: np.ndarray, family: str = family) -> float:
            if np.any(np.abs(theta) > 20):
                return 1e300
            spec = _count_spec(family, theta)
            return -float(np.sum(observed * np.log(count_probabilities(spec, cap))))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = optimize.minimize(negative_loglik, np.array(start), method="Nelder-Mead",
                                       options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
        spec = {key: (_round(v) if key != "dist" else v) for key, v in _count_spec(family, result.x).items()}
        loglik = -float(np.sum(observed * np.log(count_probabilities(spec, cap))))
        candidates.append({"family": family, "distribution": spec, "loglik": -loglik,
                           "aic": 2 * len(start) + 2 * loglik})
    candidates.sort(key=lambda c: c["aic"])
    chosen = candidates[0]["distribution"]
    expected = count_probabilities(chosen, cap) * n
    dof = max(1, cap - 1 - (len(starts[candidates[0]["family"]])))
    chi2 = float(np.sum((observed - expected) ** 2 / np.maximum(expected, 1e-9)))
    fitted = {i + 1: float(p) for i, p in enumerate(count_probabilities(chosen, cap))}
    return CountFit(n, mean, chosen, shares, fitted, candidates, float(stats.chi2.sf(chi2, dof)))


# --- product mix -----------------------------------------------------------------------------------


def fit_product_mix(orders: list[tuple[str, ...]], ordered: bool) -> dict[str, dict[str, float]]:
    """The mix behind the products of each order's lines (each product once per order).

    With ``ordered``, each tuple lists the lines in their order on the order and the mix is
    the share of each product among the first lines (with its standard error); without,
    the maximum-likelihood mix of sampling without replacement over the unordered sets.
    """
    if not orders:
        return {}
    if ordered or max(len(o) for o in orders) == 1:
        first = [o[0] for o in orders if o]
        products, counts = np.unique(np.asarray(first, dtype=str), return_counts=True)
        total = counts.sum()
        everyone = sorted({p for o in orders for p in o})
        found = {str(p): int(c) for p, c in zip(products, counts, strict=True)}
        return {p: {"share": float(found.get(p, 0) / total),
                    "se": float(math.sqrt(found.get(p, 0) / total * (1 - found.get(p, 0) / total) / total)),
                    "count": found.get(p, 0)} for p in everyone}
    products = sorted({p for o in orders for p in o})
    index = {p: i for i, p in enumerate(products)}
    sets: dict[tuple[int, ...], int] = {}
    for order in orders:
        key = tuple(sorted({index[p] for p in order}))
        sets[key] = sets.get(key, 0) + 1
    perms = {key: np.array(list(itertools.permutations(key))) for key in sets if len(key) <= 5}
    weights_of = {key: count for key, count in sets.items() if key in perms}

    def negative_loglik(theta: np.ndarray) -> float:
        w = np.exp(np.concatenate([[0.0], np.clip(theta, -30, 30)]))
        w /= w.sum()
        total = 0.0
        for key, count in weights_of.items():
            order_w = w[perms[key]]
            before = np.cumsum(order_w, axis=1) - order_w
            total += count * math.log(max(float(np.sum(np.prod(order_w / (1 - before), axis=1))), 1e-300))
        return -total

    lines = np.array([sum(1 for o in orders if p in o) for p in products], dtype=float)
    start = np.log(np.maximum(lines / lines.sum(), 1e-6))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = optimize.minimize(negative_loglik, start[1:] - start[0], method="BFGS")
    w = np.exp(np.concatenate([[0.0], np.clip(result.x, -30, 30)]))
    w /= w.sum()
    count = sum(sets.values())
    return {p: {"share": float(w[i]), "se": math.sqrt(w[i] * (1 - w[i]) / count), "count": int(lines[i])}
            for i, p in enumerate(products)}


# --- transit with delays ---------------------------------------------------------------------------


def _delayed_density(spec: dict[str, Any], mean_delay: float, x: np.ndarray) -> np.ndarray:
    """Density of T + D (D exponential) at ``x``, by a recursive convolution on a grid."""
    top = float(np.max(x)) * 1.02 + 1e-9
    grid = np.linspace(0.0, top, 4001)
    step = grid[1] - grid[0]
    f = scipy_distribution(spec).pdf(grid)
    decay = math.exp(-step / mean_delay)
    inputs = (step / (2 * mean_delay)) * (f + decay * np.concatenate([[0.0], f[:-1]]))
    h = signal.lfilter([1.0], [1.0, -decay], inputs)
    return np.interp(x, grid, h)


def _main_spec(family: str, theta: np.ndarray, low_bound: float) -> dict[str, Any]:
    if family == "triangular":
        low = low_bound * (1 / (1 + math.exp(-theta[0])))
        mode = low + math.exp(theta[1])
        return {"dist": "triangular", "low": low, "mode": mode, "high": mode + math.exp(theta[2])}
    return {"dist": family, "mean": math.exp(theta[0]), "cv": math.exp(theta[1])}


@dataclass
class TransitFit:
    """The carrier's transit: on-schedule distribution, reliability and delay, and how it was chosen."""

    n: int
    mean: float
    transit_days: dict[str, Any]
    reliability: float
    delay_days: dict[str, Any]
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Fit statistics as plain JSON."""
        return {"n": self.n, "mean": self.mean, "transit_days": self.transit_days,
                "reliability": self.reliability, "delay_days": self.delay_days, "candidates": self.candidates}


def fit_transit(samples: np.ndarray | list[float]) -> TransitFit:
    """Fit transit days: one family (reliability 1), or a family with exponential delays (lowest AIC)."""
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x) & (x > 0)]
    single = fit_distribution(x)
    n, mean = len(x), float(np.mean(x)) if len(x) else float("nan")
    candidates = [{"form": c.family, "transit_days": c.distribution, "reliability": 1.0,
                   "delay_days": {"dist": "fixed", "value": 0.0}, "aic": c.aic} for c in single.candidates]
    if n >= 100:
        low_bound = float(np.min(x))
        body = x[x <= np.quantile(x, 0.9)]
        tail = max(float(np.mean(x[x > np.quantile(x, 0.9)])) - float(body.mean()), 0.1)
        counts, edges = np.histogram(body, bins=30)
        peak = float((edges[np.argmax(counts)] + edges[np.argmax(counts) + 1]) / 2)
        for family in ("triangular", "lognormal", "gamma"):
            if family == "triangular":  # several starts: the likelihood has local optima at its corners
                tops = (float(np.quantile(x, 0.9)), float(np.quantile(x, 0.97)), float(body.max()))
                starts = [[2.0, math.log(max(peak - low_bound, 1e-3)), math.log(max(q - peak, 1e-3))]
                          for q in tops]
            else:
                starts = [[math.log(body.mean()), math.log(max(body.std() / body.mean(), 0.05))]]
            best = None
            for start in starts:
                theta = np.array(start + [math.log(0.9 / 0.1), math.log(tail)])

                def negative_loglik(theta: np.ndarray, family: str = family) -> float:
                    if np.any(np.abs(theta) > 25):
                        return 1e300
                    main = _main_spec(family, theta[:-2], low_bound)
                    r = 1 / (1 + math.exp(-theta[-2]))
                    density = (r * scipy_distribution(main).pdf(x)
                               + (1 - r) * _delayed_density(main, math.exp(theta[-1]), x))
                    return -float(np.sum(np.log(np.maximum(density, 1e-300))))

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = optimize.minimize(negative_loglik, theta, method="Nelder-Mead",
                                               options={"xatol": 1e-5, "fatol": 1e-6, "maxiter": 3000})
                better = best is None or result.fun < best.fun
                if math.isfinite(result.fun) and result.fun < 1e299 and better:
                    best = result
            if best is None:
                continue
            main = {k: (_round(v) if k != "dist" else v)
                    for k, v in _main_spec(family, best.x[:-2], low_bound).items()}
            candidates.append({"form": f"{family}+delay", "transit_days": main,
                               "reliability": _round(1 / (1 + math.exp(-best.x[-2]))),
                               "delay_days": {"dist": "exponential", "mean": _round(math.exp(best.x[-1]))},
                               "aic": 2 * len(best.x) + 2 * float(best.fun)})
    candidates.sort(key=lambda c: c["aic"])
    chosen = candidates[0] if candidates else {
        "transit_days": single.chosen, "reliability": 1.0, "delay_days": {"dist": "fixed", "value": 0.0}}
    return TransitFit(n, mean, chosen["transit_days"], chosen["reliability"], chosen["delay_days"],
                      candidates)


# --- when inquiries come: weekday and hour of the day ------------------------------------------------


def _exposure(start: float, end: float, period: float, bins: int, offset: int = 0) -> np.ndarray:
    """Time in [start, end] spent in each of ``bins`` equal parts of a repeating ``period`` (days)."""
    width = period / bins
    exposure = np.zeros(bins)
    edge = math.floor(start / width) * width
    while edge < end:
        part = min(edge + width, end) - max(edge, start)
        if part > 0:
            exposure[(int(round(edge / width)) + offset) % bins] += part
        edge += width
    return exposure


def _profile(counts: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray | None, float]:
    """Rates per bin scaled to mean 1, and the p value of equal rates (likelihood ratio)."""
    if np.any(exposure <= 0) or counts.sum() == 0:
        return None, 1.0
    rates = counts / exposure
    overall = counts.sum() / exposure.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(rates / overall), 0.0)
    p = float(stats.chi2.sf(2 * terms.sum(), len(counts) - 1))
    return rates / rates.mean(), p


def weekday_profile(times: np.ndarray, start: float, end: float, first_weekday: int) -> dict[str, Any]:
    """Arrivals per weekday over their exposure in [start, end] (day 0 is ``first_weekday``, Monday 0)."""
    times = np.asarray(times, dtype=float)
    counts = np.bincount((np.floor(times).astype(int) + first_weekday) % 7, minlength=7).astype(float)
    exposure = _exposure(start, end, 7.0, 7, first_weekday)
    profile, p = _profile(counts, exposure)
    keep = profile is not None and p < PROFILE_LEVEL and end - start >= 14
    return {"profile": {d: _round(v) for d, v in zip(WEEKDAYS, profile, strict=True)} if keep else None,
            "pvalue": p, "counts": counts.tolist(), "exposure_days": exposure.tolist(),
            "rates": (counts / np.maximum(exposure, 1e-12)).tolist()}


def hourly_profile(times: np.ndarray, start: float, end: float) -> dict[str, Any]:
    """Arrivals per hour of the day over each hour's exposure in [start, end]."""
    times = np.asarray(times, dtype=float)
    hours = np.floor((times % 1.0) * 24 + 1e-9).astype(int) % 24
    counts = np.bincount(hours, minlength=24).astype(float)
    exposure = _exposure(start, end, 1.0, 24)
    profile, p = _profile(counts, exposure)
    keep = profile is not None and p < PROFILE_LEVEL and end - start >= 7
    return {"profile": [_round(v) for v in profile] if keep else None, "pvalue": p, "counts": counts.tolist()}
