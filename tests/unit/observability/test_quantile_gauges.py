"""The integration.latency.p95 gauge: exact p95 of the last minute, at most every 10 s."""

from __future__ import annotations

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from cdcbridge.quantile_gauges import QuantileGauges, nearest_rank

pytestmark = pytest.mark.unit
P95 = "cdcbridge_integration_latency_p95_seconds"


def test_nearest_rank() -> None:
    assert nearest_rank([float(v) for v in range(1, 101)], 0.95) == 95.0
    assert nearest_rank([3.0], 0.95) == 3.0


def test_gauge_follows_the_window() -> None:
    clock, recorded = MockedClock(), RecordingMetrics()
    metrics = QuantileGauges(recorded, clock)
    for value in range(1, 101):
        metrics.timing("cdcbridge_sync_end_to_end_seconds", float(value), {"platform": "x"})
    assert len(recorded.timings["cdcbridge_sync_end_to_end_seconds"]) == 100
    assert recorded.gauges[(P95, (("direction", "outbound"),))] == 1.0  # first sample emits
    clock.advance(10)
    metrics.timing("cdcbridge_sync_end_to_end_seconds", 0.5)
    assert recorded.gauges[(P95, (("direction", "outbound"),))] == 95.0
    clock.advance(61)  # the old samples leave the window
    metrics.timing("cdcbridge_sync_end_to_end_seconds", 2.0)
    assert recorded.gauges[(P95, (("direction", "outbound"),))] == 2.0
    metrics.timing("cdcbridge_webhooks_end_to_end_seconds", 4.0)
    assert recorded.gauges[(P95, (("direction", "inbound"),))] == 4.0
    metrics.timing("cdcbridge_platform_request_seconds", 9.0)
    assert len(recorded.gauges) == 2
