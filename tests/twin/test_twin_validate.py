"""The distribution judgement of ``validate``: its false-alarm rate and its power, on synthetic samples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ordercycle.sim.twin.validate import _distance_test, holm

TRIALS = 120
LEVEL = 0.05


def _samples(rng: np.random.Generator, shift: float = 0.0) -> list[float]:
    """A skewed lead-time-like sample of random size (lognormal, ~150 values)."""
    return rng.lognormal(shift, 0.6, rng.poisson(150)).tolist()


@pytest.mark.parametrize("reps", [3, 5])
def test_false_alarm_rate_is_at_most_the_level(reps):
    """Log and replications drawn alike (exchangeable): p <= 5 % in at most ~5 % of trials."""
    rng = np.random.default_rng([7, reps])
    p = np.array([
        _distance_test(_samples(rng), [_samples(rng) for _ in range(reps)])["p"] for _ in range(TRIALS)
    ])
    # binomial error of a 5 % rate over TRIALS trials; 3 standard errors above the level
    assert np.mean(p <= LEVEL) <= LEVEL + 3 * math.sqrt(LEVEL * (1 - LEVEL) / TRIALS)
    assert np.mean(p <= 0.5) >= 0.3  # p values are spread, not all near 1 (the test is not blind)


def test_a_shifted_log_is_flagged_with_five_replications():
    """A log whose median is 28 % higher (log shift 0.25) is found outside in most trials."""
    rng = np.random.default_rng(11)
    p = np.array([
        _distance_test(_samples(rng, 0.25), [_samples(rng) for _ in range(5)])["p"] for _ in range(40)
    ])
    assert np.mean(p <= LEVEL) >= 0.8


def test_too_few_replications_or_values_are_not_judged():
    rng = np.random.default_rng(1)
    assert _distance_test(_samples(rng), [_samples(rng), _samples(rng)])["inside"] is None
    assert _distance_test([1.0], [_samples(rng) for _ in range(3)])["p"] is None


def test_holm_adjusts_step_down():
    adjusted = holm({"a": 0.01, "b": 0.02, "c": 0.04, "d": 0.5}, 0.05)
    assert adjusted["a"] == (0.04, True)  # 4 × 0.01
    assert adjusted["b"] == (0.06, False)  # 3 × 0.02, not rejected: Holm stops here
    assert adjusted["c"] == (0.08, False)
    assert adjusted["d"] == (0.5, False)
