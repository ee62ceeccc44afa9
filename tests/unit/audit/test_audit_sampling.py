"""Sample sizes (Cochran with the finite population correction) and the draw."""

from __future__ import annotations

import random

import pytest

from streams.audit.sampling import draw, plan_sample, sample_size

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("confidence", "margin", "population", "expected"),
    [
        (0.99, 0.01, 10_000, 6_240),  # the 99 % / 1 % on 10,000 rows
        (0.99, 0.01, 10**9, 16_587),  # a huge table: n0
        (0.95, 0.05, 1_000_000, 384),  # the textbook 384.1 (383.999 after the correction)
        (0.99, 0.01, 50, 50),  # a small table: (almost) everything
    ],
)
def test_sample_size_matches_cochran(
    confidence: float, margin: float, population: int, expected: int
) -> None:
    assert abs(sample_size(confidence, margin, population) - expected) <= 1


def test_sample_size_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="confidence"):
        sample_size(1.5, 0.01, 10)
    assert sample_size(0.99, 0.01, 0) == 0


def test_plan_precedence_all_then_fixed_then_statistical() -> None:
    assert plan_sample(100, everything=True, fixed=5).size == 100
    assert plan_sample(100, fixed=5).mode == "fixed"
    assert plan_sample(100, fixed=500).size == 100
    plan = plan_sample(10_000)
    assert (plan.mode, plan.confidence, plan.margin) == ("statistical", 0.99, 0.01)
    with pytest.raises(ValueError, match="at least 1"):
        plan_sample(100, fixed=0)


def test_draw_is_seeded_distinct_and_complete_when_covering() -> None:
    ids = [str(i) for i in range(1000)]
    first = draw(ids, 100, random.Random(7))
    assert first == draw(ids, 100, random.Random(7))
    assert len(set(first)) == 100 and set(first) <= set(ids)
    assert draw(ids, 5000, random.Random(7)) == ids
