"""Proactive rate limiting, shared by every caller of one platform in the process.

A token bucket sized so that no rolling window of ``window_s`` ever sees more than the vendor's
``requests`` N: with capacity ``B`` and refill ``r``/s, the (N+1)-th call of any run starts
``(N + 1 - B) / r`` after the first, so ``r = (N + 1 - B) / (W + jitter_s)`` keeps every N+1
consecutive calls more than a window (plus a network-jitter allowance) apart. It is corrected
by what the server reports (``observe_limit``), paused for a vendor-imposed wait
(``pause_for``), and scaled by ``set_share`` when the sync service gives this instance a
fraction of the app-wide budget.
A semaphore caps concurrent calls where the vendor publishes a cap (Marketo: 10).

Pure core with an injected clock: ``acquire`` computes its wait and sleeps on the clock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from streams.contracts import FatalPlatformError, PublishedLimits


class RateLimiter:
    """Thread-safe token bucket + optional concurrency cap. ``acquire`` blocks (on the clock)
    until a call may start; ``slot`` also holds a concurrency slot for the call's duration.

    Invariants: the refill stamp is never in the future, and no token accrues while paused, so
    any sequence of pauses ends at the latest pause's end (plus the spacing of the callers
    waiting). A pause or a halt reaches callers that already hold a token: ``acquire`` checks
    again after its wait and takes a fresh token when a pause began meanwhile, so no call
    starts inside a window the vendor asked us to wait out, and none after a halt.
    """

    def __init__(
        self,
        requests: int,
        window_s: float,
        *,
        max_concurrency: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
        jitter_s: float | None = None,
    ) -> None:
        self.__clock = clock
        self.__lock = threading.Lock()
        self.__jitter_s = jitter_s
        self.__share = 1.0
        self.__paused_until = 0.0
        self.__pauses = 0  # incremented by every pause: a waiter that sees it change re-reserves
        self.__halted: str | None = None
        self.__concurrency = (
            threading.BoundedSemaphore(max_concurrency) if max_concurrency else None
        )
        self.__configure(requests, window_s)
        self.__tokens = self.capacity
        self.__stamp = clock.monotonic()

    def __configure(self, requests: int, window_s: float) -> None:
        self.requests = requests
        self.window_s = window_s
        budget = max(requests * self.__share, 1.0)
        jitter = self.__jitter_s if self.__jitter_s is not None else max(0.05, window_s * 0.01)
        self.capacity = max(1.0, min(budget * 0.02, 10.0))
        self.rate = (budget + 1.0 - self.capacity) / (window_s + jitter)

    @classmethod
    def for_limits(cls, limits: PublishedLimits, clock: Clock = SYSTEM_CLOCK) -> RateLimiter:
        return cls(
            limits.requests_per_window,
            limits.window_s,
            max_concurrency=limits.max_concurrency,
            clock=clock,
        )

    @property
    def paused_until(self) -> float:
        """Monotonic time before which no call starts (0 when never paused)."""
        return self.__paused_until

    @property
    def halted(self) -> str | None:
        """Why calls are refused for good (``halt``), or None."""
        return self.__halted

    def __refill(self, now: float) -> None:
        # Tokens accrue only outside a pause; the stamp never moves past ``now``.
        accrue_from = max(self.__stamp, self.__paused_until)
        if now > accrue_from:
            self.__tokens = min(self.capacity, self.__tokens + (now - accrue_from) * self.rate)
        self.__stamp = max(self.__stamp, now)

    def __reserve(self, now: float) -> float:
        self.__refill(now)
        self.__tokens -= 1.0
        debt = -self.__tokens / self.rate if self.__tokens < 0 else 0.0
        return max(now, self.__paused_until) + debt - now

    def available_in(self, tokens: float = 1.0) -> float:
        """Seconds until ``tokens`` calls (at most the bucket's capacity) could start without
        waiting (0.0: now); takes nothing. The sync forms a partial batch only when one could,
        so records join it instead of queueing behind a batch that waits for a token; a
        partial association batch only when two could (a token to spare). Raises
        ``FatalPlatformError`` once halted."""
        with self.__lock:
            self.__check_halt()
            now = self.__clock.monotonic()
            self.__refill(now)
            wanted = min(tokens, self.capacity)
            debt = (wanted - self.__tokens) / self.rate if self.__tokens < wanted else 0.0
            return max(max(now, self.__paused_until) + debt - now, 0.0)

    def reserve(self) -> float:
        """Take one token now and return how long the caller must wait before using it.
        Raises ``FatalPlatformError`` once halted."""
        with self.__lock:
            self.__check_halt()
            return self.__reserve(self.__clock.monotonic())

    def acquire(self) -> None:
        """Block until one call may start. Raises ``FatalPlatformError`` when the limiter is
        halted before or while waiting."""
        with self.__lock:
            self.__check_halt()
            pauses = self.__pauses
            wait = self.__reserve(self.__clock.monotonic())
        while True:
            self.__clock.sleep(wait)
            with self.__lock:
                self.__check_halt()
                now = self.__clock.monotonic()
                if self.__pauses != pauses:  # a pause began while we waited: queue again
                    pauses = self.__pauses
                    wait = self.__reserve(now)
                    continue
                if now >= self.__paused_until:
                    return
                wait = self.__paused_until - now

    def __check_halt(self) -> None:
        if self.__halted is not None:
            raise FatalPlatformError(self.__halted)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Acquire a token and, where capped, a concurrency slot held until the block exits."""
        if self.__concurrency is None:
            self.acquire()
            yield
            return
        with self.__concurrency:
            self.acquire()
            yield

    def set_share(self, fraction: float) -> None:
        """Use ``fraction`` (0 < f <= 1) of the published budget, e.g. this instance's share of
        the partitions."""
        if not 0 < fraction <= 1:
            raise ValueError(f"share must be in (0, 1], got {fraction}")
        with self.__lock:
            self.__share = fraction
            self.__configure(self.requests, self.window_s)
            self.__tokens = min(self.__tokens, self.capacity)

    def observe_limit(
        self, requests: int | None, window_s: float | None, remaining: int | None
    ) -> None:
        """Correct the bucket from the server's rate-limit headers (max, interval, remaining)."""
        with self.__lock:
            # Adopt a reported limit only when it is stricter than ours (a lower tier, or
            # another app sharing the budget); a laxer report never loosens an override.
            if requests and window_s and requests / window_s < self.requests / self.window_s:
                self.__configure(requests, window_s)
                # Calls already made in this window are unknown to the new bucket: start empty.
                self.__tokens = min(self.__tokens, 0.0)
            if remaining is not None and remaining <= 0:
                self.__tokens = min(self.__tokens, 0.0)

    def pause_for(self, seconds: float) -> None:
        """No call starts for ``seconds`` (a vendor told us to wait out its window), including
        calls whose callers already hold a token: they queue again behind the pause."""
        with self.__lock:
            now = self.__clock.monotonic()
            self.__refill(now)
            self.__paused_until = max(self.__paused_until, now + seconds)
            self.__pauses += 1
            # The bucket restarts empty at the end of the pause, so waiters are spaced out, not
            # released all at once; reservations made before it are queued again by their
            # holders, so their debt is forgotten here.
            self.__tokens = 0.0

    def halt(self, reason: str) -> bool:
        """Refuse every call from now on (a daily quota reached): waiting callers raise
        ``FatalPlatformError(reason)`` instead of sending. True for the call that halted it
        (so one stop is counted once), False when already halted."""
        with self.__lock:
            if self.__halted is not None:
                return False
            self.__halted = reason
            return True


_SHARED: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def forget_shared_limiters() -> None:
    """Drop the process-wide limiters, so the next ``shared_limiter`` call builds a new one
    with its own clock. For a process that runs the sync service more than once (a benchmark
    running phases in one process): a limiter keeps the clock it was built with, and the sync's
    clock stops with the sync."""
    with _SHARED_LOCK:
        _SHARED.clear()


def shared_limiter(name: str, limits: PublishedLimits, clock: Clock = SYSTEM_CLOCK) -> RateLimiter:
    """The process-wide limiter for platform ``name`` (created on first use): live sync,
    backfill and audit all draw from it."""
    with _SHARED_LOCK:
        limiter = _SHARED.get(name)
        if limiter is None:
            limiter = _SHARED[name] = RateLimiter.for_limits(limits, clock)
        return limiter
