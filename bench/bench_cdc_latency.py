"""Benchmark: time from an INSERT's commit in PostgreSQL to its Debezium event on Kafka.

Runs N single-row inserts (autocommit) at a fixed pace on the local stack (started if needed)
and prints one JSON document: median/p95/max latency, measured as the consumer's receive time
minus the client-side time right after COMMIT returned (so it never counts clock skew), plus
the `source.ts_ms` based figure Debezium itself reports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid

import psycopg
from confluent_kafka import Consumer

from local_stack import stack
from local_stack.connector_setup import ensure_connector_running
from local_stack.demo import CONNECTOR_FILE, consumer_at_end
from local_stack.layout import StackLayout


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inserts", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="inserts per second")
    args = parser.parse_args()
    layout = StackLayout.default()
    stack.up(layout)
    ensure_connector_running(
        layout.connect_url, CONNECTOR_FILE, bootstrap_servers=layout.bootstrap_servers
    )
    consumer = consumer_at_end(layout.bootstrap_servers)
    run = uuid.uuid4().hex[:8]
    committed: dict[str, float] = {}
    received: dict[str, tuple[float, int]] = {}
    with psycopg.connect(layout.pg_dsn, autocommit=True) as conn:
        next_at = time.monotonic()
        for i in range(args.inserts):
            email = f"bench.{run}.{i}@example.com"
            conn.execute("INSERT INTO customers (email) VALUES (%s)", (email,))
            committed[email] = time.time()
            next_at += 1 / args.rate
            while time.monotonic() < next_at:
                _drain(consumer, received, 0.0)
                time.sleep(0.001)
    deadline = time.monotonic() + 60
    while len(received) < args.inserts and time.monotonic() < deadline:
        _drain(consumer, received, 0.2)
    consumer.close()
    latencies = [(received[e][0] - committed[e]) * 1000 for e in committed if e in received]
    source_lat = [received[e][0] * 1000 - received[e][1] for e in committed if e in received]
    print(
        json.dumps(
            {
                "benchmark": "cdc_commit_to_kafka",
                "inserts": args.inserts,
                "rate_per_s": args.rate,
                "received": len(latencies),
                "latency_ms": {
                    "p50": round(statistics.median(latencies), 1),
                    "p95": round(percentile(latencies, 0.95), 1),
                    "max": round(max(latencies), 1),
                },
                "source_ts_latency_ms": {
                    "p50": round(statistics.median(source_lat), 1),
                    "p95": round(percentile(source_lat, 0.95), 1),
                },
            }
        )
    )


def _drain(consumer: Consumer, received: dict[str, tuple[float, int]], timeout: float) -> None:
    msg = consumer.poll(timeout)
    while msg is not None:
        value = msg.value()
        if not msg.error() and value:
            doc = json.loads(value)
            after = doc.get("after") or {}
            if doc.get("op") == "c":
                received.setdefault(after.get("email", ""), (time.time(), doc["source"]["ts_ms"]))
        msg = consumer.poll(0)


if __name__ == "__main__":
    main()
