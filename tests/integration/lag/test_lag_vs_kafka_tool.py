"""``cdcbridge lag --json`` against Kafka's own ``ConsumerGroupCommand`` on the same group: a
backlog with old records (lag in seconds read from their timestamps), an empty topic, and a
partition the group never committed on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from local_stack.endpoints import StackEndpoints
from local_stack.jars import classpath
from local_stack.layout import StackLayout

pytestmark = pytest.mark.integration
TOOL = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
AGE_S = 120.0


def create_topics(bootstrap: str, topics: dict[str, int]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(t, n, 1) for t, n in topics.items()])
    for future in futures.values():
        future.result(timeout=30)
    deadline = time.monotonic() + 30
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "probe"})
    try:
        while any(
            len(probe.list_topics(t, timeout=5).topics[t].partitions) != n
            for t, n in topics.items()
        ):
            assert time.monotonic() < deadline, "topics not ready"
    finally:
        probe.close()


def produce(bootstrap: str, topic: str, per_partition: dict[int, int], ts_ms: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for partition, count in per_partition.items():
        for index in range(count):
            producer.produce(topic, f"v{index}".encode(), partition=partition, timestamp=ts_ms)
    assert producer.flush(30) == 0


def commit(bootstrap: str, group: str, offsets: list[TopicPartition]) -> None:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()


def kafka_tool(
    layout: StackLayout, bootstrap: str, group: str
) -> dict[tuple[str, int], dict[str, str]]:
    """ConsumerGroupCommand --describe, parsed: (topic, partition) -> its columns."""
    java = shutil.which("java")
    assert java is not None
    answer = subprocess.run(
        [java, "-cp", classpath(layout, "kafka-tools"), TOOL,
         "--bootstrap-server", bootstrap, "--describe", "--group", group],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    lines = [line.split() for line in answer.stdout.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "CURRENT-OFFSET" in line)
    header = lines[start]
    rows = [dict(zip(header, line, strict=False)) for line in lines[start + 1 :]]
    return {(row["TOPIC"], int(row["PARTITION"])): row for row in rows}


def ours(bootstrap: str, group: str, *topics: str) -> dict[str, object]:
    argv = [sys.executable, "-m", "cdcbridge", "lag", "--bootstrap-servers", bootstrap,
            "--group", group, "--json"]  # fmt: skip
    for topic in topics:
        argv += ["--topic", topic]
    answer = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, check=True, env=dict(os.environ)
    )
    document: dict[str, object] = json.loads(answer.stdout)
    return document


def test_lag_matches_consumer_group_command(stack: StackEndpoints) -> None:
    bootstrap = stack.bootstrap_servers
    suffix = uuid.uuid4().hex[:8]
    backlog, empty, group = f"lag-backlog-{suffix}", f"lag-empty-{suffix}", f"lag-g-{suffix}"
    create_topics(bootstrap, {backlog: 3, empty: 2})
    old_ms = int((time.time() - AGE_S) * 1000)
    produce(bootstrap, backlog, {0: 10, 1: 4, 2: 0}, old_ms)
    # partition 0: 3 of 10 consumed; 1: all consumed (idle); 2: empty; the empty topic: at 0
    commit(bootstrap, group, [TopicPartition(backlog, 0, 3), TopicPartition(backlog, 1, 4),
                              TopicPartition(backlog, 2, 0), TopicPartition(empty, 0, 0),
                              TopicPartition(empty, 1, 0)])  # fmt: skip

    tool = kafka_tool(StackLayout.default(), bootstrap, group)
    document = ours(bootstrap, group)
    rows = {(str(r["topic"]), int(r["partition"])): r for r in document["partitions"]}  # type: ignore[attr-defined]
    assert set(rows) == set(tool) == {(backlog, 0), (backlog, 1), (backlog, 2),
                                      (empty, 0), (empty, 1)}  # fmt: skip
    for key, theirs in tool.items():
        row = rows[key]
        assert (row["committed"], row["log_end"], row["lag"]) == (
            int(theirs["CURRENT-OFFSET"]), int(theirs["LOG-END-OFFSET"]), int(theirs["LAG"])
        ), key
    assert rows[(backlog, 0)]["lag"] == 7
    assert AGE_S - 1 <= float(rows[(backlog, 0)]["lag_seconds"]) <= AGE_S + 60
    for key in [(backlog, 1), (backlog, 2), (empty, 0), (empty, 1)]:
        assert rows[key]["lag"] == 0 and rows[key]["lag_seconds"] == 0.0
    assert document["total_lag"] == 7
    assert document["status"] == "STOP"  # a backlog and no member consuming it

    # a topic the group never committed on: listed by us with --topic, lag from the log start
    never = ours(bootstrap, group, empty)
    assert never["total_lag"] == 7
    produce(bootstrap, empty, {0: 2}, old_ms)
    fresh_group = ours(bootstrap, f"lag-none-{suffix}", empty)
    lags = {(r["partition"], r["lag"]) for r in fresh_group["partitions"]}  # type: ignore[attr-defined]
    assert lags == {(0, 2), (1, 0)}
    assert fresh_group["status"] == "STOP"
