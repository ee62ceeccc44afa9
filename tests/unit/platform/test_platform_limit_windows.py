"""No call leaves inside a vendor's limit window, with four or more workers (issue #18 item 2).

A fake vendor on the real clock counts the calls it receives after the client learned of a
429 (TEN_SECONDLY_ROLLING: inside its window) or of a daily-limit answer (HubSpot DAILY,
Marketo 607: ever after). Workers hold tokens with computed waits when the answer arrives,
which is what used to let calls through.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import FatalPlatformError, TransientPlatformError
from streams.platform.ratelimit import RateLimiter
from streams.platform.retry_policy import (
    DEFAULT_POLICY,
    Decision,
    PolicySignal,
    call_with_policy,
    hubspot_429,
    marketo_error,
)

pytestmark = pytest.mark.unit

WINDOW_S = 0.4


class RecordingLimiter(RateLimiter):
    """Remembers when the client learned of each pause and of the halt."""

    def __init__(self) -> None:
        super().__init__(40, 1.0)  # ~40 calls/s: four workers always hold tokens with waits
        self.pauses: list[float] = []
        self.halted_at: float | None = None

    def pause_for(self, seconds: float) -> None:
        super().pause_for(seconds)
        self.pauses.append(time.monotonic())

    def halt(self, reason: str) -> bool:
        first = super().halt(reason)
        if first:
            self.halted_at = time.monotonic()
        return first


class Vendor:
    """Answers ``answer`` to call number ``at`` and 200 otherwise; records arrival times."""

    def __init__(self, at: int, answer: Decision) -> None:
        self.at, self.answer = at, answer
        self.lock = threading.Lock()
        self.arrivals: list[float] = []

    def send(self, token: str) -> str:
        with self.lock:
            self.arrivals.append(time.monotonic())
            number = len(self.arrivals)
        time.sleep(0.002)  # a short network round trip
        if number == self.at:
            raise PolicySignal(self.answer)
        return "ok"


def run_workers(vendor: Vendor, limiter: RateLimiter, calls: int, workers: int = 6) -> None:
    metrics = RecordingMetrics()

    def one_call(_: int) -> None:
        with contextlib.suppress(FatalPlatformError, TransientPlatformError):
            call_with_policy(
                vendor.send,
                auth=_StaticAuth(),
                limiter=limiter,
                clock=SYSTEM_CLOCK,
                metrics=metrics,
                platform="fake",
                limits=DEFAULT_POLICY,
            )

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one_call, range(calls)))


class _StaticAuth:
    def token(self) -> str:
        return "t"

    def refresh_after_rejection(self, rejected: str) -> str:
        return "t"


IN_FLIGHT_SLACK_S = 0.02
"""A call that passed the limiter just before the answer arrived is in flight, not sent after."""


def inside(arrivals: list[float], start: float, length: float) -> int:
    return sum(1 for t in arrivals if start + IN_FLIGHT_SLACK_S < t < start + length)


@pytest.mark.parametrize("workers", [4, 8])
def test_no_call_inside_a_ten_secondly_window(workers: int) -> None:
    answer = hubspot_429({"policyName": "TEN_SECONDLY_ROLLING"}, str(int(WINDOW_S * 1000)))
    vendor = Vendor(at=10, answer=answer)
    limiter = RecordingLimiter()
    run_workers(vendor, limiter, calls=30, workers=workers)
    [paused_at] = limiter.pauses
    assert inside(vendor.arrivals, paused_at, WINDOW_S) == 0
    assert len(vendor.arrivals) == 31  # every call went out in the end (one retried)


DAILY: list[tuple[str, Callable[[], Decision]]] = [
    ("hubspot DAILY", lambda: hubspot_429({"policyName": "DAILY", "message": "daily"}, None)),
    ("marketo 607", lambda: marketo_error("607", "Daily quota reached")),
]


@pytest.mark.parametrize(("name", "answer"), DAILY, ids=[n for n, _ in DAILY])
@pytest.mark.parametrize("workers", [4, 8])
def test_no_call_after_a_daily_limit_answer(
    name: str, answer: Callable[[], Decision], workers: int
) -> None:
    vendor = Vendor(at=10, answer=answer())
    limiter = RecordingLimiter()
    run_workers(vendor, limiter, calls=30, workers=workers)
    assert limiter.halted_at is not None, name
    assert inside(vendor.arrivals, limiter.halted_at, 3600.0) == 0
