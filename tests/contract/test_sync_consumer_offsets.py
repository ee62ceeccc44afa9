"""The offsets contract the sync relies on ("commit only after the platform answered"), one suite
run against arroyo's in-memory ``LocalBroker`` (the sync unit tests' broker) and against the
local stack's Kafka through the sync consumer (``build_sync_consumer``: no auto-commit, no
auto offset store).

Reading commits nothing; a staged offset is not committed until ``commit_offsets``; after a
commit, the group's next member starts at the committed offset (the next record to read). The
``LocalBroker`` half is a ``contract`` test (no I/O); the Kafka half an ``integration`` test.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Protocol

import pytest
from arroyo.backends.abstract import Consumer
from arroyo.backends.kafka import KafkaPayload
from arroyo.backends.local.backend import LocalBroker
from arroyo.backends.local.storages.memory import MemoryMessageStorage
from arroyo.types import BrokerValue, Partition, Topic
from confluent_kafka.admin import AdminClient

from local_stack.endpoints import StackEndpoints
from local_stack.topics import ensure_topics

# The production names under contract (modules may move: these lines are the only ones to fix).
from streams.sync.kafka_boundary import build_sync_consumer, produce_records

VALUES = [b"change-%d" % n for n in range(5)]


class Backend(Protocol):
    topic: Topic

    def produce(self, values: list[bytes]) -> None:
        """Append ``values`` to the topic's only partition, in order."""
        ...

    def consumer(self, group: str) -> Consumer[KafkaPayload]: ...


class LocalBackend:
    def __init__(self) -> None:
        self.topic = Topic(f"contract-{uuid.uuid4().hex[:8]}")
        self.broker: LocalBroker[KafkaPayload] = LocalBroker(MemoryMessageStorage())
        self.broker.create_topic(self.topic, 1)

    def produce(self, values: list[bytes]) -> None:
        for value in values:
            self.broker.produce(Partition(self.topic, 0), KafkaPayload(b"k", value, []))

    def consumer(self, group: str) -> Consumer[KafkaPayload]:
        return self.broker.get_consumer(group)


class KafkaBackend:
    def __init__(self, bootstrap_servers: str, name: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = Topic(name)

    def produce(self, values: list[bytes]) -> None:
        produce_records(self.bootstrap_servers, [(self.topic.name, b"k", v, []) for v in values])

    def consumer(self, group: str) -> Consumer[KafkaPayload]:
        return build_sync_consumer(self.bootstrap_servers, group)


@pytest.fixture(
    params=[
        pytest.param("local", marks=pytest.mark.contract),
        pytest.param("kafka", marks=pytest.mark.integration),
    ]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "local":
        yield LocalBackend()
        return
    stack: StackEndpoints = request.getfixturevalue("stack")
    name = f"it-offsets-contract-{uuid.uuid4().hex[:8]}"
    ensure_topics(stack.bootstrap_servers, (name,), partitions=1)
    try:
        yield KafkaBackend(stack.bootstrap_servers, name)
    finally:
        admin = AdminClient({"bootstrap.servers": stack.bootstrap_servers})
        for future in admin.delete_topics([name], operation_timeout=30).values():
            future.result()


def read(
    consumer: Consumer[KafkaPayload], topic: Topic, count: int
) -> list[BrokerValue[KafkaPayload]]:
    """Subscribe and poll until ``count`` records arrived (a group join may take seconds)."""
    consumer.subscribe([topic])
    found: list[BrokerValue[KafkaPayload]] = []
    deadline = time.monotonic() + 60
    while len(found) < count:
        assert time.monotonic() < deadline, f"{len(found)} of {count} records within 60 s"
        message = consumer.poll(0.5)
        if message is not None:
            found.append(message)
    return found


def next_member_starts_at(backend: Backend, group: str) -> int:
    """The offset the group's next member reads first."""
    consumer = backend.consumer(group)
    try:
        [first] = read(consumer, backend.topic, 1)
        return first.offset
    finally:
        consumer.close()


def test_reading_commits_nothing(backend: Backend) -> None:
    backend.produce(VALUES)
    group = f"contract-{uuid.uuid4().hex[:8]}"
    consumer = backend.consumer(group)
    assert [m.payload.value for m in read(consumer, backend.topic, len(VALUES))] == VALUES
    consumer.close()
    assert next_member_starts_at(backend, group) == 0


def test_a_staged_offset_is_not_committed_without_commit(backend: Backend) -> None:
    backend.produce(VALUES)
    group = f"contract-{uuid.uuid4().hex[:8]}"
    consumer = backend.consumer(group)
    read(consumer, backend.topic, len(VALUES))
    consumer.stage_offsets({Partition(backend.topic, 0): 3})
    consumer.close()
    assert next_member_starts_at(backend, group) == 0


def test_after_a_commit_the_next_member_reads_the_next_record(backend: Backend) -> None:
    backend.produce(VALUES)
    group = f"contract-{uuid.uuid4().hex[:8]}"
    consumer = backend.consumer(group)
    read(consumer, backend.topic, len(VALUES))
    consumer.stage_offsets({Partition(backend.topic, 0): 3})  # records 0..2 answered
    consumer.commit_offsets()
    consumer.close()
    assert next_member_starts_at(backend, group) == 3
