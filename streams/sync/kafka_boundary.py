"""The Kafka boundary of the outbound path (``streams.lag.kafka_reads`` is the lag reader's).

Builds the sync consumer (arroyo's ``KafkaConsumer`` over librdkafka, manual commits only),
a record producer (the DLQ sink's, ``streams.sync.dlq.kafka_sink``), and the small admin reads
behind ``cdcbridge dlq`` and ``cdcbridge lag``. Kafka errors are translated into
``KafkaIOError``. Below the domain: it knows records, topics and offsets, and imports nothing of
``streams`` (``tests/unit/sync/test_layering.py`` checks it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from arroyo.backends.kafka import KafkaConsumer
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from cdcbridge.errors import TransientError


def _headers(headers: list[tuple[str, bytes]]) -> list[tuple[str, str | bytes | None]]:
    return [(k, v) for k, v in headers]


def _bytes(value: str | bytes | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


class KafkaIOError(TransientError):
    """A Kafka operation failed (broker unreachable, topic missing, produce refused)."""


def consumer_configuration(bootstrap_servers: str, group_id: str) -> dict[str, Any]:
    """librdkafka settings of the sync consumer: no auto-commit, no auto offset store."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "arroyo.enable.auto.commit": False,
        "enable.partition.eof": False,
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        "max.poll.interval.ms": 300_000,
        "fetch.wait.max.ms": 20,
        "queued.max.messages.kbytes": 65_536,
    }


def build_sync_consumer(bootstrap_servers: str, group_id: str) -> KafkaConsumer:
    return KafkaConsumer(consumer_configuration(bootstrap_servers, group_id))


def _producer(bootstrap_servers: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        }
    )


Settled = Callable[[str | None], None]
"""Called once a produced record is settled: ``None`` when acknowledged, else the error text."""

QUEUE_FULL_POLL_S = 0.1  # one wait for delivery reports while the local queue is full


class RecordProducer:
    """Produces records without blocking the caller; acknowledgements arrive via ``poll`` /
    ``flush`` (whichever thread calls them runs the ``Settled`` callbacks).

    A full local queue (librdkafka's ``BufferError``) is backpressure, not a failure: ``produce``
    serves delivery reports for up to ``queue_full_wait_s`` (which frees the queue) and tries
    again; only a queue still full after that, or a produce Kafka refuses, settles the record
    with an error. Thread-safe (the librdkafka producer is)."""

    def __init__(
        self,
        bootstrap_servers: str,
        queue_full_wait_s: float = 30.0,
        producer: Producer | None = None,
    ) -> None:
        self.__producer = producer if producer is not None else _producer(bootstrap_servers)
        self.__queue_full_polls = max(1, int(queue_full_wait_s / QUEUE_FULL_POLL_S))

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        on_settled: Settled,
    ) -> None:
        """Queue one record; ``on_settled`` runs once, later (or now, with the error, when
        Kafka refuses it or the queue stays full)."""

        def report(error: KafkaError | None, _message: object) -> None:
            on_settled(None if error is None else str(error))

        for _ in range(self.__queue_full_polls):
            try:
                self.__producer.produce(
                    topic, value=value, key=key, headers=_headers(headers), on_delivery=report
                )
            except BufferError:
                self.__producer.poll(QUEUE_FULL_POLL_S)  # backpressure: let reports drain
                continue
            except KafkaException as exc:
                on_settled(f"produce refused: {exc}")
                return
            self.__producer.poll(0)
            return
        on_settled(f"local producer queue still full after {self.__queue_full_polls} waits")

    def flush(self, timeout_s: float) -> int:
        """Wait for outstanding acknowledgements; returns how many are still unconfirmed."""
        return int(self.__producer.flush(timeout_s))


