"""Metrics behind a small Protocol: a no-op default, a recorder for tests, Prometheus for real.

Only names from ``metric_names.MetricName`` are accepted (checked by mypy).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Protocol

from cdcbridge.metric_names import MetricName

Tags = dict[str, str]


class Metrics(Protocol):
    def increment(self, name: MetricName, value: float = 1, tags: Tags | None = None) -> None: ...

    def gauge(self, name: MetricName, value: float, tags: Tags | None = None) -> None: ...

    def timing(self, name: MetricName, value: float, tags: Tags | None = None) -> None: ...


class NoOpMetrics:
    def increment(self, name: MetricName, value: float = 1, tags: Tags | None = None) -> None:
        return None

    def gauge(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        return None

    def timing(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        return None


def _key(name: str, tags: Tags | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted((tags or {}).items()))


class RecordingMetrics:
    """Keeps every value, for tests and benchmarks. Thread-safe."""

    def __init__(self) -> None:
        self.__lock = threading.Lock()
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.timings: dict[str, list[float]] = defaultdict(list)

    def increment(self, name: MetricName, value: float = 1, tags: Tags | None = None) -> None:
        with self.__lock:
            self.counters[_key(name, tags)] += value

    def gauge(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        with self.__lock:
            self.gauges[_key(name, tags)] = value

    def timing(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        with self.__lock:
            self.timings[name].append(value)

    def total(self, name: MetricName) -> float:
        """Sum of a counter over all tag sets."""
        with self.__lock:
            return sum(v for (n, _), v in self.counters.items() if n == name)


class FanOutMetrics:
    """Sends every call to each backend in turn (Prometheus and DogStatsD in production)."""

    def __init__(self, *backends: Metrics) -> None:
        self.backends = backends

    def increment(self, name: MetricName, value: float = 1, tags: Tags | None = None) -> None:
        for backend in self.backends:
            backend.increment(name, value, tags)

    def gauge(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        for backend in self.backends:
            backend.gauge(name, value, tags)

    def timing(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        for backend in self.backends:
            backend.timing(name, value, tags)
