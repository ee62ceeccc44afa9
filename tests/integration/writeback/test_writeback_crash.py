"""``kill -9`` of ``cdcbridge writeback`` mid-stream: after a restart every event is in the
table exactly once and every customer's counters count each event exactly once.

Size: ``CDCBRIDGE_IT_WRITEBACK_EVENTS`` (default 5,000, the issue's number; it takes about
half a minute on the shared 2-core machine). Small batches keep the stream long enough to be
killed in the middle of it.
"""

from __future__ import annotations

import os
import random
import uuid
from pathlib import Path

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from streams.sync import kafka_boundary
from tests.fakes.processes import wait_for
from tests.integration.writeback.writeback_it_support import engagement_record, start_writeback
from webhook_bridge.kafka_producer import ensure_topic

pytestmark = pytest.mark.integration
EVENTS = int(os.environ.get("CDCBRIDGE_IT_WRITEBACK_EVENTS", "5000"))


def test_kill9_mid_stream_loses_and_doubles_nothing(stack: StackEndpoints, tmp_path: Path) -> None:
    name = uuid.uuid4().hex[:10]
    topic, group = f"it.engagement.crash.{name}", f"it-wb-crash-{name}"
    ensure_topic(stack.bootstrap_servers, topic, partitions=3)
    rng = random.Random(15)
    with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
        keys = []
        for i in range(3):
            row = pg.execute(
                "INSERT INTO customers (email) VALUES (%s) RETURNING id",
                (f"crash-{i}-{name}@x.io",),
            ).fetchone()
            assert row is not None
            keys.append(str(row[0]))
        expected = dict.fromkeys(keys, 0)
        records = []
        for i in range(EVENTS):
            key = rng.choice(keys)
            expected[key] += 1
            value, headers = engagement_record(f"{name}-{i}", "email_opened", key)
            records.append((topic, key.encode(), value, headers))
        kafka_boundary.produce_records(stack.bootstrap_servers, records, timeout_s=120)

        def stored() -> int:
            found = pg.execute(
                "SELECT count(*) FROM engagement_events WHERE kafka_topic = %s", (topic,)
            ).fetchone()
            return int(found[0]) if found else 0

        env = {"CDCBRIDGE_WRITEBACK_BATCH_SIZE": "50"}
        first = start_writeback(
            stack.pg_dsn, stack.bootstrap_servers, topic, group, tmp_path / "wb-1.log", env=env
        )
        wait_for(lambda: stored() >= EVENTS // 5, 120, "writeback to be mid-stream")
        first.kill9()
        at_kill = stored()
        assert at_kill < EVENTS, "the stream ended before the kill: raise the event count"

        second = start_writeback(
            stack.pg_dsn, stack.bootstrap_servers, topic, group, tmp_path / "wb-2.log", env=env
        )
        try:
            wait_for(lambda: stored() >= EVENTS, 180, f"all {EVENTS} events after the restart")
            offsets = pg.execute(
                "SELECT sum(next_offset) FROM cdcbridge_writeback_offsets "
                "WHERE consumer_group = %s AND topic = %s",
                (group, topic),
            ).fetchone()
            assert offsets == (EVENTS,), "the stored offsets end where the topic ends"
        finally:
            assert second.stop() == 0, second.log()[-2000:]
        distinct = pg.execute(
            "SELECT count(DISTINCT event_id), count(*) FROM engagement_events "
            "WHERE kafka_topic = %s",
            (topic,),
        ).fetchone()
        assert distinct == (EVENTS, EVENTS)
        counted: dict[str, int] = dict(
            pg.execute(
                "SELECT customer_key, (counters->>'opens')::int FROM customer_engagement "
                "WHERE customer_key = ANY(%s)",
                (keys,),
            ).fetchall()
        )
        assert counted == expected, "each event's state applied exactly once"
        print(f"killed at {at_kill}/{EVENTS} events stored")
