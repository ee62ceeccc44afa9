"""The real stack: Debezium envelopes for insert/update/delete, heartbeats, idempotent up."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from local_stack.endpoints import StackEndpoints
from local_stack.processes import wait_until

pytestmark = pytest.mark.integration
TOPIC = "cdc.public.customers"


@pytest.fixture()
def consumer(stack: StackEndpoints, cdc_connector: str) -> Iterator[Consumer]:
    c = Consumer({
        "bootstrap.servers": stack.bootstrap_servers,
        "group.id": f"test-{uuid.uuid4()}",
        "auto.offset.reset": "latest",
        "enable.auto.commit": False,
    })
    _assign_at_end(c)
    yield c
    c.close()


def _assign_at_end(c: Consumer, timeout_s: float = 30) -> None:
    """Read every partition of the topic from its end as of now, so only records produced
    after this point are seen. (A manual assignment with explicit offsets: seeking right after
    a group assignment can fail with "Erroneous state" until the partition's fetch starts.)"""

    def partitions() -> list[int]:
        topic = c.list_topics(TOPIC, timeout=5).topics.get(TOPIC)
        return [] if topic is None or topic.error is not None else list(topic.partitions)

    wait_until(lambda: bool(partitions()), timeout_s, f"partitions of {TOPIC}")
    ends = []
    for partition in partitions():
        _, high = c.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=5)
        ends.append(TopicPartition(TOPIC, partition, high))
    c.assign(ends)


def _collect(c: Consumer, email: str, count: int, timeout_s: float = 30) -> list[Any]:
    """Envelopes about ``email`` in arrival order; a tombstone for that row's key is ``None``."""
    found: list[Any] = []
    row_key: bytes | None = None
    deadline = time.monotonic() + timeout_s
    while len(found) < count and time.monotonic() < deadline:
        msg = c.poll(0.5)
        if msg is None or msg.error():
            continue
        value = msg.value()
        if value is None:
            if row_key is not None and msg.key() == row_key:
                found.append(None)
            continue
        doc = json.loads(value)
        row = doc.get("after") or doc.get("before") or {}
        if row.get("email") == email:
            row_key = msg.key()
            found.append(doc)
    return found


def test_insert_update_delete_produce_envelopes(stack: StackEndpoints, consumer: Consumer) -> None:
    email = f"it-{uuid.uuid4().hex[:8]}@example.com"
    with psycopg.connect(stack.pg_dsn, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO customers (email, first_name, last_name, mrr, birth_date) "
            "VALUES (%s, 'Zoë', 'Ñúñez', 42.50, '1990-01-02') RETURNING id", (email,)
        ).fetchone()
        assert row is not None
        conn.execute("UPDATE customers SET plan = 'pro' WHERE id = %s", (row[0],))
        conn.execute("DELETE FROM customers WHERE id = %s", (row[0],))
    events = _collect(consumer, email, 4)
    assert [e["op"] for e in events[:3]] == ["c", "u", "d"]
    created, updated, deleted = events[:3]
    assert created["before"] is None and created["after"]["first_name"] == "Zoë"
    assert created["after"]["mrr"] == "42.50"  # decimal.handling.mode=string
    assert created["after"]["birth_date"] == 7306  # io.debezium.time.Date: days since epoch
    assert updated["before"]["plan"] is None and updated["after"]["plan"] == "pro"
    assert deleted["after"] is None and deleted["before"]["id"] == row[0]
    for event in (created, updated, deleted):
        assert isinstance(event["source"]["lsn"], int) and event["source"]["lsn"] > 0
        assert isinstance(event["source"]["ts_ms"], int)
        assert event["source"]["table"] == "customers"
    assert created["source"]["lsn"] < updated["source"]["lsn"] < deleted["source"]["lsn"]


def test_delete_is_followed_by_a_tombstone(stack: StackEndpoints, consumer: Consumer) -> None:
    email = f"tomb-{uuid.uuid4().hex[:8]}@example.com"
    with psycopg.connect(stack.pg_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO customers (email) VALUES (%s)", (email,))
        conn.execute("DELETE FROM customers WHERE email = %s", (email,))
    events = _collect(consumer, email, 3)
    assert [e["op"] if e else None for e in events] == ["c", "d", None]


def _confirmed_flush_lsn(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
            "WHERE slot_name = 'cdcbridge_slot'"
        ).fetchone()
    assert row is not None and row[0] is not None, "replication slot missing"
    return int(row[0])


def test_heartbeat_advances_slot_while_idle(stack: StackEndpoints, cdc_connector: str) -> None:
    start = _confirmed_flush_lsn(stack.pg_dsn)
    deadline = time.monotonic() + 60
    while _confirmed_flush_lsn(stack.pg_dsn) <= start:
        assert time.monotonic() < deadline, "confirmed_flush_lsn did not advance in 60 s"
        time.sleep(0.5)  # polling interval with a deadline, not a wait for a condition


def test_stack_up_twice_is_harmless(stack: StackEndpoints) -> None:
    if stack.origin != "local":
        pytest.skip("only the project's own local stack is started by `stack up`")
    from local_stack import stack as local
    from local_stack.layout import StackLayout

    layout = StackLayout.default()
    before = {s.name: s.pid for s in local.status(layout)}
    local.up(layout)
    after = {s.name: s.pid for s in local.status(layout)}
    assert before == after, "a second `stack up` restarted something"
    assert all(s.up for s in local.status(layout) if s.name != "sandbox")
