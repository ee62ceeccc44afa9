"""The forwarder's queue gauges: depth every 10 s per queue, the oldest received message's age."""

from __future__ import annotations

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from webhook_bridge.queue import QueueMessage, QueueUnavailable
from webhook_bridge.queue_gauges import QueueGauges

pytestmark = pytest.mark.unit


def test_depth_is_sampled_every_ten_seconds_and_a_failing_queue_is_skipped() -> None:
    clock, metrics, calls = MockedClock(start=1000.0), RecordingMetrics(), []

    def dlq_depth() -> int:
        raise QueueUnavailable("down")

    def depth() -> int:
        calls.append(clock.monotonic())
        return 7

    gauges = QueueGauges({"engagement": depth, "engagement-dlq": dlq_depth}, "engagement",
                         metrics, clock)  # fmt: skip
    gauges.maybe_sample_depth()
    clock.advance(5)
    gauges.maybe_sample_depth()
    clock.advance(5)
    gauges.maybe_sample_depth()
    assert len(calls) == 2
    assert metrics.gauges == {("cdcbridge_sqs_queue_depth", (("queue", "engagement"),)): 7.0}


def test_oldest_age_from_sent_timestamps() -> None:
    clock, metrics = MockedClock(start=1000.0), RecordingMetrics()
    gauges = QueueGauges({}, "engagement", metrics, clock)
    key = ("cdcbridge_sqs_oldest_message_age_seconds", (("queue", "engagement"),))
    gauges.received([QueueMessage("a", "r", "{}", sent_at_ms=990_000),
                     QueueMessage("b", "r", "{}", sent_at_ms=998_000)])  # fmt: skip
    assert metrics.gauges[key] == 10.0
    gauges.received([])
    assert metrics.gauges[key] == 0.0
