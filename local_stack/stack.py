"""``stack up | down | status``: the whole local stack, idempotent and health-checked.

``up`` starts what is not running (in dependency order) and waits for every component's
health; running it twice is harmless. ``down`` stops exactly the processes recorded in the
state folder's pid files (and PostgreSQL through its own postmaster.pid).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from local_stack import health, jars, jvm, postgres
from local_stack import prometheus as prom
from local_stack.layout import StackLayout
from local_stack.processes import read_pid, spawn, stop_pid, wait_until
from local_stack.sandbox_launcher import sandbox_argv

SANDBOX_PID = "sandbox.pid"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    up: bool
    port: int
    pid: int | None


def _sandbox_available() -> bool:
    return importlib.util.find_spec("sandbox_platform.__main__") is not None


def _start_sandbox(layout: StackLayout) -> int:
    return spawn(sandbox_argv(layout.sandbox_port), pid_file=layout.run / SANDBOX_PID,
                 log_file=layout.logs / "sandbox.log", cwd=layout.root)


def up(
    layout: StackLayout, *, timeout_s: float = 180.0, with_prometheus: bool | None = None
) -> dict[str, float]:
    """Start every component that is not healthy yet. Returns seconds spent per component.

    Prometheus is optional: started when ``with_prometheus`` (default: the
    ``CDCBRIDGE_STACK_PROMETHEUS=1`` environment variable).

    Raises StackError (with the log to read) when one does not become healthy in time.
    """
    layout.ensure_dirs()
    timings: dict[str, float] = {}
    started = time.monotonic()
    jars.ensure_jars(layout)
    timings["jars"] = time.monotonic() - started

    def step(name: str, is_up: Callable[[], bool], start: Callable[[], object]) -> None:
        t0 = time.monotonic()
        if not is_up():
            start()
        timings[name] = time.monotonic() - t0

    step("postgres", lambda: health.postgres_up(layout), lambda: postgres.start(layout))
    postgres.apply_migrations(layout.pg_dsn)
    step("sqs", lambda: health.sqs_up(layout), lambda: _start_if_dead(
        layout, jvm.ELASTICMQ.pid_file(layout), lambda: jvm.start_elasticmq(layout)))
    step("kafka", lambda: health.kafka_up(layout), lambda: _start_if_dead(
        layout, jvm.KAFKA.pid_file(layout), lambda: jvm.start_kafka(layout)))
    if _sandbox_available():
        step("sandbox", lambda: health.sandbox_up(layout), lambda: _start_if_dead(
            layout, layout.run / SANDBOX_PID, lambda: _start_sandbox(layout)))
    t0 = time.monotonic()
    wait_until(lambda: health.kafka_up(layout), timeout_s, f"Kafka; see {layout.logs}/kafka.log")
    timings["kafka"] += time.monotonic() - t0
    step("connect", lambda: health.connect_up(layout), lambda: _start_if_dead(
        layout, jvm.CONNECT.pid_file(layout), lambda: jvm.start_connect(layout)))
    t0 = time.monotonic()
    wait_until(lambda: health.sqs_up(layout), timeout_s, f"ElasticMQ; see {layout.logs}")
    if _sandbox_available():
        wait_until(lambda: health.sandbox_up(layout), timeout_s,
                   f"the sandbox platform; see {layout.logs}/sandbox.log")
        from local_stack.sandbox_setup import provision_sandbox  # imports the platform layer

        provision_sandbox(layout.sandbox_url)  # platform setup, idempotent
    wait_until(lambda: health.connect_up(layout), timeout_s,
               f"Kafka Connect with Debezium; see {layout.logs}/connect.log")
    timings["connect"] += time.monotonic() - t0
    if prom.wanted() if with_prometheus is None else with_prometheus:
        step("prometheus", prom.ready, lambda: _start_if_dead(
            layout, prom.pid_file(layout), lambda: prom.start(layout)))
        wait_until(prom.ready, timeout_s, f"Prometheus; see {layout.logs}/prometheus.log")
    timings["total"] = time.monotonic() - started
    return timings


def _start_if_dead(layout: StackLayout, pid_file: Path, start: Callable[[], int]) -> None:
    if read_pid(pid_file) is None:
        start()


def down(layout: StackLayout) -> list[str]:
    """Stop every process the stack started, newest first. Returns the names stopped."""
    stopped: list[str] = []
    for name, pid_file in (
        ("prometheus", prom.pid_file(layout)),
        ("connect", jvm.CONNECT.pid_file(layout)),
        ("sandbox", layout.run / SANDBOX_PID),
        ("kafka", jvm.KAFKA.pid_file(layout)),
        ("sqs", jvm.ELASTICMQ.pid_file(layout)),
    ):
        if stop_pid(pid_file, timeout_s=30):
            stopped.append(name)
    if layout.root.exists() and postgres.stop(layout):
        stopped.append("postgres")
    return stopped


def status(layout: StackLayout) -> list[ComponentStatus]:
    rows = [
        ComponentStatus("postgres", health.postgres_up(layout), layout.pg_port, None),
        ComponentStatus("kafka", health.kafka_up(layout), layout.kafka_port,
                        read_pid(jvm.KAFKA.pid_file(layout))),
        ComponentStatus("connect", health.connect_up(layout), layout.connect_port,
                        read_pid(jvm.CONNECT.pid_file(layout))),
        ComponentStatus("sqs", health.sqs_up(layout), layout.sqs_port,
                        read_pid(jvm.ELASTICMQ.pid_file(layout))),
        ComponentStatus("sandbox", health.sandbox_up(layout), layout.sandbox_port,
                        read_pid(layout.run / SANDBOX_PID)),
    ]
    prometheus_pid = read_pid(prom.pid_file(layout))
    if prometheus_pid is not None:  # optional: listed only once started
        rows.append(ComponentStatus("prometheus", prom.ready(), prom.port(), prometheus_pid))
    return rows
