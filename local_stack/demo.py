"""``cdcbridge demo``: the whole outbound path on the local stack, narrated.

Brings the stack up, applies the Debezium connector, starts the sync service, writes customers
(insert, update, email change, delete), shows each change event arriving on Kafka with its
commit-to-Kafka latency, then waits until the sandbox platform holds exactly what the database
holds and prints some of it.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from confluent_kafka import Consumer, TopicPartition

from cdcbridge import package_data
from local_stack import demo_sync, seed, stack
from local_stack.connector_setup import ensure_connector_running
from local_stack.layout import StackLayout
from local_stack.processes import wait_until

TOPIC = "cdc.public.customers"
_QUIET = logging.getLogger("cdcbridge.demo.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
CONNECTOR_FILE = package_data.connectors_dir() / "debezium-postgres-source.json"
Say = Callable[[str], None]


@dataclass
class DemoReport:
    events: int = 0
    ops: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        lat = sorted(self.latencies_ms)
        return {
            "events": self.events,
            "ops": self.ops,
            "latency_ms_p50": round(statistics.median(lat), 1) if lat else None,
            "latency_ms_max": round(lat[-1], 1) if lat else None,
        }


def consumer_at_end(servers: str, timeout_s: float = 30) -> Consumer:
    """A consumer reading every partition of the topic from its end as of now, so it sees
    exactly the records produced after this call.

    The partitions are assigned manually at their end offsets: seeking right after a group
    assignment races librdkafka's fetch start ("Erroneous state") and could miss events.
    Raises StackError when the topic has no partitions within ``timeout_s``.
    """
    consumer = Consumer({"bootstrap.servers": servers, "group.id": f"demo-{uuid.uuid4()}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "log_level": 0, "logger": _QUIET})

    def partitions() -> list[int]:
        topic = consumer.list_topics(TOPIC, timeout=5).topics.get(TOPIC)
        return [] if topic is None or topic.error is not None else list(topic.partitions)

    wait_until(lambda: bool(partitions()), timeout_s, f"partitions of {TOPIC}")
    ends = []
    for partition in partitions():
        _, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=5)
        ends.append(TopicPartition(TOPIC, partition, high))
    consumer.assign(ends)
    return consumer


def _write_changes(dsn: str, rows: int, run: str) -> int:
    """Insert ``rows`` customers, update two, change one email, delete one. Returns events due."""
    result = seed.seed(dsn, rows, seed_value=len(run), run=run)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE customers SET plan = 'enterprise', lifecycle_stage = 'customer' "
                     "WHERE id IN (%s, %s)", (result.first_id, result.first_id + 1))
        conn.execute("UPDATE customers SET email = 'moved.' || email WHERE id = %s",
                     (result.first_id + 2,))
        conn.execute("DELETE FROM customers WHERE id = %s", (result.last_id,))
    return rows + 4


def watch(consumer: Consumer, expected: int, say: Say, timeout_s: float = 60) -> DemoReport:
    report = DemoReport()
    deadline = time.monotonic() + timeout_s
    while report.events < expected and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error() or msg.value() is None:
            continue
        value = msg.value()
        assert value is not None
        doc = json.loads(value)
        row = doc.get("after") or doc.get("before") or {}
        op = doc.get("op", "?")
        report.events += 1
        report.ops[op] = report.ops.get(op, 0) + 1
        latency = time.time() * 1000 - doc["source"]["ts_ms"]
        report.latencies_ms.append(latency)
        say(f"  op={op} id={row.get('id')} email={row.get('email')} "
            f"lsn={doc['source'].get('lsn')} commit->kafka={latency:.0f} ms")
    return report


def run_demo(layout: StackLayout, rows: int, say: Say) -> dict[str, object]:
    """Run the demo; returns a JSON-able summary. Raises StackError if the stack can't start."""
    say("1/5 starting the local stack (PostgreSQL, Kafka, Kafka Connect + Debezium, "
        "ElasticMQ, sandbox platform) ...")
    timings = stack.up(layout)
    say(f"    stack up in {timings['total']:.1f} s")
    say("2/5 applying the Debezium connector ...")
    name = ensure_connector_running(layout.connect_url, CONNECTOR_FILE,
                                    bootstrap_servers=layout.bootstrap_servers)
    say(f"    connector {name} RUNNING")
    say("3/5 starting `cdcbridge sync` (Kafka -> sandbox HubSpot API) ...")
    sync = demo_sync.start_sync(layout)
    consumer = consumer_at_end(layout.bootstrap_servers)
    summary: dict[str, object] = {"stack_up_s": round(timings["total"], 2)}
    try:
        run = uuid.uuid4().hex[:6]
        say(f"4/5 writing {rows} customers, 2 updates, 1 email change, 1 delete; "
            f"change events arriving on {TOPIC}:")
        expected = _write_changes(layout.pg_dsn, rows, run)
        report = watch(consumer, expected, say)
        summary.update(report.summary())
        if report.events < expected:
            summary["error"] = f"expected {expected} events, saw {report.events}"
            return summary
        say("5/5 waiting for the marketing platform to hold what the database holds ...")
        started = time.monotonic()
        db_rows, contacts = demo_sync.wait_for_platform(layout, run)
        summary.update({"database_rows": db_rows, "platform_contacts": contacts,
                        "platform_in_sync_after_s": round(time.monotonic() - started, 2)})
        for email, props in list(demo_sync.platform_contacts(layout.sandbox_url, run).items())[:5]:
            say(f"    {email:<40} {props.get('firstname')} {props.get('lastname')} "
                f"stage={props.get('lifecyclestage')}")
        say(f"    database rows {db_rows} == platform contacts {contacts}")
    finally:
        consumer.close()
        code = sync.stop()
        summary["sync_exit_code"] = code
        say(f"    sync stopped (exit {code}); its JSON log: {sync.log_path}")
    return summary
