"""Keeps the sync consumer running through Kafka outages (pure core: clock, wait and random are
injected).

``supervise(attempt, ...)`` runs ``attempt`` (one consumer and processor, built fresh) until it
returns. When it raises ``KafkaUnavailable`` (a failed commit, a broker or coordinator away,
the poll watchdog's ``ConsumerStalled``), the supervisor logs ``sync consumer restarting``
with the reason, counts ``cdcbridge_sync_consumer_restarts_total{reason}``, waits
``RestartBackoff``'s delay and runs a new attempt. Nothing is lost: the new consumer reads the
group's committed offsets, so records consumed but not committed are delivered again, and the
upserts are idempotent. Any other failure (``FatalError`` such as ``KafkaRefused``, the
breaker, a fatal platform error) passes through to the service, which stops with its usual
exit code; so does ``KafkaUnavailable`` once the service is stopping.

Invariant: the n-th restart in a row waits ``uniform(0.5, 1) * min(cap_s, 2**n)`` seconds
(n from 0); an attempt that ran ``reset_after_s`` or longer resets n to 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from cdcbridge.clock import Clock
from cdcbridge.metrics import Metrics
from streams.sync.kafka_guard import KafkaUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

Wait = Callable[[float], bool]
"""Waits up to the given seconds; True when the service was asked to stop meanwhile."""


class RestartBackoff:
    """Capped exponential backoff with jitter, reset by a healthy run (module invariant).
    ``random`` returns a float in [0, 1) (seeded in tests)."""

    def __init__(
        self,
        random: Callable[[], float],
        cap_s: float = 30.0,
        reset_after_s: float = 60.0,
    ) -> None:
        self.__random = random
        self.__cap_s = cap_s
        self.__reset_after_s = reset_after_s
        self.__failures = 0

    @property
    def failures(self) -> int:
        """Restarts in a row since the last reset."""
        return self.__failures

    def next_delay(self, ran_for_s: float) -> float:
        """The wait before the next attempt, given how long the failed one ran."""
        if ran_for_s >= self.__reset_after_s:
            self.__failures = 0
        ceiling = min(self.__cap_s, 2.0**self.__failures)
        self.__failures += 1
        return ceiling * (0.5 + 0.5 * self.__random())


def supervise(
    attempt: Callable[[], T],
    *,
    clock: Clock,
    wait: Wait,
    backoff: RestartBackoff,
    metrics: Metrics,
    stopping: Callable[[], bool],
) -> T | None:
    """``attempt``'s result; None when the stop came during a backoff wait. Raises whatever
    ``attempt`` raises other than ``KafkaUnavailable``, and ``KafkaUnavailable`` too once
    ``stopping()`` is true."""
    while True:
        started = clock.monotonic()
        try:
            return attempt()
        except KafkaUnavailable as exc:
            if stopping():
                raise
            delay = backoff.next_delay(clock.monotonic() - started)
            log.warning(
                "sync consumer restarting",
                extra={
                    "reason": exc.reason,
                    "error": str(exc),
                    "delay_s": round(delay, 3),
                    "restarts_in_a_row": backoff.failures,
                },
            )
            metrics.increment("cdcbridge_sync_consumer_restarts_total", tags={"reason": exc.reason})
            if wait(delay):
                return None
