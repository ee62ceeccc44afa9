"""The shared token bucket, with a mocked clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdcbridge.clock import MockedClock
from streams.contracts import FatalPlatformError, PublishedLimits
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


def test_five_back_to_back_pauses_end_at_the_last_pause_end() -> None:
    """Issue #18 item 1: five 429s in a row used to stall about 40 s instead of 10 s."""
    clock = MockedClock()
    limiter = RateLimiter(100, 10.0, clock=clock)
    for at in (0.18, 10.29, 10.39, 10.49, 10.60):
        clock.advance(at - clock.monotonic())
        limiter.pause_for(10.0)
    clock.advance(10.61 - clock.monotonic())
    wait = limiter.reserve()
    assert 20.60 - 10.61 <= wait <= 20.60 - 10.61 + 1 / limiter.rate + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["pause", "reserve", "advance"]),
            st.floats(min_value=0.0, max_value=15.0, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_any_pause_sequence_ends_at_the_latest_pause_end(ops: list[tuple[str, float]]) -> None:
    """Whatever the sequence, a reservation waits until the latest pause's end (never less:
    no call inside a vendor's window) and at most that plus the spacing of the reservations
    queued since the latest pause began (never a window more per pause)."""
    clock = MockedClock()
    limiter = RateLimiter(100, 10.0, clock=clock)
    pause_end = 0.0
    queued_since_pause = 0
    for op, amount in ops:
        now = clock.monotonic()
        if op == "advance":
            clock.advance(amount)
        elif op == "pause":
            limiter.pause_for(amount)
            if now + amount >= pause_end:
                queued_since_pause = 0
            pause_end = max(pause_end, now + amount)
        else:
            wait = limiter.reserve()
            queued_since_pause += 1
            assert wait >= pause_end - now - 1e-9
            if pause_end > now:
                assert wait <= pause_end - now + queued_since_pause / limiter.rate + 1e-6
    now = clock.monotonic()
    wait = limiter.reserve()
    assert max(pause_end - now, 0.0) - 1e-9 <= wait
    assert wait <= max(pause_end - now, 0.0) + (queued_since_pause + 1) / limiter.rate + 1e-6


def test_a_waiter_holding_a_token_waits_out_a_later_pause() -> None:
    """Issue #18 item 2: a caller that reserved before a 429 does not keep its computed wait."""
    clock = MockedClock()
    limiter = RateLimiter(10, 10.0, clock=clock)
    for _ in range(int(limiter.capacity)):
        limiter.acquire()
    original_sleep = clock.sleep
    paused: list[float] = []

    def sleep_then_pause(seconds: float) -> None:
        if not paused:  # the vendor answers 429 to another caller while this one waits
            paused.append(clock.monotonic())
            limiter.pause_for(10.0)
        original_sleep(seconds)

    clock.sleep = sleep_then_pause  # type: ignore[method-assign]
    limiter.acquire()
    assert clock.monotonic() >= paused[0] + 10.0


def test_halt_reaches_waiters_and_later_callers() -> None:
    clock = MockedClock()
    limiter = RateLimiter(10, 10.0, clock=clock)
    limiter.pause_for(5.0)
    original_sleep = clock.sleep

    def sleep_then_halt(seconds: float) -> None:
        limiter.halt("daily limit")
        original_sleep(seconds)

    clock.sleep = sleep_then_halt  # type: ignore[method-assign]
    with pytest.raises(FatalPlatformError, match="daily limit"):
        limiter.acquire()
    with pytest.raises(FatalPlatformError):
        limiter.reserve()
    assert limiter.halt("again") is False


def test_available_in_says_when_the_next_call_starts_without_taking_a_token() -> None:
    clock = MockedClock()
    limiter = RateLimiter(100, 10.0, clock=clock)
    while limiter.available_in() == 0.0:
        limiter.acquire()  # spend the burst (no wait while a token is there)
    wait = limiter.available_in()
    assert 0.0 < wait <= 1 / limiter.rate + 1e-9
    assert limiter.available_in() == pytest.approx(wait)  # peeking takes nothing
    clock.advance(wait)
    assert limiter.available_in() == pytest.approx(0.0, abs=1e-9)
    limiter.pause_for(3.0)
    assert limiter.available_in() == pytest.approx(3.0, abs=0.2)


def test_available_in_for_two_tokens_says_when_one_is_spare() -> None:
    clock = MockedClock()
    limiter = RateLimiter(190, 10.0, clock=clock)  # a burst of 3.8 tokens
    while limiter.available_in(2.0) == 0.0:
        limiter.acquire()
    assert limiter.available_in() == 0.0 < limiter.available_in(2.0)  # one left, none spare
    clock.advance(limiter.available_in(2.0))
    assert limiter.available_in(2.0) == pytest.approx(0.0, abs=1e-9)
    assert limiter.available_in(50.0) > 0.0  # capped at the capacity: a full bucket says 0
    clock.advance(10.0)
    assert limiter.available_in(50.0) == 0.0
