"""Forecast accuracy metrics: pure functions of actual and forecast values.

Definitions follow Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*,
2nd ed. (2018), §3.4, with the forecast error e = actual − forecast:

* RMSE = √mean(e²); MAE = mean(|e|);
* MAPE = 100 · mean(|e / actual|), in percent (undefined when an actual is 0);
* MASE = MAE / Q, with Q the in-sample MAE of the seasonal naive method of period
  ``m`` on the training data, Q = mean(|y(t) − y(t−m)|) (m = 1: the naive method);
* bias = mean(forecast − actual): positive when the forecasts are too high (the sign
  of the ``forecast_bias`` KPI, which is the same sum relative to total demand).

Every function takes two equally long, non-empty sequences of numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def _pair(actual: ArrayLike, forecast: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Actual and forecast as float arrays, checked to be equally long and non-empty."""
    actual_values = np.asarray(actual, dtype=float).ravel()
    forecast_values = np.asarray(forecast, dtype=float).ravel()
    if actual_values.size == 0:
        raise ValueError("actual: must not be empty")
    if actual_values.shape != forecast_values.shape:
        raise ValueError(
            f"forecast: must have one value per actual ({actual_values.size}), got {forecast_values.size}"
        )
    return actual_values, forecast_values


def rmse(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Root mean squared error."""
    y, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def mae(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute error."""
    y, f = _pair(actual, forecast)
    return float(np.mean(np.abs(y - f)))


def mape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean absolute percentage error, in percent.

    Raises:
        ValueError: if an actual value is 0 (the percentage error is undefined there;
            use :func:`mase`).
    """
    y, f = _pair(actual, forecast)
    if np.any(y == 0):
        raise ValueError("actual: MAPE is undefined when an actual value is 0 (use MASE)")
    return float(100.0 * np.mean(np.abs((y - f) / y)))


def seasonal_naive_scale(training: Sequence[float] | ArrayLike, m: int = 1) -> float:
    """In-sample MAE of the seasonal naive method of period ``m`` (the MASE scale).

    Raises:
        ValueError: if ``m`` < 1, the training data has no more than ``m`` values, or
            the scale is 0 (a training series that repeats itself exactly).
    """
    if m < 1:
        raise ValueError(f"m: must be >= 1, got {m}")
    y = np.asarray(training, dtype=float).ravel()
    if y.size <= m:
        raise ValueError(f"training: needs more than m = {m} values, got {y.size}")
    scale = float(np.mean(np.abs(y[m:] - y[:-m])))
    if scale == 0.0:
        raise ValueError(f"training: the seasonal naive (m = {m}) in-sample MAE is 0; MASE is undefined")
    return scale


def mase(actual: ArrayLike, forecast: ArrayLike, training: ArrayLike, m: int = 1) -> float:
    """Mean absolute scaled error: MAE over the in-sample seasonal naive MAE of ``training``.

    Args:
        actual: the observed values of the forecast periods.
        forecast: the forecasts of those periods.
        training: the history the forecasts were made from (for the scale).
        m: seasonal period of the scaling method (1: naive).
    """
    return mae(actual, forecast) / seasonal_naive_scale(training, m)


def bias(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Mean of forecast − actual: positive when the forecasts are too high."""
    y, f = _pair(actual, forecast)
    return float(np.mean(f - y))
