"""DogStatsD export of ``cdcbridge.metrics`` through the ``datadog`` package.

Each declared metric goes out under its Datadog name (``metric_names.METRICS``): counters as
``c``, gauges as ``g``, histograms as ``d`` (distributions: Datadog computes p50/p95/p99 over
every host's samples, e.g. ``p95:integration.latency{direction:outbound}``). Tags are sent as
``key:value`` sorted by key, then the metric's own Datadog tags, then the constant tags. Sending
is fire-and-forget UDP: a missing agent never raises into the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

from datadog.dogstatsd.base import DogStatsd

from cdcbridge.metric_names import Kind, MetricName, spec_of
from cdcbridge.metrics import Tags


def _tag_list(name: MetricName, tags: Tags | None) -> list[str]:
    pairs = [f"{key}:{value}" for key, value in sorted((tags or {}).items())]
    return pairs + list(spec_of(name).datadog_tags)


class DogStatsdMetrics:
    """A ``Metrics`` backend sending DogStatsD datagrams. Thread-safe (the client is)."""

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        constant_tags: Sequence[str] = (),
        client: DogStatsd | None = None,
    ) -> None:
        """``host``/``port`` default to the package's own env handling (``DD_DOGSTATSD_URL``,
        ``DD_AGENT_HOST``, ``DD_DOGSTATSD_PORT``; ``DD_ENV``/``DD_SERVICE``/``DD_VERSION`` tags)."""
        self.client = client or DogStatsd(
            host=host, port=port, constant_tags=list(constant_tags), disable_telemetry=True
        )

    def increment(self, name: MetricName, value: float = 1, tags: Tags | None = None) -> None:
        self.client.increment(spec_of(name).datadog, value, tags=_tag_list(name, tags))

    def gauge(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        self.client.gauge(spec_of(name).datadog, value, tags=_tag_list(name, tags))

    def timing(self, name: MetricName, value: float, tags: Tags | None = None) -> None:
        spec = spec_of(name)
        if spec.kind is not Kind.HISTOGRAM:
            raise ValueError(f"{name} is a {spec.kind.value}, not a histogram")
        self.client.distribution(spec.datadog, value, tags=_tag_list(name, tags))

    def close(self) -> None:
        self.client.flush()
        self.client.close_socket()
