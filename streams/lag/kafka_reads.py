"""The Kafka boundary of ``streams.lag``: one ``GroupReading`` from the brokers.

Committed offsets and the group's state come from the admin API, log start/end from the
watermarks, and the oldest unconsumed record's timestamp by reading that one record (assigned,
never subscribed: the reader never joins or commits for the group). Kafka errors are raised as
``LagReadError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from cdcbridge.clock import Clock
from cdcbridge.errors import TransientError
from streams.lag.model import GroupReading, PartitionReading


class LagReadError(TransientError):
    """The group or its topics could not be read (broker unreachable, topic missing)."""


def _committed(admin: AdminClient, group: str, timeout_s: float) -> dict[tuple[str, int], int]:
    request = [ConsumerGroupTopicPartitions(group)]
    answer = admin.list_consumer_group_offsets(request, request_timeout=timeout_s)[group]
    result = answer.result(timeout=timeout_s)
    return {
        (tp.topic, tp.partition): tp.offset
        for tp in result.topic_partitions or []
        if tp.offset >= 0
    }


def _active_members(admin: AdminClient, group: str, timeout_s: float) -> int:
    described = admin.describe_consumer_groups([group], request_timeout=timeout_s)[group]
    return len(described.result(timeout=timeout_s).members or [])


def _partitions(
    consumer: Consumer, topic: str, timeout_s: float, missing_ok: bool = False
) -> list[int]:
    described = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if described is None or described.error is not None:
        if missing_ok:
            return []
        raise LagReadError(f"topic {topic} not found")
    return sorted(described.partitions)


def _oldest_timestamps(
    consumer: Consumer, positions: dict[tuple[str, int], int], timeout_s: float, clock: Clock
) -> dict[tuple[str, int], int]:
    """Timestamp (ms) of the first record at or after each position, by reading it."""
    if not positions:
        return {}
    consumer.assign([TopicPartition(t, p, offset) for (t, p), offset in positions.items()])
    found: dict[tuple[str, int], int] = {}
    deadline = clock.monotonic() + timeout_s
    while len(found) < len(positions) and clock.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None or message.error() is not None:
            continue
        topic, partition = message.topic(), message.partition()
        if topic is None or partition is None:
            continue
        key = (topic, partition)
        if key not in found:
            _, ts_ms = message.timestamp()
            found[key] = ts_ms if ts_ms >= 0 else 0
            consumer.pause([TopicPartition(key[0], key[1])])
    consumer.unassign()
    return {key: ts for key, ts in found.items() if ts > 0}


def read_group(
    bootstrap_servers: str,
    group: str,
    topics: Iterable[str],
    clock: Clock,
    timeout_s: float = 10.0,
    missing_ok: bool = False,
) -> GroupReading:
    """One reading of ``group`` over ``topics`` plus every topic it has committed offsets on.
    ``missing_ok``: a topic that does not exist yet (a mapped table with no row captured so
    far) has no partitions, instead of failing the reading.

    Raises ``LagReadError``.
    """
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    consumer = Consumer({
        "bootstrap.servers": bootstrap_servers,
        "group.id": f"cdcbridge-lag-reader-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    })  # fmt: skip
    try:
        committed = _committed(admin, group, timeout_s)
        members = _active_members(admin, group, timeout_s)
        wanted = sorted(set(topics) | {topic for topic, _ in committed})
        readings: list[PartitionReading] = []
        for topic in wanted:
            for partition in _partitions(consumer, topic, timeout_s, missing_ok):
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=timeout_s
                )
                readings.append(PartitionReading(
                    topic, partition, committed.get((topic, partition)), max(low, 0),
                    max(high, 0), None,
                ))  # fmt: skip
        lagging = {(r.topic, r.partition): r.position for r in readings if r.lag > 0}
        stamps = _oldest_timestamps(consumer, lagging, timeout_s, clock)
        readings = [
            PartitionReading(r.topic, r.partition, r.committed, r.log_start, r.log_end,
                             stamps.get((r.topic, r.partition)))
            for r in readings
        ]  # fmt: skip
    except KafkaException as exc:
        raise LagReadError(str(exc)) from exc
    finally:
        consumer.close()
    return GroupReading(group, clock.time(), members, tuple(readings))
