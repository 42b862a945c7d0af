"""Closed-form queueing results against the published table of VALIDATION.md (1e-9 relative)."""

from __future__ import annotations

import math

import pytest

from ordercycle.reports.queueing import erlang_c, mg1_priority_wq, mm1_wq, mmc_w, mmc_wq

REL = 1e-9

# VALIDATION.md, queueing section: (λ, c, Wq, W) with µ = 1. The table prints six
# decimals; the exact values are the fractions / closed forms noted alongside.
MMC_TABLE = [
    pytest.param(0.5, 1, 1.0, 2.0, id="M/M/1 lam=0.5"),
    pytest.param(0.8, 1, 4.0, 5.0, id="M/M/1 lam=0.8"),
    pytest.param(1.6, 2, 16 / 9, 25 / 9, id="M/M/2 lam=1.6"),  # 1.777778, 2.777778
    pytest.param(4.0, 5, 0.554113, 1.554113, id="M/M/5 lam=4.0"),
    pytest.param(4.5, 5, 1.524986, 2.524986, id="M/M/5 lam=4.5"),
]


def _erlang_c_textbook(c: int, a: float) -> float:
    """C(c, a) written exactly as in VALIDATION.md (independent of the module's recursion)."""
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)


@pytest.mark.parametrize(("lam", "c", "wq", "w"), MMC_TABLE)
def test_mmc_matches_the_table(lam, c, wq, w):
    exact_wq = _erlang_c_textbook(c, lam) / (c - lam)
    assert mmc_wq(lam, 1.0, c) == pytest.approx(exact_wq, rel=REL)
    assert mmc_w(lam, 1.0, c) == pytest.approx(exact_wq + 1.0, rel=REL)
    # the table's six printed decimals
    assert round(mmc_wq(lam, 1.0, c), 6) == pytest.approx(wq, abs=5e-7)
    assert round(mmc_w(lam, 1.0, c), 6) == pytest.approx(w, abs=5e-7)


@pytest.mark.parametrize(("lam", "wq", "w"), [(0.5, 1.0, 2.0), (0.8, 4.0, 5.0)])
def test_mm1_matches_the_table_and_mmc_with_one_server(lam, wq, w):
    assert mm1_wq(lam, 1.0) == pytest.approx(wq, rel=REL)
    assert mmc_wq(lam, 1.0, 1) == pytest.approx(wq, rel=REL)
    assert mmc_w(lam, 1.0, 1) == pytest.approx(w, rel=REL)
    assert erlang_c(1, lam) == pytest.approx(lam, rel=REL)  # M/M/1: P(wait) = ρ


def test_mmc_exact_fractions():
    assert mmc_wq(1.6, 1.0, 2) == pytest.approx(16 / 9, rel=REL)
    assert erlang_c(2, 1.6) == pytest.approx(32 / 45, rel=REL)  # 2ρ²/(1+ρ), ρ = 0.8
    assert mmc_wq(4.0, 1.0, 5) == pytest.approx(128 / 231, rel=REL)  # 0.554113
    assert mmc_wq(1.2, 1.0, 2) == pytest.approx(9 / 16, rel=REL)  # the M/M/2 case of the sim test


def test_rates_scale_time():
    # µ = 24 per day is the same queue as µ = 1 per hour: waits shrink by the factor.
    assert mmc_wq(4.0 * 24, 24.0, 5) == pytest.approx(mmc_wq(4.0, 1.0, 5) / 24, rel=REL)
    assert mm1_wq(0.5 * 3, 3.0) == pytest.approx(mm1_wq(0.5, 1.0) / 3, rel=REL)


def test_cobham_three_classes_matches_the_table():
    # λ = (0.2, 0.3, 0.3), exponential service µ = 1: E[S] = 1, E[S²] = 2.
    waits = mg1_priority_wq((0.2, 0.3, 0.3), (1.0, 1.0, 1.0), (2.0, 2.0, 2.0))
    assert isinstance(waits, tuple) and len(waits) == 3
    for got, want in zip(waits, (1.0, 2.0, 8.0), strict=True):
        assert got == pytest.approx(want, rel=REL)
    sojourn = tuple(wq + 1.0 for wq in waits)
    assert sojourn == pytest.approx((2.0, 3.0, 9.0), rel=REL)


def test_cobham_single_class_is_pollaczek_khinchine_and_conserves_work():
    # One class: Wq = λE[S²] / (2(1−ρ)); exponential service gives M/M/1.
    (single,) = mg1_priority_wq([0.8], [1.0], [2.0])
    assert single == pytest.approx(mm1_wq(0.8, 1.0), rel=REL)
    # Kleinrock's conservation law: Σ ρₖ Wq,k = ρ · W₀ / (1 − ρ) for equal service.
    waits = mg1_priority_wq((0.2, 0.3, 0.3), (1.0, 1.0, 1.0), (2.0, 2.0, 2.0))
    assert sum(r * w for r, w in zip((0.2, 0.3, 0.3), waits, strict=True)) == pytest.approx(
        0.8 * 0.8 / 0.2, rel=REL
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mm1_wq(1.0, 1.0), "unstable"),
        (lambda: mm1_wq(1.2, 1.0), "unstable"),
        (lambda: mm1_wq(0.0, 1.0), "lam"),
        (lambda: mm1_wq(0.5, -1.0), "mu"),
        (lambda: mm1_wq(float("nan"), 1.0), "lam"),
        (lambda: erlang_c(2, 2.0), "unstable"),
        (lambda: erlang_c(0, 0.5), "servers"),
        (lambda: erlang_c(2.0, 0.5), "servers"),
        (lambda: erlang_c(2, 0.0), "a"),
        (lambda: mmc_wq(5.0, 1.0, 5), "unstable"),
        (lambda: mmc_wq(6.0, 1.0, 5), "unstable"),
        (lambda: mmc_w(2.0, 1.0, 2), "unstable"),
        (lambda: mmc_wq(1.0, 1.0, 0), "servers"),
        (lambda: mg1_priority_wq((0.5, 0.5), (1.0, 1.0), (2.0, 2.0)), "unstable"),
        (lambda: mg1_priority_wq((0.2, 0.3), (1.0,), (2.0, 2.0)), "same length"),
        (lambda: mg1_priority_wq((), (), ()), "at least one"),
        (lambda: mg1_priority_wq((0.2,), (1.0,), (0.5,)), "second moment"),
        (lambda: mg1_priority_wq((-0.2,), (1.0,), (2.0,)), "lams"),
    ],
)
def test_bad_or_unstable_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()
