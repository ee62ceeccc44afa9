"""Shared builders for the receiver's unit and fuzz tests: sources, a receiver on an in-memory
queue, and signed requests."""

from __future__ import annotations

import base64
import json

from pydantic import SecretStr

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from tests.fakes.memory_queue import InMemoryQueue
from webhook_bridge.config import SourceConfig
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.ingest import IngestCore
from webhook_bridge.receiver import Receiver
from webhook_bridge.signatures import sign

SW_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
HS_SECRET = "hubspot-client-secret"
HEX_SECRET = "hex-secret"
NOW = 1_750_000_000.0

SOURCES = {
    "sandbox": SourceConfig(scheme="standard-webhooks", secrets=(SecretStr(SW_SECRET),)),
    "hubspot": SourceConfig(
        scheme="hubspot-v3",
        secrets=(SecretStr(HS_SECRET),),
        normaliser="hubspot",
        public_base_url="https://hooks.example.com",
    ),
    "gh": SourceConfig(
        scheme="hmac-sha256-hex",
        secrets=(SecretStr(HEX_SECRET),),
        id_header="X-GitHub-Delivery",
        max_body_bytes=1024,
    ),
}


def build() -> tuple[Receiver, InMemoryQueue, MockedClock, RecordingMetrics]:
    clock = MockedClock(start=NOW)
    queue = InMemoryQueue(clock)
    metrics = RecordingMetrics()
    core = IngestCore(SOURCES, clock, DedupeWindow(clock, 600, 1000), metrics)
    receiver = Receiver(core, queue, clock, metrics=metrics, linger_s=0.001)
    return receiver, queue, clock, metrics


def sandbox_body(event_id: str = "evt_1", email: str = "ada@example.com") -> bytes:
    return json.dumps(
        {"type": "email.opened", "id": event_id, "occurred_at": "2025-06-15T10:00:00Z",
         "data": {"email": email, "contact_id": "c-1", "campaign_id": "cmp-9"}}
    ).encode()  # fmt: skip


def sandbox_headers(body: bytes, msg_id: str = "msg_1", ts: float = NOW) -> dict[str, str]:
    headers = sign("standard-webhooks", secret=SW_SECRET, body=body, msg_id=msg_id, timestamp=ts)
    return headers | {"content-type": "application/json"}
