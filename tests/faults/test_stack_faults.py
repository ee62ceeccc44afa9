"""Restarts of the local stack's components under load in both directions (with the
project's own process control): Kafka Connect, the Kafka broker, PostgreSQL (the replication
slot resumes where it left: the audit finds no row missing) and the SQS server (SIGKILL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.components import RESTARTS
from tests.faults.harness import FaultRun

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200)]  # load, fault, drain, audit


def restarted(fault_run: Callable[..., FaultRun], name: str, component: str) -> None:
    run = fault_run(name, hit=component).start()
    with run.fault():
        RESTARTS[component](run.bridge.layout)
    run.until_recovered()
    run.finish()


def test_kafka_connect_restarted(fault_run: Callable[..., FaultRun]) -> None:
    restarted(fault_run, "Kafka Connect restart", "connect")


@pytest.mark.xfail(
    strict=False,
    reason="product bug (streams/sync): sync does not survive a broker restart under load "
    "(broker away ~30-40 s). Seen two ways: (1) arroyo's KafkaConsumer retries an offset commit "
    "3 times 1 s apart on _WAIT_COORD, then raises RetryException; the StreamProcessor shuts "
    "down and `cdcbridge sync` exits with a traceback (exit 1, not a TransientError); (2) the "
    "session times out (10 s) while the broker is away, librdkafka revokes and rejoins, and "
    "the process stays alive but never polls again (MAXPOLL after 300 s: 'leaving group', "
    "GroupCoordinator requests stuck in the out-queue): nothing is delivered until a human "
    "restarts it. The forwarder and Connect recover by themselves (invariant (d) fails on sync).",
)
def test_kafka_broker_restarted(fault_run: Callable[..., FaultRun]) -> None:
    restarted(fault_run, "Kafka broker restart", "kafka")


@pytest.mark.faults_ci
def test_postgres_restarted(fault_run: Callable[..., FaultRun]) -> None:
    restarted(fault_run, "PostgreSQL restart", "postgres")


def test_sqs_server_killed_and_restarted(fault_run: Callable[..., FaultRun]) -> None:
    restarted(fault_run, "SQS server kill -9 + restart", "sqs")
