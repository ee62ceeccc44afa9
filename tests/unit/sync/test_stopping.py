"""A stop reaches calls that already wait inside the platform layer (issue #18 item 2)."""

from __future__ import annotations

import threading
import time

import pytest

from cdcbridge.clock import SYSTEM_CLOCK
from streams.platform.ratelimit import RateLimiter
from streams.sync.stopping import StoppableClock, StopRequested

pytestmark = pytest.mark.unit


def test_a_stop_cuts_a_rate_limit_pause_short_and_no_call_leaves() -> None:
    stopping = threading.Event()
    limiter = RateLimiter(100, 10.0, clock=StoppableClock(SYSTEM_CLOCK, stopping))
    limiter.pause_for(30.0)  # a vendor window: a waiter would sleep 30 s
    raised: list[BaseException] = []

    def waiter() -> None:
        try:
            limiter.acquire()
        except StopRequested as exc:
            raised.append(exc)

    thread = threading.Thread(target=waiter)
    started = time.monotonic()
    thread.start()
    stopping.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(raised) == 1
    assert time.monotonic() - started < 5  # generous: the pause was 30 s
    with pytest.raises(StopRequested):
        limiter.acquire()  # and nothing starts afterwards


def test_time_is_the_base_clocks() -> None:
    clock = StoppableClock(SYSTEM_CLOCK, threading.Event())
    assert abs(clock.monotonic() - time.monotonic()) < 1
    clock.sleep(0.0)  # not stopping: returns
