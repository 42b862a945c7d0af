"""Forecast policies: statistical demand forecasts, the forecast game, and consensus.

Every forecast policy derives from :class:`ForecastPolicy`. A statistical method only
implements one hook, ``_predict(history, horizon)``: the next ``horizon`` periods'
units from a non-empty demand history, with a short reason. The base class does the
rest in one place:

* :meth:`ForecastPolicy.predict_horizon` answers 0 for an empty history and clips
  negative values to 0 (saying so in the reason);
* :meth:`ForecastPolicy.predict` is the one-step forecast;
* :meth:`ForecastPolicy.forecast` plays the essay's forecast game on the one-step
  figure: marketing inflates it by ``context.marketing_inflation``, production
  discounts marketing's figure by ``context.production_discount`` and plans on that.

:class:`Consensus` is the essay's remedy: marketing and production forecast jointly,
so nobody inflates or discounts; instead the plan corrects the base method's bias by
tracking the errors of its own past forecasts.

The exponential-smoothing methods fit ``statsmodels.tsa.holtwinters`` on the history
at every call (parameters estimated by statsmodels, ``initialization_method=
"estimated"``); when the history is too short to fit, they fall back to a simpler
method and the reason says so. statsmodels has no intermittent-demand methods, so
Croston and SBA are written here. ``docs/forecasting.md`` describes every method.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import AfterValidator, Field, ValidationInfo

from ordercycle.policies.base import Policy, PolicyParameterError, build
from ordercycle.policies.contexts import Forecast, ForecastContext


@dataclass(frozen=True, slots=True)
class Prediction:
    """Statistical forecast of the next ``len(units)`` periods, with its reason."""

    units: tuple[float, ...]
    reason: str


class ForecastPolicy(Policy):
    """Forecasts next period's demand of one product.

    Subclasses implement :meth:`_predict`; the forecast game is applied here, once,
    for all of them (see the module docstring). A subclass that does not play the
    game (:class:`Consensus`) overrides :meth:`forecast`.
    """

    decision = "forecast"

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Forecast ``horizon`` periods from a non-empty history (may be negative).

        Args:
            history: demand per period, oldest first; never empty.
            horizon: number of periods to forecast, at least 1.
        """
        raise NotImplementedError

    def predict_horizon(self, history: Sequence[float], horizon: int = 1) -> Prediction:
        """Forecast the next ``horizon`` periods from ``history``; never negative.

        Args:
            history: demand per period, oldest first (may be empty).
            horizon: number of periods ahead, at least 1.

        Returns:
            One figure per period ahead; zeros when the history is empty.

        Raises:
            ValueError: if ``horizon`` is below 1.
        """
        if horizon < 1:
            raise ValueError(f"horizon: must be >= 1, got {horizon}")
        values = tuple(float(x) for x in history)
        if not values:
            return Prediction((0.0,) * horizon, "no demand history yet: forecast 0")
        prediction = self._predict(values, horizon)
        if any(not math.isfinite(u) for u in prediction.units):
            naive = Naive()._predict(values, horizon)
            return Prediction(naive.units, f"{self.name} gave no finite forecast; {naive.reason}")
        if min(prediction.units) < 0.0:
            clipped = tuple(max(0.0, u) for u in prediction.units)
            return Prediction(clipped, f"{prediction.reason}; negative forecast clipped to 0")
        return prediction

    def predict(self, history: Sequence[float]) -> float:
        """Next period's demand in units (the one-step forecast)."""
        return self.predict_horizon(history, 1).units[0]

    def forecast(self, context: ForecastContext) -> Forecast:
        """Statistical forecast, then the forecast game: marketing inflates, production discounts."""
        prediction = self.predict_horizon(context.history_units, 1)
        statistical = prediction.units[0]
        marketing = statistical * (1.0 + context.marketing_inflation)
        planned = marketing * (1.0 - context.production_discount)
        reason = (
            f"{prediction.reason}; marketing +{context.marketing_inflation:.0%} -> {marketing:.1f}; "
            f"production -{context.production_discount:.0%} -> {planned:.1f}"
        )
        return Forecast(statistical, marketing, planned, reason)


# --- simple benchmarks (Hyndman & Athanasopoulos, FPP 2nd ed., §3.1) ---------------------


