"""The shared token bucket, with a mocked clock."""

from __future__ import annotations

import pytest

from cdcbridge.clock import MockedClock
from streams.contracts import PublishedLimits
from streams.platform.ratelimit import RateLimiter, shared_limiter

pytestmark = pytest.mark.unit


def start_times(limiter: RateLimiter, clock: MockedClock, calls: int) -> list[float]:
    stamps = []
    for _ in range(calls):
        limiter.acquire()
        stamps.append(clock.monotonic())
    return stamps


def max_in_any_window(stamps: list[float], window: float) -> int:
    return max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)


@pytest.mark.parametrize(("requests", "window"), [(100, 10.0), (190, 10.0), (100, 20.0), (10, 1.0)])
def test_never_exceeds_the_rolling_window(requests: int, window: float) -> None:
    clock = MockedClock()
    limiter = RateLimiter(requests, window, clock=clock)
    stamps = start_times(limiter, clock, requests * 5)
    assert max_in_any_window(stamps, window) <= requests
    # and it still uses most of the budget
    assert len(stamps) / (stamps[-1] + 1e-9) >= 0.95 * requests / window


def test_share_scales_the_rate() -> None:
    clock = MockedClock()
    limiter = RateLimiter(100, 10.0, clock=clock)
    limiter.set_share(0.5)
    stamps = start_times(limiter, clock, 200)
    assert max_in_any_window(stamps, 10.0) <= 50


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_share_outside_unit_interval_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(100, 10.0).set_share(fraction)


def test_pause_blocks_then_spaces_callers_out() -> None:
    clock = MockedClock()
    limiter = RateLimiter(100, 10.0, clock=clock)
    limiter.pause_for(10.0)
    stamps = start_times(limiter, clock, 3)
    assert stamps[0] >= 10.0
    assert stamps[2] - stamps[0] >= 2 / limiter.rate - 1e-9


def test_stricter_reported_limit_is_adopted_laxer_ignored() -> None:
    limiter = RateLimiter(100, 10.0, clock=MockedClock())
    limiter.observe_limit(250, 10.0, None)
    assert limiter.requests == 100
    limiter.observe_limit(50, 10.0, None)
    assert (limiter.requests, limiter.window_s) == (50, 10.0)


def test_zero_remaining_drains_the_bucket() -> None:
    clock = MockedClock()
    limiter = RateLimiter(100, 10.0, clock=clock)
    limiter.observe_limit(None, None, 0)
    assert limiter.reserve() > 0


def test_shared_limiter_is_one_per_platform() -> None:
    limits = PublishedLimits(100, 10.0, 100)
    assert shared_limiter("unit-a", limits) is shared_limiter("unit-a", limits)
    assert shared_limiter("unit-a", limits) is not shared_limiter("unit-b", limits)
