"""The Kafka boundary of the forwarder (confluent-kafka): the only module that imports it.

An idempotent producer (``enable.idempotence``, ``acks=all``); each record's delivery report is
handed to the caller's callback as ``None`` (durable on all in-sync replicas) or a
``DeliveryError`` (``permanent`` when producing that record again can never succeed, e.g. too
large). A fatal producer error (librdkafka's ``error_cb`` with ``fatal()``, or a produce raising
one) is remembered in ``fatal_error``: the owner replaces the producer and produces again
whatever was outstanding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from cdcbridge.errors import TransientError

# Errors for which the same record can never be accepted (the message is left for redrive).
_PERMANENT = frozenset({
    KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_RECORD,
    KafkaError.RECORD_LIST_TOO_LARGE, KafkaError.INVALID_MSG, KafkaError.INVALID_MSG_SIZE,
})  # fmt: skip


@dataclass(frozen=True)
class DeliveryError:
    """Why a record was not delivered."""

    reason: str
    permanent: bool = False


DeliveryCallback = Callable[[DeliveryError | None], None]


class ProducerFull(TransientError):
    """The local producer queue is full; poll and retry."""


@dataclass(frozen=True)
class OutRecord:
    """One record to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def producer_config(
    bootstrap_servers: str, overrides: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The librdkafka settings: idempotent, all replicas, short linger."""
    config: dict[str, object] = {
        "bootstrap.servers": bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.num.messages": 10_000,
        "message.timeout.ms": 30_000,
        "reconnect.backoff.max.ms": 2_000,
        "client.id": "cdcbridge-forwarder",
    }
    config.update(overrides or {})
    return config


class KafkaRecordSink:
    """Implements the forwarder's ``RecordSink``. ``fatal_error`` is set once the producer is
    in a fatal state (every later produce would fail): replace it."""

    def __init__(
        self, bootstrap_servers: str, overrides: Mapping[str, object] | None = None
    ) -> None:
        fatal: list[str] = []  # the error callback holds this, not the sink: no reference cycle

        def on_error(error: KafkaError) -> None:
            if error.fatal():
                fatal.append(str(error))

        self.__fatal = fatal
        config = {**producer_config(bootstrap_servers, overrides), "error_cb": on_error}
        self.__producer = Producer(config)

    @property
    def fatal_error(self) -> str | None:
        return self.__fatal[0] if self.__fatal else None

    def close(self) -> None:
        """Drop everything still queued or in flight (their reports are never served); the
        producer is destroyed once this sink is no longer referenced."""
        self.__producer.purge()
        self.__producer.flush(0)

    def produce(self, record: OutRecord, on_delivery: DeliveryCallback) -> None:
        """Queue ``record``; ``on_delivery`` runs inside a later ``poll``/``flush``.
        Raises ``ProducerFull``; a fatal producer reports the record undelivered at once."""

        def report(error: KafkaError | None, _message: Message) -> None:
            if error is None:
                on_delivery(None)
            else:
                on_delivery(DeliveryError(str(error), error.code() in _PERMANENT))

        try:
            self.__producer.produce(
                record.topic, value=record.value, key=record.key,
                headers=list(record.headers), on_delivery=report,
            )  # fmt: skip
        except BufferError as exc:
            raise ProducerFull(str(exc)) from exc
        except KafkaException as exc:
            error = exc.args[0]
            if isinstance(error, KafkaError) and error.fatal():
                self.__fatal.append(str(error))
            on_delivery(DeliveryError(str(exc)))

    def poll(self, timeout_s: float) -> None:
        """Serve delivery reports for up to ``timeout_s``."""
        self.__producer.poll(timeout_s)

    def flush(self, timeout_s: float) -> int:
        """Wait for outstanding deliveries; returns how many are still outstanding."""
        remaining: int = self.__producer.flush(timeout_s)
        return remaining


def ensure_topic(
    bootstrap_servers: str, topic: str, partitions: int = 3, timeout_s: float = 30.0
) -> None:
    """Create ``topic`` if it does not exist (local stack and tests). Raises ``KafkaException``
    for anything but "already exists"."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 3})  # errors only
    futures = admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=timeout_s)
    try:
        futures[topic].result(timeout_s)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
