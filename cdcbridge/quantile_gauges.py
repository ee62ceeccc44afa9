"""The p95 gauge the SREs' dashboards read (``integration.latency.p95``), next to the full
latency distribution.

How the p95 is obtained: every end-to-end latency sample goes to its histogram (Prometheus) /
distribution (DogStatsD) unchanged. This wrapper also keeps the samples of the last
``window_s`` (60 s) per direction and, at most once every ``every_s`` (10 s, the Agent's flush
interval), sets ``cdcbridge_integration_latency_p95_seconds{direction}`` to their exact 95th
percentile (nearest rank). That gauge is per process: the fleet-wide p95 is
``p95:integration.latency{direction:…}`` in Datadog and
``cdcbridge:integration_latency_seconds:p95`` (a ``histogram_quantile`` recording rule) in
Prometheus. A window with no samples leaves the gauge where it was (no NaN).
"""

from __future__ import annotations

import collections
import math
import threading
from typing import Final

from cdcbridge.clock import Clock
from cdcbridge.metric_names import MetricName
from cdcbridge.metrics import Metrics, Tags

DIRECTIONS: Final[dict[MetricName, str]] = {
    "cdcbridge_sync_end_to_end_seconds": "outbound",
    "cdcbridge_webhooks_end_to_end_seconds": "inbound",
}
P95: Final[MetricName] = "cdcbridge_integration_latency_p95_seconds"


def nearest_rank(values: list[float], quantile: float) -> float:
    """The nearest-rank quantile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(math.ceil(quantile * len(ordered)) - 1, 0)]


class QuantileGauges:
    """A ``Metrics`` wrapper: passes everything through, and derives the p95 gauge."""

    def __init__(
        self, inner: Metrics, clock: Clock, window_s: float = 60.0, every_s: float = 10.0
    ) -> None:
        self.__inner = inner
        self.__clock = clock
        self.__window_s = window_s
        self.__every_s = every_s
        self.__lock = threading.Lock()
        self.__samples: dict[str, collections.deque[tuple[float, float]]] = {}
        self.__last_emit: dict[str, float] = {}

    def increment(self, name: MetricName, value: float = 1, tags: Tags | None = None) -> None:
        self.__inner.increment(name, value, tags)

    def gauge(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        self.__inner.gauge(name, value, tags)

    def timing(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        self.__inner.timing(name, value, tags)
        direction = DIRECTIONS.get(name)
        if direction is None:
            return
        now = self.__clock.monotonic()
        with self.__lock:
            samples = self.__samples.setdefault(direction, collections.deque())
            samples.append((now, value))
            while samples and samples[0][0] < now - self.__window_s:
                samples.popleft()
            last = self.__last_emit.get(direction)
            if last is not None and now - last < self.__every_s:
                return
            self.__last_emit[direction] = now
            p95 = nearest_rank([v for _, v in samples], 0.95)
        self.__inner.gauge(P95, p95, {"direction": direction})
