"""Fitting the scenario's distributions and arrival processes to samples from a log.

- :func:`fit_distribution`: every candidate family of ``scenarios/distributions.py``
  fitted by maximum likelihood (scipy), the one with the lowest AIC chosen, the
  Kolmogorov–Smirnov statistic of each reported.
- :func:`fit_order_size`: order sizes are whole units, drawn in the model as a
  continuous variate rounded up (at least 1): fitted with the interval-censored
  likelihood P(k) = F(k) − F(k − 1), so the rounding does not bias the mean.
- :func:`fit_arrivals`: a non-homogeneous Poisson process on daily counts with the
  scenario's rate form ``rate × (1 + trend × t / 365) × (1 + A cos(2π (t − peak) / P))``,
  fitted by maximum likelihood (statsmodels ``GenericLikelihoodModel``: estimates with
  standard errors); candidate forms (constant, trend, weekly or annual seasonality, both
  with a trend) chosen by AIC among those the log's span can identify.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

MIN_SAMPLES = 10
"""Fewer samples than this are not fitted (the base scenario's value is kept)."""

FAMILIES = ("exponential", "lognormal", "gamma", "uniform", "triangular")


@dataclass
class Candidate:
    """One fitted family: its scenario form, log-likelihood, AIC and KS statistic."""

    family: str
    distribution: dict[str, Any]
    loglik: float
    aic: float
    ks_statistic: float
    ks_pvalue: float

    def frozen(self) -> Any:
        """The scipy distribution of this fit."""
        return scipy_distribution(self.distribution)


@dataclass
class DistributionFit:
    """The chosen family and every candidate, for a sample of ``n`` values."""

    n: int
    mean: float
    std: float
    chosen: dict[str, Any]
    candidates: list[Candidate] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Fit statistics as plain JSON."""
        return {
            "n": self.n,
            "mean": self.mean,
            "std": self.std,
            "chosen": self.chosen,
            "candidates": [
                {
                    "family": c.family,
                    "distribution": c.distribution,
                    "loglik": c.loglik,
                    "aic": c.aic,
                    "ks_statistic": c.ks_statistic,
                    "ks_pvalue": c.ks_pvalue,
                }
                for c in self.candidates
            ],
        }


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def scipy_distribution(spec: dict[str, Any]) -> Any:
    """The frozen scipy distribution of a scenario distribution mapping."""
    dist = spec["dist"]
    if dist == "exponential":
        return stats.expon(scale=spec["mean"])
    if dist == "lognormal":
        sigma2 = math.log1p(spec["cv"] ** 2)
        return stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(spec["mean"]) - sigma2 / 2))
    if dist == "gamma":
        shape = 1.0 / spec["cv"] ** 2
        return stats.gamma(shape, scale=spec["mean"] / shape)
    if dist == "uniform":
        return stats.uniform(spec["low"], spec["high"] - spec["low"])
    if dist == "triangular":
        width = spec["high"] - spec["low"]
        return stats.triang((spec["mode"] - spec["low"]) / width, loc=spec["low"], scale=width)
    raise ValueError(f"no scipy form for {dist!r}")


def _family(family: str, x: np.ndarray) -> tuple[dict[str, Any], int] | None:
    """Maximum-likelihood parameters of a family as a scenario mapping, and its parameter count."""
    positive = bool(np.all(x > 0))
    if family == "exponential":
        return {"dist": "exponential", "mean": _round(float(np.mean(x)))}, 1
    if family == "lognormal" and positive:
        logs = np.log(x)
        sigma = float(np.std(logs))
        if sigma <= 0:
            return None
        return {
            "dist": "lognormal",
            "mean": _round(math.exp(float(np.mean(logs)) + sigma**2 / 2)),
            "cv": _round(math.sqrt(math.expm1(sigma**2))),
        }, 2
    if family == "gamma" and positive:
        shape, _, scale = stats.gamma.fit(x, floc=0)
        return {"dist": "gamma", "mean": _round(shape * scale), "cv": _round(1 / math.sqrt(shape))}, 2
    if family == "uniform":
        low, high = float(np.min(x)), float(np.max(x))
        pad = (high - low) / len(x)  # the ends' unbiased estimates: ML's sample extremes overfit
        low, high = max(0.0, low - pad), high + pad
        spec = {"dist": "uniform", "low": math.floor(low * 1e6) / 1e6, "high": math.ceil(high * 1e6) / 1e6}
        return (spec, 2) if high > low else None
    if family == "triangular":
        low, mode, high = _triangular_ml(x)
        # ML puts an end at the sample's extreme (a density peaking at the smallest value fits an
        # exponential sample better than the exponential, by AIC): widen the support by range / n
        pad = (float(np.max(x)) - float(np.min(x))) / len(x)
        low, high = max(0.0, min(low, float(np.min(x)) - pad)), max(high, float(np.max(x)) + pad)
        mode = min(max(mode, low), high)
        if high <= low:
            return None
        return {"dist": "triangular", "low": _round(low), "mode": _round(mode), "high": _round(high)}, 3
    return None


def _triangular_loglik(x: np.ndarray, low: float, mode: float, high: float) -> float:
    """Log-likelihood of a triangular(low, mode, high) sample (``-inf`` outside its support)."""
    if not low <= mode <= high or high <= low or x.min() < low or x.max() > high:
        return -math.inf
    with np.errstate(divide="ignore"):
        rising = 2 * (x - low) / ((high - low) * (mode - low)) if mode > low else np.zeros_like(x)
        falling = 2 * (high - x) / ((high - low) * (high - mode)) if high > mode else np.zeros_like(x)
        return float(np.sum(np.log(np.where(x < mode, rising, falling))))


def _triangular_ml(x: np.ndarray) -> tuple[float, float, float]:
    """Maximum-likelihood (low, mode, high) by Nelder–Mead on a vectorised likelihood.

    Starts just outside the sample's range with the mode from the mean (mean = (a + c + b) / 3);
    far cheaper than scipy's generic ``triang.fit`` and as good (the likelihood is all that counts).
    """
    lo, hi = float(np.min(x)), float(np.max(x))
    pad = (hi - lo) / len(x)
    start = np.array([lo - pad, min(max(3 * float(np.mean(x)) - lo - hi, lo), hi), hi + pad])
    result = optimize.minimize(
        lambda theta: -_triangular_loglik(x, *theta) if np.all(np.isfinite(theta)) else math.inf,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-7 * max(1.0, hi - lo), "fatol": 1e-7, "maxiter": 3000},
    )
    best = result.x if math.isfinite(result.fun) else start
    return float(best[0]), float(best[1]), float(best[2])


def fit_distribution(
    samples: np.ndarray | list[float], families: tuple[str, ...] = FAMILIES
) -> DistributionFit:
    """Fit every family, choose the lowest AIC; a constant or tiny sample gives ``fixed`` at the mean."""
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    mean = float(np.mean(x)) if n else float("nan")
    std = float(np.std(x, ddof=1)) if n > 1 else 0.0
    if n < MIN_SAMPLES or std <= 1e-12 * max(1.0, abs(mean)):
        return DistributionFit(n, mean, std, {"dist": "fixed", "value": _round(max(mean, 0.0))} if n else {})
    candidates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's optimisers warn on poor starting points
        for family in families:
            fitted = _family(family, x)
            if fitted is None:
                continue
            spec, k = fitted
            frozen = scipy_distribution(spec)
            loglik = float(np.sum(frozen.logpdf(x)))
            if not math.isfinite(loglik):
                continue
            ks = stats.kstest(x, frozen.cdf)
            candidates.append(
                Candidate(family, spec, loglik, 2 * k - 2 * loglik, float(ks.statistic), float(ks.pvalue))
            )
    candidates.sort(key=lambda c: c.aic)
    chosen = candidates[0].distribution if candidates else {"dist": "fixed", "value": _round(mean)}
    return DistributionFit(n, mean, std, chosen, candidates)


def _cdf(spec: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """CDF of an exponential, lognormal or gamma scenario distribution (no scipy object: this is hot)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    if spec["dist"] == "exponential":
        return -np.expm1(-x / spec["mean"])
    if spec["dist"] == "lognormal":
        sigma = math.sqrt(math.log1p(spec["cv"] ** 2))
        mu = math.log(spec["mean"]) - sigma**2 / 2
        with np.errstate(divide="ignore"):
            return special.ndtr((np.log(x) - mu) / sigma)
    if spec["dist"] == "gamma":
        shape = 1.0 / spec["cv"] ** 2
        return special.gammainc(shape, x * shape / spec["mean"])
    return scipy_distribution(spec).cdf(x)


def _size_probabilities(spec: dict[str, Any], sizes: np.ndarray) -> np.ndarray:
    """P(size = k) when a continuous draw is rounded up, at least 1."""
    upper = _cdf(spec, sizes.astype(float))
    lower = np.where(sizes <= 1, 0.0, _cdf(spec, sizes - 1.0))
    return np.clip(upper - lower, 1e-300, 1.0)


def fit_order_size(sizes: np.ndarray | list[int]) -> DistributionFit:
    """Fit the continuous size distribution behind whole-unit order sizes (interval-censored ML)."""
    k = np.asarray(sizes, dtype=float)
    k = k[np.isfinite(k)]
    n = len(k)
    mean = float(np.mean(k)) if n else float("nan")
    std = float(np.std(k, ddof=1)) if n > 1 else 0.0
    if n < MIN_SAMPLES or std == 0:
        return DistributionFit(n, mean, std, {"dist": "fixed", "value": _round(max(mean, 1.0))} if n else {})
    k = np.maximum(np.round(k), 1.0)
    values, counts = np.unique(k, return_counts=True)
    empirical = np.cumsum(counts) / n
    candidates = []
    for family, size in (("exponential", 1), ("lognormal", 2), ("gamma", 2)):

        def make(theta: np.ndarray, family: str = family) -> dict[str, Any]:
            spec = {"dist": family, "mean": float(math.exp(theta[0]))}
            if family != "exponential":
                spec["cv"] = float(math.exp(theta[1]))
            return spec

        def negative_loglik(theta: np.ndarray, make: Any = make) -> float:
            if np.any(np.abs(theta) > 20):
                return 1e300
            return -float(np.sum(counts * np.log(_size_probabilities(make(theta), values))))

        start = np.array([math.log(max(mean - 0.5, 0.5)), math.log(max(std / mean, 0.1))][:size])
        result = optimize.minimize(
            negative_loglik,
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000},
        )
        spec = {key: (_round(v) if key != "dist" else v) for key, v in make(result.x).items()}
        loglik = -float(result.fun)
        model_cdf = np.cumsum(_size_probabilities(spec, values))
        statistic = float(np.max(np.abs(model_cdf - empirical)))
        candidates.append(Candidate(family, spec, loglik, 2 * size - 2 * loglik, statistic, float("nan")))
    candidates.sort(key=lambda c: c.aic)
    return DistributionFit(n, mean, std, candidates[0].distribution, candidates)


