"""What a real sync run tells its operators: the exact DogStatsD datagrams (read on a local UDP
port), the same metrics on Prometheus's /metrics, and a dead-letter log line that names the
failed payload."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from streams.mapping.mapping_files import MAPPINGS_DIR
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup, unique_email

pytestmark = pytest.mark.integration
UPSERT = "/crm/v3/objects/contacts/batch/upsert"


class Datagrams:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.lines: list[str] = []

    def read(self) -> list[str]:
        while True:
            try:
                data = self.sock.recv(65_535)
            except TimeoutError:
                return self.lines
            self.lines += [line for line in data.decode().split("\n") if line]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_sync_run_reports_to_dogstatsd_and_prometheus(
    sync_group: SyncGroup, sandbox: Sandbox, stack: StackEndpoints, tmp_path: Path
) -> None:
    udp, metrics_port = Datagrams(), free_port()
    broken = tmp_path / "customers.yaml"
    real = (MAPPINGS_DIR / "customers.yaml").read_text()
    broken.write_text(
        real.replace("[trim, empty_to_null, country_alpha2]", "[trim, empty_to_null]")
    )
    sync = sync_group.spawn(
        DD_DOGSTATSD_URL=f"udp://127.0.0.1:{udp.port}",
        CDCBRIDGE_METRICS_PORT=str(metrics_port),
        CDCBRIDGE_SYNC_LAG_SAMPLE_INTERVAL_S="1",
        CDCBRIDGE_SYNC_TABLE_MAPPING_FILE=str(broken),
    )
    fine, poison = unique_email("dd-fine"), unique_email("dd-poison")
    with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
        pg.execute("INSERT INTO customers (email, country) VALUES (%s, 'DE')", (fine,))
        wait_for(lambda: fine in sandbox.contacts(), 60, "the valid row to reach the sandbox")
        pg.execute("INSERT INTO customers (email, country) VALUES (%s, 'de')", (poison,))
    dead_letter = "cdcbridge.dlq.records:1|c|#error_class:InvalidRecord"
    wait_for(lambda: dead_letter in udp.read(), 60, "the dead letter's datagram")
    status = "cdcbridge.sync.consumer.group_status:"
    wait_for(lambda: any(ln.startswith(status) for ln in udp.read()), 30, "a lag sample")
    lines = udp.read()
    for exact in (
        "cdcbridge.sync.records.consumed:1|c|#topic:cdc.public.customers",
        f"api.client.requests.total:1|c|#endpoint:{UPSERT},platform:hubspot,status:200",
        "api.client.records_per_call:1.0|d",
        "cdcbridge.sync.records.delivered:1|c|#platform:hubspot",
        "cdcbridge.dlq.records:1|c|#error_class:InvalidRecord",
    ):
        assert exact in lines, (exact, lines)
    for pattern in (
        rf"api\.client\.request\.duration:[0-9.e-]+\|d\|#endpoint:{UPSERT},platform:hubspot,status:200",
        r"integration\.latency:[0-9.e-]+\|d\|#platform:hubspot,direction:outbound",
        r"integration\.latency\.p95:[0-9.e-]+\|g\|#direction:outbound",
        r"cdcbridge\.sync\.consumer\.lag:[0-9.]+\|g\|#partition:[0-2],topic:cdc\.public\.customers",
        r"cdcbridge\.sync\.consumer\.lag_seconds:[0-9.e-]+\|g\|#partition:[0-2],topic:cdc\.public\.customers",
        r"cdcbridge\.sync\.consumer\.group_status:[0-4]\.0\|g",
    ):
        assert any(re.fullmatch(pattern, line) for line in lines), (pattern, lines)

    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as answer:
        exposition = answer.read().decode()
    labels = f'endpoint="{UPSERT}",platform="hubspot",status="200"'
    assert f"cdcbridge_platform_requests_total{{{labels}}} 1.0" in exposition
    assert (
        'cdcbridge_sync_records_dead_lettered_total{error_class="InvalidRecord"} 1.0' in exposition
    )
    assert 'cdcbridge_integration_latency_p95_seconds{direction="outbound"}' in exposition

    [letter] = list(kafka_boundary.read_topic(stack.bootstrap_servers, sync_group.dlq_topic))
    ref = ":".join(letter.headers[h].decode() for h in
                   ("original_topic", "original_partition", "original_offset"))  # fmt: skip
    logged: list[dict[str, Any]] = [
        json.loads(line) for line in sync.log().splitlines() if '"dead-lettering record"' in line
    ]
    assert [entry["payload_ref"] for entry in logged] == [ref]
    assert logged[0]["trace_id"] == letter.headers["trace_id"].decode()
    assert sync.stop() == 0
