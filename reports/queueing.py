"""Closed-form steady-state results of classic queues, to check the simulation against.

Pure functions of their arguments (no simulation, no I/O). Rates are per unit of
time and waits are in the same unit (the simulation clock runs in days, so a
service rate ``mu = 1`` means a mean service of one day, 24 processing hours).

References: Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing Theory*,
4th ed. (2008), §2.2–2.3 (M/M/1, M/M/c, Erlang C); Cobham, "Priority assignment in
waiting line problems", *Operations Research* 2(1), 1954 (non-preemptive priority).
The values in ``VALIDATION.md`` (queueing section) are the acceptance tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_servers(c: int) -> None:
    if isinstance(c, bool) or not isinstance(c, int) or c < 1:
        raise ValueError(f"c (number of servers) must be an integer >= 1, got {c!r}")


def mm1_wq(lam: float, mu: float) -> float:
    """Mean wait in queue of an M/M/1 queue: Wq = ρ / (µ − λ), ρ = λ/µ.

    Args:
        lam: arrival rate λ (> 0).
        mu: service rate µ (> 0).

    Returns:
        The steady-state mean time a customer waits before service starts.

    Raises:
        ValueError: if a rate is not positive or the queue is unstable (ρ ≥ 1).
    """
    _check_positive("lam", lam)
    _check_positive("mu", mu)
    rho = lam / mu
    if rho >= 1:
        raise ValueError(f"unstable M/M/1 queue: rho = lam/mu = {rho:g} >= 1")
    return rho / (mu - lam)


def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability that an arrival to an M/M/c queue has to wait.

    C(c, a) = [aᶜ/c! · c/(c−a)] / [Σ_{k<c} aᵏ/k! + aᶜ/c! · c/(c−a)], with the
    offered load a = λ/µ (in Erlangs). Computed through the numerically stable
    Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)), C = c·B / (c − a·(1 − B)).

    Args:
        c: number of servers (integer ≥ 1).
        a: offered load λ/µ (> 0).

    Returns:
        The probability of waiting, in (0, 1).

    Raises:
        ValueError: if ``c`` is not a positive integer, ``a`` not positive, or the
            queue is unstable (ρ = a/c ≥ 1).
    """
    _check_servers(c)
    _check_positive("a", a)
    if a >= c:
        raise ValueError(f"unstable M/M/{c} queue: rho = a/c = {a / c:g} >= 1")
    blocking = 1.0
    for k in range(1, c + 1):
        blocking = a * blocking / (k + a * blocking)
    return c * blocking / (c - a * (1.0 - blocking))


def mmc_wq(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue: Wq = C(c, λ/µ) / (cµ − λ).

    Args:
        lam: arrival rate λ (> 0).
        mu: service rate of one server µ (> 0).
        c: number of servers (integer ≥ 1).

    Returns:
        The steady-state mean time a customer waits before service starts.

    Raises:
        ValueError: on bad input or an unstable queue (ρ = λ/(cµ) ≥ 1).
    """
    _check_positive("lam", lam)
    _check_positive("mu", mu)
    _check_servers(c)
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_w(lam: float, mu: float, c: int) -> float:
    """Mean time in system of an M/M/c queue: W = Wq + 1/µ.

    Args:
        lam: arrival rate λ (> 0).
        mu: service rate of one server µ (> 0).
        c: number of servers (integer ≥ 1).

    Returns:
        The steady-state mean sojourn time (wait plus service).

    Raises:
        ValueError: on bad input or an unstable queue (ρ = λ/(cµ) ≥ 1).
    """
    return mmc_wq(lam, mu, c) + 1.0 / mu


def mg1_priority_wq(lams: Sequence[float], es: Sequence[float],
                    es2: Sequence[float]) -> tuple[float, ...]:
    """Mean wait in queue per class of a non-preemptive priority M/G/1 queue (Cobham).

    Class 1 has the highest priority. Wq,k = W₀ / ((1 − σ_{k−1})(1 − σ_k)), with the
    mean residual work W₀ = Σᵢ λᵢ E[Sᵢ²] / 2 and σ_k = Σ_{i≤k} λᵢ E[Sᵢ] (σ₀ = 0).

    Args:
        lams: arrival rate λₖ of each class, highest priority first (each > 0).
        es: mean service time E[Sₖ] of each class (each > 0).
        es2: second moment of the service time E[Sₖ²] of each class (each ≥ E[Sₖ]²;
            2·E[S]² for exponential service).

    Returns:
        A tuple of the mean waits in queue, one per class, in the order given.

    Raises:
        ValueError: on empty or mismatched inputs, a non-positive rate or moment, a
            second moment below the squared mean, or an unstable queue (Σ ρₖ ≥ 1).
    """
    lams, es, es2 = list(lams), list(es), list(es2)
    if not lams:
        raise ValueError("need at least one priority class")
    if not len(lams) == len(es) == len(es2):
        raise ValueError(
            f"lams, es and es2 must have the same length, got {len(lams)}, {len(es)}, {len(es2)}"
        )
    for k, (lam, mean, second) in enumerate(zip(lams, es, es2, strict=True), start=1):
        _check_positive(f"lams[{k - 1}]", lam)
        _check_positive(f"es[{k - 1}]", mean)
        _check_positive(f"es2[{k - 1}]", second)
        if second < mean * mean * (1 - 1e-12):
            raise ValueError(
                f"class {k}: es2 ({second:g}) is below es**2 ({mean * mean:g}); not a second moment"
            )
    rho = sum(lam * mean for lam, mean in zip(lams, es, strict=True))
    if rho >= 1:
        raise ValueError(f"unstable priority queue: total rho = {rho:g} >= 1")
    w0 = sum(lam * second for lam, second in zip(lams, es2, strict=True)) / 2.0
    waits = []
    sigma_before = 0.0
    for lam, mean in zip(lams, es, strict=True):
        sigma = sigma_before + lam * mean
        waits.append(w0 / ((1.0 - sigma_before) * (1.0 - sigma)))
        sigma_before = sigma
    return tuple(waits)
