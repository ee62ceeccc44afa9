"""``cdcbridge demo``: both paths on the local stack, narrated, ending with a summary table.

Brings the stack up, applies the Debezium connector, starts the sync service and the webhook
receiver + forwarder, writes customers (insert, update, email change, delete; or a steady load
with ``--duration``), shows each change event arriving on Kafka with its commit-to-Kafka
latency, has the sandbox send signed webhooks, waits until the sandbox platform holds exactly
what the database holds and every accepted webhook is on Kafka, audits the run's customers
(``cdcbridge audit --all``) and returns the numbers of ``local_stack.demo_summary``.
"""

from __future__ import annotations

import json
import logging
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from confluent_kafka import Consumer, TopicPartition

from cdcbridge import package_data
from local_stack import demo_inbound, demo_load, demo_metrics, demo_sync, seed, stack
from local_stack.connector_setup import ensure_connector_running
from local_stack.demo_summary import DemoSummary, percentiles, summary_rows
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
    # each email's latest commit (Debezium source.ts_ms), for commit -> platform latency
    committed_ms: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        lat = sorted(self.latencies_ms)
        return {
            "events": self.events,
            "ops": self.ops,
            "latency_ms_p50": round(statistics.median(lat), 1) if lat else None,
            "latency_ms_max": round(lat[-1], 1) if lat else None,
        }


def consumer_at_end(servers: str, timeout_s: float = 30, topic: str = TOPIC) -> Consumer:
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
        found = consumer.list_topics(topic, timeout=5).topics.get(topic)
        return [] if found is None or found.error is not None else list(found.partitions)

    wait_until(lambda: bool(partitions()), timeout_s, f"partitions of {topic}")
    ends = []
    for partition in partitions():
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=5)
        ends.append(TopicPartition(topic, partition, high))
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


def watch(consumer: Consumer, expected: int, say: Say | None, timeout_s: float = 60) -> DemoReport:
    """Read change events until ``expected`` arrived or ``timeout_s`` passed; ``say`` (when
    given) narrates each one."""
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
        if doc.get("after") and row.get("email"):
            report.committed_ms[str(row["email"])] = float(doc["source"]["ts_ms"])
        if say is not None:
            say(f"  op={op} id={row.get('id')} email={row.get('email')} "
                f"lsn={doc['source'].get('lsn')} commit->kafka={latency:.0f} ms")
    return report


@dataclass(frozen=True)
class DemoOptions:
    """``rows``: customers of the short demo. ``duration_s`` > 0: instead, a steady load of
    ``rate`` inserts/s for that long (``demo_load``) and ``webhook_rate`` webhooks/s."""

    rows: int = 20
    duration_s: float = 0.0
    rate: float = 50.0
    webhooks: int = 20
    webhook_rate: float = 10.0


def _write_steady(layout: StackLayout, run: str, options: DemoOptions, say: Say) -> int:
    def progress(done: demo_load.LoadResult) -> None:
        if done.inserted % max(int(options.rate * 10), 1) < max(round(options.rate), 1):
            say(f"    {done.inserted:,} inserted, {done.updated:,} updated")

    result = demo_load.steady_load(layout.pg_dsn, run, options.rate, options.duration_s,
                                   progress)
    say(f"    load done: {result.inserted:,} inserted, {result.updated:,} updated")
    return result.changes


def _emit_webhooks(layout: StackLayout, options: DemoOptions,
                   result: demo_inbound.InboundResult) -> threading.Thread:
    """Emit the demo's webhooks in a thread: all at once, or ``webhook_rate`` per second for
    the load's duration."""
    def send() -> None:
        if options.duration_s <= 0:
            demo_inbound.emit(layout, options.webhooks, result)
            return
        started = time.monotonic()
        for second in range(int(options.duration_s)):
            demo_inbound.emit(layout, max(round(options.webhook_rate), 1), result)
            pause = started + second + 1 - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the load, not waiting for a condition

    thread = threading.Thread(target=send, name="demo-webhooks", daemon=True)
    thread.start()
    return thread


def _outbound_latencies(layout: StackLayout, run: str, report: DemoReport) -> list[float]:
    updated = demo_sync.platform_updated_ms(layout.sandbox_url, run)
    return [max(updated[email] - committed, 0.0)
            for email, committed in report.committed_ms.items() if email in updated]


