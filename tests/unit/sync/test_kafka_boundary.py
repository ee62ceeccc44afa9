"""``RecordProducer``: a full local producer queue (librdkafka's ``BufferError``) is
backpressure: delivery reports are served and the produce is tried again; only a queue that
stays full, or a produce Kafka refuses, settles the record with an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer

from streams.sync.kafka_boundary import KafkaIOError, RecordProducer, produce_records

pytestmark = pytest.mark.unit


class QueueFullProducer:
    """A librdkafka producer whose queue is full for the first ``full`` produce calls; each
    ``poll`` serves the delivery reports waiting."""

    def __init__(self, full: int, refuse: bool = False) -> None:
        self.full = full
        self.refuse = refuse
        self.polls: list[float] = []
        self.produced: list[tuple[str, bytes | None]] = []
        self.reports: list[Callable[[KafkaError | None, object], None]] = []

    def produce(self, topic: str, value: bytes | None = None, **kwargs: Any) -> None:
        if self.refuse:
            raise KafkaException(KafkaError(KafkaError._UNKNOWN_TOPIC))
        if self.full:
            self.full -= 1
            raise BufferError("Local: Queue full")
        self.produced.append((topic, value))
        self.reports.append(kwargs["on_delivery"])

    def poll(self, timeout: float) -> int:
        self.polls.append(timeout)
        served, self.reports = self.reports, []
        for report in served:
            report(None, None)
        return len(served)

    def flush(self, timeout: float) -> int:
        self.poll(timeout)
        return 0


def producer_of(fake: QueueFullProducer, wait_s: float = 30.0) -> RecordProducer:
    return RecordProducer("unused:9092", wait_s, cast(Producer, fake))


def test_a_full_queue_waits_for_reports_and_produces() -> None:
    fake = QueueFullProducer(full=3)
    settled: list[str | None] = []
    producer_of(fake).produce("dlq", b"k", b"v", [("trace_id", b"t")], settled.append)
    assert fake.produced == [("dlq", b"v")]
    assert fake.polls[:3] == [0.1, 0.1, 0.1]  # three waits while full, then the usual poll(0)
    assert settled == [None]


def test_a_queue_that_stays_full_settles_with_an_error() -> None:
    fake = QueueFullProducer(full=1_000)
    settled: list[str | None] = []
    producer_of(fake, wait_s=0.5).produce("dlq", None, b"v", [], settled.append)
    assert fake.produced == []
    assert len(fake.polls) == 5
    [error] = settled
    assert error is not None and "queue still full" in error


def test_a_refused_produce_settles_with_the_error() -> None:
    settled: list[str | None] = []
    producer_of(QueueFullProducer(0, refuse=True)).produce("x", None, b"v", [], settled.append)
    [error] = settled
    assert error is not None and error.startswith("produce refused")


def test_produce_records_rides_out_a_full_queue_and_raises_on_refusal() -> None:
    fake = QueueFullProducer(full=2)
    records: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = [
        ("t", None, b"1", []),
        ("t", None, b"2", []),
    ]
    produce_records("unused:9092", records, 1.0, cast(Producer, fake))
    assert [value for _, value in fake.produced] == [b"1", b"2"]
    with pytest.raises(KafkaIOError):
        produce_records("unused:9092", records, 1.0, cast(Producer, QueueFullProducer(0, True)))
