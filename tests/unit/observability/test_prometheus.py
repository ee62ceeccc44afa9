"""The Prometheus backend exports what the code records, under the declared names."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from cdcbridge.prometheus import PrometheusMetrics

pytestmark = pytest.mark.unit


def test_counter_gauge_histogram_are_exported() -> None:
    metrics = PrometheusMetrics()
    metrics.increment("cdcbridge_platform_requests_total", tags={"platform": "hubspot",
                                                                 "status": "200"})
    metrics.increment("cdcbridge_platform_requests_total", 2, tags={"platform": "hubspot",
                                                                    "status": "200"})
    metrics.gauge("cdcbridge_sync_backpressure_paused", 1)
    metrics.timing("cdcbridge_sync_end_to_end_seconds", 0.3)
    metrics.timing("cdcbridge_platform_batch_size_records", 99)
    text = generate_latest(metrics.registry).decode()
    assert 'cdcbridge_platform_requests_total{platform="hubspot",status="200"} 3.0' in text
    assert "cdcbridge_sync_backpressure_paused 1.0" in text
    assert 'cdcbridge_sync_end_to_end_seconds_bucket{le="0.5"} 1.0' in text
    assert 'cdcbridge_sync_end_to_end_seconds_bucket{le="0.25"} 0.0' in text
    assert 'cdcbridge_platform_batch_size_records_bucket{le="100.0"} 1.0' in text


def test_missing_label_is_exported_empty() -> None:
    metrics = PrometheusMetrics()
    metrics.increment("cdcbridge_fatal_errors_total", tags={"platform": "marketo"})
    metrics.increment("cdcbridge_fatal_errors_total")
    text = generate_latest(metrics.registry).decode()
    assert 'cdcbridge_fatal_errors_total{platform="marketo"} 1.0' in text
    assert 'cdcbridge_fatal_errors_total{platform=""} 1.0' in text


def test_metrics_from_env_is_no_op_unless_a_port_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cdcbridge.metrics import NoOpMetrics
    from cdcbridge.metrics_setup import metrics_from_env

    monkeypatch.delenv("CDCBRIDGE_METRICS_PORT", raising=False)
    assert isinstance(metrics_from_env(), NoOpMetrics)
    monkeypatch.setenv("CDCBRIDGE_METRICS_PORT", "0")
    assert isinstance(metrics_from_env(), NoOpMetrics)


def test_metrics_endpoint_serves_recorded_values() -> None:
    import socket
    import urllib.request

    from cdcbridge.metrics_setup import metrics_from_env

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    metrics = metrics_from_env(port)
    assert metrics_from_env(port) is metrics, "one server and backend per port"
    metrics.increment("cdcbridge_webhooks_enqueued_total", tags={"source": "sandbox"})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body = response.read().decode()
    assert 'cdcbridge_webhooks_enqueued_total{source="sandbox"} 1.0' in body
