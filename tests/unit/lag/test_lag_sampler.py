"""The sync service's lag gauges, from readings (and a failed reading)."""

from __future__ import annotations

import pytest

from cdcbridge.metrics import RecordingMetrics
from streams.lag.evaluate import Status
from streams.lag.kafka_reads import LagReadError
from streams.lag.model import GroupReading, PartitionReading
from streams.lag.sampler import WRITEBACK_GAUGES, LagSampler

pytestmark = pytest.mark.unit
TAGS = (("partition", "0"), ("topic", "t"))


def test_gauges_follow_the_readings_and_a_failure_is_err() -> None:
    readings: list[GroupReading | None] = [
        GroupReading("g", 100.0, 1, (PartitionReading("t", 0, 5, 0, 10, 95_000),)),
        None,
    ]

    def read() -> GroupReading:
        reading = readings.pop(0)
        if reading is None:
            raise LagReadError("broker down")
        return reading

    metrics = RecordingMetrics()
    sampler = LagSampler(read, metrics)
    assert sampler.sample_once() is Status.OK
    assert metrics.gauges[("cdcbridge_sync_consumer_lag", TAGS)] == 5.0
    assert metrics.gauges[("cdcbridge_sync_consumer_lag_seconds", TAGS)] == 5.0
    assert metrics.gauges[("cdcbridge_sync_consumer_group_status", ())] == 0.0
    assert sampler.sample_once() is Status.ERR
    assert metrics.gauges[("cdcbridge_sync_consumer_group_status", ())] == 4.0
    assert metrics.gauges[("cdcbridge_sync_consumer_lag", TAGS)] == 5.0  # left as it was


def test_writeback_gauges_carry_the_inbound_names() -> None:
    reading = GroupReading("wb", 100.0, 1, (PartitionReading("t", 0, 7, 0, 10, 90_000),))
    metrics = RecordingMetrics()
    assert LagSampler(lambda: reading, metrics, gauges=WRITEBACK_GAUGES).sample_once() is Status.OK
    assert metrics.gauges[("cdcbridge_writeback_consumer_lag", TAGS)] == 3.0
    assert metrics.gauges[("cdcbridge_writeback_consumer_lag_seconds", TAGS)] == 10.0
    assert metrics.gauges[("cdcbridge_writeback_consumer_group_status", ())] == 0.0
    assert not any(name.startswith("cdcbridge_sync") for name, _ in metrics.gauges)
