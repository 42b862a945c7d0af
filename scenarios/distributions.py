"""Probability distributions a scenario may name, and their block samplers.

A distribution is written in YAML as a mapping with a ``dist`` key, e.g.
``{dist: lognormal, mean: 2.0, cv: 0.5}``, or as a bare number for a fixed value.
Every distribution knows its ``mean`` (planning uses it) and can draw a block of
variates from a :class:`numpy.random.Generator` (the simulation draws in blocks of
4,096 per stream: one float per event costs about 16 % throughput).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class Fixed(BaseModel):
    """A constant value (no randomness)."""

    model_config = _CONFIG
    dist: Literal["fixed"] = "fixed"
    value: float = Field(ge=0, description="the constant value")

    @property
    def mean(self) -> float:
        """Expected value."""
        return self.value

    def sample_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Return ``size`` copies of the value (consumes no random numbers)."""
        return np.full(size, self.value)


class Exponential(BaseModel):
    """Exponential distribution given by its mean."""

    model_config = _CONFIG
    dist: Literal["exponential"]
    mean: float = Field(gt=0, description="expected value")

    def sample_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` variates."""
        return rng.exponential(self.mean, size)


class LogNormal(BaseModel):
    """Log-normal distribution given by its mean and coefficient of variation."""

    model_config = _CONFIG
    dist: Literal["lognormal"]
    mean: float = Field(gt=0, description="expected value")
    cv: float = Field(gt=0, description="coefficient of variation (std / mean)")

    def sample_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` variates."""
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Gamma(BaseModel):
    """Gamma distribution given by its mean and coefficient of variation."""

    model_config = _CONFIG
    dist: Literal["gamma"]
    mean: float = Field(gt=0, description="expected value")
    cv: float = Field(gt=0, description="coefficient of variation (std / mean)")

    def sample_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` variates."""
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)


class Uniform(BaseModel):
    """Continuous uniform distribution on [low, high]."""

    model_config = _CONFIG
    dist: Literal["uniform"]
    low: float = Field(ge=0, description="lower bound")
    high: float = Field(ge=0, description="upper bound")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high must be >= low, got low={self.low}, high={self.high}")
        return self

    @property
    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.high) / 2

    def sample_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` variates."""
        return rng.uniform(self.low, self.high, size)


class Triangular(BaseModel):
    """Triangular distribution on [low, high] with the given mode."""

    model_config = _CONFIG
    dist: Literal["triangular"]
    low: float = Field(ge=0, description="lower bound")
    mode: float = Field(ge=0, description="most likely value")
    high: float = Field(gt=0, description="upper bound")

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}"
            )
        return self

    @property
    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.mode + self.high) / 3

    def sample_block(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` variates."""
        return rng.triangular(self.low, self.mode, self.high, size)



def as_distribution(value: object) -> object:
    """Turn a bare number into ``{dist: fixed, value: x}``; leave anything else alone."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


Distribution = Annotated[
    Fixed | Exponential | LogNormal | Gamma | Uniform | Triangular,
    Field(discriminator="dist"),
    BeforeValidator(as_distribution),
]
"""Any of the supported distributions, chosen by the ``dist`` key (a number means fixed)."""