class Naive(ForecastPolicy):
    """Last period's demand, for every period ahead.

    Source: Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 2nd
    ed. (2018), §3.1 "naïve method": ŷ(T+h) = y(T).
    """

    name = "naive"
    summary = "last period's demand; marketing inflates, production discounts"

    def __init__(self) -> None:
        pass

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Repeat the last observation."""
        last = history[-1]
        return Prediction((last,) * horizon, f"last period's demand {last:.1f}")


class SeasonalNaive(ForecastPolicy):
    """Demand of the same period one season earlier.

    ŷ(T+h) = y(T + h − m(k+1)) with k = ⌊(h−1)/m⌋ and m = ``season_length``. With
    less than one season of history it falls back to the naive method.

    Source: Hyndman & Athanasopoulos, FPP 2nd ed. (2018), §3.1 "seasonal naïve".
    """

    name = "seasonal-naive"
    summary = "demand of the same period one season ago; marketing inflates, production discounts"

    def __init__(
        self,
        season_length: Annotated[
            int, Field(ge=2, le=366, description="periods per season (52: a year of weeks)")
        ] = 52,
    ):
        self.season_length = season_length

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Repeat the last full season."""
        m = self.season_length
        if len(history) < m:
            naive = Naive()._predict(history, horizon)
            return Prediction(
                naive.units,
                f"{len(history)} periods < one season of {m}: naive fallback, {naive.reason}",
            )
        season = history[-m:]
        units = tuple(season[h % m] for h in range(horizon))
        return Prediction(units, f"same period one season ({m} periods) ago {units[0]:.1f}")