@dataclass
class ArrivalFit:
    """The fitted arrival process of one segment, and how it was chosen."""

    n: int
    days: int
    form: str
    rate_per_day: float
    rate_se: float
    trend_per_year: float
    trend_se: float
    seasonality: dict[str, float]
    amplitude_se: float
    mean_rate: float
    mean_rate_se: float
    bic: dict[str, float]
    daily_counts: list[float]
    daily_fitted: list[float]

    def arrivals(self) -> dict[str, Any]:
        """The scenario's ``arrivals`` mapping."""
        return {
            "rate_per_day": _round(self.rate_per_day),
            "trend_per_year": _round(self.trend_per_year),
            "seasonality": {key: _round(value) for key, value in self.seasonality.items()},
        }

    def to_json(self) -> dict[str, Any]:
        """Fit statistics as plain JSON (without the daily series)."""
        return {
            "n": self.n,
            "days": self.days,
            "form": self.form,
            "arrivals": self.arrivals(),
            "rate_se": self.rate_se,
            "trend_se": self.trend_se,
            "amplitude_se": self.amplitude_se,
            "mean_rate": self.mean_rate,
            "mean_rate_se": self.mean_rate_se,
            "bic": self.bic,
        }


_FORMS = {  # name: (trend, seasonal period, minimum span in days)
    "constant": (False, None, 1),
    "trend": (True, None, 28),
    "weekly": (False, 7.0, 21),
    "trend+weekly": (True, 7.0, 28),
    "annual": (False, 365.0, 365),
    "trend+annual": (True, 365.0, 365),
}


