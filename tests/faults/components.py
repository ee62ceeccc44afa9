"""The local stack's components as the fault suite sees them: who is running (pid, or the
postmaster's start time), and a restart of one of them with the project's own process control
(``local_stack``: pid files, ``jvm.start_*``, ``postgres.stop``/``start``)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import requests

from local_stack import health, jvm, postgres
from local_stack.layout import StackLayout
from local_stack.processes import kill_pid, read_pid, stop_pid
from tests.fakes.processes import wait_for

CONNECTOR = "cdcbridge-postgres-source"


def identities(layout: StackLayout) -> dict[str, str]:
    """Who runs each stack component right now (a restart changes the value)."""
    found = {
        name: str(read_pid(service.pid_file(layout)))
        for name, service in (("kafka", jvm.KAFKA), ("connect", jvm.CONNECT),
                              ("sqs", jvm.ELASTICMQ))
    }  # fmt: skip
    try:
        with psycopg.connect(layout.pg_dsn, connect_timeout=5) as conn:
            row = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()
        found["postgres"] = str(row[0] if row else None)
    except psycopg.OperationalError:
        found["postgres"] = "down"
    return found


def connector_running(layout: StackLayout) -> bool:
    """The Debezium connector and its task report RUNNING."""
    try:
        answer = requests.get(f"{layout.connect_url}/connectors/{CONNECTOR}/status", timeout=5)
    except requests.RequestException:
        return False
    if answer.status_code != 200:
        return False
    doc = answer.json()
    tasks = doc.get("tasks") or []
    return (
        doc["connector"]["state"] == "RUNNING"
        and bool(tasks)
        and all(t["state"] == "RUNNING" for t in tasks)
    )


def restart_connect(layout: StackLayout) -> None:
    assert stop_pid(jvm.CONNECT.pid_file(layout), timeout_s=60), "Connect was not running"
    jvm.start_connect(layout)
    wait_for(lambda: health.connect_up(layout), 180, "Kafka Connect to come back", 0.5)


def restart_kafka(layout: StackLayout) -> None:
    assert stop_pid(jvm.KAFKA.pid_file(layout), timeout_s=60), "the broker was not running"
    jvm.start_kafka(layout)
    wait_for(lambda: health.kafka_up(layout), 180, "the broker to come back", 0.5)


def restart_postgres(layout: StackLayout) -> None:
    assert postgres.stop(layout), "PostgreSQL was not running"
    postgres.start(layout)


def kill_and_restart_sqs(layout: StackLayout) -> None:
    assert kill_pid(jvm.ELASTICMQ.pid_file(layout)), "ElasticMQ was not running"
    jvm.start_elasticmq(layout)
    wait_for(lambda: health.sqs_up(layout), 120, "ElasticMQ to come back", 0.5)


RESTARTS: dict[str, Callable[[StackLayout], None]] = {
    "connect": restart_connect,
    "kafka": restart_kafka,
    "postgres": restart_postgres,
    "sqs": kill_and_restart_sqs,
}