@dataclass(frozen=True)
class StoredRecord:
    """A record read back from a topic (the DLQ), with its coordinates and headers."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


def read_topic(
    bootstrap_servers: str, topic: str, since_ms: int | None = None, timeout_s: float = 10.0
) -> Iterator[StoredRecord]:
    """Every record of ``topic`` (from ``since_ms`` when given) up to the current end.

    Reads without a group commit (an anonymous group), so it never moves anyone's offsets.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"cdcbridge-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s)
        described = metadata.topics.get(topic)
        if described is None or described.error is not None:
            return
        ends: dict[int, int] = {}
        starts: list[TopicPartition] = []
        for partition in described.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout_s)
            if high > low:
                ends[partition] = high
                starts.append(TopicPartition(topic, partition, since_ms or low))
        if since_ms is not None and starts:
            starts = consumer.offsets_for_times(starts, timeout=timeout_s)
        starts = [tp for tp in starts if tp.offset >= 0 and tp.offset < ends[tp.partition]]
        if not starts:
            return
        consumer.assign(starts)
        remaining = {tp.partition for tp in starts}
        while remaining:
            message = consumer.poll(timeout_s)
            if message is None:
                raise KafkaIOError(f"no record from {topic} within {timeout_s}s")
            if message.error() is not None:
                raise KafkaIOError(str(message.error()))
            partition, offset = message.partition() or 0, message.offset() or 0
            raw_headers = message.headers() or []
            yield StoredRecord(
                topic,
                partition,
                offset,
                message.timestamp()[1],
                _bytes(message.key()),
                _bytes(message.value()),
                {k: _bytes(v) or b"" for k, v in dict(raw_headers).items()},
            )
            if offset + 1 >= ends[partition]:
                remaining.discard(partition)
    finally:
        consumer.close()


def produce_records(
    bootstrap_servers: str,
    records: Sequence[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]],
    timeout_s: float = 30.0,
    producer: Producer | None = None,
) -> None:
    """Produce (topic, key, value, headers) records and wait for every acknowledgement (a full
    local queue waits for acknowledgements first). Raises ``KafkaIOError``."""
    sink = RecordProducer(bootstrap_servers, timeout_s, producer)
    errors: list[str] = []

    def settled(error: str | None) -> None:
        if error is not None:
            errors.append(error)

    for topic, key, value, headers in records:
        sink.produce(topic, key, value, headers, settled)
    if sink.flush(timeout_s) or errors:
        raise KafkaIOError(f"produce failed: {errors or 'not confirmed in time'}")


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


def partition_count(bootstrap_servers: str, topic: str, timeout_s: float = 10.0) -> int:
    """How many partitions ``topic`` has (0 when it does not exist yet)."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "cdcbridge-meta"})
    try:
        described = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        return 0 if described is None or described.error else len(described.partitions)
    finally:
        consumer.close()


def _group_consumer(bootstrap_servers: str, group_id: str) -> Consumer:
    """A consumer of ``group_id`` that only reads or sets offsets (never auto-commits)."""
    return Consumer(
        {"bootstrap.servers": bootstrap_servers, "group.id": group_id, "enable.auto.commit": False}
    )


def _partitions(consumer: Consumer, topic: str, timeout_s: float) -> list[int]:
    """The partition numbers of ``topic``. Raises ``KafkaIOError`` when it does not exist."""
    described = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if described is None or described.error is not None:
        raise KafkaIOError(f"topic {topic} not found")
    return sorted(described.partitions)


def group_lag(
    bootstrap_servers: str, group_id: str, topic: str, timeout_s: float = 10.0
) -> list[PartitionLag]:
    """Committed offset and end offset of each partition of ``topic`` for ``group_id``."""
    consumer = _group_consumer(bootstrap_servers, group_id)
    try:
        wanted = [TopicPartition(topic, p) for p in _partitions(consumer, topic, timeout_s)]
        committed = consumer.committed(wanted, timeout=timeout_s)
        result = []
        for tp in committed:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout_s)
            offset = tp.offset if tp.offset >= 0 else None
            result.append(PartitionLag(topic, tp.partition, offset, high))
        return result
    except KafkaException as exc:
        raise KafkaIOError(str(exc)) from exc
    finally:
        consumer.close()


def commit_group_to_end(
    bootstrap_servers: str, group_id: str, topic: str, timeout_s: float = 10.0
) -> dict[int, int]:
    """Set ``group_id``'s committed offsets on ``topic`` to the current end (skip the backlog).

    Only for a group with no live members (Kafka refuses commits from outside an active
    generation otherwise). Returns the committed offset per partition.
    """
    consumer = _group_consumer(bootstrap_servers, group_id)
    try:
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout_s)[1]
            for p in _partitions(consumer, topic, timeout_s)
        }
        consumer.commit(
            offsets=[TopicPartition(topic, p, end) for p, end in ends.items()], asynchronous=False
        )
        return ends
    except KafkaException as exc:
        raise KafkaIOError(str(exc)) from exc
    finally:
        consumer.close()
