"""The process's metrics facade: every metric to Prometheus and to DogStatsD.

``metrics_from_env`` composes, from the environment:
- Prometheus ``/metrics`` on ``port`` (or ``CDCBRIDGE_METRICS_PORT``; bound to
  ``CDCBRIDGE_METRICS_HOST``, default loopback) when set and not 0;
- DogStatsD through the ``datadog`` package when ``DD_DOGSTATSD_URL`` or ``DD_AGENT_HOST`` is
  set (the package reads them, with ``DD_DOGSTATSD_PORT``, ``DD_ENV``, ``DD_SERVICE``,
  ``DD_VERSION``; ``DD_DOGSTATSD_DISABLE`` turns it off);
- the ``integration.latency.p95`` gauge derived from the end-to-end samples
  (``cdcbridge.quantile_gauges``).
With neither backend configured it is a no-op. One facade per process and configuration.
"""

from __future__ import annotations

import os

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.dogstatsd import DogStatsdMetrics
from cdcbridge.metrics import FanOutMetrics, Metrics, NoOpMetrics
from cdcbridge.prometheus import serve_metrics
from cdcbridge.quantile_gauges import QuantileGauges

_FACADES: dict[tuple[int, str], Metrics] = {}


def dogstatsd_address() -> str:
    """Where the environment says the DogStatsD agent is ('' when it names none)."""
    url = os.environ.get("DD_DOGSTATSD_URL", "")
    host = os.environ.get("DD_AGENT_HOST", "")
    if not (url or host):
        return ""
    return url or f"{host}:{os.environ.get('DD_DOGSTATSD_PORT', '8125')}"


def metrics_from_env(port: int | None = None) -> Metrics:
    """The facade for this process. Raises OSError if the Prometheus port is taken."""
    if port is None:
        port = int(os.environ.get("CDCBRIDGE_METRICS_PORT", "0") or 0)
    statsd = dogstatsd_address()
    key = (port, statsd)
    if key in _FACADES:
        return _FACADES[key]
    backends: list[Metrics] = []
    if port:
        backends.append(serve_metrics(port, os.environ.get("CDCBRIDGE_METRICS_HOST", "127.0.0.1")))
    if statsd:
        backends.append(DogStatsdMetrics())
    facade: Metrics = (
        QuantileGauges(FanOutMetrics(*backends), SYSTEM_CLOCK) if backends else NoOpMetrics()
    )
    _FACADES[key] = facade
    return facade