def run_demo(layout: StackLayout, rows: int, say: Say,
             options: DemoOptions | None = None) -> dict[str, object]:
    """Run the demo; returns a JSON-able summary with ``table`` (``demo_summary``). Raises
    StackError if the stack can't start."""
    options = options or DemoOptions(rows=rows)
    table = DemoSummary(duration_s=options.duration_s or None)
    say("1/6 starting the local stack (PostgreSQL, Kafka, Kafka Connect + Debezium, "
        "ElasticMQ, sandbox platform) ...")
    timings = stack.up(layout)
    say(f"    stack up in {timings['total']:.1f} s")
    say("2/6 applying the Debezium connector ...")
    name = ensure_connector_running(layout.connect_url, CONNECTOR_FILE,
                                    bootstrap_servers=layout.bootstrap_servers)
    say(f"    connector {name} RUNNING")
    run = uuid.uuid4().hex[:6]
    say("3/6 starting `cdcbridge sync` (Kafka -> sandbox HubSpot API), and the webhook "
        "receiver + forwarder (sandbox -> SQS -> Kafka) ...")
    sync = demo_sync.start_sync(layout)
    bridge = demo_inbound.start_bridge(layout, run)
    consumer = consumer_at_end(layout.bootstrap_servers)
    engagements = consumer_at_end(layout.bootstrap_servers, topic=demo_inbound.TOPIC)
    inbound = demo_inbound.InboundResult()
    summary: dict[str, object] = {"stack_up_s": round(timings["total"], 2)}
    try:
        sync.wait_ready()
        emitting = _emit_webhooks(layout, options, inbound)
        if options.duration_s > 0:
            say(f"4/6 steady load for {options.duration_s:.0f} s: {options.rate:g} inserts/s "
                f"(plus updates), {options.webhook_rate:g} webhooks/s ...")
            expected = _write_steady(layout, run, options, say)
            report = watch(consumer, expected, None, timeout_s=120 + options.duration_s)
        else:
            say(f"4/6 writing {options.rows} customers, 2 updates, 1 email change, 1 delete; "
                f"change events arriving on {TOPIC}:")
            expected = _write_changes(layout.pg_dsn, options.rows, run)
            report = watch(consumer, expected, say)
        table.rows_changed = expected
        summary.update(report.summary())
        if report.events < expected:
            summary["error"] = f"expected {expected} events, saw {report.events}"
            return summary
        say("5/6 waiting for the marketing platform to hold what the database holds, and for "
            "the webhooks to reach Kafka ...")
        started = time.monotonic()
        db_rows, contacts = demo_sync.wait_for_platform(
            layout, run, timeout_s=60 + options.duration_s)
        summary.update({"database_rows": db_rows, "platform_contacts": contacts,
                        "platform_in_sync_after_s": round(time.monotonic() - started, 2)})
        for email, props in list(demo_sync.platform_contacts(layout.sandbox_url, run).items())[:5]:
            say(f"    {email:<40} {props.get('firstname')} {props.get('lastname')} "
                f"stage={props.get('lifecyclestage')}")
        say(f"    database rows {db_rows} == platform contacts {contacts}")
        emitting.join(120 + options.duration_s)
        demo_inbound.collect(engagements, inbound, timeout_s=60)
        say(f"    webhooks: {inbound.accepted} accepted, {inbound.forwarded} on "
            f"{demo_inbound.TOPIC}")
        table.contacts_upserted = contacts
        table.outbound = percentiles(_outbound_latencies(layout, run, report))
        table.webhooks_sent, table.webhooks_accepted = inbound.sent, inbound.accepted
        table.webhooks_forwarded = inbound.forwarded
        table.inbound = percentiles(inbound.latencies_ms)
        counts = demo_metrics.scrape(sync.metrics_port)
        table.api_calls, table.api_records = counts.api_calls, counts.api_records
        table.rate_limited, table.dlq_records = dict(counts.rate_limited), counts.dead_lettered
        say("6/6 auditing every customer of this run against the platform (cdcbridge audit --all)")
        audit = demo_sync.run_audit(sync, run)
        table.audit_checked = int(audit["checked"])
        table.audit_mismatched = int(audit["mismatched_records"])
        table.audit_match_rate = float(audit["match_rate"])
        summary["audit_passed"] = bool(audit["passed"])
        if inbound.forwarded < inbound.accepted:
            summary["error"] = (f"{inbound.accepted} webhooks accepted, "
                                f"{inbound.forwarded} on Kafka")
        elif not audit["passed"]:
            summary["error"] = f"audit found {table.audit_mismatched} mismatched records"
    finally:
        consumer.close()
        engagements.close()
        bridge.stop()
        code = sync.stop()
        summary["sync_exit_code"] = code
        say(f"    sync stopped (exit {code}); its JSON log: {sync.log_path}")
    summary["table"] = summary_rows(table)
    return summary
