"""Prometheus export of ``cdcbridge.metrics``: counters, gauges and histograms named from the
declared ``MetricName`` list, served on ``/metrics`` by prometheus_client's HTTP server.

Label names are fixed by a metric's first use (the keys of its tags); later calls that leave a
label out export it as an empty string. ``timing`` feeds a histogram with buckets suited to
latencies from milliseconds to a minute, or to batch sizes for ``*_records`` names.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from cdcbridge.metric_names import MetricName
from cdcbridge.metrics import Tags

SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
RECORDS_BUCKETS = (1, 5, 10, 25, 50, 75, 90, 100, 150, 200, 300)


class PrometheusMetrics:
    """A ``Metrics`` backend writing to a prometheus_client registry. Thread-safe."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.__lock = threading.Lock()
        self.__counters: dict[str, Counter] = {}
        self.__gauges: dict[str, Gauge] = {}
        self.__histograms: dict[str, Histogram] = {}
        self.__labels: dict[str, tuple[str, ...]] = {}

    def __label_values(self, name: str, tags: Tags | None) -> tuple[tuple[str, ...], list[str]]:
        names = self.__labels.setdefault(name, tuple(sorted((tags or {}).keys())))
        return names, [(tags or {}).get(label, "") for label in names]

    def increment(self, name: MetricName, value: float = 1, tags: Tags | None = None) -> None:
        with self.__lock:
            labels, values = self.__label_values(name, tags)
            if name not in self.__counters:
                self.__counters[name] = Counter(name.removesuffix("_total"), name, labels,
                                                registry=self.registry)
            metric = self.__counters[name]
        (metric.labels(*values) if labels else metric).inc(value)

    def gauge(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        with self.__lock:
            labels, values = self.__label_values(name, tags)
            if name not in self.__gauges:
                self.__gauges[name] = Gauge(name, name, labels, registry=self.registry)
            metric = self.__gauges[name]
        (metric.labels(*values) if labels else metric).set(value)

    def timing(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        with self.__lock:
            labels, values = self.__label_values(name, tags)
            if name not in self.__histograms:
                buckets = RECORDS_BUCKETS if name.endswith("_records") else SECONDS_BUCKETS
                self.__histograms[name] = Histogram(name, name, labels, buckets=buckets,
                                                    registry=self.registry)
            metric = self.__histograms[name]
        (metric.labels(*values) if labels else metric).observe(value)


def serve_metrics(port: int, host: str = "127.0.0.1") -> PrometheusMetrics:
    """Start the ``/metrics`` HTTP server in a daemon thread; returns the backend to record to."""
    metrics = PrometheusMetrics()
    start_http_server(port, addr=host, registry=metrics.registry)
    return metrics

