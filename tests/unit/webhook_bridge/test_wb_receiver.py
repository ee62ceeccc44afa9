"""The ASGI receiver against an in-memory queue: every status code and what gets enqueued."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from tests.fakes.memory_queue import InMemoryQueue
from tests.fakes.webhook_receiver import (
    HEX_SECRET,
    HS_SECRET,
    NOW,
    build,
    sandbox_body,
    sandbox_headers,
)
from webhook_bridge.batcher import MAX_PACK
from webhook_bridge.envelope import WebhookEnvelope, decode_message
from webhook_bridge.signatures import sign

pytestmark = pytest.mark.unit


@pytest.fixture
def harness() -> Iterator[tuple[TestClient, InMemoryQueue]]:
    receiver, queue, _, _ = build()
    with TestClient(receiver.app) as client:
        yield client, queue


def received(queue: InMemoryQueue) -> list[WebhookEnvelope]:
    return [e for m in queue.receive(10, 0) for e in decode_message(m.body)]


def test_valid_webhook_is_enqueued_byte_identical(
    harness: tuple[TestClient, InMemoryQueue],
) -> None:
    client, queue = harness
    body = sandbox_body()
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    answer = client.post(
        "/webhooks/sandbox", content=body, headers=sandbox_headers(body) | {"traceparent": trace}
    )
    assert answer.status_code == 202
    assert answer.json()["status"] == "accepted"
    [envelope] = received(queue)
    assert envelope.body.encode() == body
    assert envelope.webhook_id == "msg_1"
    assert envelope.source == "sandbox"
    assert envelope.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert envelope.received_at_ms == int(NOW * 1000)


def test_duplicate_delivery_enqueued_once(harness: tuple[TestClient, InMemoryQueue]) -> None:
    client, queue = harness
    body = sandbox_body()
    first = client.post("/webhooks/sandbox", content=body, headers=sandbox_headers(body))
    again = client.post("/webhooks/sandbox", content=body, headers=sandbox_headers(body))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["status"] == "duplicate"
    assert queue.depth() == 1


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "error"),
    [
        ("/webhooks/nope", b"{}", {}, 404, "unknown_source"),
        ("/webhooks/sandbox", b"{}", {}, 401, "missing_header"),
        ("/webhooks/sandbox", b"{}", sandbox_headers(b"{ }"), 401, "no_match"),
        (
            "/webhooks/sandbox",
            b"{}",
            sandbox_headers(b"{}", ts=NOW - 301),
            401,
            "timestamp_too_old",
        ),
        ("/webhooks/sandbox", b"{nope", sandbox_headers(b"{nope"), 400, "malformed_body"),
        ("/webhooks/sandbox", b"\xff\xfe", sandbox_headers(b"\xff\xfe"), 400, "malformed_body"),
        ("/webhooks/sandbox", b"42", sandbox_headers(b"42"), 400, "malformed_body"),
        ("/webhooks/gh", b"[" + b" " * 2000 + b"]", {}, 413, "body_too_large"),
    ],
)
def test_rejections_enqueue_nothing(
    harness: tuple[TestClient, InMemoryQueue],
    path: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    client, queue = harness
    answer = client.post(path, content=body, headers=headers)
    assert answer.status_code == status
    assert answer.json() == {"error": error}
    assert queue.depth() == 0


def test_default_limit_is_256_kib(harness: tuple[TestClient, InMemoryQueue]) -> None:
    client, queue = harness
    body = b'"' + b"x" * (256 * 1024) + b'"'
    answer = client.post("/webhooks/sandbox", content=body, headers=sandbox_headers(body))
    assert answer.status_code == 413
    assert queue.depth() == 0


def test_queue_down_answers_503_with_retry_after(harness: tuple[TestClient, InMemoryQueue]) -> None:
    client, queue = harness
    queue.available = False
    body = sandbox_body()
    answer = client.post("/webhooks/sandbox", content=body, headers=sandbox_headers(body))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert client.get("/readyz").status_code == 503
    queue.available = True
    retry = client.post("/webhooks/sandbox", content=body, headers=sandbox_headers(body))
    assert retry.json()["status"] == "accepted"  # a 503 is not remembered as delivered
    assert queue.depth() == 1
    assert client.get("/readyz").status_code == 200


def test_hubspot_signed_against_public_url(harness: tuple[TestClient, InMemoryQueue]) -> None:
    client, queue = harness
    body = json.dumps([{"eventId": 7, "subscriptionType": "contact.creation", "objectId": 1}])
    url = "https://hooks.example.com/webhooks/hubspot?portal=1"
    headers = sign("hubspot-v3", secret=HS_SECRET, body=body.encode(), url=url, timestamp=NOW)
    answer = client.post("/webhooks/hubspot?portal=1", content=body, headers=headers)
    assert answer.status_code == 202
    [envelope] = received(queue)
    assert envelope.webhook_id.startswith("events-")


def test_hex_source_uses_delivery_header_as_id(harness: tuple[TestClient, InMemoryQueue]) -> None:
    client, queue = harness
    headers = sign("hmac-sha256-hex", secret=HEX_SECRET, body=b"{}") | {"X-GitHub-Delivery": "d-1"}
    assert client.post("/webhooks/gh", content=b"{}", headers=headers).status_code == 202
    assert [e.webhook_id for e in received(queue)] == ["d-1"]


def test_health_and_openapi(harness: tuple[TestClient, InMemoryQueue]) -> None:
    client, _ = harness
    assert client.get("/healthz").json() == {"status": "ok"}
    doc = client.get("/openapi.json").json()
    assert set(doc["paths"]["/webhooks/{source}"]["post"]["responses"]) == {
        "202", "400", "401", "404", "413", "503",
    }  # fmt: skip


def test_concurrent_requests_are_packed_and_batched() -> None:
    receiver, queue, _, _ = build()

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=receiver.app)
        client = httpx.AsyncClient(transport=transport, base_url="http://t")
        async with receiver.app.router.lifespan_context(receiver.app), client:
            bodies = [sandbox_body(f"e{i}") for i in range(40)]
            answers = await asyncio.gather(
                *(
                    client.post("/webhooks/sandbox", content=b, headers=sandbox_headers(b, f"m{i}"))
                    for i, b in enumerate(bodies)
                )
            )
        return [a.status_code for a in answers]

    assert asyncio.run(burst()) == [202] * 40
    packs = [decode_message(m.body) for _ in range(5) for m in queue.receive(10, 0)]
    sent = sorted(e.webhook_id for pack in packs for e in pack)
    assert sent == sorted(f"m{i}" for i in range(40))
    assert 1 < len(packs) < 40  # concurrent webhooks share messages
    assert max(len(pack) for pack in packs) <= MAX_PACK
    assert max(queue.batch_sizes) <= 10
