"""Injected time. Pure cores take a ``Clock`` so tests can move time by hand."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Wall time (epoch seconds) and monotonic time, plus a sleep that tests can fake."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class MockedClock:
    """A clock that only moves when ``sleep`` or ``advance`` is called."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.__now = start
        self.__mono = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.__now

    def monotonic(self) -> float:
        return self.__mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.__now += max(seconds, 0.0)
        self.__mono += max(seconds, 0.0)


SYSTEM_CLOCK = SystemClock()
