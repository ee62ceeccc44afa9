"""``cdcbridge doctor`` on the real stack: everything reachable is OK, a tight WAL threshold
warns, an unreachable Kafka and a refused credential fail, with the exit codes 0/1/2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from local_stack.endpoints import StackEndpoints

pytestmark = pytest.mark.integration


def doctor(stack: StackEndpoints, *args: str, **env: str) -> tuple[int, dict[str, dict[str, str]]]:
    environment = {
        **os.environ,
        "CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "CDCBRIDGE_PG_DSN": stack.pg_dsn,
        "CDCBRIDGE_CONNECT_URL": stack.connect_url,
        "CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT": stack.sqs_endpoint,
        "CDCBRIDGE_PLATFORM": "hubspot",
        "CDCBRIDGE_HUBSPOT_BASE_URL": stack.sandbox_url,
        "CDCBRIDGE_HUBSPOT_TOKEN": "sandbox-token",
        "CDCBRIDGE_CONFIG_FILE": "/nonexistent",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "cdcbridge", "doctor", "--json", "--timeout", "3", *args],
        env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    document = json.loads(done.stdout)
    assert document["status"] == ["OK", "WARN", "FAIL"][done.returncode]
    return done.returncode, {check["name"]: check for check in document["checks"]}


def test_doctor_on_the_stack(stack: StackEndpoints, cdc_connector: str) -> None:
    code, checks = doctor(stack)
    for name in ("config.sync", "config.platform", "kafka.reachable",
                 "kafka.topic cdc.public.customers", "kafka.dlq_depth", "connect.connector",
                 "postgres.reachable", "postgres.publication", "platform.credentials",
                 "platform.properties",
                 "sqs.queue", "sqs.dlq"):  # fmt: skip
        assert checks[name]["status"] in ("OK", "WARN"), checks[name]
    assert checks["connect.connector"]["status"] == "OK"
    assert checks["platform.credentials"]["status"] == "OK"
    assert checks["platform.properties"]["status"] == "OK"  # the stack ran platform setup
    assert code in (0, 1)

    code, checks = doctor(stack, "--max-retained-wal-mb", "0")
    slot = checks["postgres.slot"]
    assert slot["status"] == "WARN" and "pg_drop_replication_slot" in slot["fix"], slot
    assert code >= 1

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    code, checks = doctor(stack, "--bootstrap-servers", closed, CDCBRIDGE_PLATFORM="marketo")
    assert code == 2
    assert checks["kafka.reachable"]["status"] == "FAIL"
    assert checks["config.platform"]["status"] == "FAIL"  # Marketo named, none of its settings
    assert "platform.credentials" not in checks
    assert "platform.properties" not in checks
