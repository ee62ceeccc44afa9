"""How many rows to check, and which. Pure; the random source is injected.

The sample size is Cochran's for a proportion at the worst case p = 0.5, with the finite
population correction: ``n0 = z² · p(1-p) / e²``, ``n = n0 / (1 + (n0 - 1) / N)``, rounded up.
At 99 % confidence and a 1 % margin ``n0`` ≈ 16,587 (a large table); for N = 10,000 rows, n = 6,240.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

SampleMode = Literal["statistical", "fixed", "all"]


@dataclass(frozen=True)
class SamplePlan:
    """What the audit will check: ``size`` of ``population`` rows, and why that many."""

    mode: SampleMode
    population: int
    size: int
    confidence: float | None = None
    margin: float | None = None


def sample_size(confidence: float, margin: float, population: int) -> int:
    """Rows to check so that a match rate measured on them is within ``margin`` of the true rate
    with probability ``confidence``. Raises ``ValueError`` for values outside (0, 1)."""
    if not 0 < confidence < 1 or not 0 < margin < 1:
        raise ValueError(f"confidence and margin must be in (0, 1), got {confidence}, {margin}")
    if population <= 0:
        return 0
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    n0 = z * z * 0.25 / (margin * margin)
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def plan_sample(
    population: int,
    *,
    confidence: float = 0.99,
    margin: float = 0.01,
    fixed: int | None = None,
    everything: bool = False,
) -> SamplePlan:
    """The plan for ``--all``, ``--sample N`` or a confidence/margin (in that precedence)."""
    if everything:
        return SamplePlan("all", population, population)
    if fixed is not None:
        if fixed < 1:
            raise ValueError("--sample must be at least 1")
        return SamplePlan("fixed", population, min(fixed, population))
    size = sample_size(confidence, margin, population)
    return SamplePlan("statistical", population, size, confidence, margin)


def draw(ids: Sequence[str], size: int, rng: random.Random) -> list[str]:
    """``size`` distinct ids drawn uniformly without replacement (all of them, in order, when
    ``size`` covers the population)."""
    if size >= len(ids):
        return list(ids)
    return rng.sample(list(ids), size)
