"""The hostile corpus on the wire: raw bytes over TCP to the real receiver process (uvicorn +
httptools, as ``cdcbridge webhooks serve`` runs it) in front of the stack's ElasticMQ.

Every answer is 4xx (ours with its reason, or the HTTP server's own 400/413/431 for bytes it
refuses first) or no answer for a request cut off on the wire; nothing reaches the queue; a
valid request racing 1 MiB signature headers is answered 202 promptly."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sqs_admin import delete_queue, ensure_queue
from tests.fakes.processes import Child, wait_for
from tests.fakes.webhook_receiver import HEX_SECRET, HS_SECRET, SW_SECRET
from tests.integration.webhooks.webhooks_it_support import start_receiver
from tests.unit.webhook_bridge.hostile_corpus import ONE_MIB, HostileCase, corpus, sandbox
from webhook_bridge.queue.sqs import SqsQueue, sqs_client

pytestmark = pytest.mark.integration

SOURCES = {
    "sources": {
        # the corpus is signed at a fixed past instant: a wide tolerance lets it reach the checks
        # behind the signature (nesting, encodings) as in the unit tests
        "sandbox": {"scheme": "standard-webhooks", "secrets": [SW_SECRET], "tolerance_s": 1e10},
        "hubspot": {"scheme": "hubspot-v3", "secrets": [HS_SECRET], "normaliser": "hubspot",
                    "public_base_url": "https://hooks.example.com", "tolerance_s": 1e10},
        "gh": {"scheme": "hmac-sha256-hex", "secrets": [HEX_SECRET],
               "id_header": "X-GitHub-Delivery", "max_body_bytes": 1024, "tolerance_s": 1e10},
    }
}  # fmt: skip
SERVER_REFUSALS = {400, 413, 431}


@dataclass
class Server:
    port: int
    url: str
    queue: SqsQueue


@pytest.fixture
def server(stack: StackEndpoints, tmp_path: Path) -> Iterator[Server]:
    client = sqs_client(stack.sqs_endpoint)
    name = f"wh-hostile-{uuid.uuid4().hex[:10]}"
    queue = SqsQueue(client, ensure_queue(client, name))
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(json.dumps(SOURCES))
    child: Child | None = None
    try:
        child, url = start_receiver(sources_file, queue.queue_url, stack.sqs_endpoint,
                                    tmp_path / "receiver.log")  # fmt: skip
        yield Server(int(url.rsplit(":", 1)[1]), url, queue)
    finally:
        if child is not None:
            child.stop()
        delete_queue(client, queue.queue_url)
        delete_queue(client, SqsQueue.by_name(client, f"{name}-dlq").queue_url)


def wire(case: HostileCase) -> bytes:
    target = f"/webhooks/{case.source}" + (f"?{case.query}" if case.query else "")
    lines = [f"POST {target} HTTP/1.1".encode(), b"Host: hooks.example.com",
             b"Connection: close"]  # fmt: skip
    names = {name.lower() for name, _ in case.headers}
    lines += [name.encode() + b": " + bytes(value) for name, value in case.headers]
    if "content-length" not in names:
        lines.append(f"Content-Length: {len(case.body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + bytes(case.body)


def exchange(port: int, data: bytes, *, half_close: bool = False) -> tuple[int | None, bytes]:
    """Send ``data``; the status and body of the answer (None when the server just closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server may refuse and close while we still send
            pass
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:
            pass
    if not received.startswith(b"HTTP/1.1 "):
        return None, b""
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head[9:12]), body


def our_reason(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("error") if isinstance(doc, dict) else None


def server_may_refuse(case: HostileCase) -> bool:
    """httptools refuses control bytes in header values and a malformed Content-Length before
    the application sees the request."""
    controls = set(range(0x20)) - {0x09} | {0x7F}
    return any(
        name.lower() == "content-length" or not controls.isdisjoint(value)
        for name, value in case.headers
    )


def test_every_corpus_case_on_the_wire(server: Server) -> None:
    failures: list[str] = []
    for case in corpus():
        status, body = exchange(server.port, wire(case))
        reason = our_reason(body)
        if reason is None and status in SERVER_REFUSALS and server_may_refuse(case):
            continue
        if status not in case.statuses or (case.reason and reason != case.reason):
            failures.append(f"{case.name}: {status} {reason}")
    assert failures == []
    assert server.queue.depth() == (0, 0)


def test_every_truncation_on_the_wire(server: Server) -> None:
    valid = sandbox()
    whole = wire(valid.case("valid", {202}))
    statuses = {exchange(server.port, whole[:cut], half_close=True)[0] for cut in range(len(whole))}
    assert statuses <= {None, 400}
    assert server.queue.depth() == (0, 0)


def test_a_valid_request_is_answered_while_1mib_headers_arrive(server: Server) -> None:
    valid = sandbox()
    hostile = valid.case("1MiB", {401}, replace={
        "webhook-signature": b"v1,AAAA" + b" a" * (ONE_MIB // 2 - 4)})  # fmt: skip
    attacks: list[int | None] = []

    def attack() -> None:
        for _ in range(5):
            attacks.append(exchange(server.port, wire(hostile))[0])

    threads = [threading.Thread(target=attack) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: bool(attacks), 30, "the first attack to be answered")
    started = time.monotonic()
    answer = httpx.post(f"{server.url}/webhooks/sandbox", content=valid.body,
                        headers=valid.headers, timeout=30)  # fmt: skip
    waited = time.monotonic() - started
    for thread in threads:
        thread.join(60)
    assert answer.status_code == 202
    assert waited < 2.0  # before the fix each such header held the event loop for 10-30 s
    assert set(attacks) == {401}
    assert sum(server.queue.depth()) == 1
