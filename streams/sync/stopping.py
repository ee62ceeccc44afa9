"""A stop that reaches calls already waiting: the sync service's platform clock.

Waits inside a platform call (the limiter's token wait or pause, urllib3's backoff between
transport retries, a token's last moments) sleep on this clock. Once the service is stopping,
a sleep raises ``StopRequested`` at once instead of finishing the wait, so a stop is not held up
by a 30 s backoff or a rate-limit window, and no call leaves after it. ``StopRequested`` is
transient: the batch is not done and is re-read after the restart.
"""

from __future__ import annotations

import threading

from cdcbridge.clock import Clock
from streams.contracts import TransientPlatformError


class StopRequested(TransientPlatformError):
    """The service is stopping: the wait was cut short and the call abandoned."""


class StoppableClock:
    """``base``'s time; ``sleep`` returns early by raising ``StopRequested`` once ``stopping``
    is set (and raises at once when it already is)."""

    def __init__(self, base: Clock, stopping: threading.Event) -> None:
        self.__base = base
        self.__stopping = stopping

    def time(self) -> float:
        return self.__base.time()

    def monotonic(self) -> float:
        return self.__base.monotonic()

    def sleep(self, seconds: float) -> None:
        if self.__stopping.wait(max(seconds, 0.0)):
            raise StopRequested("the service is stopping: wait abandoned")