def _rate(theta: np.ndarray, t: np.ndarray, trend: bool, period: float | None) -> np.ndarray:
    rate = np.exp(theta[0]) * np.ones_like(t)
    i = 1
    if trend:
        rate = rate * (1 + theta[i] * t / 365.0)
        i += 1
    if period:
        angle = 2 * np.pi * t / period
        rate = rate * (1 + theta[i] * np.cos(angle) + theta[i + 1] * np.sin(angle))
    return rate


def fit_arrivals(
    times: np.ndarray,
    span_days: float,
    start_day: float = 0.0,
    day_weights: np.ndarray | None = None,
    weekly: bool = True,
) -> ArrivalFit:
    """Fit the arrival process of one segment to its arrival times (days from the log's origin).

    Args:
        times: arrival times, days.
        span_days: the end of the window in which arrivals are observed.
        start_day: its start (days before it are not exposed).
        day_weights: per day of the window (from day 0), the mean weekday and hourly profile
            factor over its exposed part (1 without profiles): the expected count of day d is
            ``weight[d] × ∫ rate``.
        weekly: whether weekly seasonality is a candidate form (not when a weekday profile
            is fitted: the profile is the weekly pattern).
    """
    from statsmodels.base.model import GenericLikelihoodModel

    times = np.sort(np.asarray(times, dtype=float))
    span = max(span_days, float(times.max()) if len(times) else 0.0, 1e-9)
    days = max(1, math.ceil(span))
    counts = np.bincount(np.clip(times.astype(int), 0, days - 1), minlength=days).astype(float)
    starts = np.arange(days, dtype=float)
    begin = np.clip(start_day - starts, 0.0, 1.0)
    exposure = np.clip(span - starts, 0.0, 1.0) - begin
    weights = np.ones(days) if day_weights is None else np.asarray(day_weights, dtype=float)[:days]
    exposed = exposure > 0
    # Simpson's rule over the exposed part of each day
    lows = starts + begin
    nodes = [lows[exposed], (lows + exposure / 2)[exposed], (lows + exposure)[exposed]]
    scale = (exposure * weights)[exposed]
    observed = counts[exposed]

    class DailyPoisson(GenericLikelihoodModel):
        trend = False
        period: float | None = None

        def loglikeobs(self, params: np.ndarray) -> np.ndarray:
            rates = [_rate(params, t, self.trend, self.period) for t in nodes]
            expected = scale * (rates[0] + 4 * rates[1] + rates[2]) / 6
            if np.any(expected <= 0) or not np.all(np.isfinite(expected)):
                return np.full(len(observed), -1e10)
            return self.endog * np.log(expected) - expected - _lgamma(self.endog)

    total = float(observed.sum())
    mean_rate = total / float(scale.sum())
    window = span - start_day
    fits: dict[str, Any] = {}
    aic: dict[str, float] = {}
    for name, (trend, period, minimum) in _FORMS.items():
        if window < minimum or total == 0 or (period == 7.0 and not weekly):
            continue
        model = DailyPoisson(observed, np.ones((len(observed), 1)))
        model.trend, model.period = trend, period
        start = np.array([math.log(mean_rate)] + [0.0] * (int(trend) + (2 if period else 0)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = model.fit(start_params=start, method="nm", maxiter=5000, disp=False)
            result = model.fit(start_params=result.params, method="bfgs", maxiter=200, disp=False)
        if trend and result.params[1] < -0.9:
            continue  # outside what a scenario can hold (trend_per_year >= -0.9)
        aic[name] = float(len(start) * math.log(len(observed)) - 2 * result.llf)  # BIC: few days, be sparing
        fits[name] = (result, trend, period)
    best = min(aic, key=aic.__getitem__) if aic else "constant"
    if best not in fits:
        return ArrivalFit(
            len(times),
            days,
            "constant",
            max(mean_rate, 1e-9),
            float("nan"),
            0.0,
            0.0,
            {"amplitude": 0.0, "period_days": 365.0, "peak_day": 0.0},
            0.0,
            mean_rate,
            float("nan"),
            aic,
            counts.tolist(),
            [mean_rate] * days,
        )
    result, trend, period = fits[best]
    params = np.asarray(result.params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        covariance = np.asarray(result.cov_params())
    rate = float(math.exp(params[0]))
    rate_se = float(rate * math.sqrt(max(covariance[0, 0], 0.0)))
    trend_value = float(params[1]) if trend else 0.0
    trend_se = float(math.sqrt(max(covariance[1, 1], 0.0))) if trend else 0.0
    seasonality = {"amplitude": 0.0, "period_days": 365.0, "peak_day": 0.0}
    amplitude_se = 0.0
    if period:
        i = 1 + int(trend)
        c, s = float(params[i]), float(params[i + 1])
        amplitude = math.hypot(c, s)
        peak = (math.atan2(s, c) * period / (2 * math.pi)) % period
        seasonality = {"amplitude": min(amplitude, 0.99), "period_days": period, "peak_day": peak}
        if amplitude > 0:
            block = covariance[i : i + 2, i : i + 2]
            gradient = np.array([c, s]) / amplitude
            amplitude_se = float(math.sqrt(max(gradient @ block @ gradient, 0.0)))
    trend_value = max(trend_value, -0.9)
    mid = lows + exposure / 2
    fitted = np.where(exposed, exposure * weights * _rate(params, mid, trend, period), 0.0)
    return ArrivalFit(
        len(times),
        days,
        best,
        rate,
        rate_se,
        trend_value,
        trend_se,
        seasonality,
        amplitude_se,
        mean_rate,
        math.sqrt(total) / float(scale.sum()),
        aic,
        counts.tolist(),
        fitted.tolist(),
    )


def _lgamma(values: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(values + 1)


def shares(values: list[str] | np.ndarray) -> dict[str, dict[str, float]]:
    """Share of each value (multinomial maximum likelihood) with its standard error, sorted by value."""
    items, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    total = counts.sum()
    return {
        str(item): {
            "share": float(c / total),
            "se": float(math.sqrt(c / total * (1 - c / total) / total)),
            "count": int(c),
        }
        for item, c in zip(items, counts, strict=True)
    }
