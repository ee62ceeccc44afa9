"""Signed webhooks -> receiver -> SQS (ElasticMQ) -> forwarder -> Kafka, on the real stack.

Each test has its own queue (with a dead-letter queue), topic, receiver and forwarder processes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sqs_admin import delete_queue, ensure_queue
from tests.fakes.processes import Child, wait_for
from tests.integration.webhooks.webhooks_it_support import (
    TcpProxy,
    collect,
    start_forwarder,
    start_receiver,
    start_sandbox,
)
from webhook_bridge.kafka_producer import ensure_topic
from webhook_bridge.queue.sqs import SqsQueue, sqs_client
from webhook_bridge.signatures import sign

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(b"integration-test-secret-0123").decode()
HUBSPOT_SECRET = "hubspot-integration-secret"


@dataclass
class Bridge:
    stack: StackEndpoints
    tmp: Path
    queue: SqsQueue
    dlq: SqsQueue
    topic: str
    sources_file: Path
    children: list[Child]

    def receiver(self, sqs_endpoint: str | None = None) -> str:
        child, url = start_receiver(
            self.sources_file, self.queue.queue_url, sqs_endpoint or self.stack.sqs_endpoint,
            self.tmp / f"receiver-{len(self.children)}.log",
        )  # fmt: skip
        self.children.append(child)
        return url

    def forwarder(self) -> Child:
        child = start_forwarder(
            self.sources_file, self.queue.queue_url, self.stack.sqs_endpoint,
            self.stack.bootstrap_servers, self.topic, self.tmp / f"fwd-{len(self.children)}.log",
        )  # fmt: skip
        self.children.append(child)
        return child

    def total_depth(self) -> int:
        return sum(self.queue.depth())


@pytest.fixture
def bridge(stack: StackEndpoints, tmp_path: Path) -> Iterator[Bridge]:
    name = f"wh-it-{uuid.uuid4().hex[:10]}"
    client = sqs_client(stack.sqs_endpoint)
    queue = SqsQueue(
        client, ensure_queue(client, name, max_receive_count=2, visibility_timeout_s=4)
    )
    dlq = SqsQueue.by_name(client, f"{name}-dlq")
    topic = f"it.engagement.{name}"
    ensure_topic(stack.bootstrap_servers, topic)
    old_secret = "whsec_b2xkLW9sZC1vbGQtb2xk"  # still configured while rotating
    sources = {
        "sources": {
            "sandbox": {"scheme": "standard-webhooks", "secrets": [old_secret, SECRET]},
            "hubspot": {
                "scheme": "hubspot-v3", "secrets": [HUBSPOT_SECRET], "normaliser": "hubspot"
            },
        }
    }  # fmt: skip
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(json.dumps(sources))
    state = Bridge(stack, tmp_path, queue, dlq, topic, sources_file, [])
    try:
        yield state
    finally:
        for child in state.children:
            child.stop()
        delete_queue(client, queue.queue_url)  # ElasticMQ keeps messages on a small heap
        delete_queue(client, dlq.queue_url)


def signed(msg_id: str, email: str, trace: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "type": "contact.email_clicked", "timestamp": "2026-01-02T03:04:05Z",
        "data": {"email": email, "contact_id": "77", "campaign": "spring"},
    }).encode()  # fmt: skip
    headers = sign("standard-webhooks", secret=SECRET, body=body, msg_id=msg_id)
    if trace:
        headers["traceparent"] = f"00-{trace}-00f067aa0ba902b7-01"
    return body, headers


async def post_all(url: str, requests: list[tuple[bytes, dict[str, str]]]) -> list[int]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32)) as client:
        answers = await asyncio.gather(
            *(client.post(f"{url}/webhooks/sandbox", content=b, headers=h) for b, h in requests)
        )
    return [a.status_code for a in answers]


def test_sandbox_webhooks_reach_kafka_decoded_with_fields_and_trace(bridge: Bridge) -> None:
    url = bridge.receiver()
    sandbox_child, sandbox = start_sandbox(bridge.tmp / "sandbox.log")
    bridge.children.append(sandbox_child)
    knobs = {"webhook_url": f"{url}/webhooks/sandbox", "webhook_secret": SECRET,
             "webhook_scheme": "standard-webhooks"}  # fmt: skip
    httpx.patch(f"{sandbox}/admin/knobs", json=knobs, timeout=10).raise_for_status()
    emitted = httpx.post(f"{sandbox}/admin/webhooks/emit", json={"count": 12}, timeout=60).json()
    assert emitted["statuses"] == [202] * 12
    hubspot_knobs = {"webhook_url": f"{url}/webhooks/hubspot", "webhook_secret": HUBSPOT_SECRET,
                     "webhook_scheme": "hubspot-v3", }  # fmt: skip
    httpx.patch(f"{sandbox}/admin/knobs", json=hubspot_knobs, timeout=10).raise_for_status()
    emitted = httpx.post(
        f"{sandbox}/admin/webhooks/emit", json={"count": 3, "type": "form_submitted"}, timeout=60
    ).json()
    assert emitted["statuses"] == [202] * 3
    trace = uuid.uuid4().hex
    direct = signed("msg_traced", "Traced@Example.com", trace)
    assert asyncio.run(post_all(url, [direct])) == [202]
    bad = json.dumps({"type": "contact.email_opened", "data": {}}).encode()  # no contact, no time
    bad_headers = sign("standard-webhooks", secret=SECRET, body=bad, msg_id="msg_bad")
    assert asyncio.run(post_all(url, [(bad, bad_headers)])) == [202]

    bridge.forwarder()
    found: dict[str, Any] = collect(bridge.stack.bootstrap_servers, bridge.topic, 16, 90)
    assert len(found) == 16
    by_source: dict[str, int] = {}
    for event_id, item in found.items():
        event, headers = item.event, item.headers
        assert headers["event_id"] == event["event_id"] == event_id
        assert headers["trace_id"] == event["trace_id"]
        assert headers["source"] in {"sandbox", "hubspot"}
        assert item.key in {event["email"], event["platform_contact_id"]}
        assert event["received_at"] >= event["occurred_at"]
        by_source[event["source_platform"]] = by_source.get(event["source_platform"], 0) + 1
        if event["source_platform"] == "sandbox" and event_id != "msg_traced":
            assert event["type"] == "email_opened"
            assert event_id.startswith("msg_")
        if event["source_platform"] == "hubspot":
            assert event["type"] == "form_submitted"
    assert by_source == {"sandbox": 13, "hubspot": 3}
    traced = found["msg_traced"]
    assert traced.headers["trace_id"] == trace == traced.event["trace_id"]
    assert traced.key == "traced@example.com"
    assert traced.event["attributes"] == {"campaign": "spring"}
    assert traced.event["type"] == "email_clicked"
    # The payload that can never be normalised is redriven to the DLQ, not dropped.
    wait_for(lambda: sum(bridge.dlq.depth()) == 1, 60, "the bad webhook in the DLQ")
    wait_for(lambda: bridge.total_depth() == 0, 30, "the queue to drain")


def test_sqs_outage_answers_503_and_loses_nothing_once_back(bridge: Bridge) -> None:
    endpoint = urlsplit(bridge.stack.sqs_endpoint)
    proxy = TcpProxy(endpoint.hostname or "127.0.0.1", endpoint.port or 80)
    try:
        url = bridge.receiver(f"http://127.0.0.1:{proxy.port}")
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        proxy.down()
        requests = [signed(f"msg_out_{i}", f"u{i}@example.com") for i in range(20)]
        statuses = asyncio.run(post_all(url, requests))
        assert statuses == [503] * 20
        down = httpx.get(f"{url}/readyz", timeout=10)
        assert (down.status_code, down.headers["retry-after"]) == (503, "1")
        assert bridge.total_depth() == 0  # nothing half-accepted
        proxy.up()
        wait_for(lambda: httpx.get(f"{url}/readyz", timeout=10).status_code == 200, 30, "ready")
        pending = list(requests)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:  # the sender's retries
            results = asyncio.run(post_all(url, pending))
            pending = [r for r, status in zip(pending, results, strict=True) if status != 202]
        assert pending == []
        assert 1 <= bridge.total_depth() <= 20  # the receiver packs concurrent webhooks
        bridge.forwarder()
        found = collect(bridge.stack.bootstrap_servers, bridge.topic, 20, 60)
        assert set(found) == {f"msg_out_{i}" for i in range(20)}
    finally:
        proxy.close()


def test_forwarder_kill9_mid_stream_loses_nothing(bridge: Bridge) -> None:
    url = bridge.receiver()
    total = 3000
    requests = [signed(f"msg_k_{i}", f"k{i}@example.com") for i in range(total)]
    for start in range(0, total, 300):  # in chunks: one gather of 3000 outwaits the pool
        assert asyncio.run(post_all(url, requests[start : start + 300])) == [202] * len(
            requests[start : start + 300]
        )
    queued = bridge.total_depth()  # messages: each holds one or more of the webhooks
    assert 0 < queued <= total
    first = bridge.forwarder()
    wait_for(lambda: bridge.total_depth() < 0.9 * queued, 60, "the forwarder to make progress",
             interval_s=0.02)  # fmt: skip
    first.kill9()
    assert bridge.total_depth() > 0, "killed too late to be mid-stream"
    bridge.forwarder()
    wait_for(lambda: bridge.total_depth() == 0, 90, "the restarted forwarder to drain the queue")
    found = collect(bridge.stack.bootstrap_servers, bridge.topic, total, 90)
    assert set(found) == {f"msg_k_{i}" for i in range(total)}
    assert sum(bridge.dlq.depth()) == 0
