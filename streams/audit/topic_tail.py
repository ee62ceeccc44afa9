"""Follow a topic from a point in time without a consumer group (offsets never committed)."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition

from streams.sync.kafka_boundary import KafkaIOError


class TopicTail:
    """Reads ``topic``'s record keys from ``since_ms`` on. Use as a context manager.

    ``poll_keys`` raises ``KafkaIOError`` when the broker reports an error."""

    def __init__(self, bootstrap_servers: str, topic: str, since_ms: int) -> None:
        self.__consumer = Consumer(
            {
                "bootstrap.servers": bootstrap_servers,
                "group.id": f"cdcbridge-tail-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "auto.offset.reset": "latest",
            }
        )
        try:
            described = self.__consumer.list_topics(topic, timeout=10).topics.get(topic)
            if described is None or described.error is not None:
                raise KafkaIOError(f"topic {topic} not found")
            starts = [TopicPartition(topic, p, since_ms) for p in described.partitions]
            starts = self.__consumer.offsets_for_times(starts, timeout=10)
            self.__consumer.assign(starts)  # offset -1 (nothing newer yet): from the end
        except KafkaException as exc:
            self.__consumer.close()
            raise KafkaIOError(str(exc)) from exc

    def poll_keys(self, timeout_s: float, max_records: int = 2000) -> list[bytes | None]:
        keys: list[bytes | None] = []
        for message in self.__consumer.consume(max_records, timeout_s):
            error = message.error()
            if error is not None:
                raise KafkaIOError(str(error))
            key = message.key()
            keys.append(key.encode() if isinstance(key, str) else key)
        return keys

    def __enter__(self) -> TopicTail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.__consumer.close()
