"""The dead-letter sink on Kafka: each ``DeadLetter`` produced to the DLQ topic with the source
record's key and value and the DLQ headers (``DeadLetter.headers``). Writes do not block; a
full local producer queue holds the caller until acknowledgements free it (backpressure, see
``RecordProducer``). A write Kafka refuses settles with its error (the engine then stops)."""

from __future__ import annotations

from streams.sync.dlq.dead_letter import DeadLetter, DeliveryCallback
from streams.sync.kafka_boundary import RecordProducer


class KafkaDeadLetterSink:
    """A ``DeadLetterSink`` producing to ``topic``; confirmations arrive via ``flush``/poll."""

    def __init__(
        self, bootstrap_servers: str, topic: str, producer: RecordProducer | None = None
    ) -> None:
        # No lock of ours around the producer: delivery callbacks take the engine's lock, and
        # whichever thread polls runs them.
        self.__producer = producer or RecordProducer(bootstrap_servers)
        self.__topic = topic

    def send(self, letter: DeadLetter, on_settled: DeliveryCallback) -> None:
        record = letter.record
        self.__producer.produce(
            self.__topic, record.key, record.value, letter.headers(), on_settled
        )

    def flush(self, timeout_s: float) -> int:
        return self.__producer.flush(timeout_s)
