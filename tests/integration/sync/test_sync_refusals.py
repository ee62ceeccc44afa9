"""A record the vendor refuses for good is dead-lettered with the vendor's answer and stalls
nothing: rows inserted right after it arrive within the usual latency and the partition keeps
committing (issue #18 items 3 and 4), for HubSpot and Marketo, on the real stack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import private_sandbox
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup, unique_email

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]
REFUSAL: dict[str, dict[str, object]] = {
    "hubspot": {"refuse_input": "refuse-me", "refuse_status": 404},
    "marketo": {"refuse_input": "refuse-me", "refuse_marketo_code": "1003"},
}
LATENCIES: dict[str, dict[str, float]] = {}


class VendorSandbox:
    def __init__(self, url: str, platform: str) -> None:
        self.url, self.platform = url, platform

    def emails(self) -> set[str]:
        listing = httpx.get(f"{self.url}/admin/contacts", timeout=10).json()[self.platform]
        return {str(c["properties"].get("email", "")).lower() for c in listing}


@pytest.fixture(params=["hubspot", "marketo"])
def vendor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VendorSandbox]:
    platform: str = request.param
    log_path = tmp_path / f"sandbox-{platform}.log"
    with private_sandbox(log_path, platform=platform, knobs=REFUSAL[platform]) as url:
        yield VendorSandbox(url, platform)


def platform_env(vendor: VendorSandbox) -> dict[str, str]:
    if vendor.platform == "hubspot":
        return {"CDCBRIDGE_PLATFORM": "hubspot", "CDCBRIDGE_HUBSPOT_BASE_URL": vendor.url}
    return {
        "CDCBRIDGE_PLATFORM": "marketo",
        "CDCBRIDGE_MARKETO_BASE_URL": vendor.url,
        "CDCBRIDGE_MARKETO_CLIENT_ID": "sandbox-client",
        "CDCBRIDGE_MARKETO_CLIENT_SECRET": "sandbox-secret",
    }


def arrival_latency(pg: Conn, vendor: VendorSandbox, email: str) -> float:
    """Seconds from the insert's commit until the vendor stores the contact."""
    pg.execute("INSERT INTO customers (email, first_name) VALUES (%s, 'Ann')", (email,))
    committed = time.monotonic()
    wait_for(lambda: email in vendor.emails(), 60, f"{email} to arrive", interval_s=0.02)
    return time.monotonic() - committed


def test_a_refused_record_is_dead_lettered_and_stalls_nothing(
    vendor: VendorSandbox,
    sync_group: SyncGroup,
    pg: Conn,
    stack: StackEndpoints,
) -> None:
    sync = sync_group.spawn(None, **platform_env(vendor))
    usual = arrival_latency(pg, vendor, unique_email("warm"))  # includes start-up and assignment
    usual = arrival_latency(pg, vendor, unique_email("usual"))

    refused = unique_email("refuse-me")
    pg.execute("INSERT INTO customers (email, first_name) VALUES (%s, 'Bob')", (refused,))
    after_refused = arrival_latency(pg, vendor, unique_email("after"))
    LATENCIES[vendor.platform] = {"usual_s": usual, "after_refused_s": after_refused}
    print(json.dumps({"platform": vendor.platform, **LATENCIES[vendor.platform]}))

    wait_for(lambda: sync_group.lag() == 0, 30, "the partition to commit past the refused row")
    letters = list(kafka_boundary.read_topic(stack.bootstrap_servers, sync_group.dlq_topic))
    assert len(letters) == 1
    message = letters[0].headers["error_message"].decode()
    expected_code = "404" if vendor.platform == "hubspot" else "1003"
    assert letters[0].headers["error_class"] == b"VendorRejected"
    assert message.startswith(expected_code), message  # the vendor's answer
    assert refused not in vendor.emails()
    # No stall: the row after the refused one arrives within the usual latency (plus the few
    # calls that isolate the refused record).
    assert after_refused < usual + 2.0, (usual, after_refused)
    assert sync.stop() == 0, sync.log()


def test_a_stop_that_abandons_a_delivery_says_so(
    sync_group: SyncGroup, sandbox: Sandbox, pg: Conn
) -> None:
    """SIGTERM while a batch is being retried used to exit 0 with 'sync stopped cleanly'."""
    # associations off: their calls also retry during the outage, and this is about the batch
    sync = sync_group.spawn(CDCBRIDGE_SYNC_DRAIN_TIMEOUT_S="2", CDCBRIDGE_SYNC_ASSOCIATIONS="0")
    warm = unique_email("warm")
    pg.execute("INSERT INTO customers (email) VALUES (%s)", (warm,))
    wait_for(lambda: warm in sandbox.contacts(), 60, "the sync to run")
    sandbox.knobs(outage_s=600)
    stuck = unique_email("stuck")
    pg.execute("INSERT INTO customers (email) VALUES (%s)", (stuck,))
    wait_for(
        lambda: "platform call failed transiently, retrying" in sync.log(),
        60,
        "the batch delivery to be retried",
    )

    assert sync.stop() == 3, sync.log()
    assert "sync stopped cleanly" not in sync.log()
    assert "1 records will be re-read on restart (1 whose delivery was given up)" in sync.log()
    assert sync_group.lag() == 1