class HistoricalMean(ForecastPolicy):
    """Mean of all the demand history the policy sees.

    Source: Hyndman & Athanasopoulos, FPP 2nd ed. (2018), §3.1 "average method".
    """

    name = "mean"
    summary = "mean of the whole history; marketing inflates, production discounts"

    def __init__(self) -> None:
        pass

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Arithmetic mean of the history."""
        mean = sum(history) / len(history)
        return Prediction((mean,) * horizon, f"mean of {len(history)} periods {mean:.1f}")


class MovingAverageGame(ForecastPolicy):
    """Moving average of recent demand, then the forecast game of the essay.

    Marketing inflates the statistical forecast by ``marketing_inflation`` (it knows
    demand will differ and wants enough capacity); production, knowing this,
    discounts marketing's figure by ``production_discount`` and plans on the result.
    Both factors come from the context (the scenario's ``planning`` section).

    Source: the simple moving average, e.g. Hyndman & Athanasopoulos, FPP 2nd ed.
    (2018), §6.2 (used here as a forecast, the mean of the last ``window`` periods).
    """

    name = "moving-average"
    summary = "mean of the last `window` periods; marketing inflates, production discounts"

    def __init__(
        self, window: Annotated[int, Field(ge=1, le=104, description="periods averaged")] = 4
    ):
        self.window = window

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Mean of the last ``window`` periods (fewer while the history is shorter)."""
        recent = history[-self.window :]
        mean = sum(recent) / len(recent)
        return Prediction((mean,) * horizon, f"mean of last {len(recent)} periods {mean:.1f}")


# --- exponential smoothing (statsmodels) -----------------------------------------------------


def _fit_forecast(model: Any, horizon: int) -> tuple[tuple[float, ...], dict[str, Any]]:
    """Fit a statsmodels smoothing model and forecast ``horizon`` periods.

    Quietly: statsmodels' warnings (convergence, log of a zero SSE on a flat
    history) say nothing a planner could act on.

    Returns:
        The forecasts and the fitted parameters.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit()
        units = tuple(float(u) for u in fit.forecast(horizon))
    return units, dict(fit.params)


class SimpleExponentialSmoothing(ForecastPolicy):
    """Simple exponential smoothing, parameters estimated on the history at each call.

    Level ℓ(t) = α y(t) + (1 − α) ℓ(t−1); the forecast is flat at the last level.
    α and ℓ(0) are estimated by statsmodels (SSE). Needs 3 periods; with fewer it
    falls back to the naive method.

    Source: ``statsmodels.tsa.holtwinters.SimpleExpSmoothing``; Hyndman &
    Athanasopoulos, FPP 2nd ed. (2018), §7.1.
    """

    name = "ses"
    summary = "simple exponential smoothing (statsmodels); marketing inflates, production discounts"
    min_history: ClassVar[int] = 3

    def __init__(self) -> None:
        pass

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Fit SES and forecast; naive when the history is too short."""
        if len(history) < self.min_history:
            return _fallback(Naive(), history, horizon, f"{len(history)} periods < {self.min_history}")
        from statsmodels.tsa.holtwinters import SimpleExpSmoothing

        model = SimpleExpSmoothing(np.asarray(history), initialization_method="estimated")
        units, params = _fit_forecast(model, horizon)
        alpha = params["smoothing_level"]
        return Prediction(units, f"SES (alpha {alpha:.2f}) level {units[0]:.1f}")


class Holt(ForecastPolicy):
    """Holt's linear trend method, optionally damped, fitted at each call.

    Level and trend are smoothed (α, β, and φ when damped, estimated by statsmodels);
    the forecast is ℓ + (φ + … + φʰ) b (φ = 1 undamped). Needs 5 periods (6 when
    damped); with fewer it falls back to simple exponential smoothing.

    Source: ``statsmodels.tsa.holtwinters.Holt``; Hyndman & Athanasopoulos, FPP 2nd
    ed. (2018), §7.2 (damped: Gardner & McKenzie, 1985).
    """

    name = "holt"
    summary = "Holt's linear trend (optionally damped, statsmodels); marketing inflates, production discounts"

    def __init__(
        self, damped: Annotated[bool, Field(description="damp the trend (phi estimated)")] = False
    ):
        self.damped = damped

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Fit Holt and forecast; SES when the history is too short."""
        needed = 6 if self.damped else 5
        if len(history) < needed:
            ses = SimpleExponentialSmoothing()
            return _fallback(ses, history, horizon, f"{len(history)} periods < {needed}")
        from statsmodels.tsa.holtwinters import Holt as StatsmodelsHolt

        model = StatsmodelsHolt(np.asarray(history), damped_trend=self.damped,
                                initialization_method="estimated")
        units, params = _fit_forecast(model, horizon)
        damping = f", phi {params['damping_trend']:.2f}" if self.damped else ""
        return Prediction(
            units,
            f"Holt{' damped' if self.damped else ''} (alpha {params['smoothing_level']:.2f}, "
            f"beta {params['smoothing_trend']:.2f}{damping}) {units[0]:.1f}",
        )


class HoltWinters(ForecastPolicy):
    """Holt-Winters: level, optional (damped) trend, additive or multiplicative season.

    All smoothing parameters and initial states are estimated by statsmodels at each
    call. It needs two full seasons and two more periods than it estimates
    parameters; with less it falls back to the seasonal naive method (itself naive
    with less than one season). Multiplicative seasonality needs positive demand;
    with a zero it uses the additive form.

    Source: ``statsmodels.tsa.holtwinters.ExponentialSmoothing``; Hyndman &
    Athanasopoulos, FPP 2nd ed. (2018), §7.3; Winters (1960).
    """

    name = "holt-winters"
    summary = "Holt-Winters seasonal smoothing (statsmodels); marketing inflates, production discounts"

    def __init__(
        self,
        season_length: Annotated[
            int, Field(ge=2, le=366, description="periods per season (52: a year of weeks)")
        ] = 52,
        seasonal: Annotated[
            Literal["additive", "multiplicative"], Field(description="how the season combines")
        ] = "additive",
        trend: Annotated[
            Literal["none", "additive", "damped"], Field(description="trend component")
        ] = "additive",
    ):
        self.season_length = season_length
        self.seasonal = seasonal
        self.trend = trend

    def required_history(self) -> int:
        """Periods needed to fit: two seasons, and two more than the parameters estimated."""
        trend_params = {"none": 0, "additive": 2, "damped": 3}[self.trend]
        estimated = 2 + self.season_length + 1 + trend_params  # alpha, level; seasonals, gamma
        return max(2 * self.season_length, estimated + 2)

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Fit Holt-Winters and forecast; seasonal naive when the history is too short."""
        needed = self.required_history()
        if len(history) < needed:
            fallback = SeasonalNaive(self.season_length)
            return _fallback(fallback, history, horizon, f"{len(history)} periods < {needed}")
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        seasonal, note = self.seasonal, ""
        if seasonal == "multiplicative" and min(history) <= 0:
            seasonal, note = "additive", "; additive season: demand not all positive"
        model = ExponentialSmoothing(
            np.asarray(history),
            trend=None if self.trend == "none" else "add",
            damped_trend=self.trend == "damped",
            seasonal="mul" if seasonal == "multiplicative" else "add",
            seasonal_periods=self.season_length,
            initialization_method="estimated",
        )
        units, params = _fit_forecast(model, horizon)
        return Prediction(
            units,
            f"Holt-Winters {seasonal} season of {self.season_length}, trend {self.trend} "
            f"(alpha {params['smoothing_level']:.2f}, gamma {params['smoothing_seasonal']:.2f}) "
            f"{units[0]:.1f}{note}",
        )


def _fallback(policy: ForecastPolicy, history: tuple[float, ...], horizon: int, why: str) -> Prediction:
    """``policy``'s prediction, its reason prefixed with why the caller fell back to it."""
    prediction = policy._predict(history, horizon)
    return Prediction(prediction.units, f"{why}: {policy.name} fallback, {prediction.reason}")


# --- intermittent demand (hand-written: statsmodels has none) ----------------------------


class Croston(ForecastPolicy):
    """Croston's method for intermittent demand.

    Demand sizes z (periods with demand > 0) and the intervals p between them (the
    first interval counts from the start of the history) are each smoothed with
    ``alpha``, both initialised at their first value; the forecast per period is
    z / p. No demand in the whole history forecasts 0. The initialisation follows
    R's ``forecast::croston`` (Hyndman); statsmodels has no Croston method, so it is
    written here.

    Source: Croston, "Forecasting and stock control for intermittent demands",
    Operational Research Quarterly 23(3), 1972, 289–303.
    """

    name = "croston"
    summary = "Croston's intermittent-demand method; marketing inflates, production discounts"
    debias: ClassVar[bool] = False

    def __init__(
        self,
        alpha: Annotated[
            float, Field(gt=0, le=1, description="smoothing of demand sizes and intervals")
        ] = 0.1,
    ):
        self.alpha = alpha

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """Smoothed size over smoothed interval (times 1 − alpha/2 for SBA)."""
        size = interval = None
        since_last = 0
        for demand in history:
            since_last += 1
            if demand <= 0:
                continue
            if size is None or interval is None:
                size, interval = demand, float(since_last)
            else:
                size += self.alpha * (demand - size)
                interval += self.alpha * (since_last - interval)
            since_last = 0
        if size is None or interval is None:
            return Prediction((0.0,) * horizon, f"no demand in {len(history)} periods: forecast 0")
        factor = 1.0 - self.alpha / 2.0 if self.debias else 1.0
        rate = factor * size / interval
        adjusted = f" x (1 - alpha/2) = {factor:.3f}" if self.debias else ""
        return Prediction(
            (rate,) * horizon,
            f"{self.name}: size {size:.1f} every {interval:.2f} periods{adjusted} -> {rate:.1f}",
        )


class SyntetosBoylan(Croston):
    """Syntetos–Boylan approximation (SBA): Croston's forecast times (1 − alpha/2).

    Croston's estimator is biased upwards; the factor removes most of the bias.
    Hand-written, as statsmodels has none.

    Source: Syntetos & Boylan, "The accuracy of intermittent demand estimates",
    International Journal of Forecasting 21(2), 2005, 303–314.
    """

    name = "sba"
    summary = "Syntetos-Boylan bias-corrected Croston; marketing inflates, production discounts"
    debias = True


# --- consensus ------------------------------------------------------------------------


BaseMethod = Literal[
    "naive", "seasonal-naive", "mean", "moving-average", "ses", "holt", "holt-winters",
    "croston", "sba",
]
"""The statistical methods a forecast that builds on another (consensus, field-informed) may use."""


def method_class(name: str) -> type[ForecastPolicy]:
    """The statistical method registered here as ``name`` (a consensus or field-informed base)."""
    methods = {
        cls.name: cls
        for cls in (Naive, SeasonalNaive, HistoricalMean, MovingAverageGame,
                    SimpleExponentialSmoothing, Holt, HoltWinters, Croston, SyntetosBoylan)
    }
    return methods[name]


def check_base_params(value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
    """Validate ``base_params`` against the chosen base method's own signature."""
    base = info.data.get("base")
    if value is None or base is None:
        return value
    try:
        build(method_class(base), value, where=base)
    except PolicyParameterError as error:
        raise ValueError("; ".join(error.problems)) from None
    return value


class Consensus(ForecastPolicy):
    """Joint marketing + production forecast: no game, the base method's bias corrected.

    Marketing and production agree on one figure, so statistical = marketing =
    planned (``marketing_inflation`` and ``production_discount`` are ignored). The
    figure is the base method's forecast plus a bias correction c that tracks the
    errors of the consensus' own past forecasts (``context.past_forecasts``, aligned
    with the end of ``context.history_units``: the last past forecast was made for the
    last period of history). The correction used last period is read back from the
    last forecast, c(T) = F(T) − base(history before T), and updated by that
    forecast's error:

        c(T+1) = c(T) + ``smoothing`` × (y(T) − F(T)),

    which is exponential smoothing of the base method's own error y − base, so a
    constant bias b is removed geometrically at the rate (1 − smoothing). With no
    past forecast the correction is 0.

    Source: the essay's consensus forecast (marketing and production plan together);
    the correction is the classic smoothed-error bias adjustment (Brown, *Smoothing,
    Forecasting and Prediction*, 1963; Trigg, "Monitoring a forecasting system",
    Operational Research Quarterly 15(3), 1964).
    """

    name = "consensus"
    summary = "joint marketing+production forecast, no inflate/discount; base bias tracked and removed"

    def __init__(
        self,
        base: Annotated[BaseMethod, Field(description="statistical method corrected")] = "moving-average",
        base_params: Annotated[
            dict[str, Any] | None,
            AfterValidator(check_base_params),
            Field(description="parameters of the base method (its defaults when null)"),
        ] = None,
        smoothing: Annotated[
            float, Field(gt=0, le=1, description="weight of the latest error in the bias estimate")
        ] = 0.2,
    ):
        self.base = base
        self.base_params = base_params
        self.smoothing = smoothing

    def __hash__(self) -> int:
        params = tuple(sorted((self.base_params or {}).items()))
        return hash((type(self), self.base, params, self.smoothing))

    def base_method(self) -> ForecastPolicy:
        """The base statistical method, built from ``base`` and ``base_params``."""
        return method_class(self.base)(**(self.base_params or {}))

    def _predict(self, history: tuple[float, ...], horizon: int) -> Prediction:
        """The base method's forecast (a bare history carries no past forecasts to correct by)."""
        prediction = self.base_method().predict_horizon(history, horizon)
        return Prediction(prediction.units, f"{self.base}: {prediction.reason}")

    def correction(self, history: Sequence[float], past_forecasts: Sequence[float]) -> float:
        """Bias correction for the next period, from the last forecast and its outcome."""
        if not past_forecasts or not history:
            return 0.0
        base = self.base_method()
        last_forecast, last_actual = float(past_forecasts[-1]), float(history[-1])
        last_correction = last_forecast - base.predict(history[:-1])
        return last_correction + self.smoothing * (last_actual - last_forecast)

    def forecast(self, context: ForecastContext) -> Forecast:
        """Base forecast plus the tracked bias correction; marketing and planned equal it."""
        history = context.history_units
        prediction = self.base_method().predict_horizon(history, 1)
        if not history:
            return Forecast(0.0, 0.0, 0.0, f"consensus: {prediction.reason}")
        correction = self.correction(history, context.past_forecasts)
        consensus = max(0.0, prediction.units[0] + correction)
        clipped = " (clipped to 0)" if prediction.units[0] + correction < 0 else ""
        reason = (
            f"consensus, no inflate/discount: {self.base} {prediction.reason}; bias correction "
            f"{correction:+.1f} from {len(context.past_forecasts)} past forecasts -> "
            f"{consensus:.1f}{clipped}"
        )
        return Forecast(consensus, consensus, consensus, reason)
