"""Inbound lag on the real stack: ``cdcbridge lag --direction inbound`` and the writeback's
own lag gauges over a backlog of engagement records, both reaching 0 records and 0 seconds once
writeback has caught up, with the Kafka commits equal to the offsets stored in PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import free_port
from streams.sync import kafka_boundary
from tests.fakes.processes import wait_for
from tests.integration.writeback.writeback_it_support import engagement_record, start_writeback
from webhook_bridge.kafka_producer import ensure_topic

pytestmark = pytest.mark.integration
EVENTS = 300


def inbound_lag(stack: StackEndpoints, topic: str, group: str) -> dict[str, object]:
    env = {**os.environ, "CDCBRIDGE_WRITEBACK_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
           "CDCBRIDGE_WRITEBACK_TOPIC": topic, "CDCBRIDGE_WRITEBACK_GROUP_ID": group}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "cdcbridge", "lag", "--direction", "inbound", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    print("lag --direction inbound:", done.stdout.strip())
    return document


def gauges(port: int, name: str) -> list[float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line.startswith(name + "{") or line.startswith(name + " ")]  # fmt: skip


def test_inbound_lag_drains_to_zero(stack: StackEndpoints, tmp_path: Path) -> None:
    name = uuid.uuid4().hex[:10]
    topic, group = f"it.engagement.lag.{name}", f"it-wb-lag-{name}"
    ensure_topic(stack.bootstrap_servers, topic, partitions=2)
    records = []
    for i in range(EVENTS):
        value, headers = engagement_record(f"{name}-{i}", "email_opened", None, f"l{i}@x.io")
        records.append((topic, f"k{i}".encode(), value, headers))
    kafka_boundary.produce_records(stack.bootstrap_servers, records, timeout_s=120)

    before = inbound_lag(stack, topic, group)
    assert before["group"] == group and before["total_lag"] == EVENTS
    assert "PostgreSQL" in str(before["offsets"])
    assert float(str(before["max_lag_seconds"])) > 0.0

    port = free_port()
    writeback = start_writeback(
        stack.pg_dsn, stack.bootstrap_servers, topic, group, tmp_path / "wb.log",
        "--metrics-port", str(port),
        env={"CDCBRIDGE_WRITEBACK_LAG_SAMPLE_INTERVAL_S": "0.5"},
    )  # fmt: skip
    try:
        wait_for(lambda: inbound_lag(stack, topic, group)["total_lag"] == 0, 120,
                 "the inbound lag to drain")  # fmt: skip
        after = inbound_lag(stack, topic, group)
        assert after["max_lag_seconds"] == 0.0 and after["status"] == "OK"

        def gauges_at_zero() -> bool:
            lag = gauges(port, "cdcbridge_writeback_consumer_lag")
            seconds = gauges(port, "cdcbridge_writeback_consumer_lag_seconds")
            return len(lag) == 2 and lag == [0.0, 0.0] and seconds == [0.0, 0.0]

        wait_for(gauges_at_zero, 60, "the writeback lag gauges to read 0")
        assert gauges(port, "cdcbridge_writeback_consumer_group_status") == [0.0]
        with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
            stored: dict[int, int] = dict(pg.execute(
                "SELECT kafka_partition, next_offset FROM cdcbridge_writeback_offsets "
                "WHERE consumer_group = %s AND topic = %s", (group, topic),
            ).fetchall())  # fmt: skip
        rows = after["partitions"]
        assert isinstance(rows, list)
        assert {row["partition"]: row["committed"] for row in rows} == stored
        assert sum(stored.values()) == EVENTS
    finally:
        assert writeback.stop() == 0, writeback.log()[-2000:]
